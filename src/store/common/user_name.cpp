// store/common/user_name.cpp — ValidateUserName (posthorn/store/mailstore.h).
//
// User names arrive from POP3 USER/APOP, SMTP RCPT local parts and the
// command line; they become file names in the spool. Only a conservative
// portable set is accepted, so no name can climb out of its folder ("..",
// "/"), hide (leading '.'), look like an option (leading '-'), or carry
// bytes a log line or a path would misread.

#include "fmt/format.h"
#include "posthorn/store/mailstore.h"

namespace posthorn::store {

absl::Status ValidateUserName(std::string_view user) {
  if (user.empty()) return absl::InvalidArgumentError("empty user name");
  if (user.size() > kMaxUserNameLength) {
    return absl::InvalidArgumentError(
        fmt::format("user name longer than {} bytes", kMaxUserNameLength));
  }
  if (user.front() == '.' || user.front() == '-') {
    return absl::InvalidArgumentError(
        "user name may not start with '.' or '-'");
  }
  for (char c : user) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    if (!ok) {
      return absl::InvalidArgumentError(
          "user name may hold only letters, digits, '.', '_' and '-'");
    }
  }
  return absl::OkStatus();
}

}  // namespace posthorn::store
