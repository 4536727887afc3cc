// The retry schedule: NextAttempt, IsExpired, DelayWarningDue.

#include <climits>

#include "gtest/gtest.h"
#include "posthorn/store/queue.h"

namespace posthorn::store {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1'700'000'000);

TEST(NextAttempt, DoublesFromFirstRetryUpToTheCap) {
  RetryPolicy policy;  // 5 minutes, capped at 4 hours
  EXPECT_EQ(NextAttempt(policy, 1, kNow), kNow + absl::Minutes(5));
  EXPECT_EQ(NextAttempt(policy, 2, kNow), kNow + absl::Minutes(10));
  EXPECT_EQ(NextAttempt(policy, 3, kNow), kNow + absl::Minutes(20));
  EXPECT_EQ(NextAttempt(policy, 6, kNow), kNow + absl::Minutes(160));
  EXPECT_EQ(NextAttempt(policy, 7, kNow), kNow + absl::Hours(4));  // 320 min
  EXPECT_EQ(NextAttempt(policy, 100, kNow), kNow + absl::Hours(4));
}

TEST(NextAttempt, NoOverflowForHugeAttemptCounts) {
  RetryPolicy policy;
  EXPECT_EQ(NextAttempt(policy, INT_MAX, kNow), kNow + absl::Hours(4));
  policy.max_backoff = absl::InfiniteDuration();
  EXPECT_EQ(NextAttempt(policy, 64, kNow), absl::InfiniteFuture());
  EXPECT_EQ(NextAttempt(policy, 3, kNow), kNow + absl::Minutes(20));
}

TEST(NextAttempt, OddPolicies) {
  RetryPolicy policy;
  policy.first_retry = absl::Hours(10);  // beyond the cap
  EXPECT_EQ(NextAttempt(policy, 1, kNow), kNow + absl::Hours(4));
  policy.first_retry = absl::ZeroDuration();
  EXPECT_EQ(NextAttempt(policy, 1000, kNow), kNow);
  policy.first_retry = absl::Minutes(5);
  EXPECT_EQ(NextAttempt(policy, 0, kNow), kNow + absl::Minutes(5));
}

TEST(IsExpired, AtTheLifetime) {
  RetryPolicy policy;
  QueueEnvelope envelope;
  envelope.arrival = kNow;
  EXPECT_FALSE(IsExpired(policy, envelope, kNow));
  EXPECT_FALSE(
      IsExpired(policy, envelope, kNow + policy.lifetime - absl::Seconds(1)));
  EXPECT_TRUE(IsExpired(policy, envelope, kNow + policy.lifetime));
  EXPECT_TRUE(IsExpired(policy, envelope, kNow + absl::Hours(24 * 30)));
}

QueueEnvelope PendingEnvelope() {
  QueueEnvelope envelope;
  envelope.arrival = kNow;
  QueuedRecipient done;
  done.state = RecipientState::kDelivered;
  QueuedRecipient pending;
  envelope.recipients = {done, pending};
  return envelope;
}

TEST(DelayWarningDue, AfterTheDelayForPendingNotifyDelayRecipients) {
  RetryPolicy policy;  // 4 hours
  QueueEnvelope envelope = PendingEnvelope();
  EXPECT_FALSE(DelayWarningDue(policy, envelope, kNow + absl::Hours(3)));
  EXPECT_TRUE(DelayWarningDue(policy, envelope, kNow + absl::Hours(4)));
  EXPECT_TRUE(DelayWarningDue(policy, envelope, kNow + absl::Hours(5)));
}

TEST(DelayWarningDue, NotTwiceNotWhenOffNotWithoutAskers) {
  RetryPolicy policy;
  absl::Time later = kNow + absl::Hours(5);
  QueueEnvelope warned = PendingEnvelope();
  warned.delay_warned = true;
  EXPECT_FALSE(DelayWarningDue(policy, warned, later));

  RetryPolicy off = policy;
  off.delay_warning = absl::ZeroDuration();
  EXPECT_FALSE(DelayWarningDue(off, PendingEnvelope(), later));

  QueueEnvelope no_delay = PendingEnvelope();
  no_delay.recipients[1].notify_delay = false;  // NOTIFY=FAILURE only
  EXPECT_FALSE(DelayWarningDue(policy, no_delay, later));

  QueueEnvelope all_done = PendingEnvelope();
  all_done.recipients[1].state = RecipientState::kFailed;
  EXPECT_FALSE(DelayWarningDue(policy, all_done, later));
}

}  // namespace
}  // namespace posthorn::store
