// store/maildir/maildir_name.h — Maildir file names: making unique ones,
// reading the fields posthorn needs back out of them, and UIDs.
//
// NAME FORM (as Courier and Dovecot write them)
//   <sec>.M<usec>P<pid>Q<counter>.<host>,S=<stored bytes>,W=<crlf size>
//   and, once in cur/, ":2,<flags>" after it. <host> has '/', ':' and ','
//   (and any byte outside 0x21..0x7E, and '\') written as \ooo octal, so
//   the name has no path separator, no info separator and no ambiguous
//   field. Uniqueness: pid + a process-wide counter + the microsecond;
//   the rename into new/ also refuses to replace an existing name.
//   A keyed delivery (DeliveryInfo::delivery_id) is named
//   <arrival sec>.M<arrival usec>I<32 hex digest of the id>.<host>,S=..,W=..
//   instead: the same id, arrival and message give the same name, which is
//   how a retried delivery finds its earlier copy with two stats.
//
// WHAT IS A MESSAGE NAME
//   A name that starts with a decimal digit (the delivery time, as every
//   Maildir writer begins them) and does not contain '/'. Dot files and
//   anything else are strays: skipped, never touched.
//
// UIDS
//   The base name (before ':') when it is 1..70 bytes of 0x21..0x7E;
//   otherwise "D" followed by 32 hex digits of a fixed digest of the base
//   name: stable, and never taken from message content.

#ifndef POSTHORN_SRC_STORE_MAILDIR_MAILDIR_NAME_H_
#define POSTHORN_SRC_STORE_MAILDIR_MAILDIR_NAME_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/time/time.h"

namespace posthorn::store::maildir {

// "\057" for '/', and so on (see NAME FORM).
std::string EscapeHostForMaildir(std::string_view host);

// A fresh "<sec>.M<usec>P<pid>Q<counter>.<escaped host>" for `now`.
std::string MakeUniqueBase(absl::Time now, std::string_view escaped_host);

// "<sec>.M<usec>I<digest>.<escaped host>" for a keyed delivery: the same
// for the same `arrival` and `delivery_id` (see NAME FORM).
std::string MakeDeliveryBase(absl::Time arrival, std::string_view delivery_id,
                             std::string_view escaped_host);

// The fields of a message name used to order and size messages.
struct ParsedName {
  std::string_view base;                 // before ':'
  std::uint64_t seconds = 0;             // delivery time
  std::uint64_t microseconds = 0;        // M<usec>, 0 when absent
  std::uint64_t counter = 0;             // Q<counter>, 0 when absent
  std::optional<std::uint64_t> stored_size;  // S=
  std::optional<std::uint64_t> crlf_size;    // W=
};

// Empty when `name` is not a message name (see WHAT IS A MESSAGE NAME).
std::optional<ParsedName> ParseMessageName(std::string_view name);

// The UID of a message whose base name is `base` (see UIDS).
std::string UidForBase(std::string_view base);

// A UID for a second file with an already used base (a copy left in both
// new/ and cur/ by another program): a digest of `where`, the folder and
// file name, so it differs from the first and stays stable.
std::string UidForDuplicate(std::string_view where);

}  // namespace posthorn::store::maildir

#endif  // POSTHORN_SRC_STORE_MAILDIR_MAILDIR_NAME_H_
