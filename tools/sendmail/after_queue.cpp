// tools/sendmail/after_queue.cpp — delivery right after a command-line
// submission or a -bs session: -odi in the foreground, -odb in a detached
// child, -odq not at all (the daemon's queue watch or the next -q).

#include <fcntl.h>
#include <syslog.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "fmt/format.h"
#include "tools/sendmail/modes.h"
#include "tools/sendmail/setup.h"

namespace posthorn::tools {
namespace {

// Builds the runner and attempts each message once (due or not).
void DeliverNow(const SendmailFlags& flags, const Config& config,
                const std::vector<std::string>& queue_ids) {
  auto logger = MakeLogger(config, flags.verbose);
  if (!logger.ok()) return;
  Logger* log = logger->get();
  std::unique_ptr<mta::Router> router;
  Stores stores;
  Delivery delivery;
  std::optional<Failure> failure = MakeRouter(config, &router);
  if (!failure) failure = OpenQueue(config, &stores);
  if (!failure) failure = OpenMailstore(config, &stores);
  if (!failure) failure = OpenAliases(config, &stores);
  if (!failure) failure = OpenAuthDbIfPresent(config, &stores);
  if (!failure) {
    failure = MakeDelivery(config, stores, *router, LogTo(log),
                           config.queue_run_interval, &delivery);
  }
  if (failure) {
    // The message stays queued for the daemon or the next queue run.
    log->Log(LOG_WARNING, fmt::format("delivery postponed: {}",
                                      failure->message));
    if (flags.verbose) Report(flags, *failure);
    return;
  }
  for (const std::string& id : queue_ids) delivery.runner->RunMessage(id);
}

}  // namespace

void DeliverQueued(const SendmailFlags& flags, const Config& config,
                   const std::vector<std::string>& queue_ids) {
  if (queue_ids.empty() || flags.delivery == DeliveryMode::kQueueOnly) return;
  if (flags.delivery == DeliveryMode::kInteractive) {
    DeliverNow(flags, config, queue_ids);
    return;
  }
  // -odb: the caller (cron, a web application) must not wait for a slow
  // remote host. First flush what the caller should see.
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t child = ::fork();
  if (child != 0) return;  // parent (or fork failed: the queue keeps it)
  ::setsid();
  const int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null >= 0) {
    ::dup2(null, STDIN_FILENO);
    ::dup2(null, STDOUT_FILENO);
    ::dup2(null, STDERR_FILENO);
    if (null > STDERR_FILENO) ::close(null);
  }
  SendmailFlags quiet = flags;
  quiet.verbose = false;  // stderr is /dev/null now
  DeliverNow(quiet, config, queue_ids);
  std::_Exit(0);  // no atexit handlers or buffers of the parent
}

}  // namespace posthorn::tools
