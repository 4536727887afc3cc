// posthorn/mta/dsn.h — delivery status notifications (bounces, delays).
//
// PURPOSE
//   Builds the message the MTA sends back to a sender: RFC 3464
//   multipart/report; report-type=delivery-status with three parts:
//     1. text/plain for people ("This is the mail system at host ...",
//        each failed recipient with its reason),
//     2. message/delivery-status: Reporting-MTA: dns; <host>,
//        [Original-Envelope-Id], Arrival-Date, then per recipient
//        [Original-Recipient], Final-Recipient: rfc822; <addr>,
//        Action: failed|delayed|delivered, Status: 5.1.1 (RFC 3463, taken
//        from the reply's enhanced code), Remote-MTA: dns; <host>,
//        Diagnostic-Code: smtp; <reply>, [Will-Retry-Until (delayed)],
//     3. the original message (message/rfc822), or only its header
//        section (text/rfc822-headers) when RET=HDRS or the message is
//        larger than max_returned_bytes.
//   From: MAILER-DAEMON@<host>, To: the original sender, Subject:
//   "Undelivered Mail Returned to Sender" / "Delayed Mail (still being
//   retried)" / "Successful Mail Delivery Report", Auto-Submitted:
//   auto-replied (RFC 3834), a fresh Message-ID and Date.
//
// NEVER LOOPING
//   ShouldNotify() is false for the null sender (a bounce of a bounce is
//   never sent: the message is dropped and logged) and the DSN itself is
//   queued with the null sender, so a failure to deliver it is dropped.

#ifndef POSTHORN_MTA_DSN_H_
#define POSTHORN_MTA_DSN_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "posthorn/store/message_reader.h"
#include "posthorn/store/queue.h"

namespace posthorn::mta {

enum class DsnAction { kFailed, kDelayed, kDelivered };

struct DsnRecipient {
  std::size_t index = 0;  // into the envelope's recipients
  DsnAction action = DsnAction::kFailed;
  std::string reply;      // "550 5.1.1 ..." (the diagnostic)
  std::string remote_mta; // "" for local
};

struct DsnOptions {
  std::string hostname;  // Reporting-MTA
  absl::Time now = absl::Now();
  absl::Time retry_until = absl::InfinitePast();  // delayed: lifetime end
  std::uint64_t max_returned_bytes = 1 << 20;  // else headers only
};

// False for the null sender (never bounce a bounce).
bool ShouldNotify(const store::QueueEnvelope& envelope);

// The whole DSN message (CRLF line ends). `original` is read from the
// start once. The caller queues it with sender "" and one recipient, the
// original sender.
absl::StatusOr<std::string> BuildDsn(const store::QueueEnvelope& envelope,
                                     const std::vector<DsnRecipient>& about,
                                     store::MessageReader& original,
                                     const DsnOptions& options);

// "5.1.1" from "550 5.1.1 text"; from the code alone when the reply has
// no enhanced code (5xx -> "5.0.0", 4xx -> "4.0.0", 2xx -> "2.0.0"), or
// when its class differs from the code's. "" when the text does not start
// with a 2xx/4xx/5xx code (BuildDsn then uses the action's X.0.0).
std::string StatusFromReply(std::string_view reply);

}  // namespace posthorn::mta

#endif  // POSTHORN_MTA_DSN_H_
