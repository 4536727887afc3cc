// mta/remote/mailer_numbers.h — the "M" column of mailstats.
//
// sendmail numbers its mailers in the order of its configuration; the
// usual sendmail.cf gives prog 0, *file* 1, *include* 2, local 3, smtp 4,
// esmtp 5, smtp8 6, dsmtp 7, relay 8. Those numbers are kept (so the
// familiar "3 local" line stays), "file" being *file*; other mailers
// follow from 9 in name order.

#ifndef POSTHORN_SRC_MTA_REMOTE_MAILER_NUMBERS_H_
#define POSTHORN_SRC_MTA_REMOTE_MAILER_NUMBERS_H_

#include <string_view>

#include "posthorn/mta/host_status.h"

namespace posthorn::mta::detail {

// sendmail's number for a well-known mailer name, or -1.
int KnownMailerNumber(std::string_view mailer);

// Adds every counter of `delta` to `total` (the mailer name is left alone).
inline void AddCounters(const MailerCounters& delta, MailerCounters* total) {
  total->msgs_from += delta.msgs_from;
  total->bytes_from += delta.bytes_from;
  total->msgs_to += delta.msgs_to;
  total->bytes_to += delta.bytes_to;
  total->msgs_rejected += delta.msgs_rejected;
  total->msgs_discarded += delta.msgs_discarded;
}

}  // namespace posthorn::mta::detail

#endif  // POSTHORN_SRC_MTA_REMOTE_MAILER_NUMBERS_H_
