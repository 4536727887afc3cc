// Crash tests: an enqueue, a Lease+Save and a Lease+Remove killed at every
// crash point (tests/store/common/crash_util.h). After each kill the queue
// is reopened: the message is entirely there (old or new envelope) or,
// for an enqueue or a removal, entirely absent; the other messages are
// untouched; nothing is left in tmp/, corrupt/ stays empty.

#include <fcntl.h>
#include <unistd.h>

#include <map>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "posthorn/store/queue.h"
#include "tests/store/common/crash_util.h"
#include "tests/store/queue/queue_test_util.h"

namespace posthorn::store {
namespace {

using testing::ChildEnd;
using testing::Enqueue;
using testing::FolderNames;
using testing::ReadData;
using testing::RunChildWithCrashAfter;
using testing::SampleEnvelope;
using testing::TempDir;

constexpr int kMaxSteps = 400;  // bounds every loop; the real counts are ~20

std::unique_ptr<Queue> Open(const std::string& dir) {
  auto queue = MakeFileQueue({.dir = dir, .fsync = true});
  EXPECT_TRUE(queue.ok()) << queue.status();
  return queue.ok() ? *std::move(queue) : nullptr;
}

std::string Body(std::string_view tag) {
  std::string body = "Subject: " + std::string(tag) + "\r\n\r\n";
  for (int i = 0; i < 300; ++i) body += "line " + std::to_string(i) + "\r\n";
  return body;
}

// The bystanders: enqueued before the loop, checked after every kill.
struct Bystanders {
  std::map<std::string, std::string> data_by_id;

  void Add(Queue& queue, int n) {
    for (int i = 0; i < n; ++i) {
      std::string data = Body("bystander " + std::to_string(i));
      data_by_id[Enqueue(queue, SampleEnvelope(), data).value()] = data;
    }
  }
  void ExpectIntact(Queue& queue) const {
    for (const auto& [id, data] : data_by_id) {
      auto lease = queue.Lease(id);
      ASSERT_TRUE(lease.ok()) << id << ": " << lease.status();
      EXPECT_EQ((*lease)->envelope().size, data.size());
      EXPECT_EQ(ReadData(**lease).value(), data);
    }
  }
};

// After recovery: nothing in tmp/ or corrupt/, msg/ holds pairs only.
void ExpectCleanFolders(const TempDir& dir, Queue& queue) {
  EXPECT_EQ(FolderNames(dir.File("tmp")), std::vector<std::string>{});
  EXPECT_EQ(FolderNames(dir.File("corrupt")), std::vector<std::string>{});
  std::vector<std::string> names = FolderNames(dir.File("msg"));
  ASSERT_EQ(names.size() % 2, 0u);
  for (std::size_t i = 0; i < names.size(); i += 2) {
    EXPECT_EQ(names[i].substr(0, 20) + ".data", names[i]);
    EXPECT_EQ(names[i].substr(0, 20) + ".env", names[i + 1]);
  }
  for (const std::string& line : queue.Problems()) {
    // Recovery may remove leftovers of the killed operation, nothing else.
    EXPECT_TRUE(line.find("removed") != std::string::npos) << line;
  }
}

TEST(QueueCrash, EnqueueIsAllOrNothing) {
  TempDir dir;
  Bystanders bystanders;
  bystanders.Add(*Open(dir.path()), 2);
  const std::string data = Body("new");
  QueueEnvelope envelope = SampleEnvelope("crash@example.org", 3);
  int kills = 0;
  int appeared = 0;
  for (int n = 1; n <= kMaxSteps; ++n) {
    std::unique_ptr<Queue> queue = Open(dir.path());
    ChildEnd end = RunChildWithCrashAfter(
        n, [&] { return Enqueue(*queue, envelope, data).ok(); });
    ASSERT_NE(end, ChildEnd::kFailed) << "step " << n;
    queue = Open(dir.path());
    ExpectCleanFolders(dir, *queue);
    bystanders.ExpectIntact(*queue);
    std::vector<QueueEnvelope> listed = queue->List().value();
    ASSERT_TRUE(listed.size() == 2 || listed.size() == 3) << "step " << n;
    for (const QueueEnvelope& e : listed) {
      if (bystanders.data_by_id.count(e.id) != 0) continue;
      // The new message, complete: envelope and data.
      ++appeared;
      EXPECT_EQ(e.sender, "crash@example.org");
      EXPECT_EQ(e.recipients.size(), 3u);
      auto lease = queue->Lease(e.id);
      ASSERT_TRUE(lease.ok()) << lease.status();
      EXPECT_EQ(ReadData(**lease).value(), data) << "step " << n;
      ASSERT_TRUE((*lease)->Remove().ok());  // ready for the next step
    }
    if (end == ChildEnd::kCompleted) {
      EXPECT_EQ(listed.size(), 3u);
      break;
    }
    ++kills;
    ASSERT_LT(n, kMaxSteps) << "the enqueue never completed";
  }
  EXPECT_GT(kills, 8);     // every step was visited
  EXPECT_GE(appeared, 1);  // at least the completed run
  RecordProperty("kill_points", kills);
}

TEST(QueueCrash, SaveLeavesTheOldOrTheNewEnvelope) {
  TempDir dir;
  Bystanders bystanders;
  std::string id;
  const std::string data = Body("leased");
  {
    auto queue = Open(dir.path());
    bystanders.Add(*queue, 1);
    id = Enqueue(*queue, SampleEnvelope("saved@example.org"), data).value();
    bystanders.Add(*queue, 1);
  }
  int kills = 0;
  for (int n = 1; n <= kMaxSteps; ++n) {
    std::unique_ptr<Queue> queue = Open(dir.path());
    const int before = queue->Lease(id).value()->envelope().attempts;
    ChildEnd end = RunChildWithCrashAfter(n, [&] {
      auto lease = queue->Lease(id);
      if (!lease.ok()) return false;
      QueueEnvelope updated = (*lease)->envelope();
      updated.attempts += 1;
      updated.recipients[0].state = RecipientState::kDelivered;
      updated.recipients[1].last_reply =
          "451 attempt " + std::to_string(updated.attempts);
      return (*lease)->Save(updated).ok();
    });
    ASSERT_NE(end, ChildEnd::kFailed) << "step " << n;
    queue = Open(dir.path());
    ExpectCleanFolders(dir, *queue);
    bystanders.ExpectIntact(*queue);
    auto lease = queue->Lease(id);
    ASSERT_TRUE(lease.ok()) << "step " << n << ": " << lease.status();
    const QueueEnvelope& now = (*lease)->envelope();
    EXPECT_EQ(ReadData(**lease).value(), data);
    EXPECT_EQ(now.size, data.size());
    if (now.attempts == before + 1) {
      EXPECT_EQ(now.recipients[1].last_reply,
                "451 attempt " + std::to_string(now.attempts));
    } else {
      EXPECT_EQ(now.attempts, before) << "step " << n;
      EXPECT_NE(end, ChildEnd::kCompleted);
    }
    if (end == ChildEnd::kCompleted) break;
    ++kills;
    ASSERT_LT(n, kMaxSteps) << "the save never completed";
  }
  EXPECT_GT(kills, 4);
  RecordProperty("kill_points", kills);
}

TEST(QueueCrash, RemoveLeavesAllOrNothing) {
  TempDir dir;
  Bystanders bystanders;
  bystanders.Add(*Open(dir.path()), 2);
  const std::string data = Body("removed");
  int kills = 0;
  int survived = 0;
  for (int n = 1; n <= kMaxSteps; ++n) {
    std::unique_ptr<Queue> queue = Open(dir.path());
    const std::string id =
        Enqueue(*queue, SampleEnvelope("gone@example.org"), data).value();
    ChildEnd end = RunChildWithCrashAfter(n, [&] {
      auto lease = queue->Lease(id);
      return lease.ok() && (*lease)->Remove().ok();
    });
    ASSERT_NE(end, ChildEnd::kFailed) << "step " << n;
    queue = Open(dir.path());
    ExpectCleanFolders(dir, *queue);
    bystanders.ExpectIntact(*queue);
    auto lease = queue->Lease(id);
    if (lease.ok()) {
      // Still entirely there: remove it ourselves for the next step.
      ++survived;
      EXPECT_NE(end, ChildEnd::kCompleted);
      EXPECT_EQ(ReadData(**lease).value(), data);
      ASSERT_TRUE((*lease)->Remove().ok());
    } else {
      EXPECT_EQ(lease.status().code(), absl::StatusCode::kNotFound)
          << "step " << n << ": " << lease.status();
      EXPECT_EQ(FolderNames(dir.File("msg")).size(), 4u);  // bystanders only
    }
    if (end == ChildEnd::kCompleted) break;
    ++kills;
    ASSERT_LT(n, kMaxSteps) << "the removal never completed";
  }
  EXPECT_GT(kills, 2);
  EXPECT_GE(survived, 1);  // killed before the envelope went
  RecordProperty("kill_points", kills);
}

// A recovery killed at any step leaves a folder the next recovery finishes:
// good messages intact, the corrupt one (envelope and data) in corrupt/,
// leftovers gone.
TEST(QueueCrash, RecoveryCanBeKilledAndRestarted) {
  int kills = 0;
  for (int n = 1; n <= kMaxSteps; ++n) {
    TempDir dir;
    std::string good_id;
    std::string corrupt_id;
    std::string orphan_id;
    const std::string good = Body("good");
    {
      auto queue = Open(dir.path());
      good_id = Enqueue(*queue, SampleEnvelope(), good).value();
      corrupt_id = Enqueue(*queue, SampleEnvelope(), Body("corrupt")).value();
      orphan_id = Enqueue(*queue, SampleEnvelope(), Body("orphan")).value();
    }
    const std::string msg = dir.File("msg/");
    ASSERT_EQ(::truncate((msg + corrupt_id + ".env").c_str(), 100), 0);
    ASSERT_EQ(::unlink((msg + orphan_id + ".env").c_str()), 0);
    ASSERT_EQ(::close(::open(dir.File("tmp/leftover.data").c_str(),
                             O_CREAT | O_WRONLY, 0600)),
              0);

    ChildEnd end = RunChildWithCrashAfter(n, [&] {
      return MakeFileQueue({.dir = dir.path(), .fsync = true}).ok();
    });
    ASSERT_NE(end, ChildEnd::kFailed) << "step " << n;
    auto queue = Open(dir.path());
    EXPECT_EQ(FolderNames(dir.File("tmp")), std::vector<std::string>{});
    EXPECT_EQ(FolderNames(dir.File("msg")),
              (std::vector<std::string>{good_id + ".data", good_id + ".env"}))
        << "step " << n;
    EXPECT_EQ(
        FolderNames(dir.File("corrupt")),
        (std::vector<std::string>{corrupt_id + ".data", corrupt_id + ".env"}))
        << "step " << n;
    auto lease = queue->Lease(good_id);
    ASSERT_TRUE(lease.ok()) << lease.status();
    EXPECT_EQ(ReadData(**lease).value(), good);
    if (end == ChildEnd::kCompleted) break;
    ++kills;
    ASSERT_LT(n, kMaxSteps) << "recovery never completed";
  }
  EXPECT_GT(kills, 3);
  RecordProperty("kill_points", kills);
}

}  // namespace
}  // namespace posthorn::store
