// store/postgresql/pg_message.h — a message's bytes in the database
// (tables messages + message_chunks), written and read in chunks of at most
// kPgChunkBytes, never whole in memory. Shared by the queue (which stores
// what SMTP hands it) and the maildrops (which link the queue's message
// when they can, so a message for many local users is stored once).
//
//   auto tx = PgTransaction::Begin(*conn);
//   auto writer = PgMessageWriter::Start(*conn);
//   writer->Write(bytes) ...;
//   auto stored = writer->Finish();          // id, size, crlf
//   ... INSERT the row that refers to stored->id ...; tx->Commit();
//
//   auto reader = OpenStoredMessage(pool, id);   // a MessageReader
//
// A message row nothing refers to any more is removed by
// DropMessageIfUnreferenced (the queue after Remove(), a POP session after
// Commit()); a leftover (a crash between the two) is removed by
// SweepUnreferencedMessages, which every store object runs when it starts.

#ifndef POSTHORN_SRC_STORE_POSTGRESQL_PG_MESSAGE_H_
#define POSTHORN_SRC_STORE_POSTGRESQL_PG_MESSAGE_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "posthorn/store/message_reader.h"
#include "store/postgresql/pg_connection.h"

namespace posthorn::store::pg {

struct StoredMessage {
  std::int64_t id = 0;
  std::uint64_t size = 0;  // bytes stored
  bool crlf = false;       // every line ends in CRLF, and the last one too
};

// Whether bytes fed in pieces are CRLF text: every LF follows a CR, every
// CR precedes an LF, and the last line ends in CRLF (the empty message has
// no line and counts). Such a message can be linked into a maildrop as it
// is.
class CrlfCheck {
 public:
  void Feed(std::string_view bytes);
  bool crlf() const { return crlf_ && (empty_ || last_ == '\n'); }

 private:
  bool crlf_ = true;
  bool empty_ = true;
  char last_ = '\n';  // the byte before the current one ('\n' at start)
};

// Streams a new message into the database on `conn`, inside the caller's
// transaction (nothing is visible before the caller commits).
class PgMessageWriter {
 public:
  // Inserts the messages row.
  static absl::StatusOr<PgMessageWriter> Start(PgConnection& conn);
  // Buffers up to kPgChunkBytes and inserts each full chunk.
  absl::Status Write(std::string_view bytes);
  // Inserts the last chunk and records size and crlf.
  absl::StatusOr<StoredMessage> Finish();
  std::int64_t id() const { return id_; }

 private:
  PgMessageWriter(PgConnection* conn, std::int64_t id) : conn_(conn), id_(id) {}
  absl::Status Flush();

  PgConnection* conn_;
  std::int64_t id_;
  std::string buffer_;
  int next_seq_ = 0;
  std::uint64_t size_ = 0;
  CrlfCheck crlf_;
};

// Reads a stored message chunk by chunk; takes a pooled connection only
// while it fetches a chunk.
class PgMessageReader final : public MessageReader {
 public:
  absl::StatusOr<std::size_t> Read(std::span<char> buffer) override;

  std::int64_t message_id() const { return id_; }
  const PgPool* pool() const { return pool_; }
  bool crlf() const { return crlf_; }
  std::uint64_t size() const { return size_; }
  // True until the first Read(): only then may the message be linked.
  bool at_start() const { return at_start_; }

 private:
  friend absl::StatusOr<std::unique_ptr<PgMessageReader>> OpenStoredMessage(
      PgPool& pool, std::int64_t id, bool with_first_chunk);
  PgMessageReader(PgPool* pool, std::int64_t id, std::uint64_t size,
                  bool crlf)
      : pool_(pool), id_(id), size_(size), crlf_(crlf) {}

  PgPool* pool_;
  std::int64_t id_;
  std::uint64_t size_;
  bool crlf_;
  bool at_start_ = true;
  int next_seq_ = 0;
  std::string chunk_;
  std::size_t chunk_pos_ = 0;
  std::uint64_t fetched_ = 0;  // bytes of the chunks fetched so far
  bool done_ = false;
};

// NotFound when the message row is gone. with_first_chunk fetches the
// first chunk in the same round trip (for a reader that will read the
// message: POP's RETR and TOP); without it nothing is fetched before the
// first Read() (a reader that may only be linked into a maildrop).
absl::StatusOr<std::unique_ptr<PgMessageReader>> OpenStoredMessage(
    PgPool& pool, std::int64_t id, bool with_first_chunk = false);

// Deletes the message (and its chunks) when no queue or maildrop row refers
// to it; OK when it is still referenced or already gone. Works inside or
// outside a transaction: inside the caller's transaction it runs in a
// savepoint, so a reference added concurrently (the DELETE then fails on
// the foreign key) does not abort the caller's transaction; outside it
// commits at once.
absl::Status DropMessageIfUnreferenced(PgConnection& conn, std::int64_t id);

// The same for several messages: one statement per kDropBatch ids when
// outside a transaction (falling back to one id at a time when a reference
// added meanwhile makes the statement fail); inside one, one id at a time.
absl::Status DropMessagesIfUnreferenced(PgConnection& conn,
                                        std::span<const std::int64_t> ids);
inline constexpr std::size_t kDropBatch = 1000;

// Deletes every unreferenced message older than `min_age` (leftovers of a
// crash between a reference's removal and the drop). Returns how many.
absl::StatusOr<std::int64_t> SweepUnreferencedMessages(PgConnection& conn,
                                                       absl::Duration min_age);

}  // namespace posthorn::store::pg

#endif  // POSTHORN_SRC_STORE_POSTGRESQL_PG_MESSAGE_H_
