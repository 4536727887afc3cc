// tools/common/privileges.h — giving up root after the sockets are bound.
//
// PURPOSE
//   popper and sendmail start as root (ports 110 and 25) and need root
//   only to bind and to open their databases and log files; they then
//   become run_as for good: supplementary groups, group, then user, and
//   it checks that root cannot be regained.
//
// GUARANTEES
//   No-op when the process is not root or `user` is empty (tests and the
//   demo run unprivileged with run_as empty). Threads already running
//   change too (glibc applies set*id to every thread).

#ifndef POSTHORN_TOOLS_COMMON_PRIVILEGES_H_
#define POSTHORN_TOOLS_COMMON_PRIVILEGES_H_

#include <string>
#include <vector>

#include "absl/status/status.h"

namespace posthorn::tools {

// NotFound: no such user. Internal / the errno's code: a call failed or
// root could be regained.
absl::Status DropPrivileges(const std::string& user);

// Before DropPrivileges: gives `paths` (folders the process created as
// root and must keep writing, e.g. the queue's) to `user` and its group.
// No-op when not root or `user` is empty; missing paths are skipped;
// symlinks are not followed.
absl::Status GiveToUser(const std::vector<std::string>& paths,
                        const std::string& user);

}  // namespace posthorn::tools

#endif  // POSTHORN_TOOLS_COMMON_PRIVILEGES_H_
