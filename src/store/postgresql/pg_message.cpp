// store/postgresql/pg_message.cpp — see pg_message.h: a message's bytes in
// the messages and message_chunks tables, streamed in and out.
//
// Chunks are bytea values passed and fetched in binary format (no escaping,
// no hex doubling). Every chunk but the last holds exactly kPgChunkBytes;
// the reader checks that the chunks add up to the recorded size, so a lost
// or truncated chunk is DataLoss rather than a silently short message.

#include "store/postgresql/pg_message.h"

#include <algorithm>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>

#include "fmt/format.h"

namespace posthorn::store::pg {
namespace {

// Messages a sweep examines per query (the sweep pages through them by id).
constexpr int kSweepBatch = 500;

// The condition "no queue or maildrop row refers to m.id".
constexpr std::string_view kUnreferenced =
    "NOT EXISTS (SELECT 1 FROM queue q WHERE q.message_id = m.id) "
    "AND NOT EXISTS (SELECT 1 FROM maildrop d WHERE d.message_id = m.id)";

absl::Status InsertChunk(PgConnection& conn, std::int64_t id, int seq,
                         std::string_view data) {
  const std::string id_text = std::to_string(id);
  const std::string seq_text = std::to_string(seq);
  absl::StatusOr<PgResult> r = conn.Exec(
      "INSERT INTO message_chunks (message_id, seq, data) VALUES ($1, $2, $3)",
      {PgParam::Text(id_text), PgParam::Text(seq_text), PgParam::Binary(data)});
  return r.status();
}

// Deletes message `id` when nothing refers to it; true when it did.
absl::StatusOr<bool> DropOne(PgConnection& conn, std::int64_t id) {
  // Inside the caller's transaction a failed statement would abort the
  // whole transaction: confine it to a savepoint.
  const bool savepoint = conn.in_transaction();
  if (savepoint) {
    absl::StatusOr<PgResult> r = conn.Exec("SAVEPOINT posthorn_drop_message");
    if (!r.ok()) return r.status();
  }
  const std::string id_text = std::to_string(id);
  absl::StatusOr<PgResult> r = conn.Exec(
      fmt::format("DELETE FROM messages m WHERE m.id = $1 AND {}",
                  kUnreferenced),
      {PgParam::Text(id_text)});
  if (!r.ok()) {
    if (savepoint && conn.healthy()) {
      absl::StatusOr<PgResult> undo =
          conn.Exec("ROLLBACK TO SAVEPOINT posthorn_drop_message");
      if (undo.ok()) undo = conn.Exec("RELEASE SAVEPOINT posthorn_drop_message");
      if (!undo.ok()) return undo.status();
    }
    // A reference inserted by a transaction that committed while this
    // DELETE ran: the foreign key refuses, and the message stays.
    if (absl::IsFailedPrecondition(r.status())) return false;
    return r.status();
  }
  if (savepoint) {
    absl::StatusOr<PgResult> release =
        conn.Exec("RELEASE SAVEPOINT posthorn_drop_message");
    if (!release.ok()) return release.status();
  }
  return r->affected() > 0;
}

}  // namespace

// ---------------------------------------------------------------------------
// CrlfCheck

void CrlfCheck::Feed(std::string_view bytes) {
  if (bytes.empty()) return;
  empty_ = false;
  if (crlf_) {
    for (const char c : bytes) {
      if (c == '\n' ? last_ != '\r' : last_ == '\r') {
        crlf_ = false;
        break;
      }
      last_ = c;
    }
  }
  last_ = bytes.back();
}

// ---------------------------------------------------------------------------
// PgMessageWriter

absl::StatusOr<PgMessageWriter> PgMessageWriter::Start(PgConnection& conn) {
  absl::StatusOr<PgResult> r = conn.Exec(
      "INSERT INTO messages (size, crlf) VALUES (0, true) RETURNING id");
  if (!r.ok()) return r.status();
  absl::StatusOr<std::int64_t> id = r->Int(0, 0);
  if (!id.ok()) return id.status();
  return PgMessageWriter(&conn, *id);
}

absl::Status PgMessageWriter::Write(std::string_view bytes) {
  if (conn_ == nullptr) {
    return absl::FailedPreconditionError(
        "postgresql: message writer already finished");
  }
  if (bytes.empty()) return absl::OkStatus();
  crlf_.Feed(bytes);
  size_ += bytes.size();

  while (!bytes.empty()) {
    if (buffer_.empty() && bytes.size() >= kPgChunkBytes) {
      // A whole chunk straight from the caller's bytes, without a copy.
      absl::Status s =
          InsertChunk(*conn_, id_, next_seq_, bytes.substr(0, kPgChunkBytes));
      if (!s.ok()) return s;
      ++next_seq_;
      bytes.remove_prefix(kPgChunkBytes);
      continue;
    }
    const std::size_t take =
        std::min(bytes.size(), kPgChunkBytes - buffer_.size());
    buffer_.append(bytes.substr(0, take));
    bytes.remove_prefix(take);
    if (buffer_.size() == kPgChunkBytes) {
      if (absl::Status s = Flush(); !s.ok()) return s;
    }
  }
  return absl::OkStatus();
}

absl::Status PgMessageWriter::Flush() {
  if (buffer_.empty()) return absl::OkStatus();
  absl::Status s = InsertChunk(*conn_, id_, next_seq_, buffer_);
  if (!s.ok()) return s;
  ++next_seq_;
  buffer_.clear();
  return absl::OkStatus();
}

absl::StatusOr<StoredMessage> PgMessageWriter::Finish() {
  if (conn_ == nullptr) {
    return absl::FailedPreconditionError(
        "postgresql: message writer already finished");
  }
  if (absl::Status s = Flush(); !s.ok()) return s;
  const std::string id_text = std::to_string(id_);
  const std::string size_text = std::to_string(size_);
  absl::StatusOr<PgResult> r = conn_->Exec(
      "UPDATE messages SET size = $2, crlf = $3 WHERE id = $1",
      {PgParam::Text(id_text), PgParam::Text(size_text),
       PgParam::Text(crlf_.crlf() ? "true" : "false")});
  if (!r.ok()) return r.status();
  if (r->affected() != 1) {
    return absl::InternalError(
        fmt::format("postgresql: message {} vanished while written", id_));
  }
  conn_ = nullptr;
  return StoredMessage{.id = id_, .size = size_, .crlf = crlf_.crlf()};
}

// ---------------------------------------------------------------------------
// PgMessageReader

absl::StatusOr<std::unique_ptr<PgMessageReader>> OpenStoredMessage(
    PgPool& pool, std::int64_t id, bool with_first_chunk) {
  absl::StatusOr<PgPool::Lease> conn = pool.Acquire();
  if (!conn.ok()) return conn.status();
  const std::string id_text = std::to_string(id);
  // With the first chunk the result is binary (for the bytea): size and
  // crlf then come as the bytes of their text form.
  absl::StatusOr<PgResult> r =
      with_first_chunk
          ? (*conn)->Exec(
                "SELECT convert_to(m.size::text, 'UTF8'), "
                "convert_to(CASE WHEN m.crlf THEN 't' ELSE 'f' END, 'UTF8'), "
                "c.data FROM messages m LEFT JOIN message_chunks c "
                "ON c.message_id = m.id AND c.seq = 0 WHERE m.id = $1",
                {PgParam::Text(id_text)}, /*binary_result=*/true)
          : (*conn)->Exec("SELECT size, crlf FROM messages WHERE id = $1",
                          {PgParam::Text(id_text)});
  if (!r.ok()) return r.status();
  if (r->rows() == 0) {
    return absl::NotFoundError(
        fmt::format("postgresql: no message {}", id));
  }
  absl::StatusOr<std::int64_t> size = r->Int(0, 0);
  if (!size.ok()) return size.status();
  if (*size < 0) {
    return absl::DataLossError(
        fmt::format("postgresql: message {} has a negative size", id));
  }
  const bool crlf = r->Text(0, 1) == "t";
  std::unique_ptr<PgMessageReader> reader(new PgMessageReader(
      &pool, id, static_cast<std::uint64_t>(*size), crlf));
  if (with_first_chunk) {
    // Kept only when it fits the recorded size; otherwise Read() fetches
    // chunk 0 again and reports what is wrong with it.
    const std::string_view first = r->Text(0, 2);
    if (!first.empty() && first.size() <= reader->size_) {
      reader->chunk_.assign(first);
      reader->fetched_ = first.size();
      reader->next_seq_ = 1;
    }
  }
  return reader;
}

absl::StatusOr<std::size_t> PgMessageReader::Read(std::span<char> buffer) {
  if (buffer.empty()) return 0;
  at_start_ = false;
  if (chunk_pos_ == chunk_.size()) {
    if (done_) return 0;
    if (fetched_ == size_) {
      done_ = true;
      chunk_.clear();
      chunk_.shrink_to_fit();
      return 0;
    }
    absl::StatusOr<PgPool::Lease> conn = pool_->Acquire();
    if (!conn.ok()) return conn.status();
    const std::string id_text = std::to_string(id_);
    const std::string seq_text = std::to_string(next_seq_);
    absl::StatusOr<PgResult> r = (*conn)->Exec(
        "SELECT data FROM message_chunks WHERE message_id = $1 AND seq = $2",
        {PgParam::Text(id_text), PgParam::Text(seq_text)},
        /*binary_result=*/true);
    if (!r.ok()) return r.status();
    const std::string_view data = r->rows() == 0 ? "" : r->Text(0, 0);
    if (data.empty() || fetched_ + data.size() > size_) {
      return absl::DataLossError(fmt::format(
          "postgresql: message {} should have {} bytes, but chunk {} {}", id_,
          size_, next_seq_,
          data.empty() ? fmt::format("is missing after {} bytes", fetched_)
                       : std::string("goes beyond them")));
    }
    chunk_.assign(data);
    chunk_pos_ = 0;
    fetched_ += data.size();
    ++next_seq_;
  }
  const std::size_t n = std::min(buffer.size(), chunk_.size() - chunk_pos_);
  std::memcpy(buffer.data(), chunk_.data() + chunk_pos_, n);
  chunk_pos_ += n;
  return n;
}

// ---------------------------------------------------------------------------
// Removal

absl::Status DropMessageIfUnreferenced(PgConnection& conn, std::int64_t id) {
  return DropOne(conn, id).status();
}

absl::Status DropMessagesIfUnreferenced(PgConnection& conn,
                                        std::span<const std::int64_t> ids) {
  const auto one_by_one = [&conn](std::span<const std::int64_t> some) {
    for (const std::int64_t id : some) {
      if (absl::Status s = DropOne(conn, id).status(); !s.ok()) return s;
    }
    return absl::OkStatus();
  };
  if (conn.in_transaction()) return one_by_one(ids);
  while (!ids.empty()) {
    const std::span<const std::int64_t> batch =
        ids.first(std::min(ids.size(), kDropBatch));
    ids = ids.subspan(batch.size());
    std::string array = "{";
    for (const std::int64_t id : batch) {
      if (array.size() > 1) array.push_back(',');
      array += std::to_string(id);
    }
    array.push_back('}');
    absl::StatusOr<PgResult> r = conn.Exec(
        fmt::format("DELETE FROM messages m WHERE m.id = ANY($1::bigint[]) "
                    "AND {}",
                    kUnreferenced),
        {PgParam::Text(array)});
    if (r.ok()) continue;
    // A reference inserted by a transaction that committed while this
    // DELETE ran: the foreign key refused the whole batch.
    if (!absl::IsFailedPrecondition(r.status())) return r.status();
    if (absl::Status s = one_by_one(batch); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::int64_t> SweepUnreferencedMessages(
    PgConnection& conn, absl::Duration min_age) {
  const std::string age =
      fmt::format("{}", std::max(0.0, absl::ToDoubleSeconds(min_age)));
  const std::string select = fmt::format(
      "SELECT m.id FROM messages m WHERE m.id > $1 "
      "AND m.created < now() - $2::double precision * interval '1 second' "
      "AND {} ORDER BY m.id LIMIT {}",
      kUnreferenced, kSweepBatch);
  std::int64_t after = 0;
  std::int64_t dropped = 0;
  // Pages through the candidates by id, so the loop ends even when some
  // stay (referenced again meanwhile).
  for (;;) {
    const std::string after_text = std::to_string(after);
    absl::StatusOr<PgResult> r = conn.Exec(
        select, {PgParam::Text(after_text), PgParam::Text(age)});
    if (!r.ok()) return r.status();
    for (int row = 0; row < r->rows(); ++row) {
      absl::StatusOr<std::int64_t> id = r->Int(row, 0);
      if (!id.ok()) return id.status();
      after = *id;
      absl::StatusOr<bool> gone = DropOne(conn, *id);
      if (!gone.ok()) return gone.status();
      if (*gone) ++dropped;
    }
    if (r->rows() < kSweepBatch) break;
  }
  return dropped;
}

}  // namespace posthorn::store::pg
