// mta/common/disk_full.cpp — see disk_full.h.

#include "mta/common/disk_full.h"

#include <cerrno>
#include <cstring>
#include <string>

namespace posthorn::mta {

bool IsDiskFull(const absl::Status& status) {
  if (absl::IsResourceExhausted(status)) return true;
  const std::string message(status.message());
  return message.find(std::strerror(ENOSPC)) != std::string::npos ||
         message.find(std::strerror(EDQUOT)) != std::string::npos;
}

}  // namespace posthorn::mta
