// tests/store/auth/auth_crash_test.cpp — auth database writers killed with
// SIGKILL: at every crash point of a sequence of updates, of popauth
// -init -force, and at ~50 random moments during a burst of updates. After
// each kill the database opens and every user holds its old or its new
// record, never a mix.

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <map>
#include <random>
#include <string>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "posthorn/store/auth_db.h"
#include "store/aliases/db_test_util.h"
#include "tests/store/common/crash_util.h"

namespace posthorn::store {
namespace {

using dbtest::TempDir;
using testing::ChildEnd;
using testing::RunChildWithCrashAfter;

constexpr char kStamp[] = "<crash@test>";

// user -> secret; a secret is identified by APOP (cheap: one MD5).
using State = std::map<std::string, std::string>;

struct Op {
  enum { kSet, kDelete } kind;
  std::string user;
  std::string secret;
};

State Apply(State state, const Op& op) {
  if (op.kind == Op::kSet) {
    state[op.user] = op.secret;
  } else {
    state.erase(op.user);
  }
  return state;
}

// Reads the database; candidate secrets are every secret the test uses.
absl::StatusOr<State> ReadState(const std::string& path,
                                const std::vector<std::string>& candidates) {
  auto db = OpenAuthDb(path, false);
  if (!db.ok()) return db.status();
  auto users = (*db)->List();
  if (!users.ok()) return users.status();
  State state;
  for (const AuthUser& user : *users) {
    if (!user.has_secret || user.has_hash) {
      return absl::InternalError("unexpected record kind for " + user.name);
    }
    int matches = 0;
    for (const std::string& secret : candidates) {
      auto ok = (*db)->CheckApop(user.name, kStamp, ApopDigest(kStamp, secret));
      if (!ok.ok()) return ok.status();
      if (*ok) {
        state[user.name] = secret;
        ++matches;
      }
    }
    if (matches != 1) return absl::InternalError("no secret for " + user.name);
  }
  return state;
}

TEST(AuthCrash, UpdatesKilledAtEveryStep) {
  TempDir dir;
  std::string path = dir.File("popauth.db");
  ASSERT_TRUE(CreateAuthDb(path, false).ok());
  std::vector<Op> ops;
  for (int round = 0; round < 2; ++round) {
    for (int u = 0; u < 4; ++u) {
      ops.push_back({Op::kSet, "user" + std::to_string(u),
                     "s" + std::to_string(round)});
    }
    ops.push_back({Op::kDelete, "user" + std::to_string(round), ""});
  }
  std::vector<State> states = {State{}};
  for (const Op& op : ops) states.push_back(Apply(states.back(), op));
  const std::vector<std::string> candidates = {"s0", "s1"};

  std::size_t last_prefix = 0;
  int killed = 0;
  for (std::int64_t n = 1; n < 2000; ++n) {
    // Every child starts from the empty database.
    ASSERT_TRUE(CreateAuthDb(path, true).ok());
    ChildEnd end = RunChildWithCrashAfter(n, [&] {
      auto db = OpenAuthDb(path, true);
      if (!db.ok()) return false;
      for (const Op& op : ops) {
        absl::Status s = op.kind == Op::kSet
                             ? (*db)->SetSecret(op.user, op.secret)
                             : (*db)->Delete(op.user);
        if (!s.ok()) return false;
      }
      return true;
    });
    ASSERT_NE(end, ChildEnd::kFailed) << "at crash point " << n;
    auto state = ReadState(path, candidates);
    ASSERT_TRUE(state.ok()) << "at crash point " << n << ": " << state.status();
    // The state after some prefix of the operations: each one whole or
    // not at all.
    std::size_t prefix = 0;
    while (prefix < states.size() && states[prefix] != *state) ++prefix;
    ASSERT_LT(prefix, states.size()) << "at crash point " << n;
    // Later kill points never lose an update that an earlier one kept.
    EXPECT_GE(prefix, last_prefix) << "at crash point " << n;
    last_prefix = prefix;
    if (end == ChildEnd::kCompleted) {
      EXPECT_EQ(prefix, ops.size());
      break;
    }
    ++killed;
  }
  EXPECT_GE(killed, static_cast<int>(ops.size()) * 3);
}

TEST(AuthCrash, ForceInitKilledAtEveryStep) {
  TempDir dir;
  std::string path = dir.File("popauth.db");
  const std::vector<std::string> candidates = {"old"};
  const State old_state = {{"alice", "old"}, {"bob", "old"}};
  for (std::int64_t n = 1; n < 500; ++n) {
    ASSERT_TRUE(CreateAuthDb(path, true).ok());
    {
      auto db = OpenAuthDb(path, true);
      ASSERT_TRUE(db.ok());
      ASSERT_TRUE((*db)->SetSecret("alice", "old").ok());
      ASSERT_TRUE((*db)->SetSecret("bob", "old").ok());
    }
    ChildEnd end = RunChildWithCrashAfter(
        n, [&] { return CreateAuthDb(path, true).ok(); });
    ASSERT_NE(end, ChildEnd::kFailed) << "at crash point " << n;
    auto state = ReadState(path, candidates);
    ASSERT_TRUE(state.ok()) << "at crash point " << n << ": " << state.status();
    EXPECT_TRUE(*state == old_state || state->empty()) << "at crash point " << n;
    EXPECT_EQ(dbtest::ModeOf(path), 0600u);
    if (end == ChildEnd::kCompleted) {
      EXPECT_TRUE(state->empty());
      break;
    }
  }
}

TEST(AuthCrash, ReplacingADamagedFileKilledAtEveryStep) {
  TempDir dir;
  std::string path = dir.File("popauth.db");
  const std::string garbage = dbtest::GarbageBytes(8192, 5);
  for (std::int64_t n = 1; n < 500; ++n) {
    dbtest::WriteFile(path, garbage);
    ChildEnd end = RunChildWithCrashAfter(
        n, [&] { return CreateAuthDb(path, true).ok(); });
    ASSERT_NE(end, ChildEnd::kFailed) << "at crash point " << n;
    auto db = OpenAuthDb(path, false);
    if (db.ok()) {
      EXPECT_TRUE((*db)->List()->empty());  // the new, empty database
    } else {
      // Still the old damaged file, whole.
      EXPECT_EQ(db.status().code(), absl::StatusCode::kDataLoss);
      EXPECT_EQ(dbtest::ReadFile(path), garbage);
    }
    if (end == ChildEnd::kCompleted) {
      EXPECT_TRUE(db.ok());
      break;
    }
  }
}

TEST(AuthCrash, RandomKillsDuringABurstOfUpdates) {
  TempDir dir;
  std::string path = dir.File("popauth.db");
  ASSERT_TRUE(CreateAuthDb(path, false).ok());
  const std::vector<std::string> candidates = {"even", "odd"};
  std::mt19937 random(4242);  // fixed: the same delays every run
  // Opening and the first commit take tens of milliseconds on a loaded
  // machine: the delays reach well past that.
  std::uniform_int_distribution<int> delay_us(2000, 90000);
  int with_data = 0;
  for (int iteration = 0; iteration < 50; ++iteration) {
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      auto db = OpenAuthDb(path, true);
      if (!db.ok()) ::_exit(1);
      for (std::uint64_t i = 0;; ++i) {
        std::string user = "user" + std::to_string(i % 5);
        std::string secret = (i / 5) % 2 == 0 ? "even" : "odd";
        absl::Status s = i % 7 == 6 ? (*db)->Delete(user)
                                    : (*db)->SetSecret(user, secret);
        if (!s.ok() && !absl::IsNotFound(s)) ::_exit(1);
      }
    }
    std::this_thread::sleep_for(std::chrono::microseconds(delay_us(random)));
    ASSERT_EQ(::kill(pid, SIGKILL), 0);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(status)) << "the writer failed: " << status;
    auto state = ReadState(path, candidates);
    ASSERT_TRUE(state.ok()) << "iteration " << iteration << ": "
                            << state.status();
    if (!state->empty()) ++with_data;
  }
  EXPECT_GT(with_data, 0);
  // Writers killed while holding the write lock did not wedge it.
  auto db = OpenAuthDb(path, true);
  ASSERT_TRUE(db.ok());
  EXPECT_TRUE((*db)->SetSecret("final", "even").ok());
}

}  // namespace
}  // namespace posthorn::store
