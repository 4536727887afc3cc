// mta/deliver/target_result.h — the result of delivering to one final
// target of a local recipient (a maildrop, a file, a program, a forward),
// and how storage errors become replies:
//   disk full / quota / ResourceExhausted -> "452 4.2.2 <what>: <reason>"
//   any other error                       -> "451 4.3.0 <what>: <reason>"
// both deferred: the administrator can fix them, the queue retries.

#ifndef POSTHORN_SRC_MTA_DELIVER_TARGET_RESULT_H_
#define POSTHORN_SRC_MTA_DELIVER_TARGET_RESULT_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "posthorn/mta/delivery.h"

namespace posthorn::mta::deliver {

struct TargetResult {
  DeliveryStatus status = DeliveryStatus::kDeferred;
  std::string reply;
};

TargetResult StorageFailure(const absl::Status& status, std::string_view what);

}  // namespace posthorn::mta::deliver

#endif  // POSTHORN_SRC_MTA_DELIVER_TARGET_RESULT_H_
