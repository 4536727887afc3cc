// store/mbox/from_line.h — the "From " line that opens each mbox message.
//
//   From <envelope sender or MAILER-DAEMON> <asctime date, UTC>\n
//   From bob@example.org Thu Jan  1 00:00:00 1970
//
// The sender is written as one word: bytes a reader would split on (space,
// tab, control bytes, DEL) become '_', so the date stays the last 24 bytes
// of the line, where mail.local, mutt and python's mailbox look for it.

#ifndef POSTHORN_SRC_STORE_MBOX_FROM_LINE_H_
#define POSTHORN_SRC_STORE_MBOX_FROM_LINE_H_

#include <string>
#include <string_view>

#include "absl/time/time.h"

namespace posthorn::store::mbox {

inline constexpr std::string_view kFromPrefix = "From ";

// The whole line, ending in "\n".
std::string FormatFromLine(std::string_view envelope_sender,
                           absl::Time arrival);

}  // namespace posthorn::store::mbox

#endif  // POSTHORN_SRC_STORE_MBOX_FROM_LINE_H_
