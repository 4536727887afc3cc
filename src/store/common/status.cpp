// store/common/status.cpp — see posthorn/store/status.h.

#include "posthorn/store/status.h"

#include "absl/strings/cord.h"

namespace posthorn::store {
namespace {
// The payload type URL that marks "in use"; its value is unused.
constexpr absl::string_view kInUseUrl = "posthorn.store/in-use";
}  // namespace

absl::Status InUseError(std::string_view message) {
  absl::Status status = absl::UnavailableError(std::string(message));
  status.SetPayload(kInUseUrl, absl::Cord("1"));
  return status;
}

bool IsInUse(const absl::Status& status) {
  return status.code() == absl::StatusCode::kUnavailable &&
         status.GetPayload(kInUseUrl).has_value();
}

}  // namespace posthorn::store
