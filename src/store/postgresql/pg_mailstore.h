// store/postgresql/pg_mailstore.h — the internals of the maildrops on
// PostgreSQL (MakePgMailstore in posthorn/store/postgresql.h), shared by
// the delivery side (pg_mailstore.cpp) and the POP side
// (pg_maildrop_session.cpp).
//
// TABLES (schema.h)
//   maildrop(user_name, seq, uid, message_id, ...): one row per message in
//   a maildrop; the bytes live once in messages/message_chunks, however
//   many maildrops (and the queue) refer to them. seq (a global sequence)
//   orders a maildrop; uid is "<message_id>.<seq>", unique, stable and
//   independent of the content. pop_locks(user_name, node_id, token,
//   until): the POP-session lock, across all nodes. user_notes: the
//   per-user notes.
//
// STORED FORM
//   Messages are stored in POP form: every line ends in CRLF (LF -> CRLF,
//   a lone CR -> CRLF, a final line without a line end gets CRLF), so a
//   session streams the stored bytes as they are and the stored size is
//   the size RFC 1939 LIST reports. A queue message whose bytes are already
//   in that form (messages.crlf) is linked, not copied.

#ifndef POSTHORN_SRC_STORE_POSTGRESQL_PG_MAILSTORE_H_
#define POSTHORN_SRC_STORE_POSTGRESQL_PG_MAILSTORE_H_

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <deque>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "posthorn/store/mailstore.h"
#include "posthorn/store/message_reader.h"
#include "store/postgresql/pg_connection.h"
#include "store/postgresql/pg_node.h"

namespace posthorn::store::pg {

// What a store object and its sessions share; sessions (and readers they
// handed out) keep it alive after the store object is gone.
struct PgMailstoreShared {
  ~PgMailstoreShared();  // ends the node, then frees node_id for reuse
  std::unique_ptr<PgPool> pool;
  std::unique_ptr<PgNode> node;
  std::string node_id;  // claimed in this process (pg_mailstore.cpp)

  // POP locks (user, token) whose release could not reach the database
  // (it was restarting). This node is alive again afterwards, so to other
  // nodes such a lock would look held until it expired; the next session
  // opened here deletes them first. At most kMaxUnreleasedLocks (the
  // oldest are forgotten: they expire).
  std::mutex unreleased_mu;
  std::deque<std::pair<std::string, std::string>> unreleased_locks;
};
inline constexpr std::size_t kMaxUnreleasedLocks = 1024;

// A pooled connection with a transaction open on it. The transaction
// (declared last) rolls back before the connection goes back to the pool.
struct PgWork {
  PgPool::Lease lease;
  std::optional<PgTransaction> tx;
};

// A connection that died while idle in the pool (the database restarted
// since it was last used) fails at its first statement and is dropped by
// the pool; these helpers then try the next one, at most this many times,
// so a restart costs callers no error once the database is back.
inline constexpr int kMaxStaleConnections = 16;

// Acquires a connection and BEGINs a transaction on it.
absl::StatusOr<PgWork> BeginWork(PgPool& pool);
// Acquires a connection and runs one statement on it (outside a
// transaction); the result goes to *result.
absl::StatusOr<PgPool::Lease> AcquireAndExec(
    PgPool& pool, std::string_view sql, std::initializer_list<PgParam> params,
    PgResult* result);

// Delivery input (CRLF, LF or lone CR line ends) into the stored form,
// chunk by chunk, with one byte of state: never a whole line in memory.
class CrlfNormalizer {
 public:
  // Appends the stored form of `input` to `out`; a CR at the end of
  // `input` is held back until the next byte shows whether a LF follows.
  void Feed(std::string_view input, std::string& out);
  // Appends what is held back, and a CRLF when the last line lacks one.
  void Finish(std::string& out);
  std::uint64_t size() const { return size_; }  // bytes appended in total

 private:
  void Append(std::string_view bytes, std::string& out);

  bool holding_cr_ = false;
  bool ends_with_lf_ = false;
  std::uint64_t size_ = 0;
};

// Hands out the bytes of `inner` (a stored message, CRLF line ends; TOP
// wraps it in a TopReader). Holds `keep_alive` so the pool `inner` reads
// through outlives the session that opened it.
class StoredMessageReader final : public MessageReader {
 public:
  StoredMessageReader(std::shared_ptr<PgMailstoreShared> keep_alive,
                      std::unique_ptr<MessageReader> inner)
      : keep_alive_(std::move(keep_alive)), inner_(std::move(inner)) {}

  absl::StatusOr<std::size_t> Read(std::span<char> buffer) override {
    return inner_->Read(buffer);
  }

 private:
  std::shared_ptr<PgMailstoreShared> keep_alive_;
  std::unique_ptr<MessageReader> inner_;
};

// Takes `user`'s POP lock (IsInUse when a live session of any node holds
// it) and snapshots the maildrop. `user` is already validated.
absl::StatusOr<std::unique_ptr<MaildropSession>> OpenPgMaildropSession(
    std::shared_ptr<PgMailstoreShared> shared, std::string user);

}  // namespace posthorn::store::pg

#endif  // POSTHORN_SRC_STORE_POSTGRESQL_PG_MAILSTORE_H_
