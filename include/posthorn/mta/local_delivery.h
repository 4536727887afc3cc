// posthorn/mta/local_delivery.h — delivery on this host.
//
// PURPOSE
//   For each local recipient: expand aliases (store::ExpandAlias, with
//   :include:, loops reported), then
//   - a local name: append to that user's maildrop (store::Mailstore,
//     mbox or Maildir; durable before kSent). A name that is neither an
//     alias nor a user (UserExists) bounces "550 5.1.1 User unknown".
//   - a remote address the alias points to: handed to `forward` (the
//     runner re-queues it as a new message from the alias owner, or the
//     original sender) — never delivered inline, so one slow remote host
//     does not hold local delivery.
//   - a file target (/path): appended in mbox format with an fcntl lock,
//     only when allow_file_targets; a program target (|cmd) piped to
//     /bin/sh -c with a 60 s limit, only when allow_program_targets;
//     otherwise the recipient bounces "550 5.7.1 ... not allowed".
//   An alias loop bounces "554 5.4.6 Alias loop"; a full disk or a
//   maildrop error defers "452 4.2.2" / "451 4.3.0".
//   Maildrop deliveries are exactly once: each carries
//   DeliveryInfo::delivery_id "<queue id>.<recipient index>.<user>", so a
//   retry after a crash between the append and the queue update, or after
//   another target of the same alias deferred, appends nothing again (see
//   store/mailstore.h for the limits). File, program and forward targets
//   are at least once.

#ifndef POSTHORN_MTA_LOCAL_DELIVERY_H_
#define POSTHORN_MTA_LOCAL_DELIVERY_H_

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "posthorn/mta/delivery.h"
#include "posthorn/mta/log.h"
#include "posthorn/store/aliases.h"
#include "posthorn/store/mailstore.h"

namespace posthorn::mta {

struct LocalAgentOptions {
  store::Mailstore* mailstore = nullptr;       // required
  const store::AliasTable* aliases = nullptr;  // null: no aliases
  const Router* router = nullptr;              // required: local or not
  // Does this user have (or may get) a maildrop? Null: any valid name.
  std::function<bool(std::string_view user)> user_exists;
  bool allow_file_targets = false;
  bool allow_program_targets = false;
  std::chrono::seconds program_timeout{60};
  // Remote addresses reached through an alias: queue them as a new
  // message (sender = `sender`). Null: such targets defer.
  std::function<absl::Status(const std::vector<std::string>& addresses,
                             const std::string& sender,
                             const DataOpener& data)> forward;
  LogFunction log;
};

std::unique_ptr<DeliveryAgent> MakeLocalAgent(LocalAgentOptions options);

// The expansion as `sendmail -bv` prints it, one line per final target:
//   "alice... deliverable: mailer local, user alice"
//   "bob@example.net... deliverable: mailer esmtp, host [127.0.0.1]:2526"
//   "nobody... User unknown"
std::vector<std::string> DescribeDelivery(const LocalAgentOptions& options,
                                          std::string_view address);

}  // namespace posthorn::mta

#endif  // POSTHORN_MTA_LOCAL_DELIVERY_H_
