// tests/store/memory/memory_store_test.cpp — what only the in-memory store
// promises (posthorn/store/memory_store.h): sessions and readers outlive
// the store and commits, and many threads use one store at once. The
// shared behaviour is in tests/store/conformance.

#include "posthorn/store/memory_store.h"

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "posthorn/store/message_reader.h"
#include "posthorn/store/status.h"

namespace posthorn::store {
namespace {

absl::Status DeliverText(Mailstore& store, const std::string& user,
                         const std::string& text) {
  StringReader source(text);
  return store.Deliver(user, {}, source);
}

TEST(MemoryStoreTest, ReaderOutlivesCommitAndStore) {
  auto store = MakeMemoryStore();
  ASSERT_TRUE(DeliverText(*store, "alice", "Subject: x\n\nbody\n").ok());
  auto session = store->OpenSession("alice");
  ASSERT_TRUE(session.ok());
  auto reader = (*session)->Read(0);
  ASSERT_TRUE(reader.ok());
  const std::size_t deleted[] = {0};
  ASSERT_TRUE((*session)->Commit(deleted).ok());
  store.reset();
  auto text = ReadAll(**reader);
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(*text, "Subject: x\r\n\r\nbody\r\n");
}

TEST(MemoryStoreTest, SessionOutlivesStore) {
  auto store = MakeMemoryStore();
  ASSERT_TRUE(DeliverText(*store, "alice", "a\n").ok());
  auto session = store->OpenSession("alice");
  ASSERT_TRUE(session.ok());
  store.reset();
  EXPECT_EQ((*session)->messages().size(), 1u);
  EXPECT_TRUE((*session)->Commit({}).ok());
}

TEST(MemoryStoreTest, UidsAreNeverReused) {
  auto store = MakeMemoryStore();
  ASSERT_TRUE(DeliverText(*store, "alice", "a\n").ok());
  std::string first_uid;
  {
    auto session = store->OpenSession("alice");
    ASSERT_TRUE(session.ok());
    first_uid = (*session)->messages()[0].uid;
    const std::size_t deleted[] = {0};
    ASSERT_TRUE((*session)->Commit(deleted).ok());
  }
  ASSERT_TRUE(DeliverText(*store, "alice", "a\n").ok());
  auto session = store->OpenSession("alice");
  ASSERT_TRUE(session.ok());
  ASSERT_EQ((*session)->messages().size(), 1u);
  EXPECT_NE((*session)->messages()[0].uid, first_uid);
}

TEST(MemoryStoreTest, ManyThreadsOnManyMaildrops) {
  auto store = MakeMemoryStore();
  constexpr int kThreads = 8;
  constexpr int kRounds = 200;
  std::atomic<int> failures{0};
  std::atomic<int> in_use{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::string user = "user" + std::to_string(t % 3);
      for (int i = 0; i < kRounds; ++i) {
        if (!DeliverText(*store, user, "n " + std::to_string(i) + "\n").ok()) {
          ++failures;
        }
        auto session = store->OpenSession(user);
        if (!session.ok()) {
          if (IsInUse(session.status())) {
            ++in_use;
          } else {
            ++failures;
          }
          continue;
        }
        std::vector<std::size_t> deleted;
        if (!(*session)->messages().empty()) deleted.push_back(0);
        if (!(*session)->Commit(deleted).ok()) ++failures;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  // Every delivery is either still there or was deleted by one commit.
  std::size_t left = 0;
  for (int u = 0; u < 3; ++u) {
    auto session = store->OpenSession("user" + std::to_string(u));
    ASSERT_TRUE(session.ok());
    left += (*session)->messages().size();
  }
  EXPECT_LE(left, static_cast<std::size_t>(kThreads * kRounds));
}

}  // namespace
}  // namespace posthorn::store
