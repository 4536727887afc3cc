// tools/sendmail/mailq_format.h — the queue listing of `mailq` / `-bp`
// in sendmail's layout.
//
//   /var/spool/mqueue (2 requests)
//   -----Q-ID----------- --Size-- -----Q-Time----- ------------Sender/Recipient-----------
//   0M4Y7B2K3Z00010A3X2C     1234 Thu Nov 26 09:00 <alice@example.org>
//                    (451 4.4.1 connect to [127.0.0.1]:2526: Connection refused)
//                                                  <bob@example.net>
//
//   One block per message, oldest first: id, size in bytes, arrival
//   (local time), sender ("<>" for the null sender); then each pending
//   recipient, after the last reply for it when there is one. Recipients
//   already delivered or failed are not shown. "Mail queue is empty" when
//   there is nothing; "(1 request)" in the singular.

#ifndef POSTHORN_TOOLS_SENDMAIL_MAILQ_FORMAT_H_
#define POSTHORN_TOOLS_SENDMAIL_MAILQ_FORMAT_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/time/time.h"
#include "posthorn/store/queue.h"

namespace posthorn::tools {

std::string FormatQueueListing(std::string_view queue_dir,
                               const std::vector<store::QueueEnvelope>& queue,
                               absl::TimeZone zone);

}  // namespace posthorn::tools

#endif  // POSTHORN_TOOLS_SENDMAIL_MAILQ_FORMAT_H_
