// mta::detail::ParseDnsServer: "addr", "addr:port", "[v6]", "[v6]:port".
#include "mta/remote/dns_server_list.h"

#include <arpa/inet.h>

#include <charconv>

#include <fmt/format.h>

namespace posthorn::mta::detail {
namespace {

absl::Status Bad(std::string_view text, std::string_view why) {
  return absl::InvalidArgumentError(
      fmt::format("bad DNS server \"{}\": {}", text, why));
}

}  // namespace

absl::StatusOr<DnsServer> ParseDnsServer(std::string_view text) {
  DnsServer server;
  std::string_view host = text;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    const std::size_t close = text.find(']');
    if (close == std::string_view::npos) return Bad(text, "missing ']'");
    host = text.substr(1, close - 1);
    std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return Bad(text, "expected ':' after ']'");
      port = rest.substr(1);
      if (port.empty()) return Bad(text, "empty port");
    }
  } else if (text.find(':') != text.rfind(':')) {
    host = text;  // a bare IPv6 address: no port possible
  } else if (const std::size_t colon = text.find(':');
             colon != std::string_view::npos) {
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (port.empty()) return Bad(text, "empty port");
  }
  if (host.empty()) return Bad(text, "empty address");
  // INET6_ADDRSTRLEN bounds any address inet_pton could accept.
  if (host.size() >= INET6_ADDRSTRLEN) return Bad(text, "not an IP address");
  const std::string host_z(host);
  if (inet_pton(AF_INET, host_z.c_str(), &server.addr4) == 1) {
    server.v6 = false;
  } else if (inet_pton(AF_INET6, host_z.c_str(), &server.addr6) == 1) {
    server.v6 = true;
  } else {
    return Bad(text, "not an IP address (names cannot be resolved here)");
  }
  if (!port.empty()) {
    unsigned value = 0;
    const auto [end, ec] =
        std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || end != port.data() + port.size() || value == 0 ||
        value > 65535) {
      return Bad(text, "bad port");
    }
    server.port = static_cast<std::uint16_t>(value);
  }
  return server;
}

absl::StatusOr<std::vector<DnsServer>> ParseDnsServers(
    const std::vector<std::string>& servers) {
  if (servers.size() > kMaxDnsServers) {
    return absl::InvalidArgumentError(fmt::format(
        "too many DNS servers ({}, at most {})", servers.size(),
        kMaxDnsServers));
  }
  std::vector<DnsServer> out;
  out.reserve(servers.size());
  for (const std::string& text : servers) {
    absl::StatusOr<DnsServer> server = ParseDnsServer(text);
    if (!server.ok()) return server.status();
    out.push_back(*server);
  }
  return out;
}

}  // namespace posthorn::mta::detail
