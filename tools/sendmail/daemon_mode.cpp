// tools/sendmail/daemon_mode.cpp — `sendmail -bd [-q30m]`: the SMTP
// daemon in the foreground (systemd style) with its queue runner.
//
//   1. config -> router, queue, maildrops, aliases (reopened after
//      newaliases), auth db, runner;
//   2. bind smtpd_listen, print "sendmail: listening on <addr>" per socket;
//   3. become run_as (when root and run_as is set);
//   4. start the runner (every -q interval, else queue_run_interval), the
//      inotify watch of queue_dir/msg (command-line submissions; not with
//      `store = postgresql`, whose queue is no folder: such mail waits
//      for the next queue run) and serve; mail accepted over SMTP is
//      kicked at once (on_queued), ETRN starts a run for its domain;
//   5. SIGTERM / SIGINT (handled by the server): stop accepting, let
//      sessions and deliveries in progress finish, exit 0.
//
// EXIT STATUS
//   0 after a signal; 64 / 78 configuration; 69 cannot listen; 71 / 77
//   privileges or files; 73 queue folder.

#include <syslog.h>

#include <cstdio>

#include "fmt/format.h"
#include "posthorn/store/postgresql.h"
#include "tools/common/exit_codes.h"
#include "tools/common/mailstore_config.h"
#include "tools/common/privileges.h"
#include "tools/sendmail/modes.h"
#include "tools/sendmail/queue_watch.h"
#include "tools/sendmail/setup.h"

namespace posthorn::tools {

int RunDaemon(const SendmailFlags& flags, const Config& config) {
  auto logger = MakeLogger(config, /*to_stderr=*/true,
                           /*mail_log_required=*/true);
  if (!logger.ok()) return Report(flags, LoggerFailure(logger.status()));
  Logger* log = logger->get();
  const mta::LogFunction log_fn = LogTo(log);

  std::unique_ptr<mta::Router> router;
  mta::NetworkList trusted;
  Stores stores;
  Delivery delivery;
  std::optional<Failure> failure = MakeRouter(config, &router);
  if (!failure) failure = MakeTrustedNetworks(config, &trusted);
  if (!failure) failure = OpenQueue(config, &stores);
  if (!failure) failure = OpenMailstore(config, &stores);
  if (!failure) failure = OpenReloadingAliases(config, &stores, log_fn);
  if (!failure) failure = OpenAuthDbIfPresent(config, &stores);
  if (!failure) {
    failure = MakeDelivery(
        config, stores, *router, log_fn,
        flags.queue_interval.value_or(config.queue_run_interval), &delivery);
  }
  net::SmtpServerOptions server_options;
  if (!failure) failure = MakeServerOptions(config, stores, log,
                                            &server_options);
  if (failure) return Report(flags, *failure, log);
  for (const std::string& warning : stores.aliases->warnings()) {
    log->Log(LOG_WARNING, warning);
  }

  mta::QueueRunner* runner = delivery.runner.get();
  // Mail accepted over SMTP is kicked by on_queued, after its commit let
  // go of it; command-line mail by the queue watch once its writer did.
  // Whoever sees an id first kicks it. Kicks before runner->Start() are
  // ignored; Start()'s first scan covers them. A PostgreSQL queue has no
  // folder to watch: command-line -odq mail is announced through the
  // database instead (store::PgQueueListener), to every node.
  std::unique_ptr<QueueWatch> watch;
  std::unique_ptr<store::PgQueueListener> listener;
  const auto no_wakeup = [log](const char* what, const absl::Status& why) {
    log->Log(LOG_WARNING,
             fmt::format("no {} ({}): command-line mail waits for the next "
                         "queue run",
                         what, StatusText(why)));
  };
  if (UsesPostgresql(config)) {
    auto started = store::PgQueueListener::Start(
        PgOptionsFromConfig(config, "listen"),
        [runner](const std::string& id) { runner->Kick(id); });
    if (started.ok()) {
      listener = *std::move(started);
    } else {
      no_wakeup("queue listener", started.status());
    }
  } else {
    store::Queue* queue = stores.queue.get();
    auto started = QueueWatch::Start(
        fmt::format("{}/msg", config.queue_dir),
        [queue](const std::string& id) {
          auto lease = queue->Lease(id);  // released at once
          if (lease.ok()) return Readiness::kReady;
          return store::IsInUse(lease.status()) ? Readiness::kBusy
                                                : Readiness::kGone;
        },
        [runner](const std::string& id) { runner->Kick(id); });
    if (started.ok()) {
      watch = *std::move(started);
    } else {
      no_wakeup("queue watch", started.status());
    }
  }
  QueueWatch* watch_ptr = watch.get();
  auto handler = MakeHandler(
      config, stores, *router, trusted, /*local_submission=*/false, log_fn,
      [runner, watch_ptr](const std::string& id) {
        if (watch_ptr == nullptr || watch_ptr->FirstSight(id)) {
          runner->Kick(id);
        }
      },
      [runner](const std::string& domain) { runner->RunForDomain(domain); });
  if (!handler.ok()) {
    return Report(flags, {kExitSoftware, StatusText(handler.status())}, log);
  }

  auto server = net::SmtpServer::Create(std::move(server_options),
                                        handler->get());
  if (!server.ok()) {
    const absl::Status& s = server.status();
    const int code = absl::IsPermissionDenied(s) ? kExitNoPerm
                     : absl::IsInvalidArgument(s) ? kExitConfig
                                                  : kExitUnavailable;
    return Report(flags, {code, fmt::format("cannot start: {}",
                                            StatusText(s))},
                  log);
  }
  for (const std::string& endpoint : (*server)->local_endpoints()) {
    fmt::print(stderr, "sendmail: listening on {}\n", endpoint);
    log->Log(LOG_INFO, fmt::format("listening on {}", endpoint));
  }
  std::fflush(stderr);
  // The queue's folders were made (when missing) as root above.
  const std::string& q = config.queue_dir;
  absl::Status handed = GiveToUser(
      {q, q + "/tmp", q + "/msg", q + "/corrupt", q + "/.hoststat",
       q + "/.mailstats", q + "/.mailstats.lock"},
      config.run_as);
  if (!handed.ok()) {
    return Report(flags, {absl::IsNotFound(handed) ? kExitConfig : kExitOsErr,
                          StatusText(handed)},
                  log);
  }
  if (absl::Status s = DropPrivileges(config.run_as); !s.ok()) {
    return Report(flags, {absl::IsNotFound(s) ? kExitConfig : kExitOsErr,
                          StatusText(s)},
                  log);
  }

  runner->Start();
  absl::Status ran = (*server)->Run();
  log->Log(LOG_INFO, "stopping: waiting for deliveries in progress");
  if (watch) watch->Stop();
  runner->Stop();
  if (!ran.ok()) {
    return Report(flags, {kExitUnavailable,
                          fmt::format("stopped: {}", StatusText(ran))},
                  log);
  }
  log->Log(LOG_INFO, "stopped");
  return kExitOk;
}

}  // namespace posthorn::tools
