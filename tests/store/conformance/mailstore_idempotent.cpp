// tests/store/conformance/mailstore_idempotent.cpp — keyed delivery
// (DeliveryInfo::delivery_id, posthorn/store/mailstore.h GUARANTEES): the
// same id appends once, other ids and the empty id append every time.
// Crash tests of the same guarantee live with each backend (a killed
// delivery retried: tests/store/mbox/crash_test.cpp,
// tests/store/maildir/maildir_crash_test.cpp).

#include <algorithm>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/store/conformance/mailstore_conformance.h"

namespace posthorn::store::testing {
namespace {

const absl::Time kArrival = absl::FromUnixSeconds(1700000000);

absl::Status DeliverWithId(Mailstore& store, const std::string& user,
                           const std::string& text, const std::string& id) {
  StringReader source(text);
  return store.Deliver(user,
                       {.envelope_sender = "sender@example.org",
                        .arrival = kArrival,
                        .delivery_id = id},
                       source);
}

const std::string kText = "Subject: once\n\nbody\n";

TEST_P(MailstoreConformanceTest, SameDeliveryIdAppendsOnce) {
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(DeliverWithId(*store_, "alice", kText, "Q1.0.alice").ok());
  }
  EXPECT_EQ(ReadEverything("alice"), std::vector<std::string>{Crlf(kText)});
}

TEST_P(MailstoreConformanceTest, DifferentOrEmptyDeliveryIdsAppendEachTime) {
  ASSERT_TRUE(DeliverWithId(*store_, "alice", kText, "Q1.0.alice").ok());
  ASSERT_TRUE(DeliverWithId(*store_, "alice", kText, "Q1.1.alice").ok());
  ASSERT_TRUE(DeliverWithId(*store_, "alice", kText, "").ok());
  ASSERT_TRUE(DeliverWithId(*store_, "alice", kText, "").ok());
  EXPECT_EQ(ReadEverything("alice").size(), 4u);
  auto session = Open("alice");
  ASSERT_NE(session, nullptr);
  std::vector<std::string> uids;
  for (const auto& m : session->messages()) uids.push_back(m.uid);
  std::sort(uids.begin(), uids.end());
  EXPECT_EQ(std::unique(uids.begin(), uids.end()), uids.end());
}

TEST_P(MailstoreConformanceTest, DeliveryIdIsPerUser) {
  ASSERT_TRUE(DeliverWithId(*store_, "alice", kText, "Q1.0").ok());
  ASSERT_TRUE(DeliverWithId(*store_, "bob", kText, "Q1.0").ok());
  EXPECT_EQ(ReadEverything("alice").size(), 1u);
  EXPECT_EQ(ReadEverything("bob").size(), 1u);
}

TEST_P(MailstoreConformanceTest, SameIdAfterOtherDeliveriesAndACommit) {
  DeliverOk("alice", "Subject: first\n\n1\n");
  ASSERT_TRUE(DeliverWithId(*store_, "alice", kText, "Q2.0.alice").ok());
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(DeliverWithId(*store_, "alice", "Subject: other\n\n" +
                                                 std::to_string(i) + "\n",
                                    "Q3." + std::to_string(i) + ".alice")
                    .ok());
  }
  {
    // A session removes the first message and keeps the keyed one: the
    // retry must still find it (moved by the commit).
    auto session = Open("alice");
    ASSERT_NE(session, nullptr);
    std::vector<std::size_t> deleted = {0};
    ASSERT_TRUE(session->Commit(deleted).ok());
  }
  ASSERT_TRUE(DeliverWithId(*store_, "alice", kText, "Q2.0.alice").ok());
  ASSERT_TRUE(DeliverWithId(*store_, "alice", "Subject: other\n\n4\n",
                                  "Q3.4.alice").ok());
  std::vector<std::string> all = ReadEverything("alice");
  ASSERT_EQ(all.size(), 6u);
  // (Order is the backend's: Maildir orders by arrival, equal here.)
  EXPECT_EQ(std::count(all.begin(), all.end(), Crlf(kText)), 1);
  EXPECT_EQ(std::count(all.begin(), all.end(),
                       Crlf("Subject: other\n\n4\n")), 1);
}

TEST_P(MailstoreConformanceTest, BadDeliveryIdsAreRefused) {
  EXPECT_TRUE(absl::IsInvalidArgument(
      DeliverWithId(*store_, "alice", kText, "has space")));
  EXPECT_TRUE(absl::IsInvalidArgument(
      DeliverWithId(*store_, "alice", kText, std::string(256, 'x'))));
  EXPECT_TRUE(absl::IsInvalidArgument(
      DeliverWithId(*store_, "alice", kText, "ctl\x01")));
  EXPECT_TRUE(ReadEverything("alice").empty());
}

}  // namespace
}  // namespace posthorn::store::testing
