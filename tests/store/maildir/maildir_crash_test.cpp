// tests/store/maildir/maildir_crash_test.cpp — Deliver() and Commit()
// killed (SIGKILL) at every crash point they pass, then checked from a
// fresh store: the maildrop opens, holds the old or the new state and
// nothing in between, and a half-written tmp/ file is never a message.

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "maildir_test_util.h"
#include "tests/store/common/crash_util.h"

namespace posthorn::store::testing {
namespace {

// Bounds the loops: a step count beyond this means a crash point loop.
constexpr std::int64_t kMaxCrashPoints = 500;

std::string Message(int n) {
  return "Subject: " + std::to_string(n) + "\r\n\r\nbody " + std::to_string(n) +
         "\r\nFrom the middle\r\n";
}

// The texts of every message, or a failure text when the store is broken.
std::vector<std::string> Contents(const std::string& root,
                                  std::vector<std::string>* uids = nullptr) {
  auto store = MakeTestMaildir(root);
  if (store == nullptr) return {"<no store>"};
  auto session = store->OpenSession("alice");
  if (!session.ok()) return {"<" + session.status().ToString() + ">"};
  std::vector<std::string> texts;
  for (std::size_t i = 0; i < (*session)->messages().size(); ++i) {
    texts.push_back(ReadWhole(**session, i));
    EXPECT_EQ((*session)->messages()[i].size, texts.back().size());
    if (uids != nullptr) uids->push_back((*session)->messages()[i].uid);
  }
  return texts;
}

void ExpectNoMessageFileTwice(const std::string& user_dir) {
  std::map<std::string, int> bases;
  for (const char* sub : {"/new", "/cur"}) {
    for (const auto& name : Names(user_dir + sub)) {
      ++bases[name.substr(0, name.find(':'))];
    }
  }
  for (const auto& [base, count] : bases) EXPECT_EQ(count, 1) << base;
}

void RunDeliverCrashLoop(int already_there) {
  std::int64_t n = 1;
  for (; n <= kMaxCrashPoints; ++n) {
    SCOPED_TRACE("crash point " + std::to_string(n));
    TempDir dir;
    std::vector<std::string> old_state;
    {
      auto store = MakeTestMaildir(dir.path());
      ASSERT_NE(store, nullptr);
      for (int i = 0; i < already_there; ++i) {
        ASSERT_TRUE(DeliverText(*store, "alice", Message(i)).ok());
        old_state.push_back(Message(i));
      }
    }
    std::vector<std::string> new_state = old_state;
    new_state.push_back(Message(99));

    ChildEnd end = RunChildWithCrashAfter(n, [&] {
      auto store = MakeTestMaildir(dir.path());
      return store != nullptr &&
             DeliverText(*store, "alice", Message(99)).ok();
    });
    ASSERT_NE(end, ChildEnd::kFailed);
    auto now = Contents(dir.path());
    if (end == ChildEnd::kCompleted) {
      EXPECT_EQ(now, new_state);
      break;
    }
    EXPECT_TRUE(now == old_state || now == new_state)
        << "messages: " << now.size();
    // The store still takes mail, and the interrupted one never shows up
    // half written.
    {
      auto store = MakeTestMaildir(dir.path());
      ASSERT_NE(store, nullptr);
      ASSERT_TRUE(DeliverText(*store, "alice", Message(100)).ok());
    }
    auto after = Contents(dir.path());
    now.push_back(Message(100));
    EXPECT_EQ(after, now);
  }
  EXPECT_LT(n, kMaxCrashPoints);
  EXPECT_GT(n, 3);  // the loop did visit steps
  ::testing::Test::RecordProperty("crash_points", static_cast<int>(n));
}

TEST(MaildirCrashTest, DeliverIntoExistingMaildir) { RunDeliverCrashLoop(2); }

TEST(MaildirCrashTest, FirstDeliveryCreatingTheMaildir) {
  RunDeliverCrashLoop(0);
}

// A keyed delivery (DeliveryInfo::delivery_id) killed at every step, then
// retried with the same id, as the MTA does after a crash: exactly one
// copy whatever the step; once more (a second retry) changes nothing.
// Also when a session moved the copy to cur/ between the kill and the
// retry.
void RunKeyedRetryLoop(bool session_between) {
  const absl::Time arrival = absl::FromUnixSeconds(1700000000);
  auto deliver_keyed = [&](Mailstore& store) {
    const std::string text = Message(7);  // the reader keeps a view
    StringReader source(text);
    return store.Deliver("alice",
                         {.envelope_sender = "",
                          .arrival = arrival,
                          .delivery_id = "Q7.0.alice"},
                         source);
  };
  std::int64_t n = 1;
  bool completed = false;
  for (; n <= kMaxCrashPoints && !completed; ++n) {
    SCOPED_TRACE("crash point " + std::to_string(n));
    TempDir dir;
    {
      auto store = MakeTestMaildir(dir.path());
      ASSERT_NE(store, nullptr);
      ASSERT_TRUE(DeliverText(*store, "alice", Message(1)).ok());
    }
    ChildEnd end = RunChildWithCrashAfter(n, [&] {
      auto store = MakeTestMaildir(dir.path());
      return store != nullptr && deliver_keyed(*store).ok();
    });
    ASSERT_NE(end, ChildEnd::kFailed);
    completed = end == ChildEnd::kCompleted;
    auto store = MakeTestMaildir(dir.path());
    ASSERT_NE(store, nullptr);
    if (session_between) {
      auto session = store->OpenSession("alice");
      ASSERT_TRUE(session.ok());
      ASSERT_TRUE((*session)->Commit({}).ok());  // new/ -> cur/
    }
    ASSERT_TRUE(deliver_keyed(*store).ok());
    ASSERT_TRUE(deliver_keyed(*store).ok());
    std::vector<std::string> after = Contents(dir.path());
    ASSERT_EQ(std::count(after.begin(), after.end(), Message(7)), 1)
        << ::testing::PrintToString(after) << " new: "
        << ::testing::PrintToString(Names(dir.path() + "/alice/new"))
        << " cur: "
        << ::testing::PrintToString(Names(dir.path() + "/alice/cur"));
    ASSERT_EQ(std::count(after.begin(), after.end(), Message(1)), 1);
    ASSERT_EQ(after.size(), 2u);
  }
  EXPECT_TRUE(completed);
  EXPECT_GT(n, 3);
}

TEST(MaildirCrashTest, KeyedDeliveryKilledAndRetriedIsThereOnce) {
  RunKeyedRetryLoop(false);
}

TEST(MaildirCrashTest, KeyedRetryFindsTheCopyASessionMovedToCur) {
  RunKeyedRetryLoop(true);
}

// Sets up 6 messages, 2 of them already in cur/.
std::vector<std::string> SetUpForCommit(const std::string& root) {
  std::vector<std::string> texts;
  auto store = MakeTestMaildir(root);
  for (int i = 0; i < 2; ++i) {
    EXPECT_TRUE(DeliverText(*store, "alice", Message(i)).ok());
    texts.push_back(Message(i));
  }
  {
    auto session = store->OpenSession("alice");
    EXPECT_TRUE(session.ok() && (*session)->Commit({}).ok());
  }
  for (int i = 2; i < 6; ++i) {
    EXPECT_TRUE(DeliverText(*store, "alice", Message(i)).ok());
    texts.push_back(Message(i));
  }
  return texts;
}

TEST(MaildirCrashTest, CommitIsAllOrNothing) {
  const std::size_t kDeleted[] = {0, 3, 4};  // one in cur/, two in new/
  std::int64_t n = 1;
  int replays_checked = 0;
  int old_seen = 0, new_seen = 0;  // states found after a kill
  for (; n <= kMaxCrashPoints; ++n) {
    SCOPED_TRACE("crash point " + std::to_string(n));
    TempDir dir;
    std::vector<std::string> old_state = SetUpForCommit(dir.path());
    std::vector<std::string> old_uids;
    ASSERT_EQ(Contents(dir.path(), &old_uids), old_state);
    std::vector<std::string> new_state = {old_state[1], old_state[2],
                                          old_state[5]};
    std::vector<std::string> new_uids = {old_uids[1], old_uids[2],
                                         old_uids[5]};

    ChildEnd end = RunChildWithCrashAfter(n, [&] {
      auto store = MakeTestMaildir(dir.path());
      if (store == nullptr) return false;
      auto session = store->OpenSession("alice");
      return session.ok() && (*session)->Commit(kDeleted).ok();
    });
    ASSERT_NE(end, ChildEnd::kFailed);
    std::string user_dir = dir.path() + "/alice";
    bool journal_left =
        std::filesystem::exists(user_dir + "/.pop.commit");

    // A crash while the next session replays the journal must not break
    // it either (only where one was left, and only for a few points).
    if (journal_left && replays_checked < 3) {
      ++replays_checked;
      for (std::int64_t m = 1; m <= kMaxCrashPoints; ++m) {
        ChildEnd replay = RunChildWithCrashAfter(m, [&] {
          auto store = MakeTestMaildir(dir.path());
          return store != nullptr && store->OpenSession("alice").ok();
        });
        ASSERT_NE(replay, ChildEnd::kFailed);
        if (replay == ChildEnd::kCompleted) break;
      }
    }

    std::vector<std::string> uids;
    auto now = Contents(dir.path(), &uids);
    ExpectNoMessageFileTwice(user_dir);
    EXPECT_FALSE(std::filesystem::exists(user_dir + "/.pop.commit"));
    if (end == ChildEnd::kCompleted) {
      EXPECT_EQ(now, new_state);
      EXPECT_EQ(uids, new_uids);
      EXPECT_TRUE(Names(user_dir + "/new").empty());
      break;
    }
    if (now == old_state) {
      ++old_seen;
      EXPECT_EQ(uids, old_uids);
    } else {
      ++new_seen;
      EXPECT_EQ(now, new_state) << "messages: " << now.size();
      EXPECT_EQ(uids, new_uids);
    }
  }
  EXPECT_LT(n, kMaxCrashPoints);
  EXPECT_GT(n, 5);
  EXPECT_GT(replays_checked, 0);
  EXPECT_GT(old_seen, 0);
  EXPECT_GT(new_seen, 0);
  RecordProperty("crash_points", static_cast<int>(n));
}

}  // namespace
}  // namespace posthorn::store::testing
