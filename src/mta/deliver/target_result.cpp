// mta/deliver/target_result.cpp — see target_result.h.

#include "mta/deliver/target_result.h"

#include "fmt/format.h"
#include "mta/common/disk_full.h"

namespace posthorn::mta::deliver {

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
