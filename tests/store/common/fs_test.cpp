// Tests of the store's file primitives (src/store/fs) and common helpers.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>

#include "gtest/gtest.h"
#include "posthorn/store/mailstore.h"
#include "posthorn/store/message_reader.h"
#include "posthorn/store/status.h"
#include "store/fs/crash_point.h"
#include "store/fs/file_util.h"
#include "tests/store/common/crash_util.h"

namespace posthorn::store {
namespace {

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() /
                           "posthorn-fs-XXXXXX").string();
    path_ = ::mkdtemp(pattern.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }
  std::string File(std::string_view name) const { return fs::JoinPath(path_, name); }

 private:
  std::string path_;
};

TEST(UserName, AcceptsOrdinaryNames) {
  EXPECT_TRUE(ValidateUserName("alice").ok());
  EXPECT_TRUE(ValidateUserName("john.smith").ok());
  EXPECT_TRUE(ValidateUserName("a_b-c9").ok());
  EXPECT_TRUE(ValidateUserName(std::string(kMaxUserNameLength, 'x')).ok());
}

TEST(UserName, RefusesNamesThatCouldBecomeOtherPaths) {
  for (std::string_view bad :
       {std::string_view(""), std::string_view("../x"), std::string_view("a/b"),
        std::string_view("a\0b", 3), std::string_view(".hidden"),
        std::string_view("-rf"), std::string_view(".."), std::string_view("a b"),
        std::string_view("a\nb"), std::string_view("caf\xc3\xa9")}) {
    absl::Status status = ValidateUserName(bad);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_FALSE(ValidateUserName(std::string(kMaxUserNameLength + 1, 'x')).ok());
}

TEST(Status, InUseIsUnavailableAndMarked) {
  absl::Status in_use = InUseError("maildrop busy");
  EXPECT_EQ(in_use.code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(IsInUse(in_use));
  EXPECT_FALSE(IsInUse(absl::UnavailableError("maildrop busy")));
  EXPECT_FALSE(IsInUse(absl::OkStatus()));
}

TEST(StringReader, YieldsEverythingInBoundedChunks) {
  std::string text(10000, 'a');
  text += "end";
  StringReader reader(text);
  char buffer[7];
  std::string out;
  for (;;) {
    auto n = reader.Read(buffer);
    ASSERT_TRUE(n.ok());
    ASSERT_LE(*n, sizeof buffer);
    if (*n == 0) break;
    out.append(buffer, *n);
  }
  EXPECT_EQ(out, text);
  StringReader again(text);
  EXPECT_EQ(ReadAll(again).value(), text);
}

TEST(OpenFile, RefusesSymlinksAndHardLinks) {
  TempDir dir;
  std::string target = dir.File("target");
  ASSERT_TRUE(fs::AtomicWriteFile(target, "secret", 0600).ok());
  ASSERT_EQ(::symlink(target.c_str(), dir.File("symlink").c_str()), 0);
  auto via_symlink = fs::OpenFile(dir.File("symlink"), O_RDONLY);
  EXPECT_EQ(via_symlink.status().code(), absl::StatusCode::kPermissionDenied);
  ASSERT_EQ(::link(target.c_str(), dir.File("hardlink").c_str()), 0);
  auto via_hardlink = fs::OpenFile(dir.File("hardlink"), O_RDONLY);
  EXPECT_EQ(via_hardlink.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_NE(via_hardlink.status().message().find("links"), std::string::npos);
}

TEST(OpenFile, ErrorsNameThePath) {
  TempDir dir;
  auto missing = fs::OpenFile(dir.File("missing"), O_RDONLY);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find(dir.File("missing")),
            std::string::npos);
}

TEST(AtomicWriteFile, ReplacesContentAndLeavesNoTemporaries) {
  TempDir dir;
  std::string path = dir.File("note");
  ASSERT_TRUE(fs::AtomicWriteFile(path, "one", 0600).ok());
  ASSERT_TRUE(fs::AtomicWriteFile(path, "two", 0600).ok());
  EXPECT_EQ(fs::ReadSmallFile(path, 100).value(), "two");
  int entries = 0;
  for (auto& entry : std::filesystem::directory_iterator(dir.path())) {
    (void)entry;
    ++entries;
  }
  EXPECT_EQ(entries, 1);
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST(AtomicWriteFile, KilledAtEveryStepLeavesOldOrNew) {
  TempDir dir;
  std::string path = dir.File("note");
  ASSERT_TRUE(fs::AtomicWriteFile(path, "old content", 0600).ok());
  int kills = 0;
  for (std::int64_t n = 1; n < 100; ++n) {
    auto end = testing::RunChildWithCrashAfter(n, [&] {
      return fs::AtomicWriteFile(path, "new content", 0600).ok();
    });
    ASSERT_NE(end, testing::ChildEnd::kFailed);
    std::string now = fs::ReadSmallFile(path, 100).value();
    EXPECT_TRUE(now == "old content" || now == "new content") << now;
    if (end == testing::ChildEnd::kCompleted) {
      EXPECT_EQ(now, "new content");
      break;
    }
    ++kills;
    ASSERT_TRUE(fs::AtomicWriteFile(path, "old content", 0600).ok());
  }
  EXPECT_GE(kills, 6);  // open, write x2, fsync x2, rename x2, dir fsync ...
}

TEST(ReadSmallFile, RefusesFilesOverTheLimit) {
  TempDir dir;
  ASSERT_TRUE(fs::AtomicWriteFile(dir.File("big"), std::string(101, 'x'), 0600).ok());
  EXPECT_EQ(fs::ReadSmallFile(dir.File("big"), 100).status().code(),
            absl::StatusCode::kOutOfRange);
}

TEST(OfdLock, ExcludesASecondDescriptorInTheSameProcess) {
  TempDir dir;
  std::string path = dir.File("lock");
  auto first = fs::OpenFile(path, O_RDWR | O_CREAT, 0600);
  auto second = fs::OpenFile(path, O_RDWR);
  ASSERT_TRUE(first.ok() && second.ok());
  ASSERT_TRUE(fs::TryLockOfd(first->get(), path).ok());
  absl::Status busy = fs::TryLockOfd(second->get(), path);
  EXPECT_TRUE(IsInUse(busy)) << busy;
  EXPECT_EQ(fs::LockOfd(second->get(), path, absl::Milliseconds(30)).code(),
            absl::StatusCode::kUnavailable);
  first->reset();  // closing releases
  EXPECT_TRUE(fs::TryLockOfd(second->get(), path).ok());
}

TEST(OfdLock, DiesWithAKilledHolder) {
  TempDir dir;
  std::string path = dir.File("lock");
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto fd = fs::OpenFile(path, O_RDWR | O_CREAT, 0600);
    if (!fd.ok() || !fs::TryLockOfd(fd->get(), path).ok()) ::_exit(1);
    (void)::write(ready[1], "x", 1);
    for (;;) ::pause();
  }
  char byte;
  ASSERT_EQ(::read(ready[0], &byte, 1), 1);
  auto fd = fs::OpenFile(path, O_RDWR);
  ASSERT_TRUE(fd.ok());
  EXPECT_TRUE(IsInUse(fs::TryLockOfd(fd->get(), path)));
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  EXPECT_TRUE(fs::TryLockOfd(fd->get(), path).ok());
  ::close(ready[0]);
  ::close(ready[1]);
}

TEST(DotLock, ExcludesAndReleases) {
  TempDir dir;
  std::string mbox = dir.File("alice");
  auto lock = fs::DotLock::Acquire(mbox, absl::Seconds(1), absl::Minutes(5));
  ASSERT_TRUE(lock.ok());
  EXPECT_EQ(lock->lock_path(), mbox + ".lock");
  auto second = fs::DotLock::Acquire(mbox, absl::Milliseconds(30), absl::Minutes(5));
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
  lock->Release();
  EXPECT_TRUE(fs::DotLock::Acquire(mbox, absl::Seconds(1), absl::Minutes(5)).ok());
  EXPECT_NE(::access((mbox + ".lock").c_str(), F_OK), 0);  // destructor removed it
}

TEST(DotLock, WaitsForAHolderThatLetsGo) {
  TempDir dir;
  std::string mbox = dir.File("alice");
  auto lock = fs::DotLock::Acquire(mbox, absl::Seconds(1), absl::Minutes(5));
  ASSERT_TRUE(lock.ok());
  std::thread releaser([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    lock->Release();
  });
  auto second = fs::DotLock::Acquire(mbox, absl::Seconds(5), absl::Minutes(5));
  releaser.join();
  EXPECT_TRUE(second.ok()) << second.status();
}

TEST(DotLock, BreaksALockOfADeadProcessOrPastItsAge) {
  TempDir dir;
  std::string mbox = dir.File("alice");
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) ::_exit(0);
  ::waitpid(child, nullptr, 0);  // `child` is now a pid nobody holds
  ASSERT_TRUE(fs::AtomicWriteFile(mbox + ".lock", std::to_string(child) + "\n",
                                  0644).ok());
  EXPECT_TRUE(fs::DotLock::Acquire(mbox, absl::Seconds(1), absl::Minutes(5)).ok());

  // A lock naming a live process (ours) but older than the stale age.
  ASSERT_TRUE(fs::AtomicWriteFile(mbox + ".lock", std::to_string(::getpid()) + "\n",
                                  0644).ok());
  EXPECT_FALSE(fs::DotLock::Acquire(mbox, absl::Milliseconds(30), absl::Minutes(5)).ok());
  struct timespec old_times[2] = {{1000, 0}, {1000, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, (mbox + ".lock").c_str(), old_times, 0), 0);
  EXPECT_TRUE(fs::DotLock::Acquire(mbox, absl::Seconds(1), absl::Minutes(5)).ok());
}

// A holder killed at any step of Acquire (and while holding) never leaves
// a lock that blocks the next taker for the stale age: the lock exists
// only with a pid in it, and that pid is dead.
TEST(DotLock, HolderKilledAtEveryStepNeverBlocksTheNext) {
  bool completed = false;
  int killed = 0;
  for (std::int64_t n = 1; n <= 50 && !completed; ++n) {
    TempDir dir;
    std::string mbox = dir.File("alice");
    testing::ChildEnd end = testing::RunChildWithCrashAfter(n, [&] {
      auto lock = fs::DotLock::Acquire(mbox, absl::Seconds(1),
                                       absl::Minutes(5));
      if (!lock.ok()) return false;
      fs::CrashPoint();  // killed while holding it
      return true;
    });
    ASSERT_NE(end, testing::ChildEnd::kFailed) << "crash point " << n;
    completed = end == testing::ChildEnd::kCompleted;
    if (end == testing::ChildEnd::kKilled) ++killed;
    if (std::filesystem::exists(mbox + ".lock")) {
      // (Killed between link and unlink, the lock has two links.)
      EXPECT_GT(std::filesystem::file_size(mbox + ".lock"), 0u)
          << "crash point " << n;
    }
    // 5-minute stale age, 2-second wait: only the dead-pid rule can help.
    absl::Time start = absl::Now();
    auto next = fs::DotLock::Acquire(mbox, absl::Seconds(2), absl::Minutes(5));
    ASSERT_TRUE(next.ok()) << "crash point " << n << ": " << next.status();
    EXPECT_LT(absl::Now() - start, absl::Seconds(1)) << "crash point " << n;
  }
  EXPECT_TRUE(completed);
  EXPECT_GE(killed, 2);
}

TEST(DotLock, EmptyLockOfAnotherProgramWaitsForTheStaleAge) {
  TempDir dir;
  std::string mbox = dir.File("alice");
  ASSERT_TRUE(fs::AtomicWriteFile(mbox + ".lock", "", 0644).ok());
  EXPECT_FALSE(
      fs::DotLock::Acquire(mbox, absl::Milliseconds(30), absl::Minutes(5)).ok());
  struct timespec old_times[2] = {{1000, 0}, {1000, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, (mbox + ".lock").c_str(), old_times, 0), 0);
  EXPECT_TRUE(fs::DotLock::Acquire(mbox, absl::Seconds(1), absl::Minutes(5)).ok());
}

TEST(DotLock, LeavesNoTemporaryFiles) {
  TempDir dir;
  std::string mbox = dir.File("alice");
  {
    auto lock = fs::DotLock::Acquire(mbox, absl::Seconds(1), absl::Minutes(5));
    ASSERT_TRUE(lock.ok());
    EXPECT_EQ(fs::ReadSmallFile(mbox + ".lock", 64).value(),
              std::to_string(::getpid()) + "\n");
    auto busy =
        fs::DotLock::Acquire(mbox, absl::Milliseconds(20), absl::Minutes(5));
    EXPECT_FALSE(busy.ok());
  }
  EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
}

TEST(CrashPoint, CountsAndKillsOnlyWhenArmed) {
  fs::CrashPoint();  // disarmed: nothing happens
  auto end = testing::RunChildWithCrashAfter(3, [] {
    fs::CrashPoint();
    fs::CrashPoint();
    return true;
  });
  EXPECT_EQ(end, testing::ChildEnd::kCompleted);
  end = testing::RunChildWithCrashAfter(2, [] {
    fs::CrashPoint();
    fs::CrashPoint();
    return true;
  });
  EXPECT_EQ(end, testing::ChildEnd::kKilled);
  end = testing::RunChildWithCrashAfter(5, [] { return false; });
  EXPECT_EQ(end, testing::ChildEnd::kFailed);
}

}  // namespace
}  // namespace posthorn::store
