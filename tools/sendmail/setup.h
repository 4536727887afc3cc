// tools/sendmail/setup.h — posthorn.conf turned into the MTA's parts.
//
// PURPOSE
//   Each mode needs some of the same pieces: the Router (local_domains,
//   transport_map, relay_host), the queue (queue_dir), maildrops
//   (spool_dir, mailbox_format), aliases (alias_file), the auth database,
//   and for delivery the agents and the QueueRunner. Each Open*/Make*
//   here builds one of them from the config and turns a failure into the
//   sysexits code and the message the program prints ("sendmail:
//   <message>"), so the modes stay a few lines each.
//
//   Files: routing_setup.cpp (router, networks), store_setup.cpp (queue,
//   mailstore, aliases, auth db, help text), delivery_setup.cpp (agents,
//   runner, forwarding), smtpd_setup.cpp (MtaHandler, server options),
//   log_setup.cpp (Logger for the mta layer).
//
// LIFETIME
//   Delivery holds pointers into the Stores and the Router it was built
//   from: keep them alive (and unmoved) as long as it.

#ifndef POSTHORN_TOOLS_SENDMAIL_SETUP_H_
#define POSTHORN_TOOLS_SENDMAIL_SETUP_H_

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "posthorn/mta/delivery.h"
#include "posthorn/mta/dns.h"
#include "posthorn/mta/host_status.h"
#include "posthorn/mta/local_delivery.h"
#include "posthorn/mta/log.h"
#include "posthorn/mta/queue_runner.h"
#include "posthorn/mta/routing.h"
#include "posthorn/mta/smtpd.h"
#include "posthorn/net/smtp_server.h"
#include "posthorn/store/aliases.h"
#include "posthorn/store/auth_db.h"
#include "posthorn/store/mailstore.h"
#include "posthorn/store/queue.h"
#include "tools/common/config.h"
#include "tools/common/logging.h"
#include "tools/sendmail/flags.h"

namespace posthorn::tools {

// Why a mode could not run: the exit code and the line for stderr.
struct Failure {
  int exit_code;
  std::string message;
};

// Prints "<program>: <message>" on stderr (and logs it when `log`), and
// returns the exit code.
int Report(const SendmailFlags& flags, const Failure& failure,
           Logger* log = nullptr);

// --- log_setup.cpp
// syslog (mail, "sendmail") plus mail_log; stderr when `to_stderr`.
// Only the daemon insists on mail_log (`mail_log_required`): a user who
// submits mail usually cannot open the MTA's log file, and that must not
// stop the submission (syslog still gets the lines).
absl::StatusOr<std::unique_ptr<Logger>> MakeLogger(
    const Config& config, bool to_stderr, bool mail_log_required = false);
mta::LogFunction LogTo(Logger* logger);
// MakeLogger's error as the modes report it: exit 73, "mail_log: ...".
Failure LoggerFailure(const absl::Status& status);

// --- routing_setup.cpp
// The router of the config (transport_map read and parsed here).
std::optional<Failure> MakeRouter(const Config& config,
                                  std::unique_ptr<mta::Router>* router);
std::optional<Failure> MakeTrustedNetworks(const Config& config,
                                           mta::NetworkList* networks);

// --- store_setup.cpp
struct Stores {
  std::unique_ptr<store::Queue> queue;
  std::unique_ptr<store::Mailstore> mailstore;   // OpenMailstore
  std::unique_ptr<store::AliasTable> aliases;    // OpenAliases
  std::unique_ptr<store::AuthDb> auth_db;        // null: no such file
};
std::optional<Failure> OpenQueue(const Config& config, Stores* stores);
std::optional<Failure> OpenMailstore(const Config& config, Stores* stores);
std::optional<Failure> OpenAliases(const Config& config, Stores* stores);
// The daemon's: reopened when newaliases replaced the database
// (alias_reload.h); reloads are logged through `log`.
std::optional<Failure> OpenReloadingAliases(const Config& config,
                                            Stores* stores,
                                            mta::LogFunction log);
// The auth database when auth_db names an existing file; else none.
std::optional<Failure> OpenAuthDbIfPresent(const Config& config,
                                           Stores* stores);
// HELP lines from help_file; empty (the built-in text) when it is missing.
std::vector<std::string> ReadHelpLines(const Config& config, Logger* log);

// --- recipient_check.cpp
// local_recipients as a function: true when any listed source knows the
// user. Null when the list is empty (every local name accepted).
mta::RecipientCheck MakeRecipientCheck(const Config& config,
                                       const Stores& stores);

// --- delivery_setup.cpp
struct Delivery {
  std::unique_ptr<mta::Resolver> resolver;
  std::unique_ptr<mta::HostStatusTable> host_status;
  std::unique_ptr<mta::MailStats> stats;
  mta::LocalAgentOptions local_options;  // also what -bv describes
  std::unique_ptr<mta::DeliveryAgent> local;
  std::unique_ptr<mta::DeliveryAgent> remote;
  std::unique_ptr<mta::QueueRunner> runner;
};
// LocalAgentOptions only (for -bv): mailstore may be null there.
mta::LocalAgentOptions MakeLocalOptions(const Config& config,
                                        const Stores& stores,
                                        const mta::Router& router,
                                        mta::LogFunction log);
// The agents and the runner; `interval` for Start() (daemon / -q30m).
// Needs stores.queue, stores.mailstore, stores.aliases.
std::optional<Failure> MakeDelivery(const Config& config, Stores& stores,
                                    const mta::Router& router,
                                    mta::LogFunction log,
                                    std::chrono::seconds interval,
                                    Delivery* delivery);

// --- smtpd_setup.cpp
// The MtaHandler of the config (hostname, router, trusted networks, queue,
// auth db, recipient check, hop limit, EXPN through the alias table).
// `trusted` and `router` must outlive the handler.
absl::StatusOr<std::unique_ptr<mta::MtaHandler>> MakeHandler(
    const Config& config, const Stores& stores, const mta::Router& router,
    const mta::NetworkList& trusted, bool local_submission,
    mta::LogFunction log,
    std::function<void(const std::string&)> on_queued,
    std::function<void(const std::string&)> on_etrn);
// net::SmtpServerOptions of the config (listen, TLS, limits, threads).
std::optional<Failure> MakeServerOptions(const Config& config,
                                         const Stores& stores, Logger* log,
                                         net::SmtpServerOptions* options);

// The retry schedule of the config.
store::RetryPolicy MakeRetryPolicy(const Config& config);

}  // namespace posthorn::tools

#endif  // POSTHORN_TOOLS_SENDMAIL_SETUP_H_
