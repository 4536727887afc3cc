// tools/common/exit_codes.h — sysexits.h codes for the programs, and
// errno turned into absl::Status.
//
// PURPOSE
//   Every program exits with a code of sysexits.h (as sendmail and qpopper
//   did), so scripts can tell a usage error (64) from a missing file (66)
//   or a permission problem (77). ExitCodeFor() gives the usual code for a
//   status; a program overrides it where its manual says otherwise (e.g.
//   popauth -delete of an unknown user is 67, not 66).

#ifndef POSTHORN_TOOLS_COMMON_EXIT_CODES_H_
#define POSTHORN_TOOLS_COMMON_EXIT_CODES_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace posthorn::tools {

// The values of <sysexits.h>, named here so callers need not include it.
enum ExitCode : int {
  kExitOk = 0,
  kExitUsage = 64,        // EX_USAGE: bad flags or arguments
  kExitDataErr = 65,      // EX_DATAERR: bad input data (a bad user name)
  kExitNoInput = 66,      // EX_NOINPUT: an input file is missing
  kExitNoUser = 67,       // EX_NOUSER
  kExitUnavailable = 69,  // EX_UNAVAILABLE: a service is not available
  kExitSoftware = 70,     // EX_SOFTWARE: internal error
  kExitOsErr = 71,        // EX_OSERR: a system call failed
  kExitCantCreat = 73,    // EX_CANTCREAT: an output file cannot be made
  kExitIoErr = 74,        // EX_IOERR
  kExitTempFail = 75,     // EX_TEMPFAIL
  kExitNoPerm = 77,       // EX_NOPERM: permission denied
  kExitConfig = 78,       // EX_CONFIG: configuration error
};

// NotFound -> 66, PermissionDenied -> 77, DataLoss / InvalidArgument ->
// 65, FailedPrecondition / AlreadyExists -> 73, Unavailable -> 75,
// anything else -> 70. OK -> 0.
int ExitCodeFor(const absl::Status& status);

// The status's message as a std::string (Debian's Abseil has its own
// string_view, which fmt and std::string_view parameters do not take).
std::string StatusText(const absl::Status& status);

// "<what>: <strerror(err)>" with the canonical code for `err` (ENOENT ->
// NotFound, EACCES/EPERM -> PermissionDenied, ...).
absl::Status StatusFromErrno(int err, std::string_view what);

}  // namespace posthorn::tools

#endif  // POSTHORN_TOOLS_COMMON_EXIT_CODES_H_
