// store/mbox/mbox_paths.h — the file names of one user's mbox maildrop.
//
// All files live in the spool folder (see posthorn/store/mbox.h, FILES).
// Build a MboxPaths only from a user name that passed ValidateUserName()
// and CheckMboxUserName(): nothing here re-checks.

#ifndef POSTHORN_SRC_STORE_MBOX_MBOX_PATHS_H_
#define POSTHORN_SRC_STORE_MBOX_MBOX_PATHS_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace posthorn::store::mbox {

struct MboxPaths {
  std::string spool_dir;
  std::string mbox;           // <user>
  std::string index;          // .<user>.index
  std::string pop_lock;       // .<user>.pop
  std::string append_marker;  // .<user>.append
  std::string commit_temp;    // .<user>.commit (written under the lock)
  std::string user;

  static MboxPaths For(std::string_view spool_dir, std::string_view user);
  std::string NotePath(std::string_view key) const;  // .<user>.<key>.note
};

// ValidateUserName() plus the mbox layout's own rule: a name ending in
// ".lock" is refused, since its mbox would be another user's dot-lock.
absl::Status CheckMboxUserName(std::string_view user);

// Note keys are [a-z0-9_-]{1,32} (posthorn/store/mailstore.h).
absl::Status CheckNoteKey(std::string_view key);

}  // namespace posthorn::store::mbox

#endif  // POSTHORN_SRC_STORE_MBOX_MBOX_PATHS_H_
