// tests/store/postgresql/pg_core_test.cpp — the core of the PostgreSQL
// store: schema migration (schema_migrate.cpp), message bodies
// (pg_message.h), node liveness (pg_node.h) and the connection pool's
// behaviour when the server restarts or every connection is busy
// (pg_connection.h). Each test has its own database on the harness cluster.

#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "pg_test_cluster.h"
#include "posthorn/store/postgresql.h"
#include "store/postgresql/pg_connection.h"
#include "store/postgresql/pg_message.h"
#include "store/postgresql/pg_node.h"
#include "store/postgresql/schema.h"

namespace posthorn::store::pg {
namespace {

using ::posthorn::store::testing::PgTestCluster;

// Bounded waits for things that happen asynchronously on the server.
constexpr absl::Duration kWait = absl::Seconds(20);
constexpr absl::Duration kPoll = absl::Milliseconds(50);

class PgCoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    POSTHORN_PG_TEST_CLUSTER(cluster);
    cluster_ = &cluster;
    absl::StatusOr<std::string> dsn = cluster.CreateFreshDatabase();
    ASSERT_TRUE(dsn.ok()) << dsn.status();
    options_.dsn = *dsn;
    options_.connect_timeout = absl::Seconds(5);
  }

  void Migrate() {
    absl::StatusOr<int> before = MigratePgSchema(options_);
    ASSERT_TRUE(before.ok()) << before.status();
  }

  std::unique_ptr<PgConnection> Connect() {
    absl::StatusOr<std::unique_ptr<PgConnection>> conn =
        PgConnection::Connect(options_);
    EXPECT_TRUE(conn.ok()) << conn.status();
    return conn.ok() ? *std::move(conn) : nullptr;
  }

  // The first column of the first row of `sql` ("" when no row).
  std::string Query(std::string_view sql,
                    std::initializer_list<PgParam> params = {}) {
    std::unique_ptr<PgConnection> conn = Connect();
    if (conn == nullptr) return "<no connection>";
    absl::StatusOr<PgResult> r = conn->Exec(sql, params);
    if (!r.ok()) return std::string(r.status().message());
    return r->rows() == 0 ? "" : std::string(r->Text(0, 0));
  }

  // Stores `pieces` as one message in a committed transaction.
  absl::StatusOr<StoredMessage> Store(const std::vector<std::string>& pieces) {
    std::unique_ptr<PgConnection> conn = Connect();
    if (conn == nullptr) return absl::UnavailableError("no connection");
    absl::StatusOr<PgTransaction> tx = PgTransaction::Begin(*conn);
    if (!tx.ok()) return tx.status();
    absl::StatusOr<PgMessageWriter> writer = PgMessageWriter::Start(*conn);
    if (!writer.ok()) return writer.status();
    for (const std::string& piece : pieces) {
      if (absl::Status s = writer->Write(piece); !s.ok()) return s;
    }
    absl::StatusOr<StoredMessage> stored = writer->Finish();
    if (!stored.ok()) return stored.status();
    if (absl::Status s = tx->Commit(); !s.ok()) return s;
    return stored;
  }

  // Reads message `id` back with a read buffer of `buffer_size` bytes.
  // With with_first_chunk the first chunk comes with the open (POP's way).
  absl::StatusOr<std::string> Load(PgPool& pool, std::int64_t id,
                                   std::size_t buffer_size = 7000,
                                   bool with_first_chunk = false) {
    absl::StatusOr<std::unique_ptr<PgMessageReader>> reader =
        OpenStoredMessage(pool, id, with_first_chunk);
    if (!reader.ok()) return reader.status();
    std::string out;
    std::vector<char> buffer(buffer_size);
    for (;;) {
      absl::StatusOr<std::size_t> n = (*reader)->Read(buffer);
      if (!n.ok()) return n.status();
      if (*n == 0) break;
      out.append(buffer.data(), *n);
    }
    return out;
  }

  std::unique_ptr<PgPool> Pool() {
    absl::StatusOr<std::unique_ptr<PgPool>> pool = PgPool::Create(options_);
    EXPECT_TRUE(pool.ok()) << pool.status();
    return pool.ok() ? *std::move(pool) : nullptr;
  }

  PgTestCluster* cluster_ = nullptr;
  PgStoreOptions options_;
};

// Bytes of every value, so a chunk boundary in the wrong place shows.
std::string Pattern(std::size_t size) {
  std::string out(size, '\0');
  for (std::size_t i = 0; i < size; ++i) {
    out[i] = static_cast<char>((i * 7 + i / 251) & 0xff);
  }
  return out;
}

// CRLF lines of text, exactly `size` bytes, ending in CRLF.
std::string CrlfText(std::size_t size) {
  std::string out;
  out.reserve(size);
  while (out.size() + 2 < size) {
    out += static_cast<char>('a' + out.size() % 26);
    if (out.size() % 70 == 0 && out.size() + 2 < size) out += "\r\n";
  }
  while (out.size() + 2 < size) out += 'x';
  out += "\r\n";
  return out.substr(out.size() - size);
}

// ---------------------------------------------------------------------------
// Migration

TEST_F(PgCoreTest, MigratesAnEmptyDatabase) {
  absl::StatusOr<int> before = MigratePgSchema(options_);
  ASSERT_TRUE(before.ok()) << before.status();
  EXPECT_EQ(*before, 0);
  EXPECT_EQ(Query("SELECT version FROM posthorn_schema"), "1");
  EXPECT_EQ(Query("SELECT count(*) FROM posthorn_schema"), "1");
  EXPECT_EQ(Query("SELECT count(*) FROM information_schema.tables WHERE "
                  "table_schema = 'public' AND table_name IN ('nodes', "
                  "'messages', 'message_chunks', 'queue', 'maildrop', "
                  "'pop_locks', 'user_notes', 'auth_users', "
                  "'posthorn_schema')"),
            "9");
}

TEST_F(PgCoreTest, MigratingTwiceChangesNothing) {
  Migrate();
  EXPECT_EQ(Query("INSERT INTO auth_users (user_name) VALUES ('kept')"), "");
  absl::StatusOr<int> again = MigratePgSchema(options_);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(*again, 1);
  EXPECT_EQ(Query("SELECT count(*) FROM posthorn_schema"), "1");
  EXPECT_EQ(Query("SELECT user_name FROM auth_users"), "kept");
  // The advisory lock was released: a third run does not wait.
  const absl::Time start = absl::Now();
  again = MigratePgSchema(options_);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
}

TEST_F(PgCoreTest, TwoNodesMigratingAtOnceMigrateOnce) {
  constexpr int kThreads = 4;
  std::array<absl::StatusOr<int>, kThreads> results;
  {
    std::vector<std::thread> threads;
    for (int i = 0; i < kThreads; ++i) {
      threads.emplace_back(
          [this, &results, i] { results[i] = MigratePgSchema(options_); });
    }
    for (std::thread& t : threads) t.join();
  }
  int from_empty = 0;
  for (const absl::StatusOr<int>& r : results) {
    ASSERT_TRUE(r.ok()) << r.status();
    if (*r == 0) ++from_empty;
    else EXPECT_EQ(*r, 1);
  }
  EXPECT_EQ(from_empty, 1);
  EXPECT_EQ(Query("SELECT count(*) FROM posthorn_schema"), "1");
}

TEST_F(PgCoreTest, RefusesANewerDatabase) {
  Migrate();
  EXPECT_EQ(Query("UPDATE posthorn_schema SET version = 7"), "");
  absl::StatusOr<int> r = MigratePgSchema(options_);
  ASSERT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition)
      << r.status();
  const std::string message(r.status().message());
  EXPECT_NE(message.find("version 7"), std::string::npos) << message;
  EXPECT_NE(message.find("version 1"), std::string::npos) << message;
  EXPECT_EQ(Query("SELECT version FROM posthorn_schema"), "7");
}

TEST_F(PgCoreTest, MigrationNeedsADsn) {
  EXPECT_EQ(MigratePgSchema(PgStoreOptions{}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// ---------------------------------------------------------------------------
// Message bodies

TEST_F(PgCoreTest, RoundTripsMessagesOfEverySize) {
  Migrate();
  std::unique_ptr<PgPool> pool = Pool();
  ASSERT_NE(pool, nullptr);
  const std::size_t sizes[] = {0, 1, kPgChunkBytes - 1, kPgChunkBytes,
                               kPgChunkBytes + 1, kPgChunkBytes * 7 / 2};
  // Written whole, in odd pieces, and a byte at a time at the edges.
  const std::size_t piece_sizes[] = {0, 1000, 4093};
  for (const std::size_t size : sizes) {
    for (const std::size_t piece : piece_sizes) {
      if (piece == 1000 && size > kPgChunkBytes + 1) continue;  // slow enough
      SCOPED_TRACE(::testing::Message() << "size " << size << " piece " << piece);
      const std::string bytes = Pattern(size);
      std::vector<std::string> pieces;
      if (piece == 0) {
        pieces.push_back(bytes);
      } else {
        for (std::size_t at = 0; at < size; at += piece) {
          pieces.push_back(bytes.substr(at, piece));
        }
      }
      absl::StatusOr<StoredMessage> stored = Store(pieces);
      ASSERT_TRUE(stored.ok()) << stored.status();
      EXPECT_EQ(stored->size, size);
      EXPECT_EQ(Query("SELECT count(*) FROM message_chunks WHERE message_id "
                      "= $1",
                      {PgParam::Text(std::to_string(stored->id))}),
                std::to_string((size + kPgChunkBytes - 1) / kPgChunkBytes));
      absl::StatusOr<std::unique_ptr<PgMessageReader>> reader =
          OpenStoredMessage(*pool, stored->id);
      ASSERT_TRUE(reader.ok()) << reader.status();
      EXPECT_EQ((*reader)->size(), size);
      EXPECT_TRUE((*reader)->at_start());
      for (const bool first_chunk : {false, true}) {
        absl::StatusOr<std::string> loaded =
            Load(*pool, stored->id, 7000, first_chunk);
        ASSERT_TRUE(loaded.ok()) << loaded.status();
        EXPECT_TRUE(*loaded == bytes) << "bytes differ, " << first_chunk;
      }
    }
  }
  // Odd read buffers: 1 byte (small message), bigger than a chunk.
  absl::StatusOr<StoredMessage> small = Store({"Subject: x\r\n\r\nhi\r\n"});
  ASSERT_TRUE(small.ok()) << small.status();
  EXPECT_EQ(Load(*pool, small->id, 1).value_or("?"),
            "Subject: x\r\n\r\nhi\r\n");
  EXPECT_EQ(Load(*pool, small->id, 1, true).value_or("?"),
            "Subject: x\r\n\r\nhi\r\n");
  const std::string big = Pattern(kPgChunkBytes * 2 + 5);
  absl::StatusOr<StoredMessage> large = Store({big});
  ASSERT_TRUE(large.ok()) << large.status();
  EXPECT_TRUE(Load(*pool, large->id, kPgChunkBytes * 3).value_or("?") == big);
}

TEST_F(PgCoreTest, RecordsWhetherEveryLineEndsInCrlf) {
  Migrate();
  struct Case {
    std::vector<std::string> pieces;
    bool crlf;
  };
  const Case cases[] = {
      {{}, true},                            // the empty message
      {{"a\r\nb\r\n"}, true},
      {{"a\r", "\nb\r\n"}, true},           // CR and LF in two writes
      {{"a\r\n", "\r\n"}, true},
      {{"a\nb\n"}, false},                  // LF only
      {{"a\r\nb\n"}, false},                // one LF-only line
      {{"\n"}, false},
      {{"a\rb\r\n"}, false},                // a lone CR
      {{"a\r", "b\r\n"}, false},            // a lone CR at a write's end
      {{"a\r\nb"}, false},                  // no CRLF at the end
      {{"a\r\n\r"}, false},                 // ends in a lone CR
      {{"x"}, false},
      {{CrlfText(kPgChunkBytes * 2 + 17)}, true},
  };
  for (const Case& c : cases) {
    std::string all;
    for (const std::string& p : c.pieces) all += p;
    SCOPED_TRACE(all.size() < 40 ? all : "long text");
    absl::StatusOr<StoredMessage> stored = Store(c.pieces);
    ASSERT_TRUE(stored.ok()) << stored.status();
    EXPECT_EQ(stored->crlf, c.crlf);
    EXPECT_EQ(Query("SELECT crlf FROM messages WHERE id = $1",
                    {PgParam::Text(std::to_string(stored->id))}),
              c.crlf ? "t" : "f");
    std::unique_ptr<PgPool> pool = Pool();
    ASSERT_NE(pool, nullptr);
    for (const bool first_chunk : {false, true}) {
      absl::StatusOr<std::unique_ptr<PgMessageReader>> reader =
          OpenStoredMessage(*pool, stored->id, first_chunk);
      ASSERT_TRUE(reader.ok()) << reader.status();
      EXPECT_EQ((*reader)->crlf(), c.crlf);
      EXPECT_EQ((*reader)->size(), all.size());
    }
  }
}

TEST_F(PgCoreTest, ReaderOfAMissingMessageIsNotFound) {
  Migrate();
  std::unique_ptr<PgPool> pool = Pool();
  ASSERT_NE(pool, nullptr);
  EXPECT_EQ(OpenStoredMessage(*pool, 4242).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(PgCoreTest, AMissingChunkIsDataLoss) {
  Migrate();
  std::unique_ptr<PgPool> pool = Pool();
  ASSERT_NE(pool, nullptr);
  absl::StatusOr<StoredMessage> stored = Store({Pattern(kPgChunkBytes * 2)});
  ASSERT_TRUE(stored.ok()) << stored.status();
  const std::string id = std::to_string(stored->id);
  EXPECT_EQ(Query("DELETE FROM message_chunks WHERE message_id = $1 AND "
                  "seq = 1",
                  {PgParam::Text(id)}),
            "");
  for (const bool first_chunk : {false, true}) {
    EXPECT_EQ(Load(*pool, stored->id, 7000, first_chunk).status().code(),
              absl::StatusCode::kDataLoss);
  }
  // A size that promises less than the chunks hold.
  EXPECT_EQ(Query("UPDATE messages SET size = 10 WHERE id = $1",
                  {PgParam::Text(id)}),
            "");
  for (const bool first_chunk : {false, true}) {
    EXPECT_EQ(Load(*pool, stored->id, 7000, first_chunk).status().code(),
              absl::StatusCode::kDataLoss);
  }
  // And the first chunk missing.
  EXPECT_EQ(Query("DELETE FROM message_chunks WHERE message_id = $1",
                  {PgParam::Text(id)}),
            "");
  for (const bool first_chunk : {false, true}) {
    EXPECT_EQ(Load(*pool, stored->id, 7000, first_chunk).status().code(),
              absl::StatusCode::kDataLoss);
  }
}

TEST_F(PgCoreTest, RollbackLeavesNothing) {
  Migrate();
  std::unique_ptr<PgConnection> conn = Connect();
  ASSERT_NE(conn, nullptr);
  std::int64_t id = 0;
  {
    absl::StatusOr<PgTransaction> tx = PgTransaction::Begin(*conn);
    ASSERT_TRUE(tx.ok()) << tx.status();
    absl::StatusOr<PgMessageWriter> writer = PgMessageWriter::Start(*conn);
    ASSERT_TRUE(writer.ok()) << writer.status();
    ASSERT_TRUE(writer->Write(Pattern(kPgChunkBytes + 10)).ok());
    absl::StatusOr<StoredMessage> stored = writer->Finish();
    ASSERT_TRUE(stored.ok()) << stored.status();
    id = stored->id;
    // A finished writer takes no more bytes.
    EXPECT_EQ(writer->Write("x").code(), absl::StatusCode::kFailedPrecondition);
    // Not visible to others before the commit...
    EXPECT_EQ(Query("SELECT count(*) FROM messages"), "0");
  }  // ...and gone with the rollback.
  EXPECT_EQ(Query("SELECT count(*) FROM messages"), "0");
  EXPECT_EQ(Query("SELECT count(*) FROM message_chunks"), "0");
  std::unique_ptr<PgPool> pool = Pool();
  ASSERT_NE(pool, nullptr);
  EXPECT_EQ(OpenStoredMessage(*pool, id).status().code(),
            absl::StatusCode::kNotFound);
}

// Several at once: the unreferenced go, the referenced and the missing
// are left as they are; inside a transaction too, and in batches larger
// than one statement takes.
TEST_F(PgCoreTest, DropManyKeepsTheReferencedOnes) {
  Migrate();
  std::vector<std::int64_t> ids;
  for (int i = 0; i < 5; ++i) {
    absl::StatusOr<StoredMessage> stored =
        Store({"Subject: " + std::to_string(i) + "\r\n\r\nx\r\n"});
    ASSERT_TRUE(stored.ok()) << stored.status();
    ids.push_back(stored->id);
  }
  EXPECT_EQ(Query("INSERT INTO queue (id, message_id, envelope, next_attempt) "
                  "VALUES ('q1', $1, '', now())",
                  {PgParam::Text(std::to_string(ids[1]))}),
            "");
  EXPECT_EQ(Query("INSERT INTO maildrop (user_name, uid, message_id, size, "
                  "arrival, envelope_sender) VALUES ('u', 'uid1', $1, 1, "
                  "now(), '')",
                  {PgParam::Text(std::to_string(ids[3]))}),
            "");
  std::unique_ptr<PgConnection> conn = Connect();
  ASSERT_NE(conn, nullptr);
  std::vector<std::int64_t> with_missing = ids;
  with_missing.push_back(424242);
  ASSERT_TRUE(DropMessagesIfUnreferenced(*conn, with_missing).ok());
  EXPECT_EQ(Query("SELECT string_agg(id::text, ',' ORDER BY id) FROM "
                  "messages"),
            std::to_string(ids[1]) + "," + std::to_string(ids[3]));
  EXPECT_EQ(Query("SELECT count(*) FROM message_chunks"), "2");

  // Inside a transaction (one by one, in savepoints): the caller's
  // transaction goes on.
  EXPECT_EQ(Query("DELETE FROM queue"), "");
  ASSERT_TRUE(conn->Exec("BEGIN").ok());
  ASSERT_TRUE(DropMessagesIfUnreferenced(*conn, ids).ok());
  ASSERT_TRUE(conn->Exec("COMMIT").ok());
  EXPECT_EQ(Query("SELECT count(*) FROM messages"), "1");

  // More ids than one statement takes.
  std::vector<std::int64_t> many;
  for (std::size_t i = 0; i < kDropBatch + 3; ++i) {
    absl::StatusOr<StoredMessage> stored = Store({"m\r\n"});
    ASSERT_TRUE(stored.ok()) << stored.status();
    many.push_back(stored->id);
  }
  ASSERT_TRUE(DropMessagesIfUnreferenced(*conn, many).ok());
  EXPECT_EQ(Query("SELECT count(*) FROM messages"), "1");
}

TEST_F(PgCoreTest, DropKeepsAReferencedMessage) {
  Migrate();
  absl::StatusOr<StoredMessage> stored = Store({Pattern(kPgChunkBytes + 3)});
  ASSERT_TRUE(stored.ok()) << stored.status();
  const std::string id = std::to_string(stored->id);
  EXPECT_EQ(Query("INSERT INTO queue (id, message_id, envelope, next_attempt) "
                  "VALUES ('q1', $1, '', now())",
                  {PgParam::Text(id)}),
            "");
  std::unique_ptr<PgConnection> conn = Connect();
  ASSERT_NE(conn, nullptr);
  ASSERT_TRUE(DropMessageIfUnreferenced(*conn, stored->id).ok());
  EXPECT_EQ(Query("SELECT count(*) FROM messages"), "1");

  // A maildrop reference keeps it too, once the queue's is gone.
  EXPECT_EQ(Query("INSERT INTO maildrop (user_name, uid, message_id, size, "
                  "arrival, envelope_sender) VALUES ('u', 'uid1', $1, 1, "
                  "now(), '')",
                  {PgParam::Text(id)}),
            "");
  EXPECT_EQ(Query("DELETE FROM queue"), "");
  ASSERT_TRUE(DropMessageIfUnreferenced(*conn, stored->id).ok());
  EXPECT_EQ(Query("SELECT count(*) FROM messages"), "1");

  EXPECT_EQ(Query("DELETE FROM maildrop"), "");
  ASSERT_TRUE(DropMessageIfUnreferenced(*conn, stored->id).ok());
  EXPECT_EQ(Query("SELECT count(*) FROM messages"), "0");
  EXPECT_EQ(Query("SELECT count(*) FROM message_chunks"), "0");
  // Already gone: still OK.
  EXPECT_TRUE(DropMessageIfUnreferenced(*conn, stored->id).ok());
}

TEST_F(PgCoreTest, DropInsideATransactionLeavesItUsable) {
  Migrate();
  absl::StatusOr<StoredMessage> kept = Store({"kept\r\n"});
  absl::StatusOr<StoredMessage> dropped = Store({"dropped\r\n"});
  ASSERT_TRUE(kept.ok() && dropped.ok());
  std::unique_ptr<PgConnection> conn = Connect();
  ASSERT_NE(conn, nullptr);
  absl::StatusOr<PgTransaction> tx = PgTransaction::Begin(*conn);
  ASSERT_TRUE(tx.ok()) << tx.status();
  const std::string kept_id = std::to_string(kept->id);
  ASSERT_TRUE(conn->Exec("INSERT INTO queue (id, message_id, envelope, "
                         "next_attempt) VALUES ('q1', $1, '', now())",
                         {PgParam::Text(kept_id)})
                  .ok());
  EXPECT_TRUE(conn->in_transaction());
  EXPECT_TRUE(DropMessageIfUnreferenced(*conn, kept->id).ok());
  EXPECT_TRUE(DropMessageIfUnreferenced(*conn, dropped->id).ok());
  EXPECT_TRUE(conn->in_transaction());
  ASSERT_TRUE(tx->Commit().ok());
  EXPECT_FALSE(conn->in_transaction());
  EXPECT_EQ(Query("SELECT string_agg(id::text, ',') FROM messages"), kept_id);
}

TEST_F(PgCoreTest, ADropRacingANewReferenceKeepsTheMessage) {
  Migrate();
  absl::StatusOr<StoredMessage> stored = Store({"race\r\n"});
  ASSERT_TRUE(stored.ok()) << stored.status();
  const std::string id = std::to_string(stored->id);
  // One session adds a reference but has not committed yet...
  std::unique_ptr<PgConnection> linker = Connect();
  ASSERT_NE(linker, nullptr);
  absl::StatusOr<PgTransaction> link = PgTransaction::Begin(*linker);
  ASSERT_TRUE(link.ok()) << link.status();
  ASSERT_TRUE(linker->Exec("INSERT INTO maildrop (user_name, uid, message_id, "
                           "size, arrival, envelope_sender) VALUES ('u', "
                           "'uid1', $1, 1, now(), '')",
                           {PgParam::Text(id)})
                  .ok());
  // ...while another drops the message: its DELETE waits on the row lock
  // the reference holds, then the foreign key refuses it.
  absl::Status drop_status;
  std::thread dropper([&] {
    std::unique_ptr<PgConnection> conn = Connect();
    if (conn == nullptr) return;
    absl::StatusOr<PgTransaction> tx = PgTransaction::Begin(*conn);
    if (!tx.ok()) {
      drop_status = tx.status();
      return;
    }
    drop_status = DropMessageIfUnreferenced(*conn, stored->id);
    if (drop_status.ok()) drop_status = tx->Commit();
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ASSERT_TRUE(link->Commit().ok());
  dropper.join();
  EXPECT_TRUE(drop_status.ok()) << drop_status;
  EXPECT_EQ(Query("SELECT count(*) FROM messages"), "1");
  EXPECT_EQ(Query("SELECT count(*) FROM maildrop"), "1");
}

TEST_F(PgCoreTest, SweepRemovesOnlyOldUnreferencedMessages) {
  Migrate();
  absl::StatusOr<StoredMessage> orphan = Store({Pattern(kPgChunkBytes + 1)});
  absl::StatusOr<StoredMessage> queued = Store({"queued\r\n"});
  absl::StatusOr<StoredMessage> delivered = Store({"delivered\r\n"});
  ASSERT_TRUE(orphan.ok() && queued.ok() && delivered.ok());
  EXPECT_EQ(Query("INSERT INTO queue (id, message_id, envelope, next_attempt) "
                  "VALUES ('q1', $1, '', now())",
                  {PgParam::Text(std::to_string(queued->id))}),
            "");
  EXPECT_EQ(Query("INSERT INTO maildrop (user_name, uid, message_id, size, "
                  "arrival, envelope_sender) VALUES ('u', 'uid1', $1, 1, "
                  "now(), '')",
                  {PgParam::Text(std::to_string(delivered->id))}),
            "");
  std::unique_ptr<PgConnection> conn = Connect();
  ASSERT_NE(conn, nullptr);
  // Too young: a writer may be about to link it.
  absl::StatusOr<std::int64_t> swept =
      SweepUnreferencedMessages(*conn, absl::Hours(1));
  ASSERT_TRUE(swept.ok()) << swept.status();
  EXPECT_EQ(*swept, 0);
  EXPECT_EQ(Query("SELECT count(*) FROM messages"), "3");

  swept = SweepUnreferencedMessages(*conn, absl::ZeroDuration());
  ASSERT_TRUE(swept.ok()) << swept.status();
  EXPECT_EQ(*swept, 1);
  EXPECT_EQ(Query("SELECT count(*) FROM messages WHERE id = $1",
                  {PgParam::Text(std::to_string(orphan->id))}),
            "0");
  EXPECT_EQ(Query("SELECT count(*) FROM messages"), "2");
  EXPECT_EQ(Query("SELECT count(DISTINCT message_id) FROM message_chunks"),
            "2");
}

// ---------------------------------------------------------------------------
// Nodes

TEST_F(PgCoreTest, ANodeIsAliveWhileItsSessionIs) {
  Migrate();
  options_.node_name = "node-a";
  absl::StatusOr<std::unique_ptr<PgNode>> node = PgNode::Register(options_);
  ASSERT_TRUE(node.ok()) << node.status();
  EXPECT_EQ((*node)->id(), "node-a");
  const std::string alive = "SELECT " + NodeAliveSql("$1::text");
  EXPECT_EQ(Query(alive, {PgParam::Text("node-a")}), "t");
  EXPECT_EQ(Query(alive, {PgParam::Text("node-b")}), "f");
  ASSERT_TRUE((*node)->EnsureRegistered().ok());

  // Its session ends (as when the process dies): no longer alive.
  EXPECT_EQ(Query("SELECT pg_terminate_backend(backend_pid) FROM nodes "
                  "WHERE node_id = 'node-a'"),
            "t");
  const absl::Time deadline = absl::Now() + kWait;
  while (Query(alive, {PgParam::Text("node-a")}) != "f" &&
         absl::Now() < deadline) {
    absl::SleepFor(kPoll);
  }
  EXPECT_EQ(Query(alive, {PgParam::Text("node-a")}), "f");

  // The process lives on: it registers again on a new session.
  ASSERT_TRUE((*node)->EnsureRegistered().ok());
  EXPECT_EQ(Query(alive, {PgParam::Text("node-a")}), "t");
  EXPECT_EQ(Query("SELECT count(*) FROM nodes"), "1");

  // A row deleted behind its back comes back too.
  EXPECT_EQ(Query("DELETE FROM nodes"), "");
  ASSERT_TRUE((*node)->EnsureRegistered().ok());
  EXPECT_EQ(Query(alive, {PgParam::Text("node-a")}), "t");

  node->reset();  // a clean exit deletes the row
  EXPECT_EQ(Query("SELECT count(*) FROM nodes"), "0");
}

TEST_F(PgCoreTest, TwoLiveProcessesCannotShareANodeId) {
  Migrate();
  options_.node_name = "twin";
  absl::StatusOr<std::unique_ptr<PgNode>> first = PgNode::Register(options_);
  ASSERT_TRUE(first.ok()) << first.status();
  absl::StatusOr<std::unique_ptr<PgNode>> second = PgNode::Register(options_);
  EXPECT_EQ(second.status().code(), absl::StatusCode::kAlreadyExists)
      << second.status();
  // Once the first is gone the id is free.
  first->reset();
  second = PgNode::Register(options_);
  ASSERT_TRUE(second.ok()) << second.status();
}

TEST_F(PgCoreTest, DefaultNodeIdIsHostAndPid) {
  Migrate();
  absl::StatusOr<std::unique_ptr<PgNode>> node = PgNode::Register(options_);
  ASSERT_TRUE(node.ok()) << node.status();
  const std::string suffix = ":" + std::to_string(::getpid());
  EXPECT_TRUE((*node)->id().ends_with(suffix)) << (*node)->id();
  EXPECT_GT((*node)->id().size(), suffix.size());
}

// ---------------------------------------------------------------------------
// The pool

TEST_F(PgCoreTest, PoolRecoversAfterTheServerRestarted) {
  std::unique_ptr<PgPool> pool = Pool();
  ASSERT_NE(pool, nullptr);
  {
    absl::StatusOr<PgPool::Lease> conn = pool->Acquire();
    ASSERT_TRUE(conn.ok()) << conn.status();
    ASSERT_TRUE((*conn)->Exec("SELECT 1").ok());
  }  // idle in the pool now
  ASSERT_TRUE(cluster_->Restart().ok());
  // At most one call fails (the idle connection the restart ended), then
  // the pool connects again.
  int failures = 0;
  const absl::Time deadline = absl::Now() + kWait;
  for (;;) {
    absl::Status status;
    {
      absl::StatusOr<PgPool::Lease> conn = pool->Acquire();
      status = conn.ok() ? (*conn)->Exec("SELECT 1").status() : conn.status();
    }
    if (status.ok()) break;
    EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
    ++failures;
    ASSERT_LT(absl::Now(), deadline) << "no connection after the restart";
    absl::SleepFor(kPoll);
  }
  EXPECT_LE(failures, 1);
}

TEST_F(PgCoreTest, PoolBacksOffWhileTheServerIsDown) {
  std::unique_ptr<PgPool> pool = Pool();
  ASSERT_NE(pool, nullptr);
  ASSERT_TRUE(cluster_->Stop().ok());
  absl::Cleanup start = [this] { (void)cluster_->Start(); };
  EXPECT_EQ(pool->Acquire().status().code(), absl::StatusCode::kUnavailable);
  // Within the backoff the pool does not even try: no waiting.
  const absl::Time before = absl::Now();
  EXPECT_EQ(pool->Acquire().status().code(), absl::StatusCode::kUnavailable);
  EXPECT_LT(absl::Now() - before, absl::Milliseconds(50));
  ASSERT_TRUE(cluster_->Start().ok());
  std::move(start).Cancel();
  const absl::Time deadline = absl::Now() + kWait;
  for (;;) {
    absl::StatusOr<PgPool::Lease> conn = pool->Acquire();
    if (conn.ok() && (*conn)->Exec("SELECT 1").ok()) break;
    ASSERT_LT(absl::Now(), deadline) << "no connection after the start";
    absl::SleepFor(kPoll);
  }
}

TEST_F(PgCoreTest, PoolWithEveryConnectionBusyIsUnavailable) {
  options_.max_connections = 1;
  options_.connect_timeout = absl::Seconds(1);
  std::unique_ptr<PgPool> pool = Pool();
  ASSERT_NE(pool, nullptr);
  absl::StatusOr<PgPool::Lease> held = pool->Acquire();
  ASSERT_TRUE(held.ok()) << held.status();
  const absl::Time before = absl::Now();
  absl::StatusOr<PgPool::Lease> second = pool->Acquire();
  const absl::Duration waited = absl::Now() - before;
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_GE(waited, absl::Milliseconds(900));
  EXPECT_LT(waited, absl::Seconds(5));
  // A connection given back wakes a waiter at once.
  std::thread giver([&held] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    held = absl::UnavailableError("returned");
  });
  absl::StatusOr<PgPool::Lease> third = pool->Acquire();
  giver.join();
  EXPECT_TRUE(third.ok()) << third.status();
}

}  // namespace
}  // namespace posthorn::store::pg
