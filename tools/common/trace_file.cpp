// tools/common/trace_file.cpp — the safe open of popper's -t file.

#include "tools/common/trace_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "absl/status/status.h"
#include "fmt/format.h"
#include "tools/common/exit_codes.h"

namespace posthorn::tools {

absl::StatusOr<int> OpenTraceFile(const std::string& path) {
  const int fd =
      ::open(path.c_str(),
             O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK,
             0600);
  if (fd < 0) {
    const int err = errno;
    // O_NOFOLLOW on a symlink fails with ELOOP (EMLINK on some BSDs).
    if (err == ELOOP || err == EMLINK) {
      return absl::FailedPreconditionError(
          fmt::format("{}: is a symbolic link", path));
    }
    return StatusFromErrno(err, path);
  }
  struct stat st;
  absl::Status refused;
  if (::fstat(fd, &st) != 0) {
    refused = StatusFromErrno(errno, path);
  } else if (!S_ISREG(st.st_mode)) {
    refused = absl::FailedPreconditionError(
        fmt::format("{}: not a regular file", path));
  } else if (st.st_nlink != 1) {
    // A second name may be a hard link to a file we must not touch.
    refused = absl::FailedPreconditionError(
        fmt::format("{}: has {} links", path, st.st_nlink));
  } else {
    const int flags = ::fcntl(fd, F_GETFL);
    if (flags < 0 || ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0) {
      refused = StatusFromErrno(errno, path);
    }
  }
  if (!refused.ok()) {
    ::close(fd);
    return refused;
  }
  return fd;
}

}  // namespace posthorn::tools
