// mta::ParseNextHop / FormatNextHop: "[host]:port", "host:port", "host".
#include <arpa/inet.h>

#include <charconv>

#include <fmt/format.h>

#include "absl/strings/ascii.h"
#include "posthorn/mta/routing.h"

namespace posthorn::mta {
namespace {

bool IsIpLiteral(const std::string& host) {
  unsigned char buffer[16];
  return inet_pton(AF_INET, host.c_str(), buffer) == 1 ||
         inet_pton(AF_INET6, host.c_str(), buffer) == 1;
}

// Letters, digits, '-', '.', '_' (seen in real internal names).
bool IsHostName(std::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  for (char c : host) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' &&
        c != '.' && c != '_') {
      return false;
    }
  }
  return host.front() != '.' && host.front() != '-';
}

}  // namespace

absl::StatusOr<NextHop> ParseNextHop(std::string_view text) {
  NextHop hop;
  std::string_view rest = text;
  if (rest.empty()) return absl::InvalidArgumentError("empty next hop");
  std::string_view host;
  if (rest.front() == '[') {
    std::size_t close = rest.find(']');
    if (close == std::string_view::npos) {
      return absl::InvalidArgumentError(
          fmt::format("next hop \"{}\": missing ']'", text));
    }
    host = rest.substr(1, close - 1);
    rest.remove_prefix(close + 1);
    hop.mx_lookup = false;
  } else {
    std::size_t colon = rest.rfind(':');
    // A bare IPv6 address has several colons and needs brackets.
    if (colon != std::string_view::npos && rest.find(':') != colon) {
      return absl::InvalidArgumentError(fmt::format(
          "next hop \"{}\": write an IPv6 address in brackets", text));
    }
    host = rest.substr(0, colon);
    rest = colon == std::string_view::npos ? std::string_view()
                                           : rest.substr(colon);
  }
  if (!rest.empty()) {
    if (rest.front() != ':' || rest.size() < 2) {
      return absl::InvalidArgumentError(
          fmt::format("next hop \"{}\": expected :port after the host", text));
    }
    unsigned value = 0;
    auto port_text = rest.substr(1);
    auto [end, error] = std::from_chars(
        port_text.data(), port_text.data() + port_text.size(), value);
    if (error != std::errc() || end != port_text.data() + port_text.size() ||
        value == 0 || value > 65535) {
      return absl::InvalidArgumentError(
          fmt::format("next hop \"{}\": bad port", text));
    }
    hop.port = static_cast<std::uint16_t>(value);
  }
  hop.host = absl::AsciiStrToLower(std::string(host));
  if (!hop.host.empty() && hop.host.back() == '.') hop.host.pop_back();
  if (IsIpLiteral(hop.host)) {
    hop.mx_lookup = false;
  } else if (!IsHostName(hop.host)) {
    return absl::InvalidArgumentError(
        fmt::format("next hop \"{}\": not a host name or IP address", text));
  }
  return hop;
}

std::string FormatNextHop(const NextHop& hop) {
  std::string host = hop.mx_lookup ? hop.host : "[" + hop.host + "]";
  if (hop.port == 25) return host;
  return fmt::format("{}:{}", host, hop.port);
}

}  // namespace posthorn::mta
