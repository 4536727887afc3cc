// tools/sendmail/after_queue.cpp — delivery right after a command-line
// submission or a -bs session: -odi in the foreground, -odb in a detached
// child, -odq not at all (the daemon's queue watch or the next -q). The
// DSNs those attempts queue (a bounce to a local sender, say) are
// attempted in the same run.

#include <fcntl.h>
#include <syslog.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "fmt/format.h"
#include "posthorn/store/postgresql.h"
#include "tools/common/exit_codes.h"
#include "tools/common/mailstore_config.h"
#include "tools/sendmail/modes.h"
#include "tools/sendmail/setup.h"

namespace posthorn::tools {
namespace {

// A run for one submission attempts at most this many notices it caused
// (one per message with a failed or NOTIFY=SUCCESS recipient).
constexpr std::size_t kMaxNoticeRuns = 100;

// Attempts each message queued by the null sender since `start` (the
// DSNs the runner just wrote), except the submitted ones, once.
void RunNotices(store::Queue& queue, mta::QueueRunner& runner,
                absl::Time start, const std::vector<std::string>& submitted) {
  auto listed = queue.List();
  if (!listed.ok()) return;  // they wait for the next queue run
  std::size_t runs = 0;
  for (const store::QueueEnvelope& envelope : *listed) {
    if (runs == kMaxNoticeRuns) break;
    if (!envelope.sender.empty() || envelope.arrival < start ||
        std::find(submitted.begin(), submitted.end(), envelope.id) !=
            submitted.end()) {
      continue;
    }
    runner.RunMessage(envelope.id);
    ++runs;
  }
}

// Builds the runner and attempts each message once (due or not), then
// the notices those attempts queued.
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
  // Notices (bounces, success DSNs) these attempts queue get a first
  // attempt too, instead of waiting for the daemon or the next -q: they
  // are the null sender's messages that arrived from `start` on. The
  // arrival is stored to the microsecond; whole seconds leave no doubt.
  const absl::Time start = absl::FromUnixSeconds(absl::ToUnixSeconds(
      absl::Now()));
  std::size_t attempted = 0;
  for (const std::string& id : queue_ids) {
    attempted += delivery.runner->RunMessage(id).messages;
  }
  if (attempted > 0) RunNotices(*stores.queue, *delivery.runner, start,
                                queue_ids);
}

// -odq on the shared database: the daemons have no folder to watch, so
// they are told (best effort: a daemon that misses it runs the message at
// its next queue run).
void AnnounceQueued(const SendmailFlags& flags, const Config& config,
                    const std::vector<std::string>& queue_ids) {
  const store::PgStoreOptions options = PgOptionsFromConfig(config, "notify");
  for (const std::string& id : queue_ids) {
    const absl::Status s = store::AnnouncePgQueueMail(options, id);
    if (s.ok()) continue;
    auto logger = MakeLogger(config, flags.verbose);
    if (logger.ok()) {
      (*logger)->Log(LOG_WARNING,
                     fmt::format("{}: not announced to the daemons ({}); "
                                 "it waits for their next queue run",
                                 id, StatusText(s)));
    }
    return;  // the database is not answering: the others would fail too
  }
}

}  // namespace

void DeliverQueued(const SendmailFlags& flags, const Config& config,
                   const std::vector<std::string>& queue_ids) {
  if (queue_ids.empty()) return;
  if (flags.delivery == DeliveryMode::kQueueOnly) {
    if (UsesPostgresql(config)) AnnounceQueued(flags, config, queue_ids);
    return;
  }
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
