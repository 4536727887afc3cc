// posthorn/mta/delivery.h — what a delivery agent is told and answers.
//
// PURPOSE
//   The queue runner leases a message, routes each pending recipient
//   (Router), groups them by agent and next hop, and hands each group to a
//   DeliveryAgent. The agent answers one RecipientOutcome per recipient it
//   was given. Agents are blocking and thread-safe: the runner calls them
//   from its worker threads, several at once.
//
//   Agents: LocalAgent (local_delivery.h: aliases, then the user's
//   maildrop) and RemoteAgent (remote_delivery.h: SMTP to the next hop or
//   its MX hosts). An embedding program can add its own (a custom
//   transport) behind this interface.

#ifndef POSTHORN_MTA_DELIVERY_H_
#define POSTHORN_MTA_DELIVERY_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "posthorn/mta/routing.h"
#include "posthorn/store/message_reader.h"
#include "posthorn/store/queue.h"

namespace posthorn::mta {

enum class DeliveryStatus {
  kSent,      // done (delivered, or relayed and accepted)
  kDeferred,  // try again later (4xx, connection problems, disk full)
  kBounced,   // permanent failure: a DSN goes to the sender
};

struct RecipientOutcome {
  std::size_t index = 0;  // into QueueEnvelope::recipients
  DeliveryStatus status = DeliveryStatus::kDeferred;
  // The SMTP-style reply that explains it, always with an enhanced code:
  // "250 2.0.0 Ok", "550 5.1.1 <x@y>: Recipient address rejected",
  // "451 4.4.1 connect to [127.0.0.1]:2526: Connection refused".
  std::string reply;
  // Where it went: "local", "mx.example.net[192.0.2.1]:25",
  // "/var/mail/archive" (file target), "|/usr/bin/prog".
  std::string relay;
};

// Opens the message data (CRLF line ends) from the start; each call gives
// a new reader, so an agent may read the message several times (one per
// maildrop, one per MX host tried).
using DataOpener =
    std::function<absl::StatusOr<std::unique_ptr<store::MessageReader>>()>;

struct DeliveryRequest {
  const store::QueueEnvelope* envelope = nullptr;  // sender, DSN fields
  // Indexes into envelope->recipients, all with the same route kind and,
  // for remote ones, the same next hop.
  std::vector<std::size_t> recipients;
  std::vector<Route> routes;  // parallel to `recipients`
  DataOpener open_data;
};

class DeliveryAgent {
 public:
  virtual ~DeliveryAgent() = default;
  // "local", "esmtp" — the mailer name in logs and mailstats.
  virtual std::string name() const = 0;
  // One outcome per requested recipient, in request order. An error
  // status means nothing was attempted (all deferred by the runner with
  // the status message).
  virtual absl::StatusOr<std::vector<RecipientOutcome>> Deliver(
      const DeliveryRequest& request) = 0;
};

}  // namespace posthorn::mta

#endif  // POSTHORN_MTA_DELIVERY_H_
