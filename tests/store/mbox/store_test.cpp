// Behaviour of the mbox store through the Mailstore interface: file
// layout, CRLF sizes, TOP, UIDs, the session lock, commits, notes, locks
// and damaged mbox files.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <thread>

#include "gtest/gtest.h"
#include "posthorn/store/status.h"
#include "tests/store/mbox/mbox_test_util.h"

namespace posthorn::store {
namespace {

using mbox_testing::AppendFile;
using mbox_testing::DeliverString;
using mbox_testing::ListAll;
using mbox_testing::MakeStore;
using mbox_testing::ReadFile;
using mbox_testing::TempDir;
using mbox_testing::TestOptions;
using mbox_testing::ToCrlf;
using mbox_testing::WriteFile;

class MboxStoreTest : public ::testing::Test {
 protected:
  MboxStoreTest() : options_(TestOptions(dir_.path())),
                    store_(MakeStore(options_)) {}
  TempDir dir_;
  MboxStoreOptions options_;
  std::unique_ptr<Mailstore> store_;
};

std::string ReadMessage(MaildropSession& session, std::size_t i) {
  auto reader = session.Read(i);
  EXPECT_TRUE(reader.ok()) << reader.status();
  auto bytes = ReadAll(**reader);
  EXPECT_TRUE(bytes.ok());
  return *bytes;
}

std::string ReadTop(MaildropSession& session, std::size_t i,
                    std::uint64_t lines) {
  auto reader = session.ReadTop(i, lines);
  EXPECT_TRUE(reader.ok()) << reader.status();
  auto bytes = ReadAll(**reader);
  EXPECT_TRUE(bytes.ok());
  return *bytes;
}

TEST_F(MboxStoreTest, DeliveryWritesMboxrdWithFromLineAndSeparator) {
  ASSERT_TRUE(DeliverString(*store_, "alice",
                            "Subject: hi\r\n\r\nFrom here\r\n>From there")
                  .ok());
  ASSERT_TRUE(DeliverString(*store_, "alice", "X: 2\n\nbody\n", "",
                            absl::FromUnixSeconds(0))
                  .ok());
  EXPECT_EQ(ReadFile(dir_.File("alice")),
            "From bob@example.org Tue Nov 14 22:13:20 2023\n"
            "Subject: hi\n\n>From here\n>>From there\n\n"
            "From MAILER-DAEMON Thu Jan  1 00:00:00 1970\n"
            "X: 2\n\nbody\n\n");
  struct stat st;
  ASSERT_EQ(::stat(dir_.File("alice").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  EXPECT_FALSE(std::filesystem::exists(dir_.File("alice.lock")));
}

TEST_F(MboxStoreTest, ReadsGiveCrlfAndSizesAreExactOctets) {
  std::vector<std::string> lf = {
      "Subject: a\n\nFrom the start\n>From quoted\n>>From twice\n",
      "Subject: b\n\nno final newline",
      "",
      "Subject: only headers\n",
      "\n\n\n",
  };
  for (std::size_t i = 0; i < lf.size(); ++i) {
    // Alternate CRLF and LF input: the stored and read forms are the same.
    std::string input = i % 2 ? ToCrlf(lf[i]) : lf[i];
    ASSERT_TRUE(DeliverString(*store_, "alice", input).ok());
  }
  auto session = store_->OpenSession("alice");
  ASSERT_TRUE(session.ok()) << session.status();
  ASSERT_EQ((*session)->messages().size(), lf.size());
  for (std::size_t i = 0; i < lf.size(); ++i) {
    std::string expected = ToCrlf(lf[i]);
    if (!lf[i].empty() && lf[i].back() != '\n') expected += "\r\n";
    EXPECT_EQ(ReadMessage(**session, i), expected) << i;
    EXPECT_EQ((*session)->messages()[i].size, expected.size()) << i;
  }
}

TEST_F(MboxStoreTest, TopWithZeroOneManyLinesAndNoBody) {
  ASSERT_TRUE(DeliverString(*store_, "alice",
                            "A: 1\r\nB: 2\r\n\r\nl1\r\nFrom l2\r\nl3\r\n")
                  .ok());
  ASSERT_TRUE(DeliverString(*store_, "alice", "A: 1\r\nB: 2\r\n").ok());
  auto session = store_->OpenSession("alice");
  ASSERT_TRUE(session.ok());
  EXPECT_EQ(ReadTop(**session, 0, 0), "A: 1\r\nB: 2\r\n\r\n");
  EXPECT_EQ(ReadTop(**session, 0, 1), "A: 1\r\nB: 2\r\n\r\nl1\r\n");
  EXPECT_EQ(ReadTop(**session, 0, 2),
            "A: 1\r\nB: 2\r\n\r\nl1\r\nFrom l2\r\n");
  EXPECT_EQ(ReadTop(**session, 0, 99),
            "A: 1\r\nB: 2\r\n\r\nl1\r\nFrom l2\r\nl3\r\n");
  EXPECT_EQ(ReadTop(**session, 1, 0), "A: 1\r\nB: 2\r\n");
  EXPECT_EQ(ReadTop(**session, 1, 3), "A: 1\r\nB: 2\r\n");
  EXPECT_EQ((*session)->Read(2).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(MboxStoreTest, UidsStableAcrossSessionsAndDeletions) {
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(
        DeliverString(*store_, "alice", "S: " + std::to_string(i) + "\n").ok());
  }
  auto first = ListAll(*store_, "alice");
  ASSERT_TRUE(first.ok());
  auto again = ListAll(*store_, "alice");
  ASSERT_TRUE(again.ok());
  for (std::size_t i = 0; i < 5; ++i) EXPECT_EQ((*first)[i].uid, (*again)[i].uid);
  {
    auto session = store_->OpenSession("alice");
    ASSERT_TRUE(session.ok());
    std::vector<std::size_t> deleted = {3, 0};
    ASSERT_TRUE((*session)->Commit(deleted).ok());
  }
  auto after = ListAll(*store_, "alice");
  ASSERT_TRUE(after.ok());
  ASSERT_EQ(after->size(), 3u);
  EXPECT_EQ((*after)[0].uid, (*first)[1].uid);
  EXPECT_EQ((*after)[1].uid, (*first)[2].uid);
  EXPECT_EQ((*after)[2].uid, (*first)[4].uid);
  EXPECT_EQ((*after)[2].bytes, "S: 4\r\n");
  // The same ids come back when the index is lost.
  std::filesystem::remove(dir_.File(".alice.index"));
  auto rebuilt = ListAll(*store_, "alice");
  ASSERT_TRUE(rebuilt.ok());
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ((*rebuilt)[i].uid, (*after)[i].uid);
  }
}

TEST_F(MboxStoreTest, DuplicatesGetUniqueIdsThatSurviveDeletingTheFirst) {
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(DeliverString(*store_, "alice", "Same: message\n").ok());
  }
  auto listed = ListAll(*store_, "alice");
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 3u);
  const std::string base = (*listed)[0].uid;
  EXPECT_EQ((*listed)[1].uid, base + "-2");
  EXPECT_EQ((*listed)[2].uid, base + "-3");
  for (const auto& m : *listed) {
    EXPECT_LE(m.uid.size(), 70u);
    for (char c : m.uid) EXPECT_TRUE(c >= 0x21 && c <= 0x7E);
  }
  {
    auto session = store_->OpenSession("alice");
    ASSERT_TRUE(session.ok());
    std::vector<std::size_t> deleted = {0};
    ASSERT_TRUE((*session)->Commit(deleted).ok());
  }
  auto after = ListAll(*store_, "alice");
  ASSERT_TRUE(after.ok());
  ASSERT_EQ(after->size(), 2u);
  EXPECT_EQ((*after)[0].uid, base + "-2");
  EXPECT_EQ((*after)[1].uid, base + "-3");
}

TEST_F(MboxStoreTest, XUidlHeaderIsIgnored) {
  ASSERT_TRUE(DeliverString(*store_, "alice", "X-UIDL: abc\n\none\n").ok());
  ASSERT_TRUE(DeliverString(*store_, "alice", "X-UIDL: abc\n\ntwo\n").ok());
  auto listed = ListAll(*store_, "alice");
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_NE((*listed)[0].uid, "abc");
  EXPECT_NE((*listed)[0].uid, (*listed)[1].uid);
  EXPECT_EQ((*listed)[0].uid.find("abc"), std::string::npos);
}

TEST_F(MboxStoreTest, SecondSessionIsInUseUntilTheFirstEnds) {
  ASSERT_TRUE(DeliverString(*store_, "alice", "A: 1\n").ok());
  auto first = store_->OpenSession("alice");
  ASSERT_TRUE(first.ok());
  auto second = store_->OpenSession("alice");
  ASSERT_FALSE(second.ok());
  EXPECT_TRUE(IsInUse(second.status())) << second.status();
  // Another store object (another pop3d) is excluded too.
  auto other = MakeStore(options_);
  EXPECT_TRUE(IsInUse(other->OpenSession("alice").status()));
  // Delivery does not wait for the session.
  ASSERT_TRUE(DeliverString(*store_, "alice", "A: 2\n").ok());
  first->reset();
  EXPECT_TRUE(store_->OpenSession("alice").ok());
}

TEST_F(MboxStoreTest, DeliveryDuringSessionIsKeptByCommit) {
  ASSERT_TRUE(DeliverString(*store_, "alice", "A: 1\n").ok());
  ASSERT_TRUE(DeliverString(*store_, "alice", "A: 2\n").ok());
  auto session = store_->OpenSession("alice");
  ASSERT_TRUE(session.ok());
  ASSERT_EQ((*session)->messages().size(), 2u);
  ASSERT_TRUE(DeliverString(*store_, "alice", "A: 3\n").ok());
  ASSERT_TRUE(DeliverString(*store_, "alice", "A: 4\n").ok());
  EXPECT_EQ((*session)->messages().size(), 2u);  // the snapshot
  EXPECT_EQ(ReadMessage(**session, 1), "A: 2\r\n");
  std::vector<std::size_t> deleted = {0};
  ASSERT_TRUE((*session)->Commit(deleted).ok());
  session->reset();
  auto listed = ListAll(*store_, "alice");
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 3u);
  EXPECT_EQ((*listed)[0].bytes, "A: 2\r\n");
  EXPECT_EQ((*listed)[1].bytes, "A: 3\r\n");
  EXPECT_EQ((*listed)[2].bytes, "A: 4\r\n");
}

TEST_F(MboxStoreTest, NoCommitOrEmptyCommitChangesNothing) {
  ASSERT_TRUE(DeliverString(*store_, "alice", "A: 1\n").ok());
  std::string before = ReadFile(dir_.File("alice"));
  {
    auto session = store_->OpenSession("alice");
    ASSERT_TRUE(session.ok());
  }
  {
    auto session = store_->OpenSession("alice");
    ASSERT_TRUE(session.ok());
    ASSERT_TRUE((*session)->Commit({}).ok());
    EXPECT_EQ((*session)->Read(0).status().code(),
              absl::StatusCode::kFailedPrecondition);
  }
  EXPECT_EQ(ReadFile(dir_.File("alice")), before);
  auto session = store_->OpenSession("alice");
  ASSERT_TRUE(session.ok());
  std::vector<std::size_t> bad = {5};
  EXPECT_EQ((*session)->Commit(bad).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ReadFile(dir_.File("alice")), before);
  auto next = store_->OpenSession("alice");  // the lock was released
  ASSERT_TRUE(next.ok());
  std::vector<std::size_t> twice = {0, 0};
  EXPECT_EQ((*next)->Commit(twice).code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(MboxStoreTest, CommitRemovingEverythingLeavesAnEmptyMbox) {
  ASSERT_TRUE(DeliverString(*store_, "alice", "A: 1\n").ok());
  auto session = store_->OpenSession("alice");
  ASSERT_TRUE(session.ok());
  std::vector<std::size_t> all = {0};
  ASSERT_TRUE((*session)->Commit(all).ok());
  EXPECT_EQ(ReadFile(dir_.File("alice")), "");
  auto listed = ListAll(*store_, "alice");
  ASSERT_TRUE(listed.ok());
  EXPECT_TRUE(listed->empty());
}

TEST_F(MboxStoreTest, MissingMaildropIsEmpty) {
  auto session = store_->OpenSession("nobody");
  ASSERT_TRUE(session.ok()) << session.status();
  EXPECT_TRUE((*session)->messages().empty());
  EXPECT_TRUE((*session)->Commit({}).ok());
  EXPECT_FALSE(std::filesystem::exists(dir_.File("nobody")));
}

TEST_F(MboxStoreTest, NotesAreStoredBesideTheMbox) {
  EXPECT_EQ(store_->ReadUserNote("alice", "bulletin").status().code(),
            absl::StatusCode::kNotFound);
  ASSERT_TRUE(store_->WriteUserNote("alice", "bulletin", "42").ok());
  EXPECT_EQ(*store_->ReadUserNote("alice", "bulletin"), "42");
  EXPECT_EQ(ReadFile(dir_.File(".alice.bulletin.note")), "42");
  EXPECT_FALSE(store_->WriteUserNote("alice", "Bad.Key", "x").ok());
  EXPECT_FALSE(store_->WriteUserNote("alice", "k", std::string(5000, 'x')).ok());
  EXPECT_FALSE(store_->ReadUserNote("../x", "k").ok());
}

TEST_F(MboxStoreTest, BadUserNamesAreRejectedBeforeAnyFile) {
  for (std::string user :
       std::vector<std::string>{"", "../etc", "a/b", ".hidden", "x.lock",
                                std::string("nul\0x", 5)}) {
    EXPECT_EQ(DeliverString(*store_, user, "A: 1\n").code(),
              absl::StatusCode::kInvalidArgument)
        << user;
    EXPECT_EQ(store_->OpenSession(user).status().code(),
              absl::StatusCode::kInvalidArgument);
  }
  EXPECT_TRUE(std::filesystem::is_empty(dir_.path()));
}

TEST_F(MboxStoreTest, TruncatedLastMessageIsStillAMessage) {
  WriteFile(dir_.File("alice"),
            "From a Thu Jan  1 00:00:00 1970\nA: 1\n\nbody\n\n"
            "From b Thu Jan  1 00:00:00 1970\nB: 2\n\ncut off he");
  auto listed = ListAll(*store_, "alice");
  ASSERT_TRUE(listed.ok()) << listed.status();
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].bytes, "A: 1\r\n\r\nbody\r\n");
  EXPECT_EQ((*listed)[1].bytes, "B: 2\r\n\r\ncut off he\r\n");
  EXPECT_EQ((*listed)[1].size, (*listed)[1].bytes.size());
  // A delivery first ends the cut-off message properly.
  ASSERT_TRUE(DeliverString(*store_, "alice", "C: 3\n").ok());
  auto after = ListAll(*store_, "alice");
  ASSERT_TRUE(after.ok());
  ASSERT_EQ(after->size(), 3u);
  EXPECT_EQ((*after)[1].bytes, "B: 2\r\n\r\ncut off he\r\n");
  EXPECT_EQ((*after)[2].bytes, "C: 3\r\n");
}

TEST_F(MboxStoreTest, CommitAfterDeliveryEndedACutOffLastMessage) {
  for (bool delete_cut_off : {false, true}) {
    WriteFile(dir_.File("alice"),
              "From a Thu Jan  1 00:00:00 1970\nA: 1\n\n"
              "From b Thu Jan  1 00:00:00 1970\nB: 2\n\ncut off");
    std::filesystem::remove(dir_.File(".alice.index"));
    auto session = store_->OpenSession("alice");
    ASSERT_TRUE(session.ok());
    ASSERT_EQ((*session)->messages().size(), 2u);
    const std::string cut_uid = (*session)->messages()[1].uid;
    ASSERT_TRUE(DeliverString(*store_, "alice", "C: 3\n").ok());
    std::vector<std::size_t> deleted = {delete_cut_off ? 1u : 0u};
    ASSERT_TRUE((*session)->Commit(deleted).ok());
    session->reset();
    auto listed = ListAll(*store_, "alice");
    ASSERT_TRUE(listed.ok());
    ASSERT_EQ(listed->size(), 2u);
    if (delete_cut_off) {
      EXPECT_EQ((*listed)[0].bytes, "A: 1\r\n");
    } else {
      EXPECT_EQ((*listed)[0].bytes, "B: 2\r\n\r\ncut off\r\n");
      EXPECT_EQ((*listed)[0].size, (*listed)[0].bytes.size());
      EXPECT_EQ((*listed)[0].uid, cut_uid);
    }
    EXPECT_EQ((*listed)[1].bytes, "C: 3\r\n");
  }
}

TEST_F(MboxStoreTest, FileNotStartingWithFromIsAnErrorNamingIt) {
  WriteFile(dir_.File("alice"), "Subject: not an mbox\n\nhello\n");
  auto session = store_->OpenSession("alice");
  ASSERT_FALSE(session.ok());
  EXPECT_EQ(session.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(session.status().message().find(dir_.File("alice")),
            std::string::npos)
      << session.status();
  // The session lock was released with the failed open.
  WriteFile(dir_.File("alice"), "");
  EXPECT_TRUE(store_->OpenSession("alice").ok());
}

TEST_F(MboxStoreTest, HeldDotLockTimesOutAndStaleOneIsBroken) {
  // Held by a live process (us), fresh: the delivery waits, then fails.
  WriteFile(dir_.File("alice.lock"), std::to_string(::getpid()) + "\n");
  MboxStoreOptions quick = options_;
  quick.lock_timeout = absl::Milliseconds(200);
  auto store = MakeStore(quick);
  absl::Status status = DeliverString(*store, "alice", "A: 1\n");
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
  // Older than stale_lock_age: broken.
  struct timespec old_times[2] = {{1000, 0}, {1000, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, dir_.File("alice.lock").c_str(), old_times,
                        0), 0);
  EXPECT_TRUE(DeliverString(*store, "alice", "A: 1\n").ok());
  EXPECT_FALSE(std::filesystem::exists(dir_.File("alice.lock")));
}

TEST_F(MboxStoreTest, LeftoverAppendIsUndoneByTheNextLocker) {
  ASSERT_TRUE(DeliverString(*store_, "alice", "A: 1\n").ok());
  std::string good = ReadFile(dir_.File("alice"));
  struct stat st;
  ASSERT_EQ(::stat(dir_.File("alice").c_str(), &st), 0);
  // What a writer killed mid-append leaves: an active marker, half a message.
  AppendFile(dir_.File("alice"), "From x Thu Jan  1 00:00:00 1970\nHalf: a");
  WriteFile(dir_.File(".alice.append"),
            "active " + std::to_string(st.st_dev) + " " +
                std::to_string(st.st_ino) + " " + std::to_string(good.size()) +
                " " + std::to_string(good.size()) + "\n");
  auto listed = ListAll(*store_, "alice");
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ(ReadFile(dir_.File("alice")), good);
}

TEST_F(MboxStoreTest, LeftoverAppendFollowedByAnotherProgramsMessage) {
  ASSERT_TRUE(DeliverString(*store_, "alice", "A: 1\n").ok());
  std::string good = ReadFile(dir_.File("alice"));
  struct stat st;
  ASSERT_EQ(::stat(dir_.File("alice").c_str(), &st), 0);
  AppendFile(dir_.File("alice"), "From x Thu Jan  1 00:00:00 1970\nHalf: a\n"
                                 "From procmail Thu Jan  1 00:00:00 1970\n"
                                 "P: 1\n\n");
  WriteFile(dir_.File(".alice.append"),
            "active " + std::to_string(st.st_dev) + " " +
                std::to_string(st.st_ino) + " " + std::to_string(good.size()) +
                " " + std::to_string(good.size()) + "\n");
  auto listed = ListAll(*store_, "alice");
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[1].bytes, "P: 1\r\n");
}

TEST_F(MboxStoreTest, ConcurrentDeliveriesFromThreadsAndStores) {
  constexpr int kThreads = 4;
  constexpr int kEach = 15;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto store = MakeStore(options_);  // separate objects, as processes
      for (int i = 0; i < kEach; ++i) {
        std::string body = "T: " + std::to_string(t) + "\n\n" +
                           std::string(1000 + 37 * i, 'a' + t) + "\n";
        EXPECT_TRUE(DeliverString(*store, "alice", body).ok());
      }
    });
  }
  for (auto& thread : threads) thread.join();
  auto listed = ListAll(*store_, "alice");
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), static_cast<std::size_t>(kThreads * kEach));
  for (const auto& m : *listed) {
    EXPECT_EQ(m.size, m.bytes.size());
    EXPECT_EQ(m.bytes.substr(0, 3), "T: ");
  }
}

TEST_F(MboxStoreTest, FsyncOnWorksToo) {
  MboxStoreOptions durable = options_;
  durable.fsync = true;
  auto store = MakeStore(durable);
  ASSERT_TRUE(DeliverString(*store, "carol", "A: 1\n").ok());
  ASSERT_TRUE(DeliverString(*store, "carol", "A: 2\n").ok());
  auto session = store->OpenSession("carol");
  ASSERT_TRUE(session.ok());
  std::vector<std::size_t> deleted = {0};
  ASSERT_TRUE((*session)->Commit(deleted).ok());
  auto listed = ListAll(*store, "carol");
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].bytes, "A: 2\r\n");
}

TEST(MboxStoreOptionsTest, SpoolDirMustExist) {
  MboxStoreOptions options;
  options.spool_dir = "/nonexistent/posthorn/spool";
  EXPECT_FALSE(MakeMboxStore(options).ok());
  options.spool_dir = "";
  EXPECT_FALSE(MakeMboxStore(options).ok());
}

}  // namespace
}  // namespace posthorn::store
