// store/postgresql/pg_mailstore.cpp — MakePgMailstore (posthorn/store/
// postgresql.h): delivery into maildrops on PostgreSQL, the per-user notes,
// and the helpers pg_mailstore.h shares with the POP side.
//
// DELIVERY
//   One transaction: the message bytes (streamed through CrlfNormalizer
//   into a PgMessageWriter, chunk by chunk) and the maildrop row. A source
//   that is a PgMessageReader of the same database, still at its start,
//   over a message already in stored form (the queue's copy of an SMTP
//   message) is linked instead: only the maildrop row is written, so a
//   message for many local users is stored once; with a delivery id (the
//   MTA always gives one) that row is one statement committed on its own.
//   OK only after COMMIT.
//
// IDEMPOTENCE
//   UNIQUE (user_name, delivery_id): a retry finds the first delivery's row
//   (checked before streaming, so the retry reads nothing) or, racing an
//   uncommitted first attempt, waits for it in INSERT ... ON CONFLICT DO
//   NOTHING and rolls back; either way the first delivery counts. A COMMIT
//   whose outcome is unknown (the connection dropped during it) is resolved
//   by looking for the row's seq on a new connection; the one statement of
//   a linked delivery is run again instead (it cannot insert twice).
//
// FAILURES
//   A database that is down gives Unavailable (4xx, -ERR [SYS/TEMP]) from
//   the pool; nothing is acknowledged before it committed.

#include "store/postgresql/pg_mailstore.h"

#include <cstring>
#include <mutex>
#include <string>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/time/clock.h"
#include "fmt/format.h"
#include "posthorn/store/postgresql.h"
#include "posthorn/store/status.h"
#include "store/maildir/user_note.h"
#include "store/postgresql/pg_message.h"

namespace posthorn::store::pg {
namespace {

// Bytes pulled from a delivery's source per Read().
constexpr std::size_t kDeliveryReadChunk = 64 * 1024;
// Unreferenced messages younger than this may belong to a delivery or a
// queue entry in progress; older ones are crash leftovers the store
// removes when it starts.
constexpr absl::Duration kSweepMinAge = absl::Hours(1);

// A node id belongs to one PgNode, and the queue of the same process (the
// MTA has both) registers node_name, else "<hostname>:<pid>", itself. So
// the maildrops register "<that>/maildrop", and further live store objects
// of the process "<that>/maildrop2", "/maildrop3", ... The ids in use here
// are kept below; a restarted process takes the same ids again, as
// pg_node.h expects.
std::mutex node_ids_mutex;
absl::flat_hash_set<std::string>& NodeIdsInUse() {
  static auto* ids = new absl::flat_hash_set<std::string>();  // never freed
  return *ids;
}

std::string ClaimMaildropNodeId(const PgStoreOptions& options) {
  const std::string base = pg::NodeIdFor(options);
  std::lock_guard<std::mutex> lock(node_ids_mutex);
  for (int n = 1;; ++n) {
    std::string id = n == 1 ? fmt::format("{}/maildrop", base)
                            : fmt::format("{}/maildrop{}", base, n);
    if (NodeIdsInUse().insert(id).second) return id;
  }
}

bool IsStaleConnection(const absl::Status& status, const PgPool::Lease& lease) {
  return absl::IsUnavailable(status) && !lease->healthy();
}

// "2024-05-01 10:00:00.000000+00" for a timestamptz parameter; an infinite
// time (never set) becomes now.
std::string TimestampParam(absl::Time time) {
  if (time == absl::InfinitePast() || time == absl::InfiniteFuture()) {
    time = absl::Now();
  }
  return absl::FormatTime("%Y-%m-%d %H:%M:%E6S+00", time, absl::UTCTimeZone());
}

// A message row the caller can refer to: linked or freshly written.
struct MessageRef {
  std::int64_t id = 0;
  std::uint64_t size = 0;
};

// Appends the maildrop row for `message`; no row returned when the user
// already has one with this delivery id (a retry).
absl::StatusOr<PgResult> InsertMaildropRow(PgConnection& conn,
                                           const std::string& user_name,
                                           const MessageRef& message,
                                           const DeliveryInfo& info) {
  const std::string message_id = std::to_string(message.id);
  const std::string size = std::to_string(message.size);
  const std::string arrival = TimestampParam(info.arrival);
  return conn.Exec(
      "WITH s AS (SELECT nextval(pg_get_serial_sequence('maildrop', 'seq'))"
      " AS seq) "
      "INSERT INTO maildrop (user_name, seq, uid, message_id, size, arrival,"
      " envelope_sender, delivery_id) "
      "SELECT $1, s.seq, $2::bigint::text || '.' || s.seq::text, $2::bigint,"
      " $3::bigint, $4::timestamptz, $5, $6 FROM s "
      "ON CONFLICT (user_name, delivery_id) DO NOTHING RETURNING seq",
      {PgParam::Text(user_name), PgParam::Text(message_id),
       PgParam::Text(size), PgParam::Text(arrival),
       PgParam::Text(info.envelope_sender),
       info.delivery_id.empty() ? PgParam::Null()
                                : PgParam::Text(info.delivery_id)});
}

class PgMailstore final : public Mailstore {
 public:
  explicit PgMailstore(std::shared_ptr<PgMailstoreShared> shared)
      : shared_(std::move(shared)) {}

  absl::Status Deliver(std::string_view user, const DeliveryInfo& info,
                       MessageReader& source) override {
    if (auto s = ValidateUserName(user); !s.ok()) return s;
    if (auto s = ValidateDeliveryId(info.delivery_id); !s.ok()) return s;
    PgPool& pool = *shared_->pool;
    const std::string user_name(user);
    if (!info.delivery_id.empty()) {
      if (std::optional<MessageRef> linked = Linkable(source)) {
        return DeliverLinked(user_name, info, *linked);
      }
    }
    absl::StatusOr<PgWork> work = BeginWork(pool);
    if (!work.ok()) return work.status();
    PgConnection& conn = *work->lease;

    if (!info.delivery_id.empty()) {
      // A retry of a delivery that happened: nothing to read or write.
      absl::StatusOr<PgResult> seen = conn.Exec(
          "SELECT 1 FROM maildrop WHERE user_name = $1 AND delivery_id = $2",
          {PgParam::Text(user_name), PgParam::Text(info.delivery_id)});
      if (!seen.ok()) return seen.status();
      if (seen->rows() > 0) return absl::OkStatus();
    }

    absl::StatusOr<MessageRef> message = LinkOrWrite(conn, source);
    if (!message.ok()) return message.status();

    absl::StatusOr<PgResult> inserted =
        InsertMaildropRow(conn, user_name, *message, info);
    if (!inserted.ok()) return inserted.status();
    if (inserted->rows() == 0) {
      // A concurrent delivery with the same id committed first: it counts;
      // this one's message rows go with the rollback.
      return absl::OkStatus();
    }
    const std::string seq(inserted->Text(0, 0));
    absl::Status committed = work->tx->Commit();
    if (absl::IsUnavailable(committed)) {
      return ResolveUnknownCommit(user_name, seq, committed);
    }
    return committed;
  }

  absl::StatusOr<std::unique_ptr<MaildropSession>> OpenSession(
      std::string_view user) override {
    if (auto s = ValidateUserName(user); !s.ok()) return s;
    return OpenPgMaildropSession(shared_, std::string(user));
  }

  absl::StatusOr<std::string> ReadUserNote(std::string_view user,
                                           std::string_view key) override {
    if (auto s = ValidateUserName(user); !s.ok()) return s;
    if (auto s = maildir::ValidateNoteKey(key); !s.ok()) return s;
    const std::string user_name(user);
    const std::string note_key(key);
    PgResult result;
    absl::StatusOr<PgPool::Lease> lease = AcquireAndExec(
        *shared_->pool,
        "SELECT value FROM user_notes WHERE user_name = $1 AND note_key = $2",
        {PgParam::Text(user_name), PgParam::Text(note_key)}, &result);
    if (!lease.ok()) return lease.status();
    if (result.rows() == 0) {
      return absl::NotFoundError(
          fmt::format("no note '{}' for user {}", note_key, user_name));
    }
    return std::string(result.Text(0, 0));
  }

  absl::Status WriteUserNote(std::string_view user, std::string_view key,
                             std::string_view value) override {
    if (auto s = ValidateUserName(user); !s.ok()) return s;
    if (auto s = maildir::ValidateNoteKey(key); !s.ok()) return s;
    if (auto s = maildir::ValidateNoteValue(value); !s.ok()) return s;
    // The column is text: PostgreSQL refuses NUL in it.
    if (value.find('\0') != std::string_view::npos) {
      return absl::InvalidArgumentError("note value holds a NUL byte");
    }
    const std::string user_name(user);
    const std::string note_key(key);
    PgResult result;
    absl::StatusOr<PgPool::Lease> lease = AcquireAndExec(
        *shared_->pool,
        "INSERT INTO user_notes (user_name, note_key, value) "
        "VALUES ($1, $2, $3) "
        "ON CONFLICT (user_name, note_key) DO UPDATE SET value = "
        "EXCLUDED.value",
        {PgParam::Text(user_name), PgParam::Text(note_key),
         PgParam::Text(value)},
        &result);
    return lease.status();
  }

 private:
  // The message row for the maildrop row: the source's own when it can be
  // linked, else a new one written from the source inside the caller's
  // transaction on `conn`.
  absl::StatusOr<MessageRef> LinkOrWrite(PgConnection& conn,
                                         MessageReader& source) {
    // The foreign key on maildrop.message_id keeps a linked row from being
    // dropped under us until this transaction ends.
    if (std::optional<MessageRef> linked = Linkable(source)) return *linked;
    absl::StatusOr<PgMessageWriter> writer = PgMessageWriter::Start(conn);
    if (!writer.ok()) return writer.status();
    CrlfNormalizer normalizer;
    std::string input(kDeliveryReadChunk, '\0');
    std::string output;
    output.reserve(kDeliveryReadChunk * 2);  // every byte may become two
    for (;;) {
      absl::StatusOr<std::size_t> n =
          source.Read(std::span<char>(input.data(), input.size()));
      if (!n.ok()) return n.status();
      if (*n == 0) break;
      output.clear();
      normalizer.Feed(std::string_view(input.data(), *n), output);
      if (auto s = writer->Write(output); !s.ok()) return s;
    }
    output.clear();
    normalizer.Finish(output);
    if (auto s = writer->Write(output); !s.ok()) return s;
    if (normalizer.size() == 0) {
      return absl::InvalidArgumentError("Deliver: the message is empty");
    }
    absl::StatusOr<StoredMessage> written = writer->Finish();
    if (!written.ok()) return written.status();
    return MessageRef{written->id, written->size};
  }

  // The source's own message row, when it is a message of this database
  // already in stored form and nothing has been read from it yet.
  std::optional<MessageRef> Linkable(MessageReader& source) const {
    auto* stored = dynamic_cast<PgMessageReader*>(&source);
    if (stored != nullptr && stored->at_start() && stored->crlf() &&
        stored->pool() != nullptr &&
        stored->pool()->options().dsn == shared_->pool->options().dsn) {
      return MessageRef{stored->message_id(), stored->size()};
    }
    return std::nullopt;
  }

  // A linked message with a delivery id: the maildrop row alone, one
  // statement committed on its own. ON CONFLICT makes it idempotent, so a
  // statement whose connection broke (its outcome unknown) is simply run
  // again on another connection: it inserts the row, or finds it there.
  absl::Status DeliverLinked(const std::string& user_name,
                             const DeliveryInfo& info,
                             const MessageRef& message) {
    for (int attempt = 0;; ++attempt) {
      absl::StatusOr<PgPool::Lease> lease = shared_->pool->Acquire();
      if (!lease.ok()) return lease.status();
      absl::StatusOr<PgResult> inserted =
          InsertMaildropRow(**lease, user_name, message, info);
      // No row returned: the delivery happened before (a retry).
      if (inserted.ok()) return absl::OkStatus();
      if (!IsStaleConnection(inserted.status(), *lease) ||
          attempt + 1 >= kMaxStaleConnections) {
        return inserted.status();
      }
    }
  }

  // COMMIT failed with the connection: the row is there or not.
  absl::Status ResolveUnknownCommit(const std::string& user,
                                    const std::string& seq,
                                    const absl::Status& commit_error) {
    PgResult result;
    absl::StatusOr<PgPool::Lease> lease = AcquireAndExec(
        *shared_->pool,
        "SELECT 1 FROM maildrop WHERE user_name = $1 AND seq = $2::bigint",
        {PgParam::Text(user), PgParam::Text(seq)}, &result);
    if (lease.ok() && result.rows() == 1) return absl::OkStatus();
    return commit_error;
  }

  std::shared_ptr<PgMailstoreShared> shared_;
};

}  // namespace

PgMailstoreShared::~PgMailstoreShared() {
  node.reset();  // the row goes before another store may take the id
  if (node_id.empty()) return;
  std::lock_guard<std::mutex> lock(node_ids_mutex);
  NodeIdsInUse().erase(node_id);
}

absl::StatusOr<PgWork> BeginWork(PgPool& pool) {
  for (int attempt = 0;; ++attempt) {
    absl::StatusOr<PgPool::Lease> lease = pool.Acquire();
    if (!lease.ok()) return lease.status();
    absl::StatusOr<PgTransaction> tx = PgTransaction::Begin(**lease);
    if (tx.ok()) {
      PgWork work{std::move(*lease), std::nullopt};
      work.tx.emplace(std::move(*tx));
      return work;
    }
    if (!IsStaleConnection(tx.status(), *lease) ||
        attempt + 1 >= kMaxStaleConnections) {
      return tx.status();
    }
  }
}

absl::StatusOr<PgPool::Lease> AcquireAndExec(
    PgPool& pool, std::string_view sql, std::initializer_list<PgParam> params,
    PgResult* result) {
  for (int attempt = 0;; ++attempt) {
    absl::StatusOr<PgPool::Lease> lease = pool.Acquire();
    if (!lease.ok()) return lease.status();
    absl::StatusOr<PgResult> r = (*lease)->Exec(sql, params);
    if (r.ok()) {
      *result = *std::move(r);
      return lease;
    }
    if (!IsStaleConnection(r.status(), *lease) ||
        attempt + 1 >= kMaxStaleConnections) {
      return r.status();
    }
  }
}

// ---------------------------------------------------------------------------
// CrlfNormalizer

void CrlfNormalizer::Append(std::string_view bytes, std::string& out) {
  if (bytes.empty()) return;
  out.append(bytes);
  size_ += bytes.size();
  ends_with_lf_ = bytes.back() == '\n';
}

void CrlfNormalizer::Feed(std::string_view input, std::string& out) {
  if (input.empty()) return;
  if (holding_cr_) {
    holding_cr_ = false;
    Append("\r\n", out);
    if (input.front() == '\n') input.remove_prefix(1);  // it was CRLF
  }
  while (!input.empty()) {
    const std::size_t end = input.find_first_of("\r\n");
    if (end == std::string_view::npos) {
      Append(input, out);
      return;
    }
    Append(input.substr(0, end), out);
    if (input[end] == '\n') {  // a bare LF
      Append("\r\n", out);
      input.remove_prefix(end + 1);
      continue;
    }
    if (end + 1 == input.size()) {  // a CR at the end: LF may follow
      holding_cr_ = true;
      return;
    }
    Append("\r\n", out);  // CRLF, or a lone CR
    input.remove_prefix(input[end + 1] == '\n' ? end + 2 : end + 1);
  }
}

void CrlfNormalizer::Finish(std::string& out) {
  if (holding_cr_) {
    holding_cr_ = false;
    Append("\r\n", out);
  } else if (size_ > 0 && !ends_with_lf_) {
    Append("\r\n", out);
  }
}

}  // namespace posthorn::store::pg

namespace posthorn::store {

absl::StatusOr<std::unique_ptr<Mailstore>> MakePgMailstore(
    const PgStoreOptions& options) {
  absl::StatusOr<int> migrated = MigratePgSchema(options);
  if (!migrated.ok()) return migrated.status();
  auto shared = std::make_shared<pg::PgMailstoreShared>();
  absl::StatusOr<std::unique_ptr<pg::PgPool>> pool =
      pg::PgPool::Create(options);
  if (!pool.ok()) return pool.status();
  shared->pool = *std::move(pool);
  shared->node_id = pg::ClaimMaildropNodeId(options);
  PgStoreOptions node_options = options;
  node_options.node_name = shared->node_id;
  absl::StatusOr<std::unique_ptr<pg::PgNode>> node =
      pg::PgNode::Register(node_options);
  if (!node.ok()) return node.status();
  shared->node = *std::move(node);
  {
    // Best effort: a leftover that stays is only space, and the next
    // start (of any node) tries again.
    absl::StatusOr<pg::PgPool::Lease> lease = shared->pool->Acquire();
    if (lease.ok()) {
      (void)pg::SweepUnreferencedMessages(**lease, pg::kSweepMinAge);
    }
  }
  return std::unique_ptr<Mailstore>(
      std::make_unique<pg::PgMailstore>(std::move(shared)));
}

}  // namespace posthorn::store
