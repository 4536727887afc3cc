// mta/common/disk_full.h — tells a full disk (or an exhausted quota) from
// other storage errors, for the replies that differ: 452 4.3.1 to an SMTP
// client, 452 4.2.2 for a maildrop (RFC 3463).

#ifndef POSTHORN_SRC_MTA_COMMON_DISK_FULL_H_
#define POSTHORN_SRC_MTA_COMMON_DISK_FULL_H_

#include "absl/status/status.h"

namespace posthorn::mta {

// ResourceExhausted, or an error naming ENOSPC / EDQUOT (the store reports
// those as Unavailable, a transient error, with the strerror text).
bool IsDiskFull(const absl::Status& status);

}  // namespace posthorn::mta

#endif  // POSTHORN_SRC_MTA_COMMON_DISK_FULL_H_
