// mta/deliver/target_result.cpp — see target_result.h.

#include "mta/deliver/target_result.h"

#include <cerrno>
#include <cstring>

#include "fmt/format.h"

namespace posthorn::mta::deliver {

bool IsDiskFull(const absl::Status& status) {
  if (absl::IsResourceExhausted(status)) return true;
  // The store reports ENOSPC and EDQUOT as Unavailable with strerror text.
  std::string message(status.message());
  return message.find(std::strerror(ENOSPC)) != std::string::npos ||
         message.find(std::strerror(EDQUOT)) != std::string::npos;
}

TargetResult StorageFailure(const absl::Status& status,
                            std::string_view what) {
  std::string reason(status.message());
  if (IsDiskFull(status)) {
    return {DeliveryStatus::kDeferred,
            fmt::format("452 4.2.2 {}: {}", what, reason)};
  }
  return {DeliveryStatus::kDeferred,
          fmt::format("451 4.3.0 {}: {}", what, reason)};
}

}  // namespace posthorn::mta::deliver
