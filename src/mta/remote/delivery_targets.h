// mta/remote/delivery_targets.h — where a next hop's mail may be sent.
//
// The addresses to try, in order, for one NextHop: a bracketed hop is
// that host (an IP literal as it is, a name's A/AAAA), any other hop its
// MX hosts (mta/dns.h: preference order, equal ones shuffled; implicit MX
// when there is none). A failure comes back as the reply every recipient
// gets: NXDOMAIN "550 5.1.2", null MX "556 5.1.10" (bounces), a lookup
// that failed "451 4.4.3" (deferral).

#ifndef POSTHORN_SRC_MTA_REMOTE_DELIVERY_TARGETS_H_
#define POSTHORN_SRC_MTA_REMOTE_DELIVERY_TARGETS_H_

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "posthorn/mta/delivery.h"
#include "posthorn/mta/dns.h"
#include "posthorn/mta/routing.h"

namespace posthorn::mta::detail {

struct DeliveryTarget {
  std::string name;        // MX host name, or "" for an IP literal hop
  std::string address;     // "192.0.2.1", "2001:db8::1"
  std::uint16_t port = 25;
  std::string status_key;  // HostStatusTable key: MX name or "[addr]:port"
  // "mx.example.net[192.0.2.1]:25", "[127.0.0.1]:2526".
  std::string Relay() const;
};

struct TargetFailure {
  DeliveryStatus status = DeliveryStatus::kDeferred;
  std::string reply;  // "550 5.1.2 example.net: Host or domain name not found"
};

// `resolver` may be null when the hop is an IP literal.
std::variant<std::vector<DeliveryTarget>, TargetFailure> FindTargets(
    const NextHop& hop, Resolver* resolver);

}  // namespace posthorn::mta::detail

#endif  // POSTHORN_SRC_MTA_REMOTE_DELIVERY_TARGETS_H_
