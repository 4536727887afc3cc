// store/postgresql/pg_queue.cpp — MakePgQueue: the mail queue in the table
// `queue`, shared by every node on the database (see queue.h for the
// interface and its guarantees, docs/postgresql.md for the design).
//
// ROWS
//   queue(id, message_id, envelope, next_attempt, lease_owner, lease_token,
//         lease_until). The id is a file-queue id (queue_id.h), so ids sort
//   by arrival; the envelope is the file queue's envelope text
//   (envelope_format.h) with id and size filled in; next_attempt repeats
//   the envelope's so that Due() is an index scan. The bytes live in
//   messages + message_chunks (pg_message.h).
//
// ENQUEUE
//   BeginEnqueue checks that the database answers (a pooled connection is
//   taken and given back) and holds none while the client sends: the
//   writer keeps the first kPgChunkBytes in memory. A message that fits
//   (most mail) is stored by Commit() in one statement, message row,
//   chunk and queue row together, committed on its own. A larger one takes
//   a pooled connection when the buffer fills, opens a transaction, streams
//   chunks into the messages row, and Commit() inserts the queue row and
//   commits. Nothing is visible (or listed, or leased) before the commit,
//   and the id is returned only after it. When the connection drops during
//   the commit the outcome is unknown: the row is looked up by its id on
//   another connection, so a commit that did happen is still reported as
//   success; otherwise Unavailable (4xx).
//
// LEASES
//   A lease is (lease_owner = this node, lease_token = a random token,
//   lease_until = now() + lease_duration). It is free when nobody holds it,
//   when lease_until has passed, or when the owner's node is not alive
//   (NodeAliveSql: its liveness session is gone, so the process died). Save
//   and Remove act only while the row still carries our token; Save renews
//   lease_until. The lease object's destructor clears the lease.
//
// RETRIES
//   After a database restart the pool may hold several stale connections.
//   Statements that are safe to repeat (reads, and writes guarded by our
//   lease token) are run again on another connection when the connection
//   broke, up to max_connections + 1 times; the pool's reconnect backoff
//   makes every failed try quick while the database is down.

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "fmt/format.h"
#include "posthorn/store/postgresql.h"
#include "posthorn/store/queue.h"
#include "posthorn/store/status.h"
#include "store/postgresql/pg_connection.h"
#include "store/postgresql/pg_message.h"
#include "store/postgresql/pg_node.h"
#include "store/postgresql/schema.h"
#include "store/queue/envelope_format.h"
#include "store/queue/queue_context.h"
#include "store/queue/queue_id.h"

namespace posthorn::store {
namespace {

using pg::PgConnection;
using pg::PgParam;
using pg::PgPool;
using pg::PgResult;
using pg::PgTransaction;

// Unreferenced message rows older than this are removed at start. Only
// committed rows are visible to the sweep, so this is a margin for the
// maildrop's linking, not for enqueues in progress.
constexpr absl::Duration kSweepMinAge = absl::Minutes(10);
// Random bytes in a lease token (as hex: twice as many characters).
constexpr int kLeaseTokenWords = 4;  // of 32 bits each

// What the queue, its writers and its leases share; held by shared_ptr so
// a writer, lease or reader that outlives the Queue object stays valid.
struct PgQueueContext {
  PgStoreOptions options;
  std::unique_ptr<PgPool> pool;
  std::unique_ptr<pg::PgNode> node;
  queue::ProblemLog problems;
  std::string free_sql;  // the SQL condition "this row's lease is free"

  // The tokens of the leases this process holds. A row leased under this
  // node's id with a token not in this set is free: its lease object is
  // gone but its release could not reach the database (it was restarting),
  // and the node, alive again, would otherwise wait for lease_until. A
  // token is added before the lease is taken, so a lease being taken by one
  // worker never looks abandoned to another.
  std::mutex tokens_mu;
  std::set<std::string> live_tokens;

  void AddToken(const std::string& token) {
    std::lock_guard<std::mutex> lock(tokens_mu);
    live_tokens.insert(token);
  }
  void DropToken(const std::string& token) {
    std::lock_guard<std::mutex> lock(tokens_mu);
    live_tokens.erase(token);
  }
  // The live tokens as a text[] literal (tokens are hex: no quoting).
  std::string LiveTokens() {
    std::lock_guard<std::mutex> lock(tokens_mu);
    std::string out = "{";
    for (const std::string& token : live_tokens) {
      if (out.size() > 1) out += ',';
      out += token;
    }
    out += '}';
    return out;
  }
  // free_sql, plus rows of this node (parameter $node) whose token is not
  // live (parameter $tokens, a text[]).
  std::string FreeSql(int node_param, int tokens_param) const {
    return fmt::format(
        "{} OR (lease_owner = ${} AND NOT (lease_token = ANY(${}::text[])))",
        free_sql, node_param, tokens_param);
  }
};

// A timestamptz value for PostgreSQL: UTC to the microsecond, or
// (-)infinity.
std::string PgTime(absl::Time t) {
  if (t == absl::InfiniteFuture()) return "infinity";
  if (t == absl::InfinitePast()) return "-infinity";
  return absl::FormatTime("%Y-%m-%d %H:%M:%E6S+00", t, absl::UTCTimeZone());
}

std::string DurationMicros(absl::Duration d) {
  return std::to_string(absl::ToInt64Microseconds(d));
}

std::string NewLeaseToken() {
  thread_local std::random_device random;
  std::string token;
  for (int i = 0; i < kLeaseTokenWords; ++i) {
    token += fmt::format("{:08x}", static_cast<std::uint32_t>(random()));
  }
  return token;
}

// Runs `fn` on a pooled connection; when it fails because the connection
// broke (not for any other error), runs it again on another connection.
// Only for work that is safe to repeat.
template <typename T>
absl::StatusOr<T> RunRepeatable(
    PgPool& pool, const std::function<absl::StatusOr<T>(PgConnection&)>& fn) {
  const std::size_t attempts = pool.options().max_connections + 1;
  absl::Status last = absl::UnavailableError("postgresql: no attempt made");
  for (std::size_t i = 0; i < attempts; ++i) {
    absl::StatusOr<PgPool::Lease> conn = pool.Acquire();
    if (!conn.ok()) return conn.status();
    absl::StatusOr<T> result = fn(**conn);
    if (result.ok() || (*conn)->healthy()) return result;
    last = result.status();
  }
  return last;
}

absl::StatusOr<QueueEnvelope> ParseRow(PgQueueContext& context,
                                       std::string_view id,
                                       std::string_view text) {
  const std::string label = fmt::format("queue row {}", id);
  absl::StatusOr<QueueEnvelope> envelope = queue::ParseEnvelope(text, label);
  if (envelope.ok() && envelope->id != id) {
    envelope = absl::DataLossError(
        fmt::format("{}: envelope names id {}", label, envelope->id));
  }
  if (!envelope.ok()) {
    context.problems.Add(std::string(envelope.status().message()));
  }
  return envelope;
}

// A reader that keeps the pool it reads through alive.
class KeepAliveReader final : public MessageReader {
 public:
  KeepAliveReader(std::shared_ptr<PgQueueContext> context,
                  std::unique_ptr<pg::PgMessageReader> reader)
      : context_(std::move(context)), reader_(std::move(reader)) {}
  absl::StatusOr<std::size_t> Read(std::span<char> buffer) override {
    return reader_->Read(buffer);
  }

 private:
  std::shared_ptr<PgQueueContext> context_;  // declared first: dies last
  std::unique_ptr<pg::PgMessageReader> reader_;
};

// ---------------------------------------------------------------------------
// Enqueue

class PgQueueWriter final : public QueueWriter {
 public:
  PgQueueWriter(std::shared_ptr<PgQueueContext> context,
                QueueEnvelope envelope)
      : context_(std::move(context)), envelope_(std::move(envelope)) {}
  ~PgQueueWriter() override { Abort(); }

  absl::Status Write(std::string_view bytes) override;
  absl::StatusOr<std::string> Commit() override;
  void Abort() override;
  const std::string& id() const override { return envelope_.id; }

 private:
  enum class State { kWriting, kCommitted, kAborted };

  absl::Status NotWriting() const {
    return absl::FailedPreconditionError(fmt::format(
        "queue message {} {}", envelope_.id,
        state_ == State::kCommitted ? "is already committed"
                                    : "was aborted or failed"));
  }
  // After a failure: rolls back (when the connection still works) and
  // returns the connection to the pool.
  absl::Status Fail(absl::Status status) {
    Abort();
    return status;
  }
  // The buffer is full: a connection, a transaction, the message row, and
  // the buffered bytes as its first chunk.
  absl::Status StartStreaming();
  // Commit() of a message that fits in the buffer: one statement.
  absl::StatusOr<std::string> CommitBuffered();
  // Commit() of a streamed message: the queue row, then COMMIT.
  absl::StatusOr<std::string> CommitStreamed();
  // The commit failed with the connection gone: did it happen anyway?
  absl::StatusOr<std::string> ResolveCommit(absl::Status commit_error);
  // The insert of the queue row failed: a duplicate id is a 4xx (a retry
  // gets a new id), anything else is returned as it is.
  absl::Status InsertError(absl::Status status) const;

  std::shared_ptr<PgQueueContext> context_;
  QueueEnvelope envelope_;
  std::string buffered_;  // the message while it fits in one chunk
  // Streaming only. Destroyed in reverse order: the message writer, then
  // the transaction (ROLLBACK unless committed), then the connection back
  // to the pool.
  std::optional<PgPool::Lease> conn_;
  std::optional<PgTransaction> tx_;
  std::optional<pg::PgMessageWriter> message_;
  State state_ = State::kWriting;
};

absl::Status PgQueueWriter::Write(std::string_view bytes) {
  if (state_ != State::kWriting) return NotWriting();
  if (!message_.has_value()) {
    if (buffered_.size() + bytes.size() <= kPgChunkBytes) {
      buffered_.append(bytes);
      return absl::OkStatus();
    }
    if (absl::Status s = StartStreaming(); !s.ok()) return Fail(s);
  }
  absl::Status status = message_->Write(bytes);
  if (!status.ok()) return Fail(status);
  return absl::OkStatus();
}

absl::Status PgQueueWriter::StartStreaming() {
  absl::StatusOr<PgPool::Lease> conn = context_->pool->Acquire();
  if (!conn.ok()) return conn.status();
  conn_.emplace(*std::move(conn));
  absl::StatusOr<PgTransaction> tx = PgTransaction::Begin(**conn_);
  if (!tx.ok()) return tx.status();
  tx_.emplace(*std::move(tx));
  absl::StatusOr<pg::PgMessageWriter> message =
      pg::PgMessageWriter::Start(**conn_);
  if (!message.ok()) return message.status();
  message_.emplace(*std::move(message));
  absl::Status s = message_->Write(buffered_);
  std::string().swap(buffered_);
  return s;
}

void PgQueueWriter::Abort() {
  if (state_ == State::kWriting) state_ = State::kAborted;
  std::string().swap(buffered_);
  message_.reset();
  tx_.reset();
  conn_.reset();
}

absl::Status PgQueueWriter::InsertError(absl::Status status) const {
  // Queue ids differ between processes by pid and time; two hosts whose
  // processes share a pid and a microsecond would collide here. The
  // client's retry gets a new id.
  if (absl::IsAlreadyExists(status)) {
    return absl::UnavailableError(
        fmt::format("queue id {} already in use: {}", envelope_.id,
                    std::string(status.message())));
  }
  return status;
}

absl::StatusOr<std::string> PgQueueWriter::Commit() {
  if (state_ != State::kWriting) return NotWriting();
  return message_.has_value() ? CommitStreamed() : CommitBuffered();
}

absl::StatusOr<std::string> PgQueueWriter::CommitBuffered() {
  envelope_.size = buffered_.size();
  absl::StatusOr<std::string> text = queue::SerializeEnvelope(envelope_);
  if (!text.ok()) return Fail(text.status());
  pg::CrlfCheck crlf;
  crlf.Feed(buffered_);
  const std::string size = std::to_string(buffered_.size());
  // "Due now" (InfinitePast) is stored as -infinity, due at every clock,
  // as the envelope says; not as now(), which a node whose clock is behind
  // the server's would not see as due yet.
  const std::string next = PgTime(envelope_.next_attempt);
  absl::StatusOr<PgResult> inserted;
  bool broken = false;
  {
    absl::StatusOr<PgPool::Lease> conn = context_->pool->Acquire();
    if (!conn.ok()) return Fail(conn.status());
    // One statement, so one implicit transaction: all three rows or none.
    // The empty message has no chunk.
    inserted = (*conn)->Exec(
        "WITH m AS (INSERT INTO messages (size, crlf) "
        "VALUES ($1::bigint, $2::boolean) RETURNING id), "
        "c AS (INSERT INTO message_chunks (message_id, seq, data) "
        "SELECT m.id, 0, $3::bytea FROM m WHERE octet_length($3::bytea) > 0) "
        "INSERT INTO queue (id, message_id, envelope, next_attempt) "
        "SELECT $4, m.id, $5, $6::timestamptz FROM m",
        {PgParam::Text(size), PgParam::Text(crlf.crlf() ? "true" : "false"),
         PgParam::Binary(buffered_), PgParam::Text(envelope_.id),
         PgParam::Text(*text), PgParam::Text(next)});
    broken = !(*conn)->healthy();
  }  // the connection is back in the pool before any lookup
  if (!inserted.ok()) {
    if (broken) {
      Abort();
      return ResolveCommit(inserted.status());
    }
    return Fail(InsertError(inserted.status()));
  }
  std::string().swap(buffered_);
  state_ = State::kCommitted;
  return envelope_.id;
}

absl::StatusOr<std::string> PgQueueWriter::CommitStreamed() {
  absl::StatusOr<pg::StoredMessage> stored = message_->Finish();
  if (!stored.ok()) return Fail(stored.status());
  envelope_.size = stored->size;
  absl::StatusOr<std::string> text = queue::SerializeEnvelope(envelope_);
  if (!text.ok()) return Fail(text.status());
  const std::string message_id = std::to_string(stored->id);
  const std::string next = PgTime(envelope_.next_attempt);  // see above
  absl::StatusOr<PgResult> inserted = (*conn_)->Exec(
      "INSERT INTO queue (id, message_id, envelope, next_attempt) "
      "VALUES ($1, $2::bigint, $3, $4::timestamptz)",
      {PgParam::Text(envelope_.id), PgParam::Text(message_id),
       PgParam::Text(*text), PgParam::Text(next)});
  if (!inserted.ok()) return Fail(InsertError(inserted.status()));
  message_.reset();
  absl::Status committed = tx_->Commit();
  tx_.reset();
  const bool broken = !(*conn_)->healthy();
  conn_.reset();
  if (!committed.ok()) {
    state_ = State::kAborted;
    if (broken) return ResolveCommit(committed);
    return committed;
  }
  state_ = State::kCommitted;
  return envelope_.id;
}

absl::StatusOr<std::string> PgQueueWriter::ResolveCommit(
    absl::Status commit_error) {
  // The id is unique and written only by this transaction: if the row is
  // there, the COMMIT reached the disk before the connection was lost.
  const std::string& id = envelope_.id;
  absl::StatusOr<bool> found = RunRepeatable<bool>(
      *context_->pool, [&id](PgConnection& conn) -> absl::StatusOr<bool> {
        absl::StatusOr<PgResult> r =
            conn.Exec("SELECT 1 FROM queue WHERE id = $1", {PgParam::Text(id)});
        if (!r.ok()) return r.status();
        return r->rows() > 0;
      });
  if (found.ok() && *found) {
    state_ = State::kCommitted;
    return id;
  }
  return absl::UnavailableError(fmt::format(
      "queue message {}: connection lost during commit, not stored: {}", id,
      std::string(commit_error.message())));
}

// ---------------------------------------------------------------------------
// Leases

class PgQueueLease final : public QueueLease {
 public:
  PgQueueLease(std::shared_ptr<PgQueueContext> context, std::string token,
               std::int64_t message_id, QueueEnvelope envelope)
      : context_(std::move(context)),
        token_(std::move(token)),
        message_id_(message_id),
        envelope_(std::move(envelope)) {}
  ~PgQueueLease() override;

  const QueueEnvelope& envelope() const override { return envelope_; }
  absl::StatusOr<std::unique_ptr<MessageReader>> OpenData() override;
  absl::Status Save(const QueueEnvelope& envelope) override;
  absl::Status Remove() override;

 private:
  absl::Status Finished() const {
    return absl::FailedPreconditionError(
        fmt::format("queue message {} was removed", envelope_.id));
  }
  absl::Status Lost() const {
    return absl::AbortedError(fmt::format(
        "lease on queue message {} was lost (it expired or this node was "
        "seen dead); another worker may hold it now; nothing changed",
        envelope_.id));
  }

  std::shared_ptr<PgQueueContext> context_;
  std::string token_;
  std::int64_t message_id_;
  QueueEnvelope envelope_;
  bool removed_ = false;
};

PgQueueLease::~PgQueueLease() {
  // Whether or not the release below reaches the database, the lease is no
  // longer held by this process (see PgQueueContext::live_tokens).
  struct DropOnExit {
    PgQueueContext* context;
    const std::string* token;
    ~DropOnExit() { context->DropToken(*token); }
  } drop_on_exit{context_.get(), &token_};
  if (removed_) return;
  // Best effort: if the database cannot be reached the lease ends when it
  // expires (or at once if this process dies meanwhile).
  const std::string& id = envelope_.id;
  const std::string& token = token_;
  (void)RunRepeatable<bool>(
      *context_->pool, [&](PgConnection& conn) -> absl::StatusOr<bool> {
        absl::StatusOr<PgResult> r = conn.Exec(
            "UPDATE queue SET lease_owner = NULL, lease_token = NULL, "
            "lease_until = NULL WHERE id = $1 AND lease_token = $2",
            {PgParam::Text(id), PgParam::Text(token)});
        if (!r.ok()) return r.status();
        return true;
      });
}

absl::StatusOr<std::unique_ptr<MessageReader>> PgQueueLease::OpenData() {
  if (removed_) return Finished();
  absl::StatusOr<std::unique_ptr<pg::PgMessageReader>> reader =
      pg::OpenStoredMessage(*context_->pool, message_id_);
  if (!reader.ok()) return reader.status();
  return std::make_unique<KeepAliveReader>(context_, *std::move(reader));
}

absl::Status PgQueueLease::Save(const QueueEnvelope& envelope) {
  if (removed_) return Finished();
  QueueEnvelope updated = envelope;
  updated.id = envelope_.id;      // the message the lease is on
  updated.size = envelope_.size;  // the data never changes
  absl::StatusOr<std::string> text = queue::SerializeEnvelope(updated);
  if (!text.ok()) return text.status();
  const std::string next = PgTime(updated.next_attempt);  // -infinity: now
  const std::string duration = DurationMicros(context_->options.lease_duration);
  // Setting the same values twice is harmless, so a retry after a broken
  // connection is safe; the token makes a lost lease change nothing.
  absl::StatusOr<std::int64_t> changed = RunRepeatable<std::int64_t>(
      *context_->pool, [&](PgConnection& conn) -> absl::StatusOr<std::int64_t> {
        absl::StatusOr<PgResult> r = conn.Exec(
            "UPDATE queue SET envelope = $3, "
            "next_attempt = $4::timestamptz, "
            "lease_until = now() + $5::bigint * interval '1 microsecond' "
            "WHERE id = $1 AND lease_token = $2",
            {PgParam::Text(updated.id), PgParam::Text(token_),
             PgParam::Text(*text), PgParam::Text(next),
             PgParam::Text(duration)});
        if (!r.ok()) return r.status();
        return r->affected();
      });
  if (!changed.ok()) return changed.status();
  if (*changed == 0) return Lost();
  envelope_ = std::move(updated);
  return absl::OkStatus();
}

absl::Status PgQueueLease::Remove() {
  if (removed_) return Finished();
  const std::string& id = envelope_.id;
  int tries = 0;
  // 1: deleted now; 0: the row is there but not ours (lost lease); -1: the
  // row is gone.
  absl::StatusOr<int> outcome = RunRepeatable<int>(
      *context_->pool, [&](PgConnection& conn) -> absl::StatusOr<int> {
        ++tries;
        absl::StatusOr<PgResult> r =
            conn.Exec("DELETE FROM queue WHERE id = $1 AND lease_token = $2",
                      {PgParam::Text(id), PgParam::Text(token_)});
        if (!r.ok()) return r.status();
        if (r->affected() > 0) return 1;
        r = conn.Exec("SELECT 1 FROM queue WHERE id = $1", {PgParam::Text(id)});
        if (!r.ok()) return r.status();
        return r->rows() > 0 ? 0 : -1;
      });
  if (!outcome.ok()) return outcome.status();
  // Gone on a second try: our first DELETE committed before the
  // connection broke. Gone on the first try: another node removed it after
  // our lease was lost.
  if (*outcome == 0 || (*outcome == -1 && tries == 1)) return Lost();
  removed_ = true;
  // The bytes go when nothing else refers to them. A failure here leaves
  // an unreferenced row for the next start's sweep; the message itself is
  // done either way.
  const std::int64_t message_id = message_id_;
  (void)RunRepeatable<bool>(
      *context_->pool, [message_id](PgConnection& conn) -> absl::StatusOr<bool> {
        absl::Status dropped = pg::DropMessageIfUnreferenced(conn, message_id);
        if (!dropped.ok()) return dropped;
        return true;
      });
  return absl::OkStatus();
}

// What the lease statement returns.
struct LeasedRow {
  std::string envelope;
  std::int64_t message_id = 0;
};

// Takes the lease in one transaction:
//   1. SELECT ... FOR UPDATE SKIP LOCKED locks the row, or finds it locked
//      by another worker that is leasing, saving or releasing it right now
//      (-> in use) or gone.
//   2. With the row locked by us, the UPDATE checks that the lease is free
//      and takes it. This is a new statement, so under READ COMMITTED it
//      sees every commit made before we got the lock: the previous
//      holder's lease and the `nodes` row of its node. (A lone UPDATE with
//      the same WHERE would also be exclusive, since PostgreSQL re-checks
//      the WHERE on the newest row version after waiting for a concurrent
//      writer; but that re-check reads `nodes` with the statement's older
//      snapshot, and a node that registered during our statement would
//      look dead there. pg_stat_activity is read once per transaction, and
//      step 1 does not read it.)
//   3. COMMIT.
// Re-running the whole with the same token is safe: a lease that is
// already ours counts as free.
absl::StatusOr<LeasedRow> TakeLease(PgQueueContext& context,
                                    PgConnection& conn, const std::string& id,
                                    const std::string& token) {
  absl::StatusOr<PgTransaction> tx = PgTransaction::Begin(conn);
  if (!tx.ok()) return tx.status();
  absl::StatusOr<PgResult> locked = conn.Exec(
      "SELECT 1 FROM queue WHERE id = $1 FOR UPDATE SKIP LOCKED",
      {PgParam::Text(id)});
  if (!locked.ok()) return locked.status();
  const std::string in_use = fmt::format(
      "queue message {} is leased by another worker", id);
  if (locked->rows() == 0) {
    absl::StatusOr<PgResult> exists =
        conn.Exec("SELECT 1 FROM queue WHERE id = $1", {PgParam::Text(id)});
    if (!exists.ok()) return exists.status();
    if (exists->rows() == 0) {
      return absl::NotFoundError(fmt::format("queue message {} not found", id));
    }
    return InUseError(in_use);
  }
  const std::string duration = DurationMicros(context.options.lease_duration);
  const std::string tokens = context.LiveTokens();
  absl::StatusOr<PgResult> taken = conn.Exec(
      fmt::format("UPDATE queue SET lease_owner = $2, lease_token = $3, "
                  "lease_until = now() + $4::bigint * interval '1 microsecond' "
                  "WHERE id = $1 AND (lease_token = $3 OR {}) "
                  "RETURNING envelope, message_id",
                  context.FreeSql(2, 5)),
      {PgParam::Text(id), PgParam::Text(context.node->id()),
       PgParam::Text(token), PgParam::Text(duration),
       PgParam::Text(tokens)});
  if (!taken.ok()) return taken.status();
  if (taken->rows() == 0) return InUseError(in_use);
  absl::StatusOr<std::int64_t> message_id = taken->Int(0, 1);
  if (!message_id.ok()) return message_id.status();
  LeasedRow row{std::string(taken->Text(0, 0)), *message_id};
  absl::Status committed = tx->Commit();
  if (!committed.ok()) return committed;
  return row;
}

// ---------------------------------------------------------------------------
// The queue

class PgQueue final : public Queue {
 public:
  explicit PgQueue(std::shared_ptr<PgQueueContext> context)
      : context_(std::move(context)) {}

  absl::StatusOr<std::unique_ptr<QueueWriter>> BeginEnqueue(
      QueueEnvelope envelope) override;
  absl::StatusOr<std::vector<QueueEnvelope>> List() override;
  absl::StatusOr<std::vector<std::string>> Due(absl::Time now) override;
  absl::StatusOr<std::unique_ptr<QueueLease>> Lease(
      std::string_view id) override;
  std::vector<std::string> Problems() override {
    return context_->problems.Snapshot();
  }

 private:
  std::shared_ptr<PgQueueContext> context_;
};

absl::StatusOr<std::unique_ptr<QueueWriter>> PgQueue::BeginEnqueue(
    QueueEnvelope envelope) {
  envelope.id = queue::NewQueueId();
  envelope.size = 0;
  // Refuse an envelope that could never be written before taking any data.
  absl::StatusOr<std::string> check = queue::SerializeEnvelope(envelope);
  if (!check.ok()) return check.status();
  // Refuse at once (before the client sends the message) when the
  // database cannot be reached; the writer takes a connection again only
  // to store the message.
  if (absl::StatusOr<PgPool::Lease> conn = context_->pool->Acquire();
      !conn.ok()) {
    return conn.status();
  }
  return std::make_unique<PgQueueWriter>(context_, std::move(envelope));
}

absl::StatusOr<std::vector<QueueEnvelope>> PgQueue::List() {
  absl::StatusOr<PgResult> rows = RunRepeatable<PgResult>(
      *context_->pool, [](PgConnection& conn) {
        return conn.Exec("SELECT id, envelope FROM queue ORDER BY id");
      });
  if (!rows.ok()) return rows.status();
  std::vector<QueueEnvelope> envelopes;
  envelopes.reserve(static_cast<std::size_t>(rows->rows()));
  for (int row = 0; row < rows->rows(); ++row) {
    absl::StatusOr<QueueEnvelope> envelope =
        ParseRow(*context_, rows->Text(row, 0), rows->Text(row, 1));
    if (envelope.ok()) envelopes.push_back(*std::move(envelope));
  }
  return envelopes;
}

absl::StatusOr<std::vector<std::string>> PgQueue::Due(absl::Time now) {
  const std::string when = PgTime(now);
  const std::string sql = fmt::format(
      "SELECT id FROM queue WHERE next_attempt <= $1::timestamptz AND ({}) "
      "ORDER BY id",
      context_->FreeSql(2, 3));
  const std::string node_id = context_->node->id();
  const std::string tokens = context_->LiveTokens();
  absl::StatusOr<PgResult> rows = RunRepeatable<PgResult>(
      *context_->pool, [&](PgConnection& conn) {
        return conn.Exec(sql, {PgParam::Text(when), PgParam::Text(node_id),
                               PgParam::Text(tokens)});
      });
  if (!rows.ok()) return rows.status();
  std::vector<std::string> ids;
  ids.reserve(static_cast<std::size_t>(rows->rows()));
  for (int row = 0; row < rows->rows(); ++row) {
    ids.emplace_back(rows->Text(row, 0));
  }
  return ids;
}

absl::StatusOr<std::unique_ptr<QueueLease>> PgQueue::Lease(
    std::string_view id_view) {
  std::string id(id_view);
  if (!queue::IsValidQueueId(id)) {
    return absl::InvalidArgumentError(
        fmt::format("malformed queue id \"{}\"", id.substr(0, 64)));
  }
  // A lease names this node: it must look alive, or the lease would be
  // free for others from the start (after a database restart the liveness
  // session is new).
  absl::Status registered = context_->node->EnsureRegistered();
  if (!registered.ok()) return registered;
  const std::string token = NewLeaseToken();
  PgQueueContext& context = *context_;
  context.AddToken(token);
  absl::StatusOr<LeasedRow> row = RunRepeatable<LeasedRow>(
      *context_->pool, [&](PgConnection& conn) {
        return TakeLease(context, conn, id, token);
      });
  if (!row.ok()) {
    context.DropToken(token);
    return row.status();
  }
  absl::StatusOr<QueueEnvelope> envelope =
      ParseRow(*context_, id, row->envelope);
  // The lease object releases the lease when it goes, also here.
  QueueEnvelope placeholder;
  placeholder.id = id;
  auto lease = std::make_unique<PgQueueLease>(
      context_, token, row->message_id,
      envelope.ok() ? *envelope : std::move(placeholder));
  if (!envelope.ok()) return envelope.status();
  return lease;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Queue>> MakePgQueue(
    const PgStoreOptions& options) {
  auto context = std::make_shared<PgQueueContext>();
  context->options = options;
  absl::StatusOr<std::unique_ptr<PgPool>> pool = PgPool::Create(options);
  if (!pool.ok()) return pool.status();
  context->pool = *std::move(pool);
  context->free_sql =
      fmt::format("lease_owner IS NULL OR lease_until < now() OR NOT {}",
                  pg::NodeAliveSql("lease_owner"));
  {
    absl::StatusOr<PgPool::Lease> conn = context->pool->Acquire();
    if (!conn.ok()) return conn.status();
    absl::StatusOr<int> migrated = pg::MigrateSchema(**conn);
    if (!migrated.ok()) return migrated.status();
    absl::StatusOr<std::int64_t> swept =
        pg::SweepUnreferencedMessages(**conn, kSweepMinAge);
    if (!swept.ok()) return swept.status();
  }
  // Leases left by an earlier process with the same node name would look
  // alive again once this process registers that name: free them first,
  // while they are still seen as dead (a live holder keeps its leases).
  const std::string node_id = pg::NodeIdFor(options);
  absl::StatusOr<bool> freed = RunRepeatable<bool>(
      *context->pool, [&](PgConnection& conn) -> absl::StatusOr<bool> {
        absl::StatusOr<PgResult> r = conn.Exec(
            fmt::format("UPDATE queue SET lease_owner = NULL, "
                        "lease_token = NULL, lease_until = NULL "
                        "WHERE lease_owner = $1 AND NOT {}",
                        pg::NodeAliveSql("lease_owner")),
            {PgParam::Text(node_id)});
        if (!r.ok()) return r.status();
        return true;
      });
  if (!freed.ok()) return freed.status();
  absl::StatusOr<std::unique_ptr<pg::PgNode>> node =
      pg::PgNode::Register(options);
  if (!node.ok()) return node.status();
  context->node = *std::move(node);
  return std::make_unique<PgQueue>(std::move(context));
}

}  // namespace posthorn::store
