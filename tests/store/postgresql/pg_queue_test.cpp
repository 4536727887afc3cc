// tests/store/postgresql/pg_queue_test.cpp — the queue on PostgreSQL
// (MakePgQueue): what the file queue tests check (enqueue, list, due,
// lease, save, remove, abort, concurrent enqueues, exclusive leases), and
// what a shared database adds: two store objects as two nodes, a node
// whose session dies losing its leases at once, expiring leases, lost
// leases changing nothing, large messages in several chunks, and a
// database restart between two enqueues. Each test has its own database.

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "pg_test_cluster.h"
#include "posthorn/store/postgresql.h"
#include "posthorn/store/queue.h"
#include "posthorn/store/status.h"
#include "store/postgresql/pg_connection.h"
#include "store/queue/queue_id.h"
#include "tests/store/queue/queue_test_util.h"

namespace posthorn::store {
namespace {

using testing::Enqueue;
using testing::EnqueueFromThreads;
using testing::ExpectSameEnvelope;
using testing::PgStopMode;
using testing::ReadData;
using testing::SampleEnvelope;
using testing::SampleTime;

// Bounded waits for things that happen "soon" (a reconnect, an expiry).
constexpr absl::Duration kWait = absl::Seconds(30);

PgStoreOptions Options(const std::string& dsn, const std::string& node) {
  PgStoreOptions options;
  options.dsn = dsn;
  options.node_name = node;
  options.connect_timeout = absl::Seconds(5);
  return options;
}

std::unique_ptr<Queue> OpenQueue(const PgStoreOptions& options) {
  auto queue = MakePgQueue(options);
  EXPECT_TRUE(queue.ok()) << queue.status();
  return queue.ok() ? *std::move(queue) : nullptr;
}

// The first column of the first row of `sql` ("" when no row), on a
// connection of its own.
std::string Sql(const std::string& dsn, const std::string& sql) {
  PgStoreOptions options;
  options.dsn = dsn;
  auto conn = pg::PgConnection::Connect(options);
  EXPECT_TRUE(conn.ok()) << conn.status();
  if (!conn.ok()) return "connect failed";
  auto r = (*conn)->Exec(sql);
  EXPECT_TRUE(r.ok()) << r.status() << " in " << sql;
  if (!r.ok() || r->rows() == 0) return "";
  return std::string(r->Text(0, 0));
}

std::string RowCount(const std::string& dsn, const std::string& table) {
  return Sql(dsn, "SELECT count(*) FROM " + table);
}

class PgQueueTest : public ::testing::Test {
 protected:
  void SetUp() override {
    POSTHORN_PG_TEST_CLUSTER(cluster);
    cluster_ = &cluster;
    auto dsn = cluster.CreateFreshDatabase();
    ASSERT_TRUE(dsn.ok()) << dsn.status();
    dsn_ = *dsn;
  }

  testing::PgTestCluster* cluster_ = nullptr;
  std::string dsn_;
};

TEST_F(PgQueueTest, EnqueueListLeaseSaveRemove) {
  auto queue = OpenQueue(Options(dsn_, "node-a"));
  ASSERT_NE(queue, nullptr);
  QueueEnvelope envelope = SampleEnvelope();
  envelope.id = "ignored";
  envelope.size = 999;
  const std::string data = "Subject: hi\r\n\r\nbody\r\n";
  absl::StatusOr<std::string> id = Enqueue(*queue, envelope, data);
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(id->size(), 20u);

  auto listed = queue->List();
  ASSERT_TRUE(listed.ok()) << listed.status();
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].id, *id);
  EXPECT_EQ((*listed)[0].size, data.size());
  ExpectSameEnvelope((*listed)[0], envelope);
  EXPECT_EQ(RowCount(dsn_, "messages"), "1");

  {
    auto lease = queue->Lease(*id);
    ASSERT_TRUE(lease.ok()) << lease.status();
    EXPECT_EQ((*lease)->envelope().id, *id);
    EXPECT_EQ(ReadData(**lease).value(), data);
    // Held: not due, not leasable again, even by this queue object.
    EXPECT_TRUE(queue->Due(absl::InfiniteFuture())->empty());
    EXPECT_TRUE(IsInUse(queue->Lease(*id).status()));
    QueueEnvelope updated = (*lease)->envelope();
    updated.attempts = 1;
    updated.next_attempt = SampleTime(1'700'000'300);
    updated.recipients[0].state = RecipientState::kDelivered;
    updated.recipients[1].last_reply = "451 4.3.0 try later\r\n";
    updated.size = 1;  // ignored: the data never changes
    ASSERT_TRUE((*lease)->Save(updated).ok());
    EXPECT_EQ((*lease)->envelope().attempts, 1);
    EXPECT_EQ((*lease)->envelope().size, data.size());
  }
  // Released by the lease's destructor; due from its saved time on.
  EXPECT_EQ(queue->Due(SampleTime(1'700'000'299)).value(),
            std::vector<std::string>{});
  EXPECT_EQ(queue->Due(SampleTime(1'700'000'300)).value(),
            std::vector<std::string>{*id});
  {
    auto lease = queue->Lease(*id);
    ASSERT_TRUE(lease.ok()) << lease.status();
    EXPECT_EQ((*lease)->envelope().attempts, 1);
    EXPECT_EQ((*lease)->envelope().recipients[1].last_reply,
              "451 4.3.0 try later\r\n");
    EXPECT_EQ((*lease)->envelope().size, data.size());
    ASSERT_TRUE((*lease)->Remove().ok());
    // The lease is finished.
    EXPECT_EQ((*lease)->Save((*lease)->envelope()).code(),
              absl::StatusCode::kFailedPrecondition);
    EXPECT_EQ((*lease)->Remove().code(), absl::StatusCode::kFailedPrecondition);
  }
  EXPECT_EQ(queue->Lease(*id).status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(queue->List()->empty());
  // The bytes went with the queue row.
  EXPECT_EQ(RowCount(dsn_, "messages"), "0");
  EXPECT_EQ(RowCount(dsn_, "message_chunks"), "0");
  EXPECT_EQ(queue->Lease("../etc/passwd").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(queue->Problems().empty());
}

TEST_F(PgQueueTest, ReaderOutlivesItsLeaseAndItsQueue) {
  auto queue = OpenQueue(Options(dsn_, "node-a"));
  ASSERT_NE(queue, nullptr);
  std::string id = Enqueue(*queue, SampleEnvelope(), "abc").value();
  std::unique_ptr<MessageReader> reader;
  {
    auto lease = queue->Lease(id);
    ASSERT_TRUE(lease.ok());
    reader = std::move((*lease)->OpenData()).value();
  }
  EXPECT_TRUE(queue->Lease(id).ok());  // the reader does not hold the lease
  queue.reset();
  EXPECT_EQ(ReadAll(*reader).value(), "abc");
}

TEST_F(PgQueueTest, ListIsInArrivalOrderAndDueFilters) {
  auto queue = OpenQueue(Options(dsn_, "node-a"));
  ASSERT_NE(queue, nullptr);
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    QueueEnvelope envelope = SampleEnvelope();
    // Even messages are due at 1000 s, odd ones never.
    envelope.next_attempt =
        i % 2 == 0 ? SampleTime(1000) : absl::InfiniteFuture();
    ids.push_back(Enqueue(*queue, envelope, "x").value());
  }
  auto listed = queue->List().value();
  ASSERT_EQ(listed.size(), 5u);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(listed[i].id, ids[i]);
    EXPECT_EQ(listed[i].next_attempt,
              i % 2 == 0 ? SampleTime(1000) : absl::InfiniteFuture());
  }
  EXPECT_EQ(queue->Due(SampleTime(999)).value(), std::vector<std::string>{});
  EXPECT_EQ(queue->Due(SampleTime(1000)).value(),
            (std::vector<std::string>{ids[0], ids[2], ids[4]}));
  // "Due now" (no time set) is due at once.
  std::string now_id = Enqueue(*queue, SampleEnvelope(), "y").value();
  auto due = queue->Due(absl::Now() + absl::Seconds(1)).value();
  EXPECT_EQ(due, (std::vector<std::string>{ids[0], ids[2], ids[4], now_id}));
}

TEST_F(PgQueueTest, AbortAndDestructorLeaveNothing) {
  auto queue = OpenQueue(Options(dsn_, "node-a"));
  ASSERT_NE(queue, nullptr);
  {
    auto writer = queue->BeginEnqueue(SampleEnvelope());
    ASSERT_TRUE(writer.ok());
    ASSERT_TRUE((*writer)->Write("partial").ok());
    EXPECT_EQ((*writer)->id().size(), 20u);
  }
  auto writer = queue->BeginEnqueue(SampleEnvelope());
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->Write(std::string(300'000, 'z')).ok());
  (*writer)->Abort();
  EXPECT_EQ((*writer)->Write("x").code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ((*writer)->Commit().status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(queue->List()->empty());
  EXPECT_EQ(RowCount(dsn_, "queue"), "0");
  EXPECT_EQ(RowCount(dsn_, "messages"), "0");
  EXPECT_EQ(RowCount(dsn_, "message_chunks"), "0");
}

TEST_F(PgQueueTest, RefusesAnEnvelopeTooLargeToWrite) {
  auto queue = OpenQueue(Options(dsn_, "node-a"));
  ASSERT_NE(queue, nullptr);
  QueueEnvelope envelope = SampleEnvelope();
  envelope.recipients[0].address = std::string(2 << 20, 'a');
  EXPECT_EQ(queue->BeginEnqueue(envelope).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(PgQueueTest, UnreadableRowIsSkippedAndReported) {
  auto queue = OpenQueue(Options(dsn_, "node-a"));
  ASSERT_NE(queue, nullptr);
  std::string good = Enqueue(*queue, SampleEnvelope(), "a").value();
  std::string bad = Enqueue(*queue, SampleEnvelope(), "b").value();
  Sql(dsn_, "UPDATE queue SET envelope = 'garbage' WHERE id = '" + bad + "'");
  auto listed = queue->List().value();
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].id, good);
  auto problems = queue->Problems();
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find(bad), std::string::npos) << problems[0];
  absl::Status lease = queue->Lease(bad).status();
  EXPECT_EQ(lease.code(), absl::StatusCode::kDataLoss) << lease;
  // The failed lease was given back, and the problem is reported once.
  EXPECT_EQ(queue->Lease(bad).status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(queue->Problems().size(), 1u);
}

TEST_F(PgQueueTest, LargeMessageRoundTripsInChunks) {
  auto queue = OpenQueue(Options(dsn_, "node-a"));
  ASSERT_NE(queue, nullptr);
  // Three and a half chunks, written in pieces that do not align with them.
  std::string data;
  data.reserve(kPgChunkBytes * 7 / 2);
  for (std::size_t i = 0; data.size() < kPgChunkBytes * 7 / 2; ++i) {
    data += "line " + std::to_string(i) + " of a long message\r\n";
  }
  auto writer = queue->BeginEnqueue(SampleEnvelope());
  ASSERT_TRUE(writer.ok());
  constexpr std::size_t kPiece = 100'003;
  for (std::size_t at = 0; at < data.size(); at += kPiece) {
    ASSERT_TRUE((*writer)->Write(std::string_view(data).substr(at, kPiece)).ok());
  }
  absl::StatusOr<std::string> id = (*writer)->Commit();
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(RowCount(dsn_, "message_chunks"), "4");
  auto lease = queue->Lease(*id);
  ASSERT_TRUE(lease.ok());
  EXPECT_EQ((*lease)->envelope().size, data.size());
  auto reader = (*lease)->OpenData();
  ASSERT_TRUE(reader.ok());
  std::string read;
  char buffer[65'537];
  for (int guard = 0; guard < 1000; ++guard) {
    auto n = (*reader)->Read(buffer);
    ASSERT_TRUE(n.ok()) << n.status();
    if (*n == 0) break;
    read.append(buffer, *n);
  }
  EXPECT_TRUE(read == data) << read.size() << " vs " << data.size();
}

// A message that fits in one chunk is stored in one statement at Commit;
// one a byte larger streams through a transaction. Both, and the empty
// message, come back byte for byte, with the chunks and the CRLF flag
// the maildrops rely on.
TEST_F(PgQueueTest, BufferedAndStreamedMessagesAtTheChunkBoundary) {
  auto queue = OpenQueue(Options(dsn_, "node-a"));
  ASSERT_NE(queue, nullptr);
  std::string fits;
  for (std::size_t i = 0; fits.size() + 32 <= kPgChunkBytes; ++i) {
    fits += "line " + std::to_string(i) + "\r\n";
  }
  fits.append(kPgChunkBytes - fits.size() - 2, 'x');
  fits += "\r\n";
  ASSERT_EQ(fits.size(), kPgChunkBytes);
  const std::string streamed = fits + "y";
  struct Case {
    std::string data;
    const char* chunks;
    const char* crlf;
  };
  for (const Case& c : {Case{fits, "1", "t"}, Case{streamed, "2", "f"},
                        Case{"", "0", "t"}}) {
    SCOPED_TRACE(c.data.size());
    auto writer = queue->BeginEnqueue(SampleEnvelope());
    ASSERT_TRUE(writer.ok());
    // Written in two pieces, so the switch to streaming may happen in the
    // middle of a Write.
    const std::size_t half = c.data.size() / 2;
    ASSERT_TRUE((*writer)->Write(std::string_view(c.data).substr(0, half)).ok());
    ASSERT_TRUE((*writer)->Write(std::string_view(c.data).substr(half)).ok());
    absl::StatusOr<std::string> id = (*writer)->Commit();
    ASSERT_TRUE(id.ok()) << id.status();
    EXPECT_EQ(Sql(dsn_, "SELECT count(*) FROM message_chunks c JOIN queue q "
                        "ON q.message_id = c.message_id WHERE q.id = '" +
                            *id + "'"),
              c.chunks);
    EXPECT_EQ(Sql(dsn_, "SELECT m.crlf FROM messages m JOIN queue q ON "
                        "q.message_id = m.id WHERE q.id = '" + *id + "'"),
              c.crlf);
    auto lease = queue->Lease(*id);
    ASSERT_TRUE(lease.ok()) << lease.status();
    EXPECT_EQ((*lease)->envelope().size, c.data.size());
    absl::StatusOr<std::string> read = ReadData(**lease);
    ASSERT_TRUE(read.ok()) << read.status();
    EXPECT_TRUE(*read == c.data) << read->size() << " vs " << c.data.size();
    ASSERT_TRUE((*lease)->Remove().ok());
  }
  EXPECT_EQ(RowCount(dsn_, "messages"), "0");
}

// While the message fits in memory the writer holds no pooled connection:
// with a pool of one, two clients can be in DATA at once, and both commit.
TEST_F(PgQueueTest, WritersHoldNoConnectionWhileTheMessageFits) {
  PgStoreOptions options = Options(dsn_, "node-a");
  options.max_connections = 1;
  options.connect_timeout = absl::Seconds(2);
  auto queue = OpenQueue(options);
  ASSERT_NE(queue, nullptr);
  auto first = queue->BeginEnqueue(SampleEnvelope());
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE((*first)->Write("Subject: one\r\n\r\nbody\r\n").ok());
  auto second = queue->BeginEnqueue(SampleEnvelope());
  ASSERT_TRUE(second.ok()) << second.status();
  ASSERT_TRUE((*second)->Write("Subject: two\r\n\r\nbody\r\n").ok());
  absl::StatusOr<std::string> two = (*second)->Commit();
  ASSERT_TRUE(two.ok()) << two.status();
  absl::StatusOr<std::string> one = (*first)->Commit();
  ASSERT_TRUE(one.ok()) << one.status();
  EXPECT_EQ(queue->List()->size(), 2u);
}

TEST_F(PgQueueTest, ConcurrentEnqueuesAreAllListedOnce) {
  auto queue = OpenQueue(Options(dsn_, "node-a"));
  ASSERT_NE(queue, nullptr);
  constexpr int kThreads = 8;
  constexpr int kPerThread = 40;
  std::vector<std::vector<std::string>> ids =
      EnqueueFromThreads(*queue, kThreads, kPerThread);
  std::set<std::string> expected;
  for (const auto& list : ids) expected.insert(list.begin(), list.end());
  ASSERT_EQ(expected.size(), static_cast<std::size_t>(kThreads * kPerThread));
  auto listed = queue->List().value();
  ASSERT_EQ(listed.size(), expected.size());
  std::set<std::string> seen;
  for (std::size_t i = 0; i < listed.size(); ++i) {
    if (i > 0) {
      EXPECT_LT(listed[i - 1].id, listed[i].id);
    }
    seen.insert(listed[i].id);
    EXPECT_EQ(listed[i].size, listed[i].sender.size());
  }
  EXPECT_EQ(seen, expected);
  for (const QueueEnvelope& envelope : listed) {
    auto lease = queue->Lease(envelope.id);
    ASSERT_TRUE(lease.ok()) << lease.status();
    EXPECT_EQ(ReadData(**lease).value(), envelope.sender);
  }
}

TEST_F(PgQueueTest, LeaseIsExclusiveBetweenNodes) {
  auto first = OpenQueue(Options(dsn_, "node-a"));
  auto second = OpenQueue(Options(dsn_, "node-b"));
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  std::string id = Enqueue(*first, SampleEnvelope(), "data").value();
  EXPECT_EQ(Sql(dsn_, "SELECT count(*) FROM nodes"), "2");
  {
    auto held = first->Lease(id);
    ASSERT_TRUE(held.ok());
    absl::Status other = second->Lease(id).status();
    EXPECT_TRUE(IsInUse(other)) << other;
    EXPECT_TRUE(second->Due(absl::InfiniteFuture())->empty());
  }
  auto lease = second->Lease(id);
  ASSERT_TRUE(lease.ok()) << lease.status();
  EXPECT_EQ(ReadData(**lease).value(), "data");
}

// Many workers on two nodes fight over one message: every successful lease
// is alone (a flag shows no overlap), and every Save is kept (no lost
// update), so attempts counts the leases exactly.
TEST_F(PgQueueTest, LeasesAreExclusiveAcrossThreadsAndNodes) {
  std::unique_ptr<Queue> nodes[2] = {OpenQueue(Options(dsn_, "node-a")),
                                     OpenQueue(Options(dsn_, "node-b"))};
  ASSERT_NE(nodes[0], nullptr);
  ASSERT_NE(nodes[1], nullptr);
  std::string id = Enqueue(*nodes[0], SampleEnvelope(), "data").value();
  constexpr int kThreadsPerNode = 4;
  constexpr int kRounds = 40;
  std::atomic<bool> held{false};
  std::atomic<int> overlaps{0};
  std::atomic<int> leases{0};
  std::atomic<int> other_errors{0};
  std::vector<std::thread> threads;
  for (int n = 0; n < 2; ++n) {
    for (int t = 0; t < kThreadsPerNode; ++t) {
      threads.emplace_back([&, n] {
        for (int round = 0; round < kRounds; ++round) {
          auto lease = nodes[n]->Lease(id);
          if (!lease.ok()) {
            if (!IsInUse(lease.status())) ++other_errors;
            continue;
          }
          if (held.exchange(true)) ++overlaps;
          ++leases;
          QueueEnvelope updated = (*lease)->envelope();
          ++updated.attempts;
          if (!(*lease)->Save(updated).ok()) ++other_errors;
          held.store(false);
        }
      });
    }
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(overlaps.load(), 0);
  EXPECT_EQ(other_errors.load(), 0);
  EXPECT_GT(leases.load(), 0);
  auto listed = nodes[1]->List().value();
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].attempts, leases.load());
}

// Queue runners on two nodes drain one queue: each message is delivered
// (removed) exactly once.
TEST_F(PgQueueTest, TwoNodesDrainTheQueueExactlyOnce) {
  std::unique_ptr<Queue> nodes[2] = {OpenQueue(Options(dsn_, "node-a")),
                                     OpenQueue(Options(dsn_, "node-b"))};
  ASSERT_NE(nodes[0], nullptr);
  ASSERT_NE(nodes[1], nullptr);
  constexpr int kMessages = 30;
  std::set<std::string> ids;
  for (int i = 0; i < kMessages; ++i) {
    ids.insert(Enqueue(*nodes[i % 2], SampleEnvelope(), "m" + std::to_string(i))
                   .value());
  }
  std::mutex mu;
  std::map<std::string, int> removed;
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  const absl::Time deadline = absl::Now() + kWait;
  for (int n = 0; n < 2; ++n) {
    for (int t = 0; t < 3; ++t) {
      threads.emplace_back([&, n] {
        while (absl::Now() < deadline) {
          auto due = nodes[n]->Due(absl::InfiniteFuture());
          if (!due.ok()) {
            ++errors;
            return;
          }
          if (due->empty()) {
            std::lock_guard<std::mutex> lock(mu);
            if (removed.size() == ids.size()) return;
          }
          for (const std::string& id : *due) {
            auto lease = nodes[n]->Lease(id);
            if (!lease.ok()) {
              if (!IsInUse(lease.status()) && !absl::IsNotFound(lease.status())) {
                ++errors;
              }
              continue;
            }
            if (!ReadData(**lease).ok() || !(*lease)->Remove().ok()) ++errors;
            std::lock_guard<std::mutex> lock(mu);
            ++removed[id];
          }
        }
      });
    }
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(errors.load(), 0);
  ASSERT_EQ(removed.size(), ids.size());
  for (const auto& [id, count] : removed) EXPECT_EQ(count, 1) << id;
  EXPECT_TRUE(nodes[0]->List()->empty());
  EXPECT_EQ(RowCount(dsn_, "messages"), "0");
}

// The holder's process "dies" (its liveness session ends): the other node
// gets the lease at once, without waiting for lease_until; the old
// holder's Save and Remove then change nothing.
TEST_F(PgQueueTest, KilledNodeLosesItsLeasesAtOnce) {
  auto first = OpenQueue(Options(dsn_, "node-a"));
  auto second = OpenQueue(Options(dsn_, "node-b"));
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  std::string id = Enqueue(*first, SampleEnvelope(), "data").value();
  auto stale = first->Lease(id);
  ASSERT_TRUE(stale.ok());
  EXPECT_TRUE(IsInUse(second->Lease(id).status()));
  EXPECT_EQ(Sql(dsn_,
                "SELECT pg_terminate_backend(backend_pid, 10000) FROM nodes "
                "WHERE node_id = 'node-a'"),
            "t");
  EXPECT_EQ(second->Due(absl::InfiniteFuture()).value(),
            std::vector<std::string>{id});
  auto taken = second->Lease(id);
  ASSERT_TRUE(taken.ok()) << taken.status();

  QueueEnvelope changed = (*stale)->envelope();
  changed.attempts = 7;
  EXPECT_EQ((*stale)->Save(changed).code(), absl::StatusCode::kAborted);
  EXPECT_EQ((*stale)->Remove().code(), absl::StatusCode::kAborted);
  stale->reset();  // its release must not free the new holder's lease
  EXPECT_EQ((*taken)->envelope().attempts, 0);
  // The first node registers again and sees the message held.
  EXPECT_TRUE(IsInUse(first->Lease(id).status()));
  auto listed = first->List().value();
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].attempts, 0);
  ASSERT_TRUE((*taken)->Remove().ok());
  EXPECT_TRUE(first->List()->empty());
}

TEST_F(PgQueueTest, ExpiredLeaseIsFree) {
  PgStoreOptions short_lease = Options(dsn_, "node-a");
  short_lease.lease_duration = absl::Milliseconds(300);
  auto first = OpenQueue(short_lease);
  auto second = OpenQueue(Options(dsn_, "node-b"));
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  std::string id = Enqueue(*first, SampleEnvelope(), "data").value();
  auto stale = first->Lease(id);
  ASSERT_TRUE(stale.ok());
  EXPECT_TRUE(IsInUse(second->Lease(id).status()));
  absl::StatusOr<std::unique_ptr<QueueLease>> taken =
      absl::UnavailableError("not yet");
  for (const absl::Time deadline = absl::Now() + kWait;
       absl::Now() < deadline;) {
    taken = second->Lease(id);
    if (taken.ok()) break;
    ASSERT_TRUE(IsInUse(taken.status())) << taken.status();
    absl::SleepFor(absl::Milliseconds(50));
  }
  ASSERT_TRUE(taken.ok()) << taken.status();
  QueueEnvelope changed = (*stale)->envelope();
  changed.attempts = 3;
  EXPECT_EQ((*stale)->Save(changed).code(), absl::StatusCode::kAborted);
  EXPECT_EQ((*stale)->Remove().code(), absl::StatusCode::kAborted);
  EXPECT_EQ(second->List().value().at(0).attempts, 0);
  // Saving renews a lease: the new holder keeps it past the old duration.
  changed = (*taken)->envelope();
  changed.attempts = 1;
  ASSERT_TRUE((*taken)->Save(changed).ok());
  EXPECT_TRUE(IsInUse(first->Lease(id).status()));
}

// The database goes away between two enqueues: the first message is still
// there afterwards; the enqueue during the outage fails with Unavailable
// (4xx) and leaves nothing behind, also one whose COMMIT met the outage.
TEST_F(PgQueueTest, DatabaseRestartBetweenEnqueues) {
  if (cluster_->external()) GTEST_SKIP() << "needs the private cluster";
  PgStoreOptions options = Options(dsn_, "node-a");
  options.max_connections = 3;
  auto queue = OpenQueue(options);
  ASSERT_NE(queue, nullptr);
  std::string first = Enqueue(*queue, SampleEnvelope(), "first").value();
  auto in_flight = queue->BeginEnqueue(SampleEnvelope());
  ASSERT_TRUE(in_flight.ok());
  ASSERT_TRUE((*in_flight)->Write("in flight when the database stopped").ok());

  ASSERT_TRUE(cluster_->Stop(PgStopMode::kImmediate).ok());
  absl::Status during = Enqueue(*queue, SampleEnvelope(), "second").status();
  EXPECT_EQ(during.code(), absl::StatusCode::kUnavailable) << during;
  absl::Status commit = (*in_flight)->Commit().status();
  EXPECT_EQ(commit.code(), absl::StatusCode::kUnavailable) << commit;
  EXPECT_EQ(queue->List().status().code(), absl::StatusCode::kUnavailable);
  ASSERT_TRUE(cluster_->Start().ok());

  // Reconnects after the pool's backoff.
  absl::StatusOr<std::vector<QueueEnvelope>> listed =
      absl::UnavailableError("not yet");
  for (const absl::Time deadline = absl::Now() + kWait;
       absl::Now() < deadline;) {
    listed = queue->List();
    if (listed.ok()) break;
    ASSERT_EQ(listed.status().code(), absl::StatusCode::kUnavailable);
    absl::SleepFor(absl::Milliseconds(100));
  }
  ASSERT_TRUE(listed.ok()) << listed.status();
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].id, first);
  EXPECT_EQ(RowCount(dsn_, "messages"), "1");
  // And works as before: a new enqueue, and a lease (the node registers
  // its new session first).
  absl::StatusOr<std::string> third =
      Enqueue(*queue, SampleEnvelope(), "third");
  ASSERT_TRUE(third.ok()) << third.status();
  auto lease = queue->Lease(first);
  ASSERT_TRUE(lease.ok()) << lease.status();
  EXPECT_EQ(ReadData(**lease).value(), "first");
  EXPECT_EQ(Sql(dsn_, "SELECT count(*) FROM queue q WHERE lease_owner = "
                      "'node-a' AND EXISTS (SELECT 1 FROM nodes n JOIN "
                      "pg_stat_activity a ON a.pid = n.backend_pid AND "
                      "a.backend_start = n.backend_start WHERE n.node_id = "
                      "q.lease_owner)"),
            "1");
}

// A lease whose release could not reach the database (it was restarting)
// is not stuck until lease_until: its node, alive again, takes the message
// at its next run, because no lease object of this process holds it.
// Another node still sees it held (the owner is alive) until it expires.
TEST_F(PgQueueTest, LeaseReleasedDuringARestartIsNotStuck) {
  if (cluster_->external()) GTEST_SKIP() << "needs the private cluster";
  auto queue = OpenQueue(Options(dsn_, "node-a"));
  auto other = OpenQueue(Options(dsn_, "node-b"));
  ASSERT_NE(queue, nullptr);
  ASSERT_NE(other, nullptr);
  std::string id = Enqueue(*queue, SampleEnvelope(), "kept").value();
  std::string held = Enqueue(*queue, SampleEnvelope(), "held").value();
  auto lease = queue->Lease(id);
  ASSERT_TRUE(lease.ok()) << lease.status();
  auto still_held = queue->Lease(held);
  ASSERT_TRUE(still_held.ok()) << still_held.status();

  ASSERT_TRUE(cluster_->Stop(PgStopMode::kImmediate).ok());
  lease->reset();  // its release fails: the database is down
  ASSERT_TRUE(cluster_->Start().ok());

  absl::StatusOr<std::vector<std::string>> due =
      absl::UnavailableError("not yet");
  for (const absl::Time deadline = absl::Now() + kWait;
       absl::Now() < deadline;) {
    // The node registers its new session, as a queue run does first.
    (void)queue->Lease(held);
    due = queue->Due(absl::InfiniteFuture());
    if (due.ok()) break;
    absl::SleepFor(absl::Milliseconds(100));
  }
  ASSERT_TRUE(due.ok()) << due.status();
  // The abandoned lease is due again for its own node; the one a lease
  // object still holds is not.
  EXPECT_EQ(*due, std::vector<std::string>{id});
  EXPECT_TRUE(IsInUse(other->Lease(id).status()));
  auto again = queue->Lease(id);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(ReadData(**again).value(), "kept");
  EXPECT_TRUE(IsInUse(queue->Lease(held).status()));
}

// A process restarted under the same node_name finds the leases of its
// dead predecessor free, not stuck until they expire.
TEST_F(PgQueueTest, RestartedNodeFreesItsPredecessorsLeases) {
  std::string id;
  {
    auto old_process = OpenQueue(Options(dsn_, "mx1"));
    ASSERT_NE(old_process, nullptr);
    id = Enqueue(*old_process, SampleEnvelope(), "data").value();
    auto lease = old_process->Lease(id);
    ASSERT_TRUE(lease.ok());
    // Dies without releasing: its session ends, the lease row stays.
    Sql(dsn_, "UPDATE queue SET lease_token = 'other' WHERE id = '" + id + "'");
  }
  EXPECT_EQ(Sql(dsn_, "SELECT lease_owner FROM queue"), "mx1");
  auto new_process = OpenQueue(Options(dsn_, "mx1"));
  ASSERT_NE(new_process, nullptr);
  auto lease = new_process->Lease(id);
  EXPECT_TRUE(lease.ok()) << lease.status();
}

// Mail queued without delivery is announced to every listening node, with
// its queue id; a malformed id is refused before anything is sent.
TEST_F(PgQueueTest, AnnouncedMailReachesEveryListener) {
  struct Heard {
    std::mutex mu;
    std::vector<std::string> ids;
  };
  Heard a, b;
  auto listen = [&](Heard& heard) {
    return PgQueueListener::Start(Options(dsn_, ""),
                                  [&heard](const std::string& id) {
                                    std::lock_guard<std::mutex> lock(heard.mu);
                                    heard.ids.push_back(id);
                                  });
  };
  auto listener_a = listen(a);
  auto listener_b = listen(b);
  ASSERT_TRUE(listener_a.ok()) << listener_a.status();
  ASSERT_TRUE(listener_b.ok()) << listener_b.status();
  const auto both_listening = [&] {
    return (*listener_a)->listening() && (*listener_b)->listening();
  };
  for (const absl::Time deadline = absl::Now() + kWait;
       !both_listening() && absl::Now() < deadline;) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  ASSERT_TRUE(both_listening());
  auto queue = OpenQueue(Options(dsn_, "node-a"));
  ASSERT_NE(queue, nullptr);
  const std::string id = Enqueue(*queue, SampleEnvelope(), "odq").value();
  ASSERT_TRUE(AnnouncePgQueueMail(Options(dsn_, ""), id).ok());
  EXPECT_EQ(AnnouncePgQueueMail(Options(dsn_, ""), "../x").code(),
            absl::StatusCode::kInvalidArgument);
  const auto heard = [&id](Heard& h) {
    std::lock_guard<std::mutex> lock(h.mu);
    return h.ids == std::vector<std::string>{id};
  };
  for (const absl::Time deadline = absl::Now() + kWait;
       !(heard(a) && heard(b)) && absl::Now() < deadline;) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_TRUE(heard(a));
  EXPECT_TRUE(heard(b));
}

// The listener comes back after a database restart and hears what is
// announced then.
TEST_F(PgQueueTest, ListenerReconnectsAfterARestart) {
  if (cluster_->external()) GTEST_SKIP() << "needs the private cluster";
  std::mutex mu;
  std::vector<std::string> ids;
  auto listener = PgQueueListener::Start(
      Options(dsn_, ""), [&](const std::string& id) {
        std::lock_guard<std::mutex> lock(mu);
        ids.push_back(id);
      });
  ASSERT_TRUE(listener.ok()) << listener.status();
  ASSERT_TRUE(cluster_->Stop(PgStopMode::kImmediate).ok());
  for (const absl::Time deadline = absl::Now() + kWait;
       (*listener)->listening() && absl::Now() < deadline;) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_FALSE((*listener)->listening());
  ASSERT_TRUE(cluster_->Start().ok());
  for (const absl::Time deadline = absl::Now() + kWait;
       !(*listener)->listening() && absl::Now() < deadline;) {
    absl::SleepFor(absl::Milliseconds(50));
  }
  ASSERT_TRUE((*listener)->listening());
  const std::string id = queue::NewQueueId();
  ASSERT_TRUE(AnnouncePgQueueMail(Options(dsn_, ""), id).ok());
  bool heard = false;
  for (const absl::Time deadline = absl::Now() + kWait;
       !heard && absl::Now() < deadline;) {
    absl::SleepFor(absl::Milliseconds(20));
    std::lock_guard<std::mutex> lock(mu);
    heard = ids == std::vector<std::string>{id};
  }
  EXPECT_TRUE(heard);
}

TEST_F(PgQueueTest, BadOptionsAreRefused) {
  PgStoreOptions options = Options("", "x");
  EXPECT_EQ(MakePgQueue(options).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace posthorn::store
