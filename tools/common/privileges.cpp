// tools/common/privileges.cpp — initgroups, setgid, setuid, and a check.

#include "tools/common/privileges.h"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "absl/status/statusor.h"
#include "fmt/format.h"
#include "tools/common/exit_codes.h"

namespace posthorn::tools {
namespace {

struct Ids {
  uid_t uid;
  gid_t gid;
};

absl::StatusOr<Ids> LookUp(const std::string& user) {
  struct passwd entry;
  struct passwd* found = nullptr;
  std::vector<char> buffer(16384);
  const int err =
      ::getpwnam_r(user.c_str(), &entry, buffer.data(), buffer.size(), &found);
  if (err != 0) return StatusFromErrno(err, fmt::format("getpwnam {}", user));
  if (found == nullptr) {
    return absl::NotFoundError(
        fmt::format("run_as user \"{}\" does not exist", user));
  }
  return Ids{entry.pw_uid, entry.pw_gid};
}

}  // namespace

absl::Status GiveToUser(const std::vector<std::string>& paths,
                        const std::string& user) {
  if (user.empty() || ::geteuid() != 0) return absl::OkStatus();
  absl::StatusOr<Ids> ids = LookUp(user);
  if (!ids.ok()) return ids.status();
  for (const std::string& path : paths) {
    if (::lchown(path.c_str(), ids->uid, ids->gid) != 0 && errno != ENOENT) {
      return StatusFromErrno(errno, fmt::format("chown {}", path));
    }
  }
  return absl::OkStatus();
}

absl::Status DropPrivileges(const std::string& user) {
  if (user.empty() || ::geteuid() != 0) return absl::OkStatus();
  absl::StatusOr<Ids> ids = LookUp(user);
  if (!ids.ok()) return ids.status();
  const uid_t uid = ids->uid;
  const gid_t gid = ids->gid;
  // Groups first: after setuid the process may no longer change them.
  if (::initgroups(user.c_str(), gid) != 0) {
    return StatusFromErrno(errno, "initgroups");
  }
  if (::setgid(gid) != 0) return StatusFromErrno(errno, "setgid");
  if (::setuid(uid) != 0) return StatusFromErrno(errno, "setuid");
  if (uid != 0 && ::setuid(0) == 0) {
    return absl::InternalError("root privileges could be regained");
  }
  return absl::OkStatus();
}

}  // namespace posthorn::tools
