// posthorn/mta/log.h — how the mta layer reports events.
//
// One line per event, in the manner of Postfix, always starting with the
// queue id when there is one:
//   "0123ABC...: from=<a@example.org>, size=1234, nrcpt=2 (queue active)"
//   "0123ABC...: to=<b@example.net>, relay=mx.example.net[192.0.2.1]:25,
//    delay=1.2, status=sent (250 2.0.0 Ok)"
// Network data in a line is escaped by the caller (no control bytes).

#ifndef POSTHORN_MTA_LOG_H_
#define POSTHORN_MTA_LOG_H_

#include <functional>
#include <string>
#include <string_view>

namespace posthorn::mta {

enum class LogLevel { kDebug, kInfo, kNotice, kWarning, kError };

// Thread-safe sink for finished lines (no trailing newline). Null: silent.
using LogFunction = std::function<void(LogLevel level, std::string_view line)>;

// Control bytes and non-ASCII as "\xNN", so a peer cannot forge lines.
std::string EscapeForLog(std::string_view text);

}  // namespace posthorn::mta

#endif  // POSTHORN_MTA_LOG_H_
