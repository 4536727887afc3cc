// The file queue: enqueue, list, due, lease, save, remove; lease
// exclusivity between Queue objects and processes; recovery at open;
// concurrent enqueues.

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "posthorn/store/queue.h"
#include "posthorn/store/status.h"
#include "tests/store/queue/queue_test_util.h"

namespace posthorn::store {
namespace {

using testing::Enqueue;
using testing::EnqueueFromThreads;
using testing::ExpectSameEnvelope;
using testing::FolderNames;
using testing::ReadData;
using testing::SampleEnvelope;
using testing::SampleTime;
using testing::TempDir;

std::unique_ptr<Queue> Open(const std::string& dir, bool fsync = false) {
  auto queue = MakeFileQueue({.dir = dir, .fsync = fsync});
  EXPECT_TRUE(queue.ok()) << queue.status();
  return queue.ok() ? *std::move(queue) : nullptr;
}

void WriteFile(const std::string& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary);
  out << bytes;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

bool AnyProblemContains(Queue& queue, std::string_view a, std::string_view b) {
  for (const std::string& line : queue.Problems()) {
    if (line.find(a) != std::string::npos &&
        line.find(b) != std::string::npos) {
      return true;
    }
  }
  return false;
}

TEST(FileQueue, OpenCreatesTheFoldersPrivate) {
  TempDir tmp;
  std::string dir = tmp.File("q");
  auto queue = Open(dir);
  ASSERT_NE(queue, nullptr);
  for (const char* sub : {"", "/tmp", "/msg", "/corrupt"}) {
    struct stat st;
    ASSERT_EQ(::stat((dir + sub).c_str(), &st), 0) << sub;
    EXPECT_EQ(st.st_mode & 0777, 0700u) << sub;
  }
  EXPECT_TRUE(queue->Problems().empty());
  EXPECT_EQ(MakeFileQueue({.dir = ""}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(FileQueue, EnqueueListLeaseSaveRemove) {
  TempDir tmp;
  auto queue = Open(tmp.path(), /*fsync=*/true);
  QueueEnvelope envelope = SampleEnvelope();
  envelope.id = "ignored";
  envelope.size = 999;
  const std::string data = "Subject: hi\r\n\r\nbody\r\n";
  absl::StatusOr<std::string> id = Enqueue(*queue, envelope, data);
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(id->size(), 20u);

  auto listed = queue->List();
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].id, *id);
  EXPECT_EQ((*listed)[0].size, data.size());
  ExpectSameEnvelope((*listed)[0], envelope);
  EXPECT_EQ(FolderNames(tmp.File("tmp")), std::vector<std::string>{});
  EXPECT_EQ(FolderNames(tmp.File("msg")),
            (std::vector<std::string>{*id + ".data", *id + ".env"}));

  {
    auto lease = queue->Lease(*id);
    ASSERT_TRUE(lease.ok()) << lease.status();
    EXPECT_EQ((*lease)->envelope().id, *id);
    EXPECT_EQ(ReadData(**lease).value(), data);
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
  {
    auto lease = queue->Lease(*id);
    ASSERT_TRUE(lease.ok());
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
  EXPECT_EQ(FolderNames(tmp.File("msg")), std::vector<std::string>{});
  EXPECT_EQ(queue->Lease("../etc/passwd").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(queue->Problems().empty());
}

TEST(FileQueue, ReaderOutlivesItsLease) {
  TempDir tmp;
  auto queue = Open(tmp.path());
  std::string id = Enqueue(*queue, SampleEnvelope(), "abc").value();
  std::unique_ptr<MessageReader> reader;
  {
    auto lease = queue->Lease(id);
    ASSERT_TRUE(lease.ok());
    reader = std::move((*lease)->OpenData()).value();
  }
  EXPECT_TRUE(queue->Lease(id).ok());  // the reader does not hold the lock
  EXPECT_EQ(ReadAll(*reader).value(), "abc");
}

TEST(FileQueue, ListIsInArrivalOrderAndDueFilters) {
  TempDir tmp;
  auto queue = Open(tmp.path());
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
  for (int i = 0; i < 5; ++i) EXPECT_EQ(listed[i].id, ids[i]);
  EXPECT_EQ(queue->Due(SampleTime(999)).value(), std::vector<std::string>{});
  EXPECT_EQ(queue->Due(SampleTime(1000)).value(),
            (std::vector<std::string>{ids[0], ids[2], ids[4]}));
}

TEST(FileQueue, AbortAndDestructorLeaveNothing) {
  TempDir tmp;
  auto queue = Open(tmp.path());
  {
    auto writer = queue->BeginEnqueue(SampleEnvelope());
    ASSERT_TRUE(writer.ok());
    ASSERT_TRUE((*writer)->Write("partial").ok());
    EXPECT_EQ(FolderNames(tmp.File("tmp")).size(), 1u);
  }
  EXPECT_EQ(FolderNames(tmp.File("tmp")), std::vector<std::string>{});
  auto writer = queue->BeginEnqueue(SampleEnvelope());
  ASSERT_TRUE(writer.ok());
  (*writer)->Abort();
  EXPECT_EQ((*writer)->Write("x").code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ((*writer)->Commit().status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(FolderNames(tmp.File("tmp")), std::vector<std::string>{});
  EXPECT_TRUE(queue->List()->empty());
}

TEST(FileQueue, RefusesAnEnvelopeTooLargeToWrite) {
  TempDir tmp;
  auto queue = Open(tmp.path());
  QueueEnvelope envelope = SampleEnvelope();
  envelope.recipients[0].address = std::string(2 << 20, 'a');
  EXPECT_EQ(queue->BeginEnqueue(envelope).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(FileQueue, LeaseIsExclusiveBetweenQueueObjects) {
  TempDir tmp;
  auto first = Open(tmp.path());
  auto second = Open(tmp.path());
  std::string id = Enqueue(*first, SampleEnvelope(), "data").value();
  {
    auto held = first->Lease(id);
    ASSERT_TRUE(held.ok());
    absl::Status other = second->Lease(id).status();
    EXPECT_TRUE(IsInUse(other)) << other;
    other = first->Lease(id).status();  // also within one Queue object
    EXPECT_TRUE(IsInUse(other)) << other;
  }
  EXPECT_TRUE(second->Lease(id).ok());
}

// Runs `fn` in a forked child; returns its exit code (or 128 + signal).
int RunInChild(const std::function<int()>& fn) {
  pid_t pid = ::fork();
  if (pid == 0) ::_exit(fn());
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

TEST(FileQueue, LeaseIsExclusiveAcrossProcesses) {
  TempDir tmp;
  auto queue = Open(tmp.path());
  std::string id = Enqueue(*queue, SampleEnvelope(), "data").value();
  auto held = queue->Lease(id);
  ASSERT_TRUE(held.ok());
  int code = RunInChild([&] {
    auto child_queue = MakeFileQueue({.dir = tmp.path(), .fsync = false});
    if (!child_queue.ok()) return 2;
    absl::Status status = (*child_queue)->Lease(id).status();
    return IsInUse(status) ? 0 : 1;
  });
  EXPECT_EQ(code, 0);
  held->reset();
  code = RunInChild([&] {
    auto child_queue = MakeFileQueue({.dir = tmp.path(), .fsync = false});
    if (!child_queue.ok()) return 2;
    return (*child_queue)->Lease(id).ok() ? 0 : 1;
  });
  EXPECT_EQ(code, 0);
}

TEST(FileQueue, LeaseDiesWithItsKilledHolder) {
  TempDir tmp;
  auto queue = Open(tmp.path());
  std::string id = Enqueue(*queue, SampleEnvelope(), "data").value();
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    auto child_queue = MakeFileQueue({.dir = tmp.path(), .fsync = false});
    if (!child_queue.ok()) ::_exit(2);
    auto lease = (*child_queue)->Lease(id);
    char byte = lease.ok() ? 'y' : 'n';
    if (::write(ready[1], &byte, 1) != 1) ::_exit(3);
    for (;;) ::pause();  // holds the lease until killed
  }
  char byte = 0;
  ASSERT_EQ(::read(ready[0], &byte, 1), 1);
  ASSERT_EQ(byte, 'y');
  EXPECT_TRUE(IsInUse(queue->Lease(id).status()));
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  ::close(ready[0]);
  ::close(ready[1]);
  auto lease = queue->Lease(id);
  ASSERT_TRUE(lease.ok()) << lease.status();
  EXPECT_EQ(ReadData(**lease).value(), "data");
}

TEST(FileQueue, OpeningElsewhereSparesALiveEnqueue) {
  TempDir tmp;
  auto queue = Open(tmp.path());
  auto writer = queue->BeginEnqueue(SampleEnvelope());
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->Write("in progress").ok());
  // Another process opening (and recovering) the queue meanwhile.
  int code = RunInChild([&] {
    return MakeFileQueue({.dir = tmp.path(), .fsync = false}).ok() ? 0 : 1;
  });
  EXPECT_EQ(code, 0);
  auto other = Open(tmp.path());  // and another Queue object here
  EXPECT_TRUE(other->Problems().empty());
  absl::StatusOr<std::string> id = (*writer)->Commit();
  ASSERT_TRUE(id.ok()) << id.status();
  auto lease = other->Lease(*id);
  ASSERT_TRUE(lease.ok());
  EXPECT_EQ(ReadData(**lease).value(), "in progress");
}

TEST(FileQueue, RecoveryRepairsAndReports) {
  TempDir tmp;
  std::string good_id;
  std::string corrupt_id;
  std::string dataless_id;
  std::string orphan_id;
  {
    auto queue = Open(tmp.path());
    good_id =
        Enqueue(*queue, SampleEnvelope("good@example.org"), "GOOD").value();
    corrupt_id = Enqueue(*queue, SampleEnvelope(), "CORRUPT").value();
    dataless_id = Enqueue(*queue, SampleEnvelope(), "DATALESS").value();
    orphan_id = Enqueue(*queue, SampleEnvelope(), "ORPHAN").value();
  }
  const std::string msg = tmp.File("msg/");
  // A half-written enqueue, an interrupted envelope rewrite, an envelope
  // cut short, an envelope without data, data without an envelope, and a
  // stray file.
  WriteFile(tmp.File("tmp/0QKX7V1G3M2000000001.data"), "half a mess");
  WriteFile(tmp.File("tmp/0QKX7V1G3M2000000001.env.1.2.3"), "posthorn-qu");
  std::string env = ReadFile(msg + corrupt_id + ".env");
  WriteFile(msg + corrupt_id + ".env", env.substr(0, env.size() / 2));
  ASSERT_EQ(::unlink((msg + dataless_id + ".data").c_str()), 0);
  ASSERT_EQ(::unlink((msg + orphan_id + ".env").c_str()), 0);
  WriteFile(msg + "README", "not ours");

  auto queue = Open(tmp.path());
  EXPECT_EQ(FolderNames(tmp.File("tmp")), std::vector<std::string>{});
  EXPECT_EQ(FolderNames(tmp.File("msg")),
            (std::vector<std::string>{good_id + ".data", good_id + ".env",
                                      "README"}));
  EXPECT_EQ(FolderNames(tmp.File("corrupt")),
            (std::vector<std::string>{corrupt_id + ".data", corrupt_id + ".env",
                                      dataless_id + ".env"}));
  EXPECT_EQ(ReadFile(tmp.File("corrupt/" + corrupt_id + ".data")), "CORRUPT");
  EXPECT_TRUE(AnyProblemContains(*queue, corrupt_id + ".env", "line"));
  EXPECT_TRUE(
      AnyProblemContains(*queue, dataless_id + ".env", "data file missing"));
  EXPECT_TRUE(AnyProblemContains(*queue, orphan_id + ".data", "removed"));
  EXPECT_TRUE(
      AnyProblemContains(*queue, "0QKX7V1G3M2000000001.data", "interrupted"));
  EXPECT_TRUE(AnyProblemContains(*queue, "README", "unexpected"));

  auto listed = queue->List().value();
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].sender, "good@example.org");
  auto lease = queue->Lease(good_id);
  ASSERT_TRUE(lease.ok());
  EXPECT_EQ(ReadData(**lease).value(), "GOOD");
}

// A process that may list the queue but not read its files (a user running
// sendmail on a queue it does not own) must not take "permission denied"
// for corruption: moving the envelope aside would orphan the data, and the
// owner's next recovery would delete the message.
TEST(FileQueue, RecoveryWithoutReadAccessLeavesMessagesAlone) {
  TempDir tmp;
  std::string id;
  {
    auto queue = Open(tmp.path());
    id = Enqueue(*queue, SampleEnvelope(), "KEEP ME").value();
  }
  const std::string env = tmp.File("msg/" + id + ".env");
  if (::geteuid() == 0) {
    // Root reads any file: recover as an ordinary user in a child. The
    // folders are opened to everyone so that user can list them.
    for (const char* dir : {"", "msg", "tmp", "corrupt"}) {
      ASSERT_EQ(::chmod(tmp.File(dir).c_str(), 0777), 0);
    }
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      if (::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(2);
      auto queue = MakeFileQueue({.dir = tmp.path(), .fsync = false});
      ::_exit(queue.ok() ? 0 : 3);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
  } else {
    ASSERT_EQ(::chmod(env.c_str(), 0), 0);
    auto queue = MakeFileQueue({.dir = tmp.path(), .fsync = false});
    ASSERT_TRUE(queue.ok()) << queue.status();
    EXPECT_TRUE(AnyProblemContains(**queue, id + ".env", "ermission"));
    ASSERT_EQ(::chmod(env.c_str(), 0600), 0);
  }
  EXPECT_EQ(FolderNames(tmp.File("corrupt")), std::vector<std::string>{});
  auto queue = Open(tmp.path());
  auto listed = queue->List().value();
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].id, id);
  auto lease = queue->Lease(id);
  ASSERT_TRUE(lease.ok()) << lease.status();
  EXPECT_EQ(ReadData(**lease).value(), "KEEP ME");
}

TEST(FileQueue, UnreadableEnvelopeSeenLaterIsReported) {
  TempDir tmp;
  auto queue = Open(tmp.path());
  std::string good = Enqueue(*queue, SampleEnvelope(), "a").value();
  std::string bad = Enqueue(*queue, SampleEnvelope(), "b").value();
  WriteFile(tmp.File("msg/" + bad + ".env"), "garbage\n");
  auto listed = queue->List().value();
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].id, good);
  EXPECT_TRUE(AnyProblemContains(*queue, bad + ".env", "line 1"));
  absl::Status lease = queue->Lease(bad).status();
  EXPECT_EQ(lease.code(), absl::StatusCode::kDataLoss) << lease;
  EXPECT_EQ(queue->Problems().size(), 1u);  // reported once
}

TEST(FileQueue, ConcurrentEnqueuesAreAllListedOnce) {
  TempDir tmp;
  auto queue = Open(tmp.path(), /*fsync=*/true);
  constexpr int kThreads = 8;
  constexpr int kPerThread = 100;
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
  // Every message's data is its own.
  auto reopened = Open(tmp.path());
  EXPECT_TRUE(reopened->Problems().empty());
  for (const QueueEnvelope& envelope : listed) {
    auto lease = reopened->Lease(envelope.id);
    ASSERT_TRUE(lease.ok()) << lease.status();
    EXPECT_EQ(ReadData(**lease).value(), envelope.sender);
  }
}

}  // namespace
}  // namespace posthorn::store
