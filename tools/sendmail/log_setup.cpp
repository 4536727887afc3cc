// tools/sendmail/log_setup.cpp — the Logger of sendmail (syslog facility
// mail, ident "sendmail", mail_log as the trace file, stderr for -bd and
// -v) and the mta layer's LogFunction over it; also Report().

#include <syslog.h>

#include <cstdio>
#include <utility>

#include "fmt/format.h"
#include "tools/common/exit_codes.h"
#include "tools/sendmail/setup.h"

namespace posthorn::tools {
namespace {

int SyslogPriority(mta::LogLevel level) {
  switch (level) {
    case mta::LogLevel::kDebug: return LOG_DEBUG;
    case mta::LogLevel::kInfo: return LOG_INFO;
    case mta::LogLevel::kNotice: return LOG_NOTICE;
    case mta::LogLevel::kWarning: return LOG_WARNING;
    case mta::LogLevel::kError: return LOG_ERR;
  }
  return LOG_INFO;
}

}  // namespace

int Report(const SendmailFlags& flags, const Failure& failure, Logger* log) {
  fmt::print(stderr, "{}: {}\n", flags.program, failure.message);
  std::fflush(stderr);
  if (log != nullptr) log->Log(LOG_ERR, failure.message);
  return failure.exit_code;
}

absl::StatusOr<std::unique_ptr<Logger>> MakeLogger(const Config& config,
                                                   bool to_stderr,
                                                   bool mail_log_required) {
  LoggerOptions options;
  options.ident = "sendmail";
  options.facility = LOG_MAIL;
  options.trace_path = config.mail_log;
  options.to_stderr = to_stderr;
  auto logger = Logger::Create(options);
  if (logger.ok() || mail_log_required || config.mail_log.empty()) {
    return logger;
  }
  options.trace_path.clear();
  return Logger::Create(std::move(options));
}

Failure LoggerFailure(const absl::Status& status) {
  return {kExitCantCreat, fmt::format("mail_log: {}", StatusText(status))};
}

mta::LogFunction LogTo(Logger* logger) {
  return [logger](mta::LogLevel level, std::string_view line) {
    logger->Log(SyslogPriority(level), line);
  };
}

}  // namespace posthorn::tools
