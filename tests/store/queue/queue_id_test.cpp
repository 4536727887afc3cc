// Queue ids: valid, fixed width, unique across threads and processes, and
// ordered like their arrival.

#include "store/queue/queue_id.h"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace posthorn::store::queue {
namespace {

TEST(QueueId, FixedWidthBase36) {
  std::string id = NewQueueId();
  EXPECT_EQ(id.size(), kQueueIdLength);
  EXPECT_TRUE(IsValidQueueId(id)) << id;
  EXPECT_FALSE(IsValidQueueId(""));
  EXPECT_FALSE(IsValidQueueId(id.substr(1)));
  EXPECT_FALSE(IsValidQueueId(id + "0"));
  std::string lower = id;
  lower[0] = 'a';
  EXPECT_FALSE(IsValidQueueId(lower));
  std::string slash = id;
  slash[5] = '/';
  EXPECT_FALSE(IsValidQueueId(slash));
}

TEST(QueueId, StrictlyIncreasingInOneThreadEvenIfTheClockStepsBack) {
  absl::Time now = absl::Now();
  std::string previous = NewQueueId(now);
  for (int i = 0; i < 1000; ++i) {
    // Same microsecond, then a clock that went back an hour.
    std::string next = NewQueueId(i % 2 == 0 ? now : now - absl::Hours(1));
    EXPECT_LT(previous, next);
    previous = next;
  }
  // A later time sorts after everything before.
  std::string later = NewQueueId(now + absl::Seconds(1));
  EXPECT_LT(previous, later);
}

TEST(QueueId, TimeComesFirst) {
  absl::Time t = absl::FromUnixSeconds(1'700'000'000);
  std::string a = NewQueueId(t);
  std::string b = NewQueueId(t + absl::Microseconds(1));
  EXPECT_LT(a, b);
  EXPECT_EQ(a.substr(0, 10), b.substr(0, 10));
}

TEST(QueueId, UniqueAcrossThreadsAndAForkedProcess) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 2000;
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(pipe_fds[0]);
    std::string all;
    for (int i = 0; i < kPerThread; ++i) all += NewQueueId();
    bool ok = ::write(pipe_fds[1], all.data(), all.size()) ==
              static_cast<ssize_t>(all.size());
    ::_exit(ok ? 0 : 1);
  }
  ::close(pipe_fds[1]);

  std::vector<std::vector<std::string>> per_thread(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&per_thread, t] {
      for (int i = 0; i < kPerThread; ++i) {
        per_thread[t].push_back(NewQueueId());
      }
    });
  }
  for (auto& thread : threads) thread.join();

  std::string from_child;
  char buffer[4096];
  for (;;) {
    ssize_t n = ::read(pipe_fds[0], buffer, sizeof buffer);
    if (n <= 0) break;
    from_child.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(pipe_fds[0]);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  ASSERT_EQ(from_child.size(), kPerThread * kQueueIdLength);

  std::set<std::string> all;
  for (const auto& ids : per_thread) {
    EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end()));
    all.insert(ids.begin(), ids.end());
  }
  std::vector<std::string> child_ids;
  for (std::size_t i = 0; i < from_child.size(); i += kQueueIdLength) {
    child_ids.push_back(from_child.substr(i, kQueueIdLength));
    EXPECT_TRUE(IsValidQueueId(child_ids.back()));
  }
  EXPECT_TRUE(std::is_sorted(child_ids.begin(), child_ids.end()));
  all.insert(child_ids.begin(), child_ids.end());
  EXPECT_EQ(all.size(), static_cast<std::size_t>((kThreads + 1) * kPerThread));

  // Everything made before this point sorts before an id made now.
  std::string now = NewQueueId();
  EXPECT_LT(*all.rbegin(), now);
}

}  // namespace
}  // namespace posthorn::store::queue
