// store/common/delivery_id.cpp — ValidateDeliveryId (posthorn/store/
// mailstore.h).
//
// Delivery ids come from the MTA (queue id, recipient index, user) and end
// up in journal files and file names only as digests, but they are still
// bounded and printable so a log line or a journal never carries a
// control byte.

#include "fmt/format.h"
#include "posthorn/store/mailstore.h"

namespace posthorn::store {

absl::Status ValidateDeliveryId(std::string_view delivery_id) {
  if (delivery_id.size() > kMaxDeliveryIdLength) {
    return absl::InvalidArgumentError(fmt::format(
        "delivery id longer than {} bytes", kMaxDeliveryIdLength));
  }
  for (char c : delivery_id) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x21 || u > 0x7E) {
      return absl::InvalidArgumentError(
          "delivery id may hold only printable ASCII without spaces");
    }
  }
  return absl::OkStatus();
}

}  // namespace posthorn::store
