// store/queue/retry.cpp — the retry schedule: NextAttempt, IsExpired,
// DelayWarningDue (see posthorn/store/queue.h).
//
// NextAttempt doubles first_retry (attempts - 1) times without ever
// overflowing: it stops doubling as soon as the delay reaches max_backoff,
// so attempts = INT_MAX costs ~log2(max_backoff / first_retry) steps.

#include <algorithm>

#include "posthorn/store/queue.h"

namespace posthorn::store {

absl::Time NextAttempt(const RetryPolicy& policy, int attempts,
                       absl::Time now) {
  absl::Duration cap = std::max(policy.max_backoff, absl::ZeroDuration());
  absl::Duration delay =
      std::clamp(policy.first_retry, absl::ZeroDuration(), cap);
  for (int i = 1; i < attempts && delay < cap; ++i) {
    // delay < cap here, so doubling it is at most 2 * cap: no overflow for
    // any finite cap, and absl saturates to infinity anyway.
    delay = std::min(delay * 2, cap);
    if (delay == absl::ZeroDuration()) break;  // 0 doubles to 0 forever
  }
  return now + delay;
}

bool IsExpired(const RetryPolicy& policy, const QueueEnvelope& envelope,
               absl::Time now) {
  return now - envelope.arrival >= policy.lifetime;
}

bool DelayWarningDue(const RetryPolicy& policy, const QueueEnvelope& envelope,
                     absl::Time now) {
  if (envelope.delay_warned) return false;
  if (policy.delay_warning <= absl::ZeroDuration()) return false;
  if (now - envelope.arrival < policy.delay_warning) return false;
  return std::any_of(envelope.recipients.begin(), envelope.recipients.end(),
                     [](const QueuedRecipient& r) {
                       return r.state == RecipientState::kPending &&
                              r.notify_delay;
                     });
}

}  // namespace posthorn::store
