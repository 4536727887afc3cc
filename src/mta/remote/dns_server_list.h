// mta/remote/dns_server_list.h — the dns_servers option, parsed.
//
// "127.0.0.1" (port 53), "127.0.0.1:5353", "::1", "[::1]:5353" become
// addresses c-ares can take (ares_set_servers_ports). Parsing here, rather
// than in ares_set_servers_ports_csv, gives a clear error for a bad entry
// and accepts a bare IPv6 address.

#ifndef POSTHORN_SRC_MTA_REMOTE_DNS_SERVER_LIST_H_
#define POSTHORN_SRC_MTA_REMOTE_DNS_SERVER_LIST_H_

#include <netinet/in.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace posthorn::mta::detail {

// More servers than this is a configuration mistake (resolv.conf allows 3).
inline constexpr std::size_t kMaxDnsServers = 16;

struct DnsServer {
  bool v6 = false;
  in_addr addr4{};
  in6_addr addr6{};
  std::uint16_t port = 53;
};

// InvalidArgument naming the entry for anything but the forms above.
absl::StatusOr<DnsServer> ParseDnsServer(std::string_view text);
absl::StatusOr<std::vector<DnsServer>> ParseDnsServers(
    const std::vector<std::string>& servers);

}  // namespace posthorn::mta::detail

#endif  // POSTHORN_SRC_MTA_REMOTE_DNS_SERVER_LIST_H_
