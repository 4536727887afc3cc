// posthorn/store/status.h — how the store reports the errors callers act on.
//
// PURPOSE
//   Every store call returns absl::Status / absl::StatusOr. The codes mean:
//     kUnavailable        temporary (disk full, lock timeout, I/O error):
//                         SMTP 4xx, POP3 "-ERR [SYS/TEMP]"; retry later.
//     kInvalidArgument    the caller's input is bad (a user name, an alias
//                         line): SMTP 5xx, POP3 "-ERR"; never retried.
//     kNotFound           no such user / message / queue entry / key.
//     kDataLoss           a file is not what it should be (corrupt index,
//                         envelope, database); the message names the file
//                         and the reason; the store repairs what it can.
//     kPermissionDenied   file modes or ownership forbid the operation.
//     kFailedPrecondition something exists that must not (popauth -init
//                         without -force), or is missing that must exist.
//   In addition, "held by someone else" (a POP session already open on a
//   maildrop, a queue entry leased to another worker) is kUnavailable with
//   a marker that IsInUse() detects, so pop3d can answer "-ERR [IN-USE]".

#ifndef POSTHORN_STORE_STATUS_H_
#define POSTHORN_STORE_STATUS_H_

#include <string_view>

#include "absl/status/status.h"

namespace posthorn::store {

// kUnavailable, marked as "in use by another session or worker".
absl::Status InUseError(std::string_view message);

// True for statuses made by InUseError().
bool IsInUse(const absl::Status& status);

}  // namespace posthorn::store

#endif  // POSTHORN_STORE_STATUS_H_
