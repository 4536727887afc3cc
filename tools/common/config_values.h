// tools/common/config_values.h — the value types of posthorn.conf.
//
// PURPOSE
//   One parser per kind of value a key may hold. Each returns the value or
//   InvalidArgument with a reason short enough to follow "file:line: ";
//   none of them knows about keys or lines (config.cpp does).
//
// LIMITS
//   Numbers are decimal digits only (no sign, no "0x"); a duration is at
//   most 100 years, so it fits in any std::chrono clock arithmetic.

#ifndef POSTHORN_TOOLS_COMMON_CONFIG_VALUES_H_
#define POSTHORN_TOOLS_COMMON_CONFIG_VALUES_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace posthorn::tools {
enum class RecipientSource;  // config.h
}  // namespace posthorn::tools

namespace posthorn::tools::config_values {

// yes/no/true/false/on/off/1/0 (case-insensitive).
absl::StatusOr<bool> ParseBool(std::string_view text);

// Decimal digits, no sign, fits in 64 bits.
absl::StatusOr<std::uint64_t> ParseNumber(std::string_view text);

// Items separated by commas and/or white space; empty items are dropped,
// so "a, b" "a b" and "a,,b" are all {"a", "b"}.
std::vector<std::string> SplitList(std::string_view text);

// "" stays "" (an unset path); "/x" stays; "x" becomes "<dir>/x".
std::string ResolvePath(std::string_view text, std::string_view dir);

// "127.0.0.1:25", "[::1]:25" (net::ParseEndpoint).
absl::Status CheckEndpoint(std::string_view text);

// One dns_servers entry, the forms mta::MakeAresResolver takes:
// "127.0.0.1" (port 53), "127.0.0.1:5353", "::1", "[::1]", "[::1]:5353"
// (numeric only; a port is 1..65535).
absl::Status CheckDnsServer(std::string_view text);
inline constexpr std::size_t kMaxDnsServers = 16;  // as the resolver's

// "127.0.0.0/8", "[::1]/128", "192.0.2.1", "::1" (numeric only).
absl::Status CheckNetwork(std::string_view text);

// local_recipients: a list of passwd, aliases, auth_db, maildrop (each at
// most once), or "none" alone for an empty list (no check at RCPT).
absl::StatusOr<std::vector<RecipientSource>> ParseRecipientSources(
    std::string_view text);

}  // namespace posthorn::tools::config_values

#endif  // POSTHORN_TOOLS_COMMON_CONFIG_VALUES_H_
