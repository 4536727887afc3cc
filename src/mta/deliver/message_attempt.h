// mta/deliver/message_attempt.h — one delivery attempt of one queued
// message: lease, route, deliver, record, notify, save or remove.
//
// The steps (queue_runner.h describes the policy):
//   1. Lease the message. Held elsewhere: counted busy and skipped. Gone:
//      skipped silently.
//   2. Route each pending recipient (Router::RouteAddress); an address
//      that cannot be routed bounces "553 5.1.3".
//   3. Group: all local recipients in one request to the local agent; the
//      remote ones one request per next hop (FormatNextHop). No remote
//      agent: remote recipients defer "451 4.4.0". Local requests to
//      the same users take turns in the process (a mutex per user
//      stripe) before the agent takes the maildrop's file locks, which
//      are polled with sleeps and hand over slowly.
//   4. Record each RecipientOutcome in the envelope and log it.
//   5. No recipient pending (or the queue lifetime is over, which fails
//      the pending ones "550 5.4.7"): queue the failure and success DSNs,
//      then remove the message. Otherwise: failure DSN for recipients that
//      bounced now, a delay DSN when one is due, attempts+1, next_attempt,
//      save.
// Never losing a message: when a DSN cannot be queued the message stays
// in the queue (saved, retried later) and only the DSN is retried. A DSN
// queued whose dsn_sent mark could not be saved is sent again on the next
// attempt: notices are at least once.

#ifndef POSTHORN_SRC_MTA_DELIVER_MESSAGE_ATTEMPT_H_
#define POSTHORN_SRC_MTA_DELIVER_MESSAGE_ATTEMPT_H_

#include <string>
#include <vector>

#include "posthorn/mta/queue_runner.h"

namespace posthorn::mta::deliver {

struct AttemptResult {
  RunSummary summary;
  std::vector<std::string> queued;  // DSNs queued by this attempt
};

// only_if_due: skip the message (released untouched) when its
// next_attempt is still ahead — for ids taken from an earlier Due() list
// that another runner may have attempted since.
AttemptResult AttemptMessage(const QueueRunnerOptions& options,
                             const std::string& id, bool only_if_due);

// Adds `from` to `*into`.
void AddSummary(RunSummary* into, const RunSummary& from);

}  // namespace posthorn::mta::deliver

#endif  // POSTHORN_SRC_MTA_DELIVER_MESSAGE_ATTEMPT_H_
