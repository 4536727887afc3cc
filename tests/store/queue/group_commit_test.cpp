// GroupCommit: every caller waits for a sync that began after its call;
// concurrent callers share syncs; failures reach the callers they cover.

#include "store/queue/group_commit.h"

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace posthorn::store::queue {
namespace {

TEST(GroupCommit, OneCallerRunsOneSync) {
  int runs = 0;
  GroupCommit commit([&runs] {
    ++runs;
    return absl::OkStatus();
  });
  EXPECT_TRUE(commit.SyncAfterNow().ok());
  EXPECT_TRUE(commit.SyncAfterNow().ok());
  EXPECT_EQ(runs, 2);
  EXPECT_EQ(commit.SyncsRun(), 2u);
}

TEST(GroupCommit, ConcurrentCallersShareAndEachSeesALaterSync) {
  // Each "write" bumps `written`; a sync records how many writes it
  // covers at its start. A caller's write must be covered by the sync that
  // released it: the snapshot taken at the start of the latest sync that
  // completed before the caller returned.
  std::atomic<int> written{0};
  std::mutex mu;
  int durable = 0;  // writes covered by completed syncs
  GroupCommit commit([&] {
    int covered = written.load();
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    std::lock_guard<std::mutex> lock(mu);
    durable = std::max(durable, covered);
    return absl::OkStatus();
  });
  constexpr int kThreads = 16;
  constexpr int kRounds = 20;
  std::atomic<int> violations{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kRounds; ++i) {
        int mine = ++written;
        ASSERT_TRUE(commit.SyncAfterNow().ok());
        std::lock_guard<std::mutex> lock(mu);
        if (durable < mine) ++violations;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(violations.load(), 0);
  // 320 commits; sharing makes the syncs far fewer.
  EXPECT_LT(commit.SyncsRun(),
            static_cast<std::uint64_t>(kThreads * kRounds / 2));
  EXPECT_GE(commit.SyncsRun(), static_cast<std::uint64_t>(kRounds));
}

TEST(GroupCommit, AFailureReachesTheCallersItCovered) {
  std::atomic<bool> fail{true};
  GroupCommit commit([&] {
    return fail.load() ? absl::UnavailableError("fsync msg: I/O error")
                       : absl::OkStatus();
  });
  EXPECT_EQ(commit.SyncAfterNow().code(), absl::StatusCode::kUnavailable);
  fail = false;
  EXPECT_TRUE(commit.SyncAfterNow().ok());  // a later caller is not blamed
}

}  // namespace
}  // namespace posthorn::store::queue
