// tools/common/trace_file.h — opening a log file that an attacker may
// have prepared.
//
// PURPOSE
//   popper -t names a file that a root daemon appends to. qpopper opened
//   it with a plain fopen(path, "a"), so a local user who made the name a
//   symlink (or a hard link) to /etc/passwd had root append to it. This
//   open refuses that:
//     - O_NOFOLLOW: the last component must not be a symlink;
//     - O_NONBLOCK while opening: a FIFO cannot block the program;
//     - fstat after the open (no check-then-open race): a regular file
//       with exactly one link, else refused;
//   and creates a missing file with mode 0600 (O_CREAT, O_APPEND,
//   O_CLOEXEC).
//
// LIMITS
//   Symlinks in the folders above the file are followed (as the
//   administrator chose them); the file is not truncated nor rotated.

#ifndef POSTHORN_TOOLS_COMMON_TRACE_FILE_H_
#define POSTHORN_TOOLS_COMMON_TRACE_FILE_H_

#include <string>

#include "absl/status/statusor.h"

namespace posthorn::tools {

// The open descriptor (blocking, append-only). Errors name the file and
// the reason: "<path>: is a symbolic link", "<path>: not a regular
// file", "<path>: has 2 links", or the errno text. Codes: FailedPrecondition
// for the refusals, else the errno's.
absl::StatusOr<int> OpenTraceFile(const std::string& path);

}  // namespace posthorn::tools

#endif  // POSTHORN_TOOLS_COMMON_TRACE_FILE_H_
