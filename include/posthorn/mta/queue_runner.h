// posthorn/mta/queue_runner.h — delivers what the queue holds.
//
// PURPOSE
//   A pool of worker threads takes due messages from store::Queue, leases
//   each (so two runners, or two processes, never deliver one message at
//   the same time), routes the pending recipients, calls the delivery
//   agents (grouped: local recipients together, remote ones per next
//   hop), then records the results in the envelope:
//   - all recipients done (sent or bounced): DSNs queued, message removed;
//   - some deferred: attempts+1, next_attempt from store::NextAttempt,
//     last_reply kept per recipient (mailq shows it), envelope saved;
//   - past the queue lifetime: pending recipients fail with
//     "4.4.7 Message expired" and bounce;
//   - a delay warning when DelayWarningDue (once per message).
//   DSN for failures to the sender (never for the null sender) and, for
//   NOTIFY=SUCCESS, success notices; queued through the same queue.
//   Every result is logged ("to=<...>, relay=..., delay=..., status=...")
//   and counted in MailStats.
//
//     mta::QueueRunner runner(options);
//     runner.RunOnce();              // sendmail -q: every due message, wait
//     runner.Start();                // daemon: every interval + on Kick()
//     runner.Kick("0123...");        // new mail: deliver now
//     runner.RunForDomain("x.org");  // ETRN: due or not, that domain
//     runner.Stop();                 // lets deliveries in progress finish
//
// PARALLELISM
//   max_parallel deliveries at once (posthorn.conf max_deliveries). A new
//   message handed to Kick() is delivered at once, ahead of the periodic
//   scan, so a burst of SMTP input drains without waiting for the
//   interval. Local deliveries do not start processes (except program
//   aliases).

#ifndef POSTHORN_MTA_QUEUE_RUNNER_H_
#define POSTHORN_MTA_QUEUE_RUNNER_H_

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "posthorn/mta/delivery.h"
#include "posthorn/mta/host_status.h"
#include "posthorn/mta/log.h"
#include "posthorn/mta/routing.h"
#include "posthorn/store/queue.h"

namespace posthorn::mta {

struct QueueRunnerOptions {
  store::Queue* queue = nullptr;          // required
  const Router* router = nullptr;         // required
  DeliveryAgent* local = nullptr;         // required
  DeliveryAgent* remote = nullptr;        // null: remote mail defers
  store::RetryPolicy retry;
  std::string hostname;                   // DSN Reporting-MTA
  std::size_t max_parallel = 8;
  std::chrono::seconds interval{30 * 60}; // Start(): periodic scans
  MailStats* stats = nullptr;             // null: not counted
  LogFunction log;
};

struct RunSummary {
  std::size_t messages = 0;   // leased and attempted
  std::size_t delivered = 0;  // recipients sent
  std::size_t deferred = 0;
  std::size_t bounced = 0;
  std::size_t busy = 0;       // leased elsewhere, skipped
};

class QueueRunner {
 public:
  explicit QueueRunner(QueueRunnerOptions options);
  ~QueueRunner();  // Stop()
  QueueRunner(const QueueRunner&) = delete;
  QueueRunner& operator=(const QueueRunner&) = delete;

  // Delivers every due message once, max_parallel at a time; returns when
  // all attempts are over. Works with or without Start().
  RunSummary RunOnce();
  // Attempts one message now, due or not (sendmail -odi, and the
  // background delivery after a command-line submission); synchronous.
  RunSummary RunMessage(std::string_view queue_id);
  // Attempts the messages with a pending recipient in `domain` whether due
  // or not (ETRN); asynchronous when started, else synchronous.
  void RunForDomain(std::string domain);
  // One message just queued: attempt it now (asynchronous after Start(),
  // ignored before).
  void Kick(std::string queue_id);

  // Background mode: a scan every `interval` plus the kicks.
  void Start();
  // Stops taking work and waits for deliveries in progress.
  void Stop();

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace posthorn::mta

#endif  // POSTHORN_MTA_QUEUE_RUNNER_H_
