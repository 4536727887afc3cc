// tools/sendmail/queue_mode.cpp — `sendmail -q` and friends without -bd:
//   -q          every due message once, then exit
//   -qR<domain> messages with a recipient in that domain, due or not
//   -qI<id>     that message, due or not
//   -q<interval> a queue runner in the foreground until SIGTERM/SIGINT
// As root the process becomes run_as first (queue files belong to it).
// -v shows the delivery log lines on stderr.

#include <pthread.h>
#include <signal.h>
#include <syslog.h>

#include <cstdio>

#include "fmt/format.h"
#include "tools/common/exit_codes.h"
#include "tools/common/privileges.h"
#include "tools/sendmail/modes.h"
#include "tools/sendmail/setup.h"

namespace posthorn::tools {

int RunQueue(const SendmailFlags& flags, const Config& config) {
  // Periodic runs: every thread started from here on leaves SIGTERM and
  // SIGINT to this one, which waits for them.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  if (flags.queue_interval) pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  auto logger = MakeLogger(config, flags.verbose);
  if (!logger.ok()) return Report(flags, LoggerFailure(logger.status()));
  Logger* log = logger->get();
  std::unique_ptr<mta::Router> router;
  Stores stores;
  std::optional<Failure> failure = MakeRouter(config, &router);
  if (!failure) failure = OpenAuthDbIfPresent(config, &stores);  // as root
  if (!failure) {
    if (absl::Status s = DropPrivileges(config.run_as); !s.ok()) {
      failure = Failure{absl::IsNotFound(s) ? kExitConfig : kExitOsErr,
                        StatusText(s)};
    }
  }
  if (!failure) failure = OpenQueue(config, &stores);
  if (!failure) failure = OpenMailstore(config, &stores);
  if (!failure) failure = OpenAliases(config, &stores);
  Delivery delivery;
  if (!failure) {
    failure = MakeDelivery(config, stores, *router, LogTo(log),
                           flags.queue_interval.value_or(
                               config.queue_run_interval),
                           &delivery);
  }
  if (failure) return Report(flags, *failure, log);
  mta::QueueRunner& runner = *delivery.runner;

  if (!flags.queue_id.empty()) {
    runner.RunMessage(flags.queue_id);
    return kExitOk;
  }
  if (!flags.queue_domain.empty()) {
    runner.RunForDomain(flags.queue_domain);  // synchronous before Start()
    return kExitOk;
  }
  if (!flags.queue_interval) {
    runner.RunOnce();
    return kExitOk;
  }
  runner.Start();
  log->Log(LOG_INFO, fmt::format("queue runner started, every {}s",
                                 flags.queue_interval->count()));
  int signal_number = 0;
  sigwait(&stop, &signal_number);
  log->Log(LOG_INFO, "stopping");
  runner.Stop();
  return kExitOk;
}

}  // namespace posthorn::tools
