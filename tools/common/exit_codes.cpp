// tools/common/exit_codes.cpp — status -> sysexits code, errno -> status.

#include "tools/common/exit_codes.h"

#include <sysexits.h>

#include <cstring>
#include <string>

#include "fmt/format.h"

namespace posthorn::tools {

static_assert(kExitUsage == EX_USAGE && kExitDataErr == EX_DATAERR &&
              kExitNoInput == EX_NOINPUT && kExitNoUser == EX_NOUSER &&
              kExitUnavailable == EX_UNAVAILABLE &&
              kExitSoftware == EX_SOFTWARE && kExitOsErr == EX_OSERR &&
              kExitCantCreat == EX_CANTCREAT && kExitIoErr == EX_IOERR &&
              kExitTempFail == EX_TEMPFAIL && kExitNoPerm == EX_NOPERM &&
              kExitConfig == EX_CONFIG);

int ExitCodeFor(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kOk: return kExitOk;
    case absl::StatusCode::kNotFound: return kExitNoInput;
    case absl::StatusCode::kPermissionDenied: return kExitNoPerm;
    case absl::StatusCode::kDataLoss:
    case absl::StatusCode::kInvalidArgument: return kExitDataErr;
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kAlreadyExists: return kExitCantCreat;
    case absl::StatusCode::kUnavailable: return kExitTempFail;
    default: return kExitSoftware;
  }
}

std::string StatusText(const absl::Status& status) {
  return std::string(status.message());
}

absl::Status StatusFromErrno(int err, std::string_view what) {
  char buffer[256];
  // GNU strerror_r returns the message (maybe not in buffer).
  const char* text = ::strerror_r(err, buffer, sizeof buffer);
  return absl::Status(absl::ErrnoToStatusCode(err),
                      fmt::format("{}: {}", what, text));
}

}  // namespace posthorn::tools
