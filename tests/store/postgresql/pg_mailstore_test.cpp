// tests/store/postgresql/pg_mailstore_test.cpp — the PostgreSQL maildrops
// as several nodes see them: two store objects (two nodes) on one
// database share the POP lock, the mail and the deduplication; a node's
// death frees its lock at once; a queue message is linked into maildrops
// and stored once; a database that is down gives Unavailable, not IN-USE.
// The single-node behaviour is the conformance suites'
// (tests/store/conformance/postgresql_backend_test.cpp).

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "pg_test_cluster.h"
#include "posthorn/store/mailstore.h"
#include "posthorn/store/postgresql.h"
#include "posthorn/store/status.h"
#include "store/postgresql/pg_connection.h"
#include "store/postgresql/pg_message.h"

namespace posthorn::store::testing {
namespace {

using pg::PgConnection;
using pg::PgParam;

// How long a test waits for the store to come back after a restart.
constexpr auto kRecoveryTimeout = std::chrono::seconds(30);

std::string Crlf(const std::string& lf_text) {
  std::string out;
  for (char c : lf_text) {
    if (c == '\n') out.push_back('\r');
    out.push_back(c);
  }
  return out;
}

std::string Drain(MessageReader& reader, std::size_t buffer_size = 16384) {
  std::string out;
  std::string buffer(buffer_size, '\0');
  for (;;) {
    auto n = reader.Read(std::span<char>(buffer.data(), buffer.size()));
    EXPECT_TRUE(n.ok()) << n.status();
    if (!n.ok() || *n == 0) break;
    out.append(buffer.data(), *n);
  }
  return out;
}

class PgMailstoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    POSTHORN_PG_TEST_CLUSTER(cluster);
    cluster_ = &cluster;
    auto dsn = cluster.CreateFreshDatabase();
    ASSERT_TRUE(dsn.ok()) << dsn.status();
    dsn_ = *dsn;
    node_a_ = MakeNode("node-a");
    node_b_ = MakeNode("node-b");
    ASSERT_NE(node_a_, nullptr);
    ASSERT_NE(node_b_, nullptr);
    auto admin = PgConnection::Connect(Options());
    ASSERT_TRUE(admin.ok()) << admin.status();
    admin_ = std::move(*admin);
    auto pool = pg::PgPool::Create(Options());
    ASSERT_TRUE(pool.ok()) << pool.status();
    pool_ = std::move(*pool);
  }

  PgStoreOptions Options() const {
    PgStoreOptions options;
    options.dsn = dsn_;
    options.connect_timeout = absl::Seconds(5);
    return options;
  }

  std::unique_ptr<Mailstore> MakeNode(
      const std::string& name,
      absl::Duration lease_duration = absl::Minutes(30)) {
    PgStoreOptions options = Options();
    options.lease_duration = lease_duration;
    options.node_name = name;
    auto store = MakePgMailstore(options);
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? std::move(*store) : nullptr;
  }

  // The first column of the first row of `sql` as an integer (-1 on error).
  std::int64_t Count(const std::string& sql) {
    auto r = admin_->Exec(sql);
    EXPECT_TRUE(r.ok()) << r.status();
    if (!r.ok() || r->rows() == 0) return -1;
    auto n = r->Int(0, 0);
    return n.ok() ? *n : -1;
  }

  static absl::Status DeliverText(Mailstore& store, const std::string& user,
                                  const std::string& text,
                                  const std::string& delivery_id = "") {
    StringReader source(text);
    return store.Deliver(user,
                         {.envelope_sender = "sender@example.org",
                          .arrival = absl::Now(),
                          .delivery_id = delivery_id},
                         source);
  }

  static std::vector<std::string> ReadAllOf(Mailstore& store,
                                            const std::string& user) {
    std::vector<std::string> out;
    auto session = store.OpenSession(user);
    EXPECT_TRUE(session.ok()) << session.status();
    if (!session.ok()) return out;
    for (std::size_t i = 0; i < (*session)->messages().size(); ++i) {
      auto reader = (*session)->Read(i);
      EXPECT_TRUE(reader.ok()) << reader.status();
      if (reader.ok()) out.push_back(Drain(**reader));
    }
    return out;
  }

  // Writes `bytes` as a committed message row nothing refers to (what the
  // queue holds), as PgMessageWriter does for the queue.
  std::int64_t WriteQueueMessage(const std::string& bytes) {
    auto tx = pg::PgTransaction::Begin(*admin_);
    EXPECT_TRUE(tx.ok()) << tx.status();
    auto writer = pg::PgMessageWriter::Start(*admin_);
    EXPECT_TRUE(writer.ok()) << writer.status();
    if (!tx.ok() || !writer.ok()) return 0;
    EXPECT_TRUE(writer->Write(bytes).ok());
    auto stored = writer->Finish();
    EXPECT_TRUE(stored.ok()) << stored.status();
    EXPECT_TRUE(tx->Commit().ok());
    return stored.ok() ? stored->id : 0;
  }

  PgTestCluster* cluster_ = nullptr;
  std::string dsn_;
  std::unique_ptr<Mailstore> node_a_;
  std::unique_ptr<Mailstore> node_b_;
  std::unique_ptr<PgConnection> admin_;
  std::unique_ptr<pg::PgPool> pool_;  // for OpenStoredMessage, as the queue
};

TEST_F(PgMailstoreTest, SessionOnOneNodeIsInUseOnTheOther) {
  ASSERT_TRUE(DeliverText(*node_a_, "alice", "Subject: 1\n\nx\n").ok());
  auto first = node_a_->OpenSession("alice");
  ASSERT_TRUE(first.ok()) << first.status();
  auto second = node_b_->OpenSession("alice");
  ASSERT_FALSE(second.ok());
  EXPECT_TRUE(IsInUse(second.status())) << second.status();
  // The same node's second session is refused too.
  EXPECT_TRUE(IsInUse(node_a_->OpenSession("alice").status()));
  // Delivery on either node never waits for the session.
  ASSERT_TRUE(DeliverText(*node_b_, "alice", "Subject: 2\n\ny\n").ok());
  ASSERT_TRUE((*first)->Commit({}).ok());
  auto third = node_b_->OpenSession("alice");
  ASSERT_TRUE(third.ok()) << third.status();
  EXPECT_EQ((*third)->messages().size(), 2u);
}

TEST_F(PgMailstoreTest, QueueAndMaildropsShareOneProcess) {
  // The MTA holds a queue and a mailstore with the same options (default
  // node name): both register, and so does a second mailstore.
  auto queue = MakePgQueue(Options());
  ASSERT_TRUE(queue.ok()) << queue.status();
  auto first = MakePgMailstore(Options());
  ASSERT_TRUE(first.ok()) << first.status();
  auto second = MakePgMailstore(Options());
  ASSERT_TRUE(second.ok()) << second.status();
  auto session = (*first)->OpenSession("alice");
  ASSERT_TRUE(session.ok()) << session.status();
  EXPECT_TRUE(IsInUse((*second)->OpenSession("alice").status()));
  EXPECT_TRUE(IsInUse(node_a_->OpenSession("alice").status()));
}

TEST_F(PgMailstoreTest, DeadNodeFreesItsLockAtOnce) {
  auto first = node_a_->OpenSession("alice");
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(IsInUse(node_b_->OpenSession("alice").status()));
  // Node A's process "dies": the server ends its liveness session.
  auto killed = admin_->Exec(
      "SELECT pg_terminate_backend(backend_pid) FROM nodes "
      "WHERE node_id = 'node-a/maildrop'");
  ASSERT_TRUE(killed.ok()) << killed.status();
  ASSERT_EQ(killed->rows(), 1);
  // pg_terminate_backend only signals: wait (bounded) until it is gone.
  absl::StatusOr<std::unique_ptr<MaildropSession>> taken =
      absl::UnavailableError("not tried");
  for (int i = 0; i < 100 && !taken.ok(); ++i) {
    taken = node_b_->OpenSession("alice");
    if (!taken.ok()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_TRUE(taken.ok()) << taken.status();
  // Node A's old session lost its lock: its Commit removes nothing.
  ASSERT_TRUE(DeliverText(*node_a_, "alice", "Subject: 1\n\nx\n").ok());
  EXPECT_FALSE((*first)->Commit({}).ok());
  taken->reset();
  EXPECT_EQ(ReadAllOf(*node_a_, "alice").size(), 1u);
}

TEST_F(PgMailstoreTest, ExpiredLockIsFree) {
  auto short_lease = MakeNode("node-c", absl::Milliseconds(300));
  ASSERT_NE(short_lease, nullptr);
  ASSERT_TRUE(DeliverText(*node_a_, "alice", "Subject: 1\n\nx\n").ok());
  auto first = short_lease->OpenSession("alice");
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_TRUE(IsInUse(node_b_->OpenSession("alice").status()));
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  auto second = node_b_->OpenSession("alice");
  ASSERT_TRUE(second.ok()) << second.status();
  const std::size_t all[] = {0};
  EXPECT_FALSE((*first)->Commit(all).ok());  // its lock is gone
  second->reset();
  EXPECT_EQ(ReadAllOf(*node_b_, "alice").size(), 1u);
}

TEST_F(PgMailstoreTest, MailFromOneNodeIsReadOnTheOther) {
  const std::string text = "Subject: across\n\nfrom node a\n";
  ASSERT_TRUE(DeliverText(*node_a_, "alice", text).ok());
  EXPECT_EQ(ReadAllOf(*node_b_, "alice"), std::vector<std::string>{Crlf(text)});
  {
    auto session = node_b_->OpenSession("alice");
    ASSERT_TRUE(session.ok()) << session.status();
    const std::size_t all[] = {0};
    ASSERT_TRUE((*session)->Commit(all).ok());
  }
  EXPECT_TRUE(ReadAllOf(*node_a_, "alice").empty());
  EXPECT_EQ(Count("SELECT count(*) FROM messages"), 0);
}

TEST_F(PgMailstoreTest, SameDeliveryIdOnTwoNodesAppendsOnce) {
  const std::string text = "Subject: once\n\nbody\n";
  ASSERT_TRUE(DeliverText(*node_a_, "alice", text, "Q1.0.alice").ok());
  ASSERT_TRUE(DeliverText(*node_b_, "alice", text, "Q1.0.alice").ok());
  EXPECT_EQ(ReadAllOf(*node_a_, "alice").size(), 1u);
  EXPECT_EQ(Count("SELECT count(*) FROM messages"), 1);
}

TEST_F(PgMailstoreTest, RacingDeliveriesWithOneIdAppendOnce) {
  constexpr int kThreads = 6;
  const std::string text = "Subject: race\n\n" + std::string(300000, 'r') + "\n";
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      Mailstore& store = t % 2 == 0 ? *node_a_ : *node_b_;
      if (!DeliverText(store, "alice", text, "Q9.0.alice").ok()) ++failures;
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(ReadAllOf(*node_b_, "alice"), std::vector<std::string>{Crlf(text)});
  EXPECT_EQ(Count("SELECT count(*) FROM messages"), 1);
}

TEST_F(PgMailstoreTest, QueueMessageIsLinkedAndStoredOnce) {
  const std::string text = Crlf("Subject: to three\n\nshared body\n");
  const std::int64_t id = WriteQueueMessage(text);
  ASSERT_NE(id, 0);
  const std::vector<std::string> users = {"alice", "bob", "carol"};
  for (const auto& user : users) {
    auto source = pg::OpenStoredMessage(*pool_, id);
    ASSERT_TRUE(source.ok()) << source.status();
    ASSERT_TRUE(node_a_
                    ->Deliver(user,
                              {.envelope_sender = "s@example.org",
                               .arrival = absl::Now(),
                               .delivery_id = "Q7.0." + user},
                              **source)
                    .ok());
  }
  EXPECT_EQ(Count("SELECT count(*) FROM messages"), 1);
  EXPECT_EQ(Count("SELECT count(*) FROM maildrop WHERE message_id = " +
                  std::to_string(id)),
            3);
  // A retry of a linked delivery (same id, from either node) adds nothing.
  for (Mailstore* node : {node_a_.get(), node_b_.get()}) {
    auto again = pg::OpenStoredMessage(*pool_, id);
    ASSERT_TRUE(again.ok()) << again.status();
    ASSERT_TRUE(node->Deliver("bob",
                              {.envelope_sender = "s@example.org",
                               .arrival = absl::Now(),
                               .delivery_id = "Q7.0.bob"},
                              **again)
                    .ok());
  }
  EXPECT_EQ(Count("SELECT count(*) FROM maildrop WHERE user_name = 'bob'"), 1);
  // Each user's POP session removes its copy; the bytes stay until the
  // last reference goes.
  for (std::size_t i = 0; i < users.size(); ++i) {
    auto session = node_b_->OpenSession(users[i]);
    ASSERT_TRUE(session.ok()) << session.status();
    ASSERT_EQ((*session)->messages().size(), 1u);
    EXPECT_EQ((*session)->messages()[0].size, text.size());
    auto reader = (*session)->Read(0);
    ASSERT_TRUE(reader.ok()) << reader.status();
    EXPECT_EQ(Drain(**reader, 7), text);
    const std::size_t all[] = {0};
    ASSERT_TRUE((*session)->Commit(all).ok());
    EXPECT_EQ(Count("SELECT count(*) FROM messages"),
              i + 1 < users.size() ? 1 : 0)
        << "after " << users[i];
  }
}

TEST_F(PgMailstoreTest, MessageNotInStoredFormIsCopiedAndNormalized) {
  // A lone CR and a bare LF: not linkable, stored in CRLF form.
  const std::int64_t id = WriteQueueMessage("Subject: cr\r\n\r\na\rb\nc");
  ASSERT_NE(id, 0);
  auto source = pg::OpenStoredMessage(*pool_, id);
  ASSERT_TRUE(source.ok()) << source.status();
  ASSERT_FALSE((*source)->crlf());
  ASSERT_TRUE(node_a_
                  ->Deliver("alice",
                            {.envelope_sender = "", .arrival = absl::Now()},
                            **source)
                  .ok());
  EXPECT_EQ(Count("SELECT count(*) FROM messages"), 2);
  EXPECT_EQ(ReadAllOf(*node_a_, "alice"),
            std::vector<std::string>{"Subject: cr\r\n\r\na\r\nb\r\nc\r\n"});
}

TEST_F(PgMailstoreTest, LineEndsSplitAcrossReadsAreNormalizedAlike) {
  // Every split of CR, LF and CRLF between two Read() calls of the source.
  const std::string text = "A: 1\r\nB: 2\n\r\nx\ry\r\n\rz\r";
  const std::string expected = "A: 1\r\nB: 2\r\n\r\nx\r\ny\r\n\r\nz\r\n";
  for (std::size_t split = 0; split <= text.size(); ++split) {
    class TwoParts final : public MessageReader {
     public:
      TwoParts(std::string_view a, std::string_view b) : a_(a), b_(b) {}
      absl::StatusOr<std::size_t> Read(std::span<char> buffer) override {
        std::string_view& part = a_.empty() ? b_ : a_;
        const std::size_t n = std::min(buffer.size(), part.size());
        std::copy_n(part.data(), n, buffer.data());
        part.remove_prefix(n);
        return n;
      }

     private:
      std::string_view a_, b_;
    } source(std::string_view(text).substr(0, split),
             std::string_view(text).substr(split));
    ASSERT_TRUE(node_a_
                    ->Deliver("alice",
                              {.envelope_sender = "", .arrival = absl::Now()},
                              source)
                    .ok());
  }
  auto all = ReadAllOf(*node_a_, "alice");
  ASSERT_EQ(all.size(), text.size() + 1);
  for (std::size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(all[i], expected) << "split at " << i;
  }
}

TEST_F(PgMailstoreTest, TopWithOneByteReadsAndLongMessages) {
  const std::string header = "Subject: top\nX-Long: " + std::string(300000, 'h') +
                             "\n";
  std::string body;
  for (int i = 0; i < 2000; ++i) body += "line " + std::to_string(i) + "\n";
  ASSERT_TRUE(DeliverText(*node_a_, "alice", header + "\n" + body).ok());
  auto session = node_b_->OpenSession("alice");
  ASSERT_TRUE(session.ok()) << session.status();
  for (std::uint64_t lines : {0u, 1u, 3u, 1999u, 2000u, 5000u}) {
    std::string want = header + "\n";
    std::string rest = body;
    for (std::uint64_t n = 0; n < lines && !rest.empty(); ++n) {
      const std::size_t lf = rest.find('\n');
      want += rest.substr(0, lf + 1);
      rest.erase(0, lf + 1);
    }
    for (std::size_t buffer : {1u, 5u, 16384u}) {
      if (buffer == 1 && lines > 3) continue;  // 1-byte reads of 300 KB
      auto reader = (*session)->ReadTop(0, lines);
      ASSERT_TRUE(reader.ok()) << reader.status();
      EXPECT_TRUE(Drain(**reader, buffer) == Crlf(want))
          << lines << " lines, buffer " << buffer;
    }
  }
}

// A session whose lock could not be released (the database was down when
// it ended) does not keep the maildrop locked for the other node once
// this node opens its next session.
TEST_F(PgMailstoreTest, LockNotReleasedDuringAnOutageIsReleasedLater) {
  if (cluster_->external()) GTEST_SKIP() << "an external server: no restart";
  ASSERT_TRUE(DeliverText(*node_a_, "alice", "Subject: 1\n\nx\n").ok());
  auto session = node_a_->OpenSession("alice");
  ASSERT_TRUE(session.ok()) << session.status();
  ASSERT_TRUE(cluster_->Stop().ok());
  session->reset();  // the release fails: the database is down
  ASSERT_TRUE(cluster_->Start().ok());
  const auto deadline = std::chrono::steady_clock::now() + kRecoveryTimeout;
  absl::StatusOr<std::unique_ptr<MaildropSession>> other =
      absl::UnavailableError("not tried");
  do {  // node A opens its next session, on another maildrop
    other = node_a_->OpenSession("bob");
    if (!other.ok()) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  } while (!other.ok() && std::chrono::steady_clock::now() < deadline);
  ASSERT_TRUE(other.ok()) << other.status();
  auto on_b = node_b_->OpenSession("alice");
  // (Retried while the database is still coming back, not when in use.)
  for (int i = 0; !on_b.ok() && absl::IsUnavailable(on_b.status()) &&
                  !IsInUse(on_b.status()) &&
                  std::chrono::steady_clock::now() < deadline;
       ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    on_b = node_b_->OpenSession("alice");
  }
  ASSERT_TRUE(on_b.ok()) << on_b.status();
  EXPECT_EQ((*on_b)->messages().size(), 1u);
  auto admin = PgConnection::Connect(Options());
  ASSERT_TRUE(admin.ok()) << admin.status();
  admin_ = std::move(*admin);
}

TEST_F(PgMailstoreTest, DatabaseDownIsUnavailableThenRecovers) {
  if (cluster_->external()) GTEST_SKIP() << "an external server: no restart";
  ASSERT_TRUE(DeliverText(*node_a_, "alice", "Subject: 1\n\nx\n").ok());
  ASSERT_TRUE(cluster_->Stop().ok());
  absl::Status delivered = DeliverText(*node_a_, "alice", "Subject: 2\n\ny\n");
  EXPECT_TRUE(absl::IsUnavailable(delivered)) << delivered;
  auto session = node_b_->OpenSession("alice");
  EXPECT_TRUE(absl::IsUnavailable(session.status())) << session.status();
  EXPECT_FALSE(IsInUse(session.status()));
  EXPECT_TRUE(absl::IsUnavailable(node_a_->ReadUserNote("alice", "k").status()));
  ASSERT_TRUE(cluster_->Start().ok());
  // The pools reconnect (with backoff) on later calls.
  const auto deadline = std::chrono::steady_clock::now() + kRecoveryTimeout;
  absl::Status status;
  do {
    status = DeliverText(*node_a_, "alice", "Subject: 3\n\nz\n");
    if (!status.ok()) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  } while (!status.ok() && std::chrono::steady_clock::now() < deadline);
  ASSERT_TRUE(status.ok()) << status;
  absl::StatusOr<std::unique_ptr<MaildropSession>> reopened =
      absl::UnavailableError("not tried");
  do {
    reopened = node_b_->OpenSession("alice");
    if (!reopened.ok()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  } while (!reopened.ok() && std::chrono::steady_clock::now() < deadline);
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  EXPECT_EQ((*reopened)->messages().size(), 2u);  // 1 and 3, never 2
  // The admin connection died with the server.
  auto admin = PgConnection::Connect(Options());
  ASSERT_TRUE(admin.ok()) << admin.status();
  admin_ = std::move(*admin);
}

}  // namespace
}  // namespace posthorn::store::testing
