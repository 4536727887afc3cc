// posthorn/store/queue.h — the mail queue: durable, leased, retried.
//
// PURPOSE
//   Holds every accepted message until each recipient is delivered or
//   bounced. The MTA enqueues (and answers 250 only after Commit()),
//   queue runners lease messages one worker at a time, record
//   per-recipient results and defer or remove them; mailq lists them.
//   Queue is an interface so a networked backend can replace the files.
//
//     auto queue = store::MakeFileQueue({.dir = "/var/spool/mqueue"});
//     auto writer = (*queue)->BeginEnqueue(envelope);
//     (*writer)->Write(chunk) ...;
//     auto id = (*writer)->Commit();          // durable; shares fsyncs
//     for (auto& id : (*queue)->Due(absl::Now()).value()) {
//       auto lease = (*queue)->Lease(id);     // IsInUse: another worker
//       ... deliver, then (*lease)->Save(updated) or (*lease)->Remove();
//     }
//
// FILES (MakeFileQueue; one envelope file + one data file per message)
//   dir/tmp/      messages being written; anything here at Open() is an
//                 interrupted enqueue and is removed
//   dir/msg/<id>.data   the message, written once, never changed
//   dir/msg/<id>.env    the envelope, text; its presence makes the message
//                       visible; replaced by write-temp, fsync, rename
//   A lease is an OFD lock on <id>.data, so it dies with its holder.
//
// GROUP COMMIT
//   Commit() fsyncs its files, renames the envelope into msg/ and then
//   waits for an fsync of msg/ that started after its rename. Concurrent
//   committers share that folder fsync: one of them runs it for all.
//
// QUEUE IDS
//   [0-9A-Z], fixed width, lexicographic order = arrival order (microsecond
//   time first), unique across processes (pid and a counter), safe in file
//   names and log lines.

#ifndef POSTHORN_STORE_QUEUE_H_
#define POSTHORN_STORE_QUEUE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "posthorn/store/message_reader.h"
#include "posthorn/store/status.h"

namespace posthorn::store {

enum class RecipientState {
  kPending,    // not yet delivered (never tried, or deferred)
  kDelivered,  // done
  kFailed,     // permanent failure: a bounce is owed (or was sent)
};

struct QueuedRecipient {
  std::string address;      // the RCPT TO address, as accepted
  std::string orcpt;        // DSN ORCPT (RFC 3461), "" when none
  bool notify_success = false;  // DSN NOTIFY (RFC 3461); the defaults are
  bool notify_failure = true;   // what NOTIFY absent means
  bool notify_delay = true;
  RecipientState state = RecipientState::kPending;
  std::string last_reply;   // last result, e.g. "451 4.3.0 ..." or a reason
  std::string remote_host;  // where the last attempt went, "" for local
  bool dsn_sent = false;    // the failure/success notice went out
};

struct QueueEnvelope {
  std::string id;           // set by Commit()
  std::string sender;       // "" for the null sender
  std::string envid;        // DSN ENVID, "" when none
  bool ret_headers_only = false;  // DSN RET=HDRS
  std::string received_from;      // client description, for logs
  absl::Time arrival = absl::InfinitePast();
  std::uint64_t size = 0;   // bytes of data, set by Commit()
  int attempts = 0;
  absl::Time next_attempt = absl::InfinitePast();  // due now
  bool delay_warned = false;
  std::vector<QueuedRecipient> recipients;
};

// Streams one new message into the queue.
class QueueWriter {
 public:
  virtual ~QueueWriter() = default;  // without Commit(): Abort()
  virtual absl::Status Write(std::string_view bytes) = 0;
  // Makes the message durable and visible; returns its queue id. Blocks
  // until file and folder are fsynced (the folder fsync is shared).
  virtual absl::StatusOr<std::string> Commit() = 0;
  virtual void Abort() = 0;
  // The id the message will have (known from BeginEnqueue on, so a
  // Received: field written before the data can name it).
  virtual const std::string& id() const = 0;
};

// One message, held by one worker until the lease is destroyed.
class QueueLease {
 public:
  virtual ~QueueLease() = default;
  virtual const QueueEnvelope& envelope() const = 0;
  virtual absl::StatusOr<std::unique_ptr<MessageReader>> OpenData() = 0;
  // Atomically replaces the envelope (results, attempts, next_attempt).
  virtual absl::Status Save(const QueueEnvelope& envelope) = 0;
  // The message is done: removes it. The lease is finished afterwards.
  virtual absl::Status Remove() = 0;
};

class Queue {
 public:
  virtual ~Queue() = default;
  // `envelope.id` and `size` are ignored; arrival is kept as given.
  virtual absl::StatusOr<std::unique_ptr<QueueWriter>> BeginEnqueue(
      QueueEnvelope envelope) = 0;
  // Every queued message, oldest first (for mailq). Envelopes that cannot
  // be read are skipped here and reported by Problems().
  virtual absl::StatusOr<std::vector<QueueEnvelope>> List() = 0;
  // Ids whose next_attempt <= now, oldest first. An id another worker
  // holds may be left out (PostgreSQL) or listed (files; Lease() then
  // says IsInUse): a runner must expect either.
  virtual absl::StatusOr<std::vector<std::string>> Due(absl::Time now) = 0;
  // IsInUse when another worker holds it; NotFound when it is gone.
  virtual absl::StatusOr<std::unique_ptr<QueueLease>> Lease(
      std::string_view id) = 0;
  // What Open() repaired or set aside, and unreadable entries seen since,
  // one line each naming the file and the reason.
  virtual std::vector<std::string> Problems() = 0;
};

struct FileQueueOptions {
  std::string dir;   // created if missing (mode 0700)
  bool fsync = true;  // false only for tests and benchmarks of the logic
};

// Opens (creating) a queue folder and recovers it: interrupted enqueues are
// removed; a data file without an envelope is removed; an envelope that
// cannot be parsed is moved aside to dir/corrupt/ and reported.
absl::StatusOr<std::unique_ptr<Queue>> MakeFileQueue(
    const FileQueueOptions& options);

// Retry schedule (posthorn.conf: queue_run_interval, max_backoff,
// queue_lifetime, delay_warning).
struct RetryPolicy {
  absl::Duration first_retry = absl::Minutes(5);
  absl::Duration max_backoff = absl::Hours(4);
  absl::Duration lifetime = absl::Hours(24 * 5);
  absl::Duration delay_warning = absl::Hours(4);  // zero: never warn
};

// When to try again after `attempts` failed attempts (>= 1): first_retry
// doubling each time, capped at max_backoff.
absl::Time NextAttempt(const RetryPolicy& policy, int attempts, absl::Time now);
// Past the queue lifetime: pending recipients now fail.
bool IsExpired(const RetryPolicy& policy, const QueueEnvelope& envelope,
               absl::Time now);
// A delay notice is owed (pending recipients asking for NOTIFY=DELAY, not yet
// warned, older than delay_warning).
bool DelayWarningDue(const RetryPolicy& policy, const QueueEnvelope& envelope,
                     absl::Time now);

}  // namespace posthorn::store

#endif  // POSTHORN_STORE_QUEUE_H_
