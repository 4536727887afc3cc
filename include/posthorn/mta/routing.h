// posthorn/mta/routing.h — where an address goes: local, or which host.
//
// PURPOSE
//   The routing facts of posthorn.conf in one place:
//     local_domains    domains delivered here (sendmail.cw)
//     trusted_networks clients that may relay (CIDR, IPv4 and IPv6)
//     transport_map    "domain [host]:port" lines that override DNS
//     relay_host       one smart host for all remote mail
//   Router::Route() answers for one recipient address.
//
//     auto router = mta::Router::Create({.local_domains = {"example.org"},
//                                         .relay_host = ""});
//     mta::Route r = router->Route("alice@example.org");  // kLocal, "alice"
//
// TRANSPORT MAP FILE
//   # comment
//   example.net        [127.0.0.1]:2526   # exact domain, no MX lookup
//   .example.net       [10.0.0.2]          # any subdomain; port 25
//   other.example      mail.other.example  # no brackets: MX lookup of that name
//   A line that cannot be parsed is an error "file:line: reason".
//   Lookup order: exact domain, then parent domains with a leading ".",
//   then relay_host, then MX lookup of the recipient's domain.
//
// ADDRESSES
//   Domains compare case-insensitively; a trailing dot is ignored. An
//   address literal "user@[127.0.0.1]" goes straight to that address. A
//   recipient without '@' is local. The local part of a local address is
//   lowercased for maildrops ("Alice" and "alice" are one user).

#ifndef POSTHORN_MTA_ROUTING_H_
#define POSTHORN_MTA_ROUTING_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace posthorn::mta {

// A domain as routing compares it: ASCII lowercase, one trailing dot
// dropped ("Example.ORG." -> "example.org"). Router and the queue runner
// (ETRN, DomainOf) both use it, so they agree on what one domain is.
std::string NormalizeDomain(std::string_view domain);

// A parsed "[host]:port" / "host:port" / "host" / "[host]" next hop.
struct NextHop {
  std::string host;        // name or IP literal, without brackets
  std::uint16_t port = 25;
  bool mx_lookup = true;   // false when written in brackets (or an IP)
  friend bool operator==(const NextHop&, const NextHop&) = default;
};

// Parses the forms above; InvalidArgument with the reason otherwise.
absl::StatusOr<NextHop> ParseNextHop(std::string_view text);
std::string FormatNextHop(const NextHop& hop);  // "[127.0.0.1]:2526"

// A list of CIDR networks ("127.0.0.0/8", "[::1]/128", "::1/128",
// "10.1.2.3" = /32). IPv4-mapped IPv6 peers (::ffff:a.b.c.d) match the
// IPv4 networks.
class NetworkList {
 public:
  static absl::StatusOr<NetworkList> Parse(
      const std::vector<std::string>& networks);
  bool Contains(std::string_view address) const;  // "127.0.0.1", "::1"

  struct Network {
    bool v6 = false;
    unsigned char bytes[16] = {};
    int prefix = 0;
  };
 private:
  std::vector<Network> networks_;
};

struct TransportEntry {
  std::string domain;  // lowercased; ".example.net" matches subdomains
  NextHop hop;
  int line = 0;
};

// Parses transport-map text; errors "file_name:line: reason".
absl::StatusOr<std::vector<TransportEntry>> ParseTransportMap(
    std::string_view text, std::string_view file_name);

struct RouterOptions {
  std::vector<std::string> local_domains;  // lowercased by Create
  std::vector<TransportEntry> transport;
  std::optional<NextHop> relay_host;
};

enum class RouteKind { kLocal, kRemote };

struct Route {
  RouteKind kind = RouteKind::kLocal;
  std::string local_part;  // kLocal: lowercased user name
  std::string domain;      // lowercased recipient domain ("" for no '@')
  NextHop hop;             // kRemote: where to send
};

class Router {
 public:
  explicit Router(RouterOptions options);
  bool IsLocalDomain(std::string_view domain) const;
  // InvalidArgument for an address that is not a mailbox.
  absl::StatusOr<Route> RouteAddress(std::string_view address) const;
  const RouterOptions& options() const { return options_; }

 private:
  RouterOptions options_;
};

}  // namespace posthorn::mta

#endif  // POSTHORN_MTA_ROUTING_H_
