// posthorn/store/postgresql.h — the queue, the maildrops and the auth
// database on PostgreSQL, shared by several posthorn nodes.
//
// PURPOSE
//   When one host is not enough, several MX and POP hosts share one
//   database: every node sees the same queue (one delivery attempt per
//   message at a time, whichever node runs it), the same maildrops (one POP
//   session per maildrop across all nodes) and the same users. The objects
//   made here implement the same interfaces as the local backends
//   (queue.h, mailstore.h, auth_db.h) with the same guarantees, so nothing
//   outside src/store knows where the mail lives.
//
//     store::PgStoreOptions pg{.dsn = "host=db1 dbname=mail user=posthorn"};
//     auto queue = store::MakePgQueue(pg);        // migrates the schema
//     auto drops = store::MakePgMailstore(pg);
//     auto users = store::OpenPgAuthDb(pg, /*writable=*/false);
//
// SCHEMA
//   Created and upgraded by posthorn itself (MigratePgSchema, also run by
//   every factory; nodes serialize on an advisory lock), versioned in the
//   table posthorn_schema. Tables and their meaning: docs/postgresql.md.
//   A message's bytes are stored once (messages + message_chunks, chunks of
//   at most kPgChunkBytes), however many maildrops and the queue refer to
//   it, and are streamed in and out chunk by chunk, never whole in memory.
//
// FAILURES
//   A lost database connection is Unavailable (the MTA answers 4xx, pop3d
//   -ERR [SYS/TEMP]); the pool reconnects with backoff on later calls.
//   Nothing is acknowledged before its transaction committed, and a
//   transaction that may or may not have committed when the connection
//   dropped is resolved by the same keys the local stores use (queue ids,
//   delivery ids), so a retry never doubles a message.
//
// NODES
//   Each store object registers its process as a node (node_name, default
//   "<hostname>:<pid>") on a connection it keeps open. Queue leases and POP
//   locks name their node; they end when released, when they expire, or at
//   once when their node's connection is gone (the process died), so
//   another node picks the work up.

#ifndef POSTHORN_STORE_POSTGRESQL_H_
#define POSTHORN_STORE_POSTGRESQL_H_

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "posthorn/store/auth_db.h"
#include "posthorn/store/mailstore.h"
#include "posthorn/store/queue.h"

namespace posthorn::store {

// Message bytes are stored in rows of at most this many bytes.
inline constexpr std::size_t kPgChunkBytes = 256 * 1024;

struct PgStoreOptions {
  std::string dsn;  // libpq connection string or URI (posthorn.conf:
                    // postgresql_dsn)
  std::size_t max_connections = 8;  // pool size of one store object
  absl::Duration connect_timeout = absl::Seconds(10);
  // A queue lease or POP lock not renewed for this long is free again even
  // if its node still looks alive.
  absl::Duration lease_duration = absl::Minutes(30);
  std::string node_name = {};  // "" = "<hostname>:<pid>"
};

// The schema version this build writes and reads.
inline constexpr int kPgSchemaVersion = 1;

// Creates the tables or upgrades them to kPgSchemaVersion; returns the
// version found before (0 for an empty database). FailedPrecondition when
// the database is newer than this build.
absl::StatusOr<int> MigratePgSchema(const PgStoreOptions& options);

absl::StatusOr<std::unique_ptr<Queue>> MakePgQueue(
    const PgStoreOptions& options);
absl::StatusOr<std::unique_ptr<Mailstore>> MakePgMailstore(
    const PgStoreOptions& options);
absl::StatusOr<std::unique_ptr<AuthDb>> OpenPgAuthDb(
    const PgStoreOptions& options, bool writable);
// popauth -init on the database (CreateAuthDb's counterpart): migrates the
// schema; FailedPrecondition when auth_users holds users and `force` is
// false; with `force` removes every user in one transaction.
absl::Status InitPgAuthDb(const PgStoreOptions& options, bool force);

// NEW MAIL ACROSS NODES
//   Mail queued without delivery (sendmail -odq, by a process that is not
//   a daemon) has no folder for the daemons to watch. The submitter
//   announces it (a NOTIFY on the channel kPgQueueChannel, the queue id as
//   payload, after the enqueue committed) and every `sendmail -bd` node
//   listens; the first node to lease it delivers it, the others find it
//   leased or gone. An announcement missed while a listener was
//   reconnecting is picked up by the next queue run.
inline constexpr char kPgQueueChannel[] = "posthorn_queue";

// Announces queued message `queue_id` on a connection of its own.
// InvalidArgument for a malformed id; Unavailable when the database cannot
// be reached (the message stays queued either way).
absl::Status AnnouncePgQueueMail(const PgStoreOptions& options,
                                 const std::string& queue_id);

// Listens for announcements on a connection of its own, from a thread of
// its own, and calls on_mail(queue_id) there for each one. Reconnects with
// backoff (100 ms doubling to 5 s) when the connection is lost. The
// destructor stops the thread (at once; it waits in poll()).
class PgQueueListener {
 public:
  static absl::StatusOr<std::unique_ptr<PgQueueListener>> Start(
      const PgStoreOptions& options,
      std::function<void(const std::string& queue_id)> on_mail);
  ~PgQueueListener();
  PgQueueListener(const PgQueueListener&) = delete;
  PgQueueListener& operator=(const PgQueueListener&) = delete;

  // True while the listening connection is up (for tests and logs).
  bool listening() const;

 private:
  class Impl;
  explicit PgQueueListener(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace posthorn::store

#endif  // POSTHORN_STORE_POSTGRESQL_H_
