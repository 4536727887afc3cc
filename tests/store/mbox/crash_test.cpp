// Crash tests: a Deliver and a Commit are killed (SIGKILL) at every crash
// point in turn (crash_util.h). After each kill the maildrop must open
// cleanly and hold exactly the old or the new set of messages: never a
// part of a message, never a lost one, the surviving UIDs unchanged.

#include <cstdio>
#include <set>

#include "gtest/gtest.h"
#include "store/fs/crash_point.h"
#include "tests/store/common/crash_util.h"
#include "tests/store/mbox/mbox_test_util.h"

namespace posthorn::store {
namespace {

using mbox_testing::DeliverString;
using mbox_testing::ListAll;
using mbox_testing::MakeStore;
using mbox_testing::ReadFile;
using mbox_testing::TempDir;
using mbox_testing::TestOptions;
using testing::ChildEnd;
using testing::RunChildWithCrashAfter;

// Bounds the loops; each operation passes far fewer crash points.
constexpr std::int64_t kMaxCrashPoints = 400;

const std::vector<std::string> kOld = {
    "Subject: A\n\nFrom the first\n", "Subject: B\n\n>From the second\n",
    "Subject: C\n\nthird\n", "Subject: D\n\nfourth\n"};
const std::string kNew =
    "Subject: E\r\n\r\n" + std::string(300000, 'e') + "\r\nFrom end\r\n";

std::vector<std::string> Bytes(const std::vector<mbox_testing::Listed>& l) {
  std::vector<std::string> out;
  for (const auto& m : l) out.push_back(m.bytes);
  return out;
}

std::string Wire(std::string_view lf) {
  std::string crlf = mbox_testing::ToCrlf(lf);
  // "From " lines come back as they were sent.
  return crlf;
}

class MboxCrashTest : public ::testing::Test {
 protected:
  // A fresh spool holding kOld; returns the listing.
  std::vector<mbox_testing::Listed> Prepare(MboxStoreOptions options) {
    options.fsync = false;  // set-up only: the killed operation syncs
    auto store = MakeStore(options);
    for (const std::string& m : kOld) {
      EXPECT_TRUE(DeliverString(*store, "alice", m).ok());
    }
    auto listed = ListAll(*store, "alice");
    EXPECT_TRUE(listed.ok());
    return *listed;
  }
};

TEST_F(MboxCrashTest, DeliverKilledAtEveryStep) {
  int killed = 0;
  bool completed = false;
  for (std::int64_t n = 1; n <= kMaxCrashPoints && !completed; ++n) {
    TempDir dir;
    MboxStoreOptions options = TestOptions(dir.path());
    options.fsync = true;  // visit the sync steps too
    auto before = Prepare(options);
    std::string mbox_before = ReadFile(dir.File("alice"));
    ChildEnd end = RunChildWithCrashAfter(n, [&] {
      auto store = MakeStore(options);
      return DeliverString(*store, "alice", kNew).ok();
    });
    ASSERT_NE(end, ChildEnd::kFailed) << "crash point " << n;
    if (end == ChildEnd::kKilled) ++killed;
    completed = end == ChildEnd::kCompleted;

    auto store = MakeStore(options);
    auto after = ListAll(*store, "alice");
    ASSERT_TRUE(after.ok()) << "crash point " << n << ": " << after.status();
    std::vector<std::string> old_set = Bytes(before);
    std::vector<std::string> new_set = old_set;
    new_set.push_back(mbox_testing::ToCrlf(
        "Subject: E\n\n" + std::string(300000, 'e') + "\nFrom end\n"));
    std::vector<std::string> got = Bytes(*after);
    ASSERT_TRUE(got == old_set || got == new_set)
        << "crash point " << n << ": " << got.size() << " messages";
    if (completed) {
      ASSERT_EQ(got, new_set);
    }
    for (std::size_t i = 0; i < before.size(); ++i) {
      ASSERT_EQ((*after)[i].uid, before[i].uid) << "crash point " << n;
    }
    for (const auto& m : *after) ASSERT_EQ(m.size, m.bytes.size());
    // The file itself is the old one or the old one plus the message.
    std::string mbox_after = ReadFile(dir.File("alice"));
    ASSERT_EQ(mbox_after.compare(0, mbox_before.size(), mbox_before), 0);
    if (got == old_set) {
      ASSERT_EQ(mbox_after, mbox_before);
    }
  }
  EXPECT_TRUE(completed);
  EXPECT_GE(killed, 8);
  RecordProperty("deliver_kill_points", killed);
}

// A keyed delivery killed at every step and retried with the same id (what
// the MTA does after a crash between the append and its queue update):
// exactly one copy, and a further retry adds nothing. A delivery with
// another id, or none, still appends.
TEST_F(MboxCrashTest, KeyedDeliveryKilledAndRetriedIsThereOnce) {
  auto deliver = [](Mailstore& store, const std::string& text,
                    const std::string& id) {
    StringReader reader(text);
    return store.Deliver("alice",
                         {.envelope_sender = "bob@example.org",
                          .arrival = absl::FromUnixSeconds(1700000000),
                          .delivery_id = id},
                         reader);
  };
  const std::string wire = mbox_testing::ToCrlf(
      "Subject: E\n\n" + std::string(300000, 'e') + "\nFrom end\n");
  int killed = 0;
  bool completed = false;
  for (std::int64_t n = 1; n <= kMaxCrashPoints && !completed; ++n) {
    TempDir dir;
    MboxStoreOptions options = TestOptions(dir.path());
    options.fsync = true;
    auto before = Prepare(options);
    ChildEnd end = RunChildWithCrashAfter(n, [&] {
      auto store = MakeStore(options);
      return deliver(*store, kNew, "Q1.0.alice").ok();
    });
    ASSERT_NE(end, ChildEnd::kFailed) << "crash point " << n;
    if (end == ChildEnd::kKilled) ++killed;
    completed = end == ChildEnd::kCompleted;

    auto store = MakeStore(options);
    ASSERT_TRUE(deliver(*store, kNew, "Q1.0.alice").ok()) << n;
    ASSERT_TRUE(deliver(*store, kNew, "Q1.0.alice").ok()) << n;
    auto after = ListAll(*store, "alice");
    ASSERT_TRUE(after.ok()) << "crash point " << n << ": " << after.status();
    std::vector<std::string> expected = Bytes(before);
    expected.push_back(wire);
    ASSERT_EQ(Bytes(*after), expected) << "crash point " << n;
  }
  EXPECT_TRUE(completed);
  EXPECT_GE(killed, 8);

  // Other ids and the empty id are other deliveries.
  TempDir dir;
  MboxStoreOptions options = TestOptions(dir.path());
  auto store = MakeStore(options);
  ASSERT_TRUE(deliver(*store, kNew, "Q1.0.alice").ok());
  ASSERT_TRUE(deliver(*store, kNew, "Q1.1.alice").ok());
  ASSERT_TRUE(deliver(*store, kNew, "").ok());
  ASSERT_TRUE(deliver(*store, kNew, "").ok());
  auto listed = ListAll(*store, "alice");
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->size(), 4u);
}

// A keyed delivery whose message a POP session removed before the retry
// is not delivered again (the commit marks it removed in the log).
TEST_F(MboxCrashTest, KeyedRetryAfterTheMessageWasRemovedAddsNothing) {
  TempDir dir;
  MboxStoreOptions options = TestOptions(dir.path());
  auto store = MakeStore(options);
  auto deliver = [&](const std::string& text, const std::string& id) {
    StringReader reader(text);
    return store->Deliver("alice",
                          {.envelope_sender = "bob@example.org",
                           .arrival = absl::FromUnixSeconds(1700000000),
                           .delivery_id = id},
                          reader);
  };
  ASSERT_TRUE(deliver("Subject: A\n\na\n", "Q1.0.alice").ok());
  ASSERT_TRUE(deliver("Subject: B\n\nb\n", "Q2.0.alice").ok());
  {
    auto session = store->OpenSession("alice");
    ASSERT_TRUE(session.ok());
    std::vector<std::size_t> deleted = {0};
    ASSERT_TRUE((*session)->Commit(deleted).ok());
  }
  ASSERT_TRUE(deliver("Subject: A\n\na\n", "Q1.0.alice").ok());
  ASSERT_TRUE(deliver("Subject: B\n\nb\n", "Q2.0.alice").ok());
  auto listed = ListAll(*store, "alice");
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].bytes, "Subject: B\r\n\r\nb\r\n");
}

// A record never outlives its bytes: another program rewriting the mbox in
// place (same inode) makes the retry append rather than lose the message.
TEST_F(MboxCrashTest, KeyedRetryAppendsWhenTheBytesAreGone) {
  TempDir dir;
  MboxStoreOptions options = TestOptions(dir.path());
  auto store = MakeStore(options);
  auto deliver = [&](const std::string& id) {
    StringReader reader("Subject: A\n\na\n");
    return store->Deliver("alice",
                          {.envelope_sender = "bob@example.org",
                           .arrival = absl::FromUnixSeconds(1700000000),
                           .delivery_id = id},
                          reader);
  };
  ASSERT_TRUE(deliver("Q1.0.alice").ok());
  std::string bytes = ReadFile(dir.File("alice"));
  // Same size, same inode, other content (as mutt rewriting in place).
  std::string other = bytes;
  other.replace(other.find("a\n\n"), 1, "z");
  {
    std::FILE* f = std::fopen(dir.File("alice").c_str(), "r+");
    ASSERT_NE(f, nullptr);
    ASSERT_EQ(std::fwrite(other.data(), 1, other.size(), f), other.size());
    std::fclose(f);
  }
  ASSERT_TRUE(deliver("Q1.0.alice").ok());
  auto listed = ListAll(*store, "alice");
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[1].bytes, "Subject: A\r\n\r\na\r\n");
}

TEST_F(MboxCrashTest, FirstDeliveryKilledAtEveryStep) {
  int killed = 0;
  bool completed = false;
  for (std::int64_t n = 1; n <= kMaxCrashPoints && !completed; ++n) {
    TempDir dir;
    MboxStoreOptions options = TestOptions(dir.path());
    options.fsync = true;
    ChildEnd end = RunChildWithCrashAfter(n, [&] {
      auto store = MakeStore(options);
      return DeliverString(*store, "alice", "Subject: first\n\nhello\n").ok();
    });
    ASSERT_NE(end, ChildEnd::kFailed) << "crash point " << n;
    if (end == ChildEnd::kKilled) ++killed;
    completed = end == ChildEnd::kCompleted;
    auto store = MakeStore(options);
    auto after = ListAll(*store, "alice");
    ASSERT_TRUE(after.ok()) << "crash point " << n << ": " << after.status();
    std::vector<std::string> got = Bytes(*after);
    ASSERT_TRUE(got.empty() ||
                got == std::vector<std::string>{
                           "Subject: first\r\n\r\nhello\r\n"})
        << "crash point " << n;
    if (completed) {
      ASSERT_EQ(got.size(), 1u);
    }
  }
  EXPECT_TRUE(completed);
  EXPECT_GE(killed, 8);
  RecordProperty("first_deliver_kill_points", killed);
}

TEST_F(MboxCrashTest, CommitKilledAtEveryStepWithADeliveryDuringTheSession) {
  int killed = 0;
  bool completed = false;
  const std::string appended = "Subject: late\n\nFrom during the session\n";
  for (std::int64_t n = 1; n <= kMaxCrashPoints && !completed; ++n) {
    TempDir dir;
    MboxStoreOptions options = TestOptions(dir.path());
    options.fsync = true;
    auto before = Prepare(options);
    ChildEnd end = RunChildWithCrashAfter(n, [&] {
      auto store = MakeStore(options);
      auto session = store->OpenSession("alice");
      if (!session.ok()) return false;
      // Mail arriving while the session is open (another store object:
      // another process in real life).
      auto mta = MakeStore(options);
      if (!DeliverString(*mta, "alice", appended).ok()) return false;
      std::vector<std::size_t> deleted = {2, 1};
      return (*session)->Commit(deleted).ok();
    });
    ASSERT_NE(end, ChildEnd::kFailed) << "crash point " << n;
    if (end == ChildEnd::kKilled) ++killed;
    completed = end == ChildEnd::kCompleted;

    auto store = MakeStore(options);
    auto after = ListAll(*store, "alice");
    ASSERT_TRUE(after.ok()) << "crash point " << n << ": " << after.status();
    std::vector<std::string> old_set = Bytes(before);
    std::vector<std::string> old_plus = old_set;
    old_plus.push_back(Wire(appended));
    std::vector<std::string> new_set = {old_set[0], old_set[3],
                                        Wire(appended)};
    std::vector<std::string> got = Bytes(*after);
    ASSERT_TRUE(got == old_set || got == old_plus || got == new_set)
        << "crash point " << n << ": " << got.size() << " messages";
    if (completed) {
      ASSERT_EQ(got, new_set);
    }
    // Surviving messages keep their ids.
    for (std::size_t i = 0; i < got.size(); ++i) {
      if (i < before.size() && got == old_set) {
        ASSERT_EQ((*after)[i].uid, before[i].uid);
      }
    }
    if (got == new_set) {
      ASSERT_EQ((*after)[0].uid, before[0].uid) << "crash point " << n;
      ASSERT_EQ((*after)[1].uid, before[3].uid) << "crash point " << n;
    }
    // Nothing left behind that a later operation could trip over.
    ASSERT_FALSE(std::filesystem::exists(dir.File(".alice.commit")));
  }
  EXPECT_TRUE(completed);
  EXPECT_GE(killed, 10);
  RecordProperty("commit_kill_points", killed);
}

}  // namespace
}  // namespace posthorn::store
