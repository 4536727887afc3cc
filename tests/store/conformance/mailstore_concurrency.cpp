// tests/store/conformance/mailstore_concurrency.cpp — deliveries racing POP
// sessions on one maildrop: nothing lost, nothing duplicated, nothing
// deleted that was not asked for.
//
// Backends instantiate MailstoreConcurrencyTest with a factory that turns
// fsync off: durability is not what is tested here (the crash tests do
// that), and 1,000 fsynced deliveries would take minutes on slow disks.

#include <atomic>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "mailstore_conformance.h"

namespace posthorn::store::testing {
namespace {

std::string Small(int n) {
  return "Subject: " + std::to_string(n) + "\n\nmessage " + std::to_string(n) +
         "\nFrom the body\n";
}

// The number in "Subject: <n>" of a header section; -1 when absent.
int NumberOf(const std::string& header) {
  const std::string tag = "Subject: ";
  auto start = header.find(tag);
  if (start == std::string::npos) return -1;
  start += tag.size();
  auto end = header.find('\r', start);
  int n = -1;
  if (!absl::SimpleAtoi(header.substr(start, end - start), &n)) return -1;
  return n;
}

bool ShouldDelete(int n) { return n % 3 == 0 || n % 10 == 7; }

TEST_P(MailstoreConcurrencyTest, DeliveriesRacingSessionsLoseNothing) {
  constexpr int kMessages = 1000;
  std::atomic<bool> delivered_all{false};
  std::atomic<int> delivery_failures{0};
  std::thread deliverer([&] {
    for (int n = 0; n < kMessages; ++n) {
      if (!Deliver("alice", Small(n)).ok()) ++delivery_failures;
    }
    delivered_all = true;
  });

  std::set<int> deleted;
  int sessions = 0;
  for (bool last = false; !last;) {
    last = delivered_all.load();  // one more session after the last delivery
    auto session = store_->OpenSession("alice");
    ASSERT_TRUE(session.ok()) << session.status();
    ++sessions;
    std::vector<std::size_t> to_delete;
    std::set<int> seen;
    for (std::size_t i = 0; i < (*session)->messages().size(); ++i) {
      int n = NumberOf(ReadTopOf(**session, i, 0));
      ASSERT_GE(n, 0) << "message " << i << " of session " << sessions;
      ASSERT_TRUE(seen.insert(n).second) << n << " twice in one snapshot";
      ASSERT_EQ(deleted.count(n), 0u) << n << " came back after deletion";
      if (ShouldDelete(n)) {
        to_delete.push_back(i);
        deleted.insert(n);
      }
    }
    absl::Status status = (*session)->Commit(to_delete);
    ASSERT_TRUE(status.ok()) << status;
  }
  deliverer.join();
  EXPECT_EQ(delivery_failures.load(), 0);
  EXPECT_GE(sessions, 1);
  RecordProperty("sessions", sessions);

  // Every message that was not deleted is there exactly once, intact.
  std::vector<std::string> left = ReadEverything("alice");
  std::map<int, int> count;
  for (const auto& text : left) {
    int n = NumberOf(text);
    ASSERT_GE(n, 0);
    ++count[n];
    EXPECT_EQ(text, Crlf(Small(n)));
  }
  for (int n = 0; n < kMessages; ++n) {
    if (ShouldDelete(n)) {
      EXPECT_EQ(count[n], 0) << n;
      EXPECT_EQ(deleted.count(n), 1u) << n;
    } else {
      EXPECT_EQ(count[n], 1) << n;
    }
  }
}

TEST_P(MailstoreConcurrencyTest, DeliveriesFromSeveralThreadsAllLand) {
  constexpr int kThreads = 4;
  constexpr int kEach = 50;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        if (!Deliver("alice", Small(t * kEach + i)).ok()) ++failures;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  auto session = Open("alice");
  ASSERT_NE(session, nullptr);
  ASSERT_EQ(session->messages().size(),
            static_cast<std::size_t>(kThreads * kEach));
  std::set<int> numbers;
  std::set<std::string> uids;
  for (std::size_t i = 0; i < session->messages().size(); ++i) {
    numbers.insert(NumberOf(ReadTopOf(*session, i, 0)));
    uids.insert(session->messages()[i].uid);
  }
  EXPECT_EQ(numbers.size(), static_cast<std::size_t>(kThreads * kEach));
  EXPECT_EQ(uids.size(), static_cast<std::size_t>(kThreads * kEach));
}

}  // namespace
}  // namespace posthorn::store::testing
