// store/mbox/mbox_paths.cpp — see mbox_paths.h.

#include "store/mbox/mbox_paths.h"

#include "fmt/format.h"
#include "posthorn/store/mailstore.h"
#include "store/fs/file_util.h"

namespace posthorn::store::mbox {

MboxPaths MboxPaths::For(std::string_view spool_dir, std::string_view user) {
  MboxPaths paths;
  paths.spool_dir = std::string(spool_dir);
  paths.user = std::string(user);
  paths.mbox = fs::JoinPath(spool_dir, user);
  paths.index = fs::JoinPath(spool_dir, fmt::format(".{}.index", user));
  paths.pop_lock = fs::JoinPath(spool_dir, fmt::format(".{}.pop", user));
  paths.append_marker =
      fs::JoinPath(spool_dir, fmt::format(".{}.append", user));
  paths.commit_temp =
      fs::JoinPath(spool_dir, fmt::format(".{}.commit", user));
  return paths;
}

std::string MboxPaths::NotePath(std::string_view key) const {
  return fs::JoinPath(spool_dir, fmt::format(".{}.{}.note", user, key));
}

absl::Status CheckMboxUserName(std::string_view user) {
  if (absl::Status status = ValidateUserName(user); !status.ok()) {
    return status;
  }
  if (user.ends_with(".lock")) {
    return absl::InvalidArgumentError(
        "user name may not end in \".lock\" (its mbox would be a dot-lock)");
  }
  return absl::OkStatus();
}

absl::Status CheckNoteKey(std::string_view key) {
  if (key.empty() || key.size() > 32) {
    return absl::InvalidArgumentError("note key must be 1..32 bytes");
  }
  for (char c : key) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
              c == '-';
    if (!ok) {
      return absl::InvalidArgumentError(
          "note key may hold only a-z, 0-9, '_' and '-'");
    }
  }
  return absl::OkStatus();
}

}  // namespace posthorn::store::mbox
