// tools/common/logging.cpp — syslog plus the trace file.

#include "tools/common/logging.h"

#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <utility>

#include "fmt/format.h"
#include "tools/common/trace_file.h"

namespace posthorn::tools {
namespace {

// One line: no newline inside, at most kMaxLogLine octets.
std::string OneLine(std::string_view text) {
  std::string line(text.substr(0, kMaxLogLine));
  for (char& c : line) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return line;
}

void WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // ignored: logging must not stop the service
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<Logger>> Logger::Create(LoggerOptions options) {
  int fd = -1;
  if (!options.trace_path.empty()) {
    auto opened = OpenTraceFile(options.trace_path);
    if (!opened.ok()) return opened.status();
    fd = *opened;
  }
  return std::unique_ptr<Logger>(new Logger(std::move(options), fd));
}

Logger::Logger(LoggerOptions options, int trace_fd)
    : options_(std::move(options)), trace_fd_(trace_fd) {
  if (options_.use_syslog) {
    // openlog keeps the pointer: the string lives as long as the Logger.
    ::openlog(options_.ident.c_str(), LOG_PID, options_.facility);
  }
}

Logger::~Logger() {
  if (trace_fd_ >= 0) ::close(trace_fd_);
  if (options_.use_syslog) ::closelog();
}

std::string Logger::FormatTraceLine(std::string_view ident, long pid,
                                    std::string_view text) {
  const time_t now = ::time(nullptr);
  struct tm local {};
  ::localtime_r(&now, &local);
  char stamp[32];
  if (::strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &local) == 0) {
    stamp[0] = '\0';
  }
  return fmt::format("{} {}[{}]: {}\n", stamp, ident, pid, OneLine(text));
}

std::string Logger::FormatStderrLine(std::string_view ident, long pid,
                                     std::string_view text) {
  return fmt::format("{}[{}]: {}\n", ident, pid, OneLine(text));
}

void Logger::WriteTrace(int fd, std::string_view text) {
  const std::string line =
      FormatTraceLine(options_.ident, static_cast<long>(::getpid()), text);
  WriteAll(fd, line);
}

void Logger::Log(int priority, std::string_view text) {
  if (priority == LOG_DEBUG && !options_.debug) return;
  std::lock_guard lock(mutex_);
  if (options_.use_syslog) {
    ::syslog(priority, "%s", OneLine(text).c_str());
  }
  if (trace_fd_ >= 0) WriteTrace(trace_fd_, text);
  if (options_.to_stderr) {
    WriteAll(STDERR_FILENO,
             FormatStderrLine(options_.ident, static_cast<long>(::getpid()),
                              text));
  }
}

void Logger::Debug(std::string_view text) {
  if (!options_.debug) return;
  std::lock_guard lock(mutex_);
  if (trace_fd_ >= 0) {
    WriteTrace(trace_fd_, text);
  } else if (options_.debug_to_stderr) {
    WriteTrace(STDERR_FILENO, text);
  }
}

}  // namespace posthorn::tools
