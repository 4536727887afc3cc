// mta::Router: local or remote, and the next hop of a remote address.
#include <arpa/inet.h>

#include <algorithm>

#include <fmt/format.h>

#include "absl/strings/ascii.h"
#include "posthorn/mta/routing.h"

namespace posthorn::mta {
std::string NormalizeDomain(std::string_view domain) {
  std::string lower = absl::AsciiStrToLower(std::string(domain));
  if (!lower.empty() && lower.back() == '.') lower.pop_back();
  return lower;
}

Router::Router(RouterOptions options) : options_(std::move(options)) {
  for (std::string& domain : options_.local_domains) {
    domain = NormalizeDomain(domain);
  }
}

bool Router::IsLocalDomain(std::string_view domain) const {
  std::string lower = NormalizeDomain(domain);
  return std::find(options_.local_domains.begin(),
                   options_.local_domains.end(),
                   lower) != options_.local_domains.end();
}

absl::StatusOr<Route> Router::RouteAddress(std::string_view address) const {
  if (address.size() > 2 && address.front() == '<' && address.back() == '>') {
    address = address.substr(1, address.size() - 2);
  }
  std::size_t at = address.rfind('@');
  Route route;
  if (at == std::string_view::npos) {
    if (address.empty()) {
      return absl::InvalidArgumentError("empty recipient address");
    }
    route.kind = RouteKind::kLocal;
    route.local_part = absl::AsciiStrToLower(std::string(address));
    return route;
  }
  std::string_view local = address.substr(0, at);
  std::string_view domain = address.substr(at + 1);
  if (local.empty() || domain.empty()) {
    return absl::InvalidArgumentError(
        fmt::format("\"{}\" is not a mailbox", address));
  }
  route.domain = NormalizeDomain(domain);
  if (IsLocalDomain(route.domain)) {
    route.kind = RouteKind::kLocal;
    route.local_part = absl::AsciiStrToLower(std::string(local));
    return route;
  }
  route.kind = RouteKind::kRemote;
  if (route.domain.front() == '[' && route.domain.back() == ']') {
    std::string literal = route.domain.substr(1, route.domain.size() - 2);
    if (literal.rfind("ipv6:", 0) == 0) literal = literal.substr(5);
    unsigned char bytes[16];
    if (inet_pton(AF_INET, literal.c_str(), bytes) != 1 &&
        inet_pton(AF_INET6, literal.c_str(), bytes) != 1) {
      return absl::InvalidArgumentError(
          fmt::format("\"{}\": bad address literal", address));
    }
    auto hop = ParseNextHop("[" + literal + "]");
    if (!hop.ok()) return hop.status();
    route.hop = *hop;
    return route;
  }
  // Exact domain first, then ".parent" entries from the nearest parent up.
  for (const TransportEntry& entry : options_.transport) {
    if (entry.domain == route.domain) {
      route.hop = entry.hop;
      return route;
    }
  }
  for (std::size_t dot = route.domain.find('.'); dot != std::string::npos;
       dot = route.domain.find('.', dot + 1)) {
    std::string_view parent = std::string_view(route.domain).substr(dot);
    for (const TransportEntry& entry : options_.transport) {
      if (entry.domain == parent) {
        route.hop = entry.hop;
        return route;
      }
    }
  }
  if (options_.relay_host) {
    route.hop = *options_.relay_host;
    return route;
  }
  route.hop = NextHop{route.domain, 25, true};
  return route;
}

}  // namespace posthorn::mta
