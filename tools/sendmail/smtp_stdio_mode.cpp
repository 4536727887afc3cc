// tools/sendmail/smtp_stdio_mode.cpp — `sendmail -bs`: one SMTP session on
// stdin/stdout, as mail programs (and inetd) use it. A local submission:
// the client may relay (it is on this host), and missing Date:,
// Message-ID: and From: are added. Messages accepted are delivered after
// the session as -odb / -odi / -odq say.

#include <unistd.h>

#include <mutex>
#include <string>
#include <vector>

#include "fmt/format.h"
#include "tools/common/exit_codes.h"
#include "tools/sendmail/modes.h"
#include "tools/sendmail/setup.h"

namespace posthorn::tools {

int RunSmtpStdio(const SendmailFlags& flags, const Config& config) {
  auto logger = MakeLogger(config, flags.verbose);
  if (!logger.ok()) return Report(flags, LoggerFailure(logger.status()));
  Logger* log = logger->get();
  std::unique_ptr<mta::Router> router;
  mta::NetworkList trusted;
  Stores stores;
  std::optional<Failure> failure = MakeRouter(config, &router);
  if (!failure) failure = MakeTrustedNetworks(config, &trusted);
  if (!failure) failure = OpenQueue(config, &stores);
  if (!failure) failure = OpenAliases(config, &stores);
  // AUTH makes no sense on a local pipe; the auth db is only a user source
  // here, and one this user cannot read is left out.
  if (!failure && OpenAuthDbIfPresent(config, &stores)) {
    stores.auth_db.reset();
  }
  net::SmtpServerOptions options;
  if (!failure) failure = MakeServerOptions(config, stores, log, &options);
  if (failure) return Report(flags, *failure, log);
  options.session.auth_enabled = false;

  std::mutex mutex;
  std::vector<std::string> queued;
  auto handler = MakeHandler(
      config, stores, *router, trusted, /*local_submission=*/true, LogTo(log),
      [&](const std::string& id) {
        std::lock_guard lock(mutex);
        queued.push_back(id);
      },
      nullptr);
  if (!handler.ok()) {
    return Report(flags, {kExitSoftware, StatusText(handler.status())}, log);
  }
  absl::Status ended = net::ServeSmtpOnStdio(options, handler->get(),
                                             STDIN_FILENO, STDOUT_FILENO);
  if (!ended.ok()) {
    log->Log(LOG_INFO, fmt::format("session ended: {}", StatusText(ended)));
  }
  handler->reset();
  stores.queue.reset();
  std::vector<std::string> ids;
  {
    std::lock_guard lock(mutex);
    ids = queued;
  }
  DeliverQueued(flags, config, ids);
  return kExitOk;
}

}  // namespace posthorn::tools
