// mta/deliver/file_target.h — an alias file target ("/var/mail/archive"):
// the message appended in mbox format.
//
//   From <envelope sender or MAILER-DAEMON> <asctime UTC>\n
//   <message, LF line ends, /^>*From / lines get one more '>' (mboxrd)>
//   \n
// Under an fcntl write lock on the whole file (waited for at most
// kFileLockWait), then fsync. A failed write is cut back (ftruncate to
// the old size) so the file never keeps half a message. The file is
// created (mode 0600) when missing; a symlink, a hard-linked file or
// anything but a regular file is refused (the MTA's privileges must not
// write through a planted link). "/dev/null" accepts everything without
// writing.
//
// Results: written -> kSent "250 2.0.0 appended to <path>"; refused
// (links, permissions) -> kBounced "550 5.3.0"; disk full -> "452 4.2.2",
// other errors and a lock held too long -> deferred "451 4.3.0".

#ifndef POSTHORN_SRC_MTA_DELIVER_FILE_TARGET_H_
#define POSTHORN_SRC_MTA_DELIVER_FILE_TARGET_H_

#include <string>

#include "absl/time/time.h"
#include "mta/deliver/target_result.h"
#include "posthorn/mta/delivery.h"

namespace posthorn::mta::deliver {

inline constexpr absl::Duration kFileLockWait = absl::Seconds(30);

TargetResult AppendToFile(const std::string& path,
                          const std::string& envelope_sender,
                          absl::Time arrival, const DataOpener& open_data);

}  // namespace posthorn::mta::deliver

#endif  // POSTHORN_SRC_MTA_DELIVER_FILE_TARGET_H_
