// mta/deliver/delivery_log.h — the per-recipient log line of a delivery.
//
//   "<id>: to=<addr>, relay=<relay>, delay=<s.s>, status=sent (<reply>)"
//
// delay is the time since the message arrived, one decimal (sendmail and
// Postfix print it the same way). Address and reply may hold network
// bytes: they are escaped (mta::EscapeForLog).

#ifndef POSTHORN_SRC_MTA_DELIVER_DELIVERY_LOG_H_
#define POSTHORN_SRC_MTA_DELIVER_DELIVERY_LOG_H_

#include <string>
#include <string_view>

#include "absl/time/time.h"
#include "posthorn/mta/delivery.h"

namespace posthorn::mta::deliver {

// "sent", "deferred", "bounced".
std::string_view StatusWord(DeliveryStatus status);

std::string FormatDeliveryLine(std::string_view id, std::string_view address,
                               std::string_view relay, absl::Duration delay,
                               DeliveryStatus status, std::string_view reply);

}  // namespace posthorn::mta::deliver

#endif  // POSTHORN_SRC_MTA_DELIVER_DELIVERY_LOG_H_
