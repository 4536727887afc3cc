// ParseEndpoint: "host:port" and "[v6]:port" (RFC 3986 3.2.2 brackets).

#include <charconv>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "fmt/format.h"
#include "posthorn/net/smtp_server.h"

namespace posthorn::net {
namespace {

// Host names are at most 253 octets (RFC 1035 2.3.4); IPv6 literals with a
// zone fit well inside that.
constexpr std::size_t kMaxHostLength = 253;

absl::Status Bad(std::string_view endpoint, std::string_view why) {
  return absl::InvalidArgumentError(
      fmt::format("bad endpoint \"{}\": {}", endpoint, why));
}

}  // namespace

absl::StatusOr<std::pair<std::string, std::uint16_t>> ParseEndpoint(
    std::string_view endpoint) {
  std::string_view host;
  std::string_view port;
  if (!endpoint.empty() && endpoint.front() == '[') {
    const std::size_t close = endpoint.find(']');
    if (close == std::string_view::npos) return Bad(endpoint, "missing ']'");
    host = endpoint.substr(1, close - 1);
    if (host.find(':') == std::string_view::npos) {
      return Bad(endpoint, "brackets are for IPv6 addresses");
    }
    if (close + 1 >= endpoint.size() || endpoint[close + 1] != ':') {
      return Bad(endpoint, "expected \":port\" after ']'");
    }
    port = endpoint.substr(close + 2);
  } else {
    const std::size_t colon = endpoint.rfind(':');
    if (colon == std::string_view::npos) return Bad(endpoint, "missing :port");
    host = endpoint.substr(0, colon);
    if (host.find(':') != std::string_view::npos) {
      return Bad(endpoint, "write IPv6 addresses as [addr]:port");
    }
    port = endpoint.substr(colon + 1);
  }
  if (host.empty()) return Bad(endpoint, "empty host");
  if (host.size() > kMaxHostLength) return Bad(endpoint, "host too long");
  for (const char c : host) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f || c == '[' || c == ']' || c == '/') {
      return Bad(endpoint, "invalid character in host");
    }
  }
  if (port.empty() || port.size() > 5) return Bad(endpoint, "bad port");
  unsigned value = 0;
  const auto [end, ec] =
      std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec != std::errc() || end != port.data() + port.size() || value > 65535) {
    return Bad(endpoint, "bad port");
  }
  return std::make_pair(std::string(host), static_cast<std::uint16_t>(value));
}

}  // namespace posthorn::net
