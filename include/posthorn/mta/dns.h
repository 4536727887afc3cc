// posthorn/mta/dns.h — MX and address lookups (c-ares).
//
// PURPOSE
//   Where mail for a domain goes (RFC 5321 5.1): the MX records sorted by
//   preference (equal preferences in random order), each host's A and
//   AAAA addresses; with no MX record the domain's own A/AAAA (implicit
//   MX, preference 0). A "null MX" (RFC 7505: one MX of "." ) is a
//   permanent failure.
//
//     auto resolver = mta::MakeAresResolver({.servers = {"127.0.0.1:5353"}});
//     auto hosts = (*resolver)->LookupMx("example.net");
//
// ERRORS (what the remote agent makes of them)
//   NotFound          NXDOMAIN, or no MX and no address: bounce (5.1.2)
//   FailedPrecondition null MX: bounce (5.1.10)
//   Unavailable       SERVFAIL, timeout, refused, no server: defer (4.4.3)
//
// THREADS
//   Lookups block the calling thread (bounded by timeout x tries) and are
//   safe from several threads at once (each lookup has its own channel).

#ifndef POSTHORN_MTA_DNS_H_
#define POSTHORN_MTA_DNS_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace posthorn::mta {

struct MxHost {
  std::string name;                    // as in the MX record, no final dot
  int preference = 0;
  std::vector<std::string> addresses;  // "192.0.2.1", "2001:db8::1"
};

class Resolver {
 public:
  virtual ~Resolver() = default;
  // MX hosts in the order to try them (see above); each with addresses.
  virtual absl::StatusOr<std::vector<MxHost>> LookupMx(
      std::string_view domain) = 0;
  // A and AAAA of one host name (an IP literal returns itself).
  virtual absl::StatusOr<std::vector<std::string>> LookupAddresses(
      std::string_view host) = 0;
};

struct ResolverOptions {
  // "127.0.0.1", "127.0.0.1:5353", "[::1]:53"; empty: /etc/resolv.conf.
  std::vector<std::string> servers;
  std::chrono::milliseconds timeout{2000};  // per try
  int tries = 2;
};

absl::StatusOr<std::unique_ptr<Resolver>> MakeAresResolver(
    const ResolverOptions& options);

}  // namespace posthorn::mta

#endif  // POSTHORN_MTA_DNS_H_
