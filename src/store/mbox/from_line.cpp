// store/mbox/from_line.cpp — see from_line.h.

#include "store/mbox/from_line.h"

#include "fmt/format.h"

namespace posthorn::store::mbox {

std::string FormatFromLine(std::string_view envelope_sender,
                           absl::Time arrival) {
  std::string sender = envelope_sender.empty()
                           ? std::string("MAILER-DAEMON")
                           : std::string(envelope_sender);
  for (char& c : sender) {
    auto byte = static_cast<unsigned char>(c);
    if (byte <= 0x20 || byte == 0x7F) c = '_';
  }
  // asctime(3) layout: day of month space-padded, no time zone, UTC.
  std::string date =
      absl::FormatTime("%a %b %e %H:%M:%S %Y", arrival, absl::UTCTimeZone());
  return fmt::format("{}{} {}\n", kFromPrefix, sender, date);
}

}  // namespace posthorn::store::mbox
