// tools/common/logging.h — where a program's log lines go: syslog and an
// optional trace file.
//
// PURPOSE
//   Every line goes to syslog (openlog(ident, LOG_PID, facility)) and, when
//   a trace file is open, to it as
//     "YYYY-MM-DD HH:MM:SS ident[pid]: text"   (local time)
//   Debug lines (the protocol log of popper -d) go only to the trace
//   file, or to stderr when there is none and debug_to_stderr is set.
//   With to_stderr (sendmail -bd, -v) every line written also goes to
//   stderr as "ident[pid]: text".
//
// GUARANTEES
//   Thread-safe: one mutex; each line is written with one write(2) on an
//   O_APPEND descriptor, so lines of several processes do not interleave.
//   Text is written as given: callers escape network data first
//   (pop3d::EscapeForLog); a newline inside `text` is replaced by a space
//   so one call is always one line.
//
// LIMITS
//   Lines are cut at kMaxLogLine octets. A failed write is ignored (a full
//   disk must not stop the service).

#ifndef POSTHORN_TOOLS_COMMON_LOGGING_H_
#define POSTHORN_TOOLS_COMMON_LOGGING_H_

#include <syslog.h>

#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace posthorn::tools {

inline constexpr std::size_t kMaxLogLine = 2048;

struct LoggerOptions {
  std::string ident = "popper";
  int facility = LOG_LOCAL0;
  bool use_syslog = true;
  std::string trace_path;        // "" = no trace file
  bool debug = false;            // -d: debug lines are written
  bool debug_to_stderr = false;  // debug lines to stderr without a trace file
  bool to_stderr = false;        // every written line also to stderr
};

class Logger {
 public:
  // Opens the trace file with OpenTraceFile (errors as it returns them)
  // and syslog.
  static absl::StatusOr<std::unique_ptr<Logger>> Create(LoggerOptions options);
  ~Logger();
  Logger(const Logger&) = delete;
  Logger& operator=(const Logger&) = delete;

  // `priority`: LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO, LOG_DEBUG.
  // LOG_DEBUG lines are dropped unless options.debug.
  void Log(int priority, std::string_view text);
  // A debug line (protocol log): trace file, else stderr, never syslog.
  void Debug(std::string_view text);

  bool debug() const { return options_.debug; }

  // "popper[4711]: text\n", the stderr form (exposed for tests).
  static std::string FormatStderrLine(std::string_view ident, long pid,
                                      std::string_view text);
  // "2024-05-01 12:00:00 popper[4711]: text\n" (exposed for tests).
  static std::string FormatTraceLine(std::string_view ident, long pid,
                                     std::string_view text);

 private:
  Logger(LoggerOptions options, int trace_fd);
  void WriteTrace(int fd, std::string_view text);

  LoggerOptions options_;
  int trace_fd_ = -1;
  std::mutex mutex_;
};

}  // namespace posthorn::tools

#endif  // POSTHORN_TOOLS_COMMON_LOGGING_H_
