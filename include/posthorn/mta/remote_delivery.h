// posthorn/mta/remote_delivery.h — delivery to other hosts over SMTP.
//
// PURPOSE
//   For one group of recipients with the same next hop: find the hosts
//   (a bracketed hop: that host; otherwise MX lookup, mta/dns.h), try them
//   in order until one answers, and send the message once to all the
//   recipients (net::SendMessage: PIPELINING, opportunistic STARTTLS
//   without certificate checks, as MTAs do on port 25; SIZE, 8BITMIME,
//   DSN parameters passed on). Per-recipient results:
//     2xx -> kSent, 5xx -> kBounced, 4xx / no host answered -> kDeferred.
//   A 5xx to MAIL FROM or after DATA applies to every recipient.
//   DNS: NXDOMAIN bounces "550 5.1.2 Host or domain name not found",
//   a failing lookup defers "451 4.4.3 Host or domain name lookup failed".
//   Every connection attempt is recorded in the HostStatusTable.

#ifndef POSTHORN_MTA_REMOTE_DELIVERY_H_
#define POSTHORN_MTA_REMOTE_DELIVERY_H_

#include <chrono>
#include <memory>
#include <string>

#include "posthorn/mta/delivery.h"
#include "posthorn/mta/dns.h"
#include "posthorn/mta/host_status.h"
#include "posthorn/mta/log.h"

namespace posthorn::mta {

struct RemoteAgentOptions {
  std::string helo_name;                    // our hostname
  Resolver* resolver = nullptr;             // required for MX lookups
  HostStatusTable* host_status = nullptr;   // null: not recorded
  std::chrono::seconds connect_timeout{30};
  std::chrono::seconds reply_timeout{300};
  bool opportunistic_tls = true;            // STARTTLS when offered
  std::size_t max_hosts = 5;                // MX hosts tried per attempt
  LogFunction log;
};

std::unique_ptr<DeliveryAgent> MakeRemoteAgent(RemoteAgentOptions options);

}  // namespace posthorn::mta

#endif  // POSTHORN_MTA_REMOTE_DELIVERY_H_
