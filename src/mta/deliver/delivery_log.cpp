// mta/deliver/delivery_log.cpp — see delivery_log.h.

#include "mta/deliver/delivery_log.h"

#include <algorithm>

#include "fmt/format.h"
#include "posthorn/mta/log.h"

namespace posthorn::mta::deliver {

std::string_view StatusWord(DeliveryStatus status) {
  switch (status) {
    case DeliveryStatus::kSent:
      return "sent";
    case DeliveryStatus::kDeferred:
      return "deferred";
    case DeliveryStatus::kBounced:
      return "bounced";
  }
  return "deferred";
}

std::string FormatDeliveryLine(std::string_view id, std::string_view address,
                               std::string_view relay, absl::Duration delay,
                               DeliveryStatus status, std::string_view reply) {
  // A clock step backwards must not print a negative delay.
  double seconds = std::max(0.0, absl::ToDoubleSeconds(delay));
  return fmt::format("{}: to=<{}>, relay={}, delay={:.1f}, status={} ({})", id,
                     EscapeForLog(address), EscapeForLog(relay), seconds,
                     StatusWord(status), EscapeForLog(reply));
}

}  // namespace posthorn::mta::deliver
