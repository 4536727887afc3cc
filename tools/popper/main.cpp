// popper — the POP3 server (RFC 1939), from inetd or as a daemon.
//
// SYNOPSIS
//   popper [-s] [-d] [-D] [-b dir] [-T seconds] [-t file] [-C conf]
//          [-l addr:port]... [-L addr:port]...
//          [--tls-cert file --tls-key file] [-k]
//
// DESCRIPTION
//   Without -l, -L and -D: one session on stdin/stdout, for inetd
//   (`pop3 stream tcp nowait root /usr/sbin/popper popper -s`). With -l /
//   -L (or -D and the config's pop3_listen / pop3_tls_listen): a daemon
//   that prints "popper: listening on <addr:port>" on stderr per bound
//   socket and stops cleanly (exit 0) on SIGTERM / SIGINT. Users and
//   secrets from the auth database (popauth), maildrops from spool_dir
//   (mbox or Maildir), or both from PostgreSQL with `store = postgresql`
//   (several popper nodes on one database). Everything is in
//   docs/popper.md.
//
// SECURITY
//   Moderately security-sensitive: talks to anyone who can connect, as
//   root until the sockets are bound and the auth database is open, then
//   as run_as. The protocol, limits and login policy live in the library
//   (net::Pop3Server, pop3d::Pop3Service); this file only wires argv and
//   posthorn.conf to them. The -t file is opened without following
//   symlinks and refused with more than one link (qpopper's trace-file
//   hole).
//
// EXIT STATUS (sysexits.h)
//   0 ok; 64 usage (also -k); 65 the auth database is not one; 66 it is
//   missing; 69 the server could not start; 73 the trace file is refused;
//   77 permission denied; 78 configuration error.

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "fmt/format.h"
#include "posthorn/net/pop3_server.h"
#include "posthorn/pop3d/pop3_service.h"
#include "posthorn/store/auth_db.h"
#include "tools/common/config.h"
#include "tools/common/exit_codes.h"
#include "tools/common/logging.h"
#include "tools/common/mailstore_config.h"
#include "tools/common/privileges.h"
#include "tools/popper/flags.h"

namespace posthorn::tools {
namespace {

// A failure to start: message on stderr (and in the log when open).
struct Failure {
  int exit_code;
  std::string message;
};

int Report(const Failure& failure, Logger* logger) {
  fmt::print(stderr, "popper: {}\n", failure.message);
  if (logger != nullptr) logger->Log(LOG_ERR, failure.message);
  return failure.exit_code;
}

int SyslogPriority(pop3d::LogLevel level) {
  switch (level) {
    case pop3d::LogLevel::kDebug: return LOG_DEBUG;
    case pop3d::LogLevel::kInfo: return LOG_INFO;
    case pop3d::LogLevel::kNotice: return LOG_NOTICE;
    case pop3d::LogLevel::kWarning: return LOG_WARNING;
    case pop3d::LogLevel::kError: return LOG_ERR;
  }
  return LOG_INFO;
}

// Everything the flags and the config decide, checked.
struct Settings {
  std::vector<std::string> listen;
  std::vector<std::string> listen_tls;
  std::optional<net::TlsFiles> tls;
  std::chrono::seconds timeout{600};
  std::optional<std::string> bulletin_dir;
};

std::optional<Failure> Resolve(const PopperFlags& flags, const Config& config,
                               Settings* settings) {
  // TLS: the flags replace the config's pair.
  if (flags.tls_cert) {
    settings->tls = net::TlsFiles{*flags.tls_cert, *flags.tls_key};
  } else if (!config.tls_cert.empty() || !config.tls_key.empty()) {
    if (config.tls_cert.empty() || config.tls_key.empty()) {
      return Failure{kExitConfig,
                     fmt::format("{}: tls_cert and tls_key go together",
                                 config.path)};
    }
    settings->tls = net::TlsFiles{config.tls_cert, config.tls_key};
  }
  if (settings->tls) {
    for (const std::string& file :
         {settings->tls->cert_file, settings->tls->key_file}) {
      if (::access(file.c_str(), R_OK) != 0) {
        return Failure{flags.tls_cert ? kExitUsage : kExitConfig,
                       StatusText(StatusFromErrno(errno, file))};
      }
    }
  }

  settings->listen = flags.listen;
  settings->listen_tls = flags.listen_tls;
  if (!flags.listen_tls.empty() && !settings->tls) {
    return Failure{kExitUsage,
                   "-L needs a certificate: --tls-cert and --tls-key (or "
                   "tls_cert and tls_key in the config)"};
  }
  if (flags.listen.empty() && flags.listen_tls.empty() && flags.daemon) {
    settings->listen = config.pop3_listen;
    settings->listen_tls = config.pop3_tls_listen;
    if (settings->listen.empty() && settings->listen_tls.empty()) {
      return Failure{kExitConfig,
                     fmt::format("{}: -D needs pop3_listen or "
                                 "pop3_tls_listen",
                                 config.path)};
    }
    if (!settings->listen_tls.empty() && !settings->tls) {
      return Failure{kExitConfig,
                     fmt::format("{}: pop3_tls_listen needs tls_cert and "
                                 "tls_key",
                                 config.path)};
    }
  }

  settings->timeout = flags.timeout.value_or(config.pop3_timeout);
  if (settings->timeout.count() <= 0) {
    return Failure{kExitConfig,
                   fmt::format("{}: pop3_timeout must be at least 1 second",
                               config.path)};
  }

  if (flags.bulletin_dir) {
    settings->bulletin_dir = *flags.bulletin_dir;
  } else if (!config.bulletin_dir.empty()) {
    settings->bulletin_dir = config.bulletin_dir;
  }
  if (settings->bulletin_dir) {
    struct stat st;
    if (::stat(settings->bulletin_dir->c_str(), &st) != 0) {
      const absl::Status s = StatusFromErrno(
          errno, fmt::format("bulletins {}", *settings->bulletin_dir));
      return Failure{kExitNoInput, StatusText(s)};
    }
    if (!S_ISDIR(st.st_mode)) {
      return Failure{kExitNoInput,
                     fmt::format("bulletins {}: not a folder",
                                 *settings->bulletin_dir)};
    }
  }
  return std::nullopt;
}

Failure AuthDbFailure(const absl::Status& status, const std::string& path) {
  if (absl::IsNotFound(status)) {
    return {kExitNoInput,
            fmt::format("{}: no such database; create it with popauth -init",
                        path)};
  }
  if (absl::IsDataLoss(status)) {
    return {kExitDataErr, StatusText(status)};
  }
  if (absl::IsPermissionDenied(status)) {
    return {kExitNoPerm, StatusText(status)};
  }
  return {kExitUnavailable, StatusText(status)};
}

net::Pop3ServerOptions ServerOptions(const Config& config,
                                     const Settings& settings,
                                     const PopperFlags& flags,
                                     Logger* logger) {
  net::Pop3ServerOptions options;
  options.listen = settings.listen;
  options.listen_tls = settings.listen_tls;
  options.session.hostname = config.hostname;
  options.session.allow_plaintext_auth = config.plaintext_auth;
  options.tls = settings.tls;
  options.max_connections = static_cast<std::size_t>(
      std::min<std::uint64_t>(config.pop3_max_connections, SIZE_MAX));
  options.idle_timeout = settings.timeout;
  options.failed_login_delay =
      std::chrono::duration_cast<std::chrono::milliseconds>(
          config.pop3_failed_login_delay);
  if (flags.debug) {
    options.protocol_log = [logger](std::string_view line) {
      logger->Debug(line);
    };
  }
  return options;
}

int Main(int argc, char** argv) {
  const std::optional<PopperFlags> flags = ParsePopperCommandLine(argc, argv);
  if (!flags) return kExitUsage;
  if (flags->help) {
    fmt::print("{}", PopperUsage());
    return kExitOk;
  }

  const ConfigLocation where = ConfigPath(flags->config);
  absl::StatusOr<Config> config = LoadConfig(where.path, !where.must_exist);
  if (!config.ok()) {
    return Report({kExitConfig, StatusText(config.status())},
                  nullptr);
  }

  LoggerOptions log_options;
  log_options.ident = "popper";
  log_options.trace_path = flags->trace_file.value_or("");
  log_options.debug = flags->debug;
  log_options.debug_to_stderr = true;
  auto logger = Logger::Create(log_options);
  if (!logger.ok()) {
    return Report({kExitCantCreat,
                   fmt::format("trace file refused: {}",
                               StatusText(logger.status()))},
                  nullptr);
  }
  Logger* log = logger->get();

  Settings settings;
  if (auto failure = Resolve(*flags, *config, &settings)) {
    return Report(*failure, log);
  }

  // The file auth_db, or with store = postgresql the database's users
  // (then the maildrops below are the database's too).
  auto auth_db = OpenConfiguredAuthDb(*config, /*writable=*/false);
  if (!auth_db.ok()) {
    return Report(AuthDbFailure(auth_db.status(), AuthDbName(*config)), log);
  }
  auto mailstore = OpenConfiguredMailstore(*config);
  if (!mailstore.ok()) {
    return Report({MailstoreExitCode(mailstore.status()),
                   StatusText(mailstore.status())},
                  log);
  }

  pop3d::ServiceOptions service_options;
  service_options.mailstore = mailstore->get();
  service_options.auth_db = auth_db->get();
  service_options.bulletin_dir = settings.bulletin_dir;
  service_options.hostname = config->hostname;
  service_options.stats = flags->stats;
  service_options.address_limits.max_failures = static_cast<int>(
      std::min<std::uint64_t>(config->pop3_address_max_failures, INT_MAX));
  service_options.address_limits.window = config->pop3_address_window;
  service_options.log = [log](pop3d::LogLevel level, std::string_view line) {
    log->Log(SyslogPriority(level), line);
  };
  pop3d::Pop3Service service(std::move(service_options));

  net::Pop3ServerOptions server_options =
      ServerOptions(*config, settings, *flags, log);
  // A client that goes away must not kill the process with SIGPIPE.
  ::signal(SIGPIPE, SIG_IGN);

  if (server_options.listen.empty() && server_options.listen_tls.empty()) {
    // inetd: one session on stdin/stdout. The TLS key is read now, while
    // popper may still be root: STLS comes after the privileges are gone.
    if (server_options.tls) {
      if (absl::Status s = net::ReadTlsFiles(*server_options.tls); !s.ok()) {
        return Report({flags->tls_cert ? kExitUsage : kExitConfig,
                       StatusText(s)},
                      log);
      }
    }
    if (absl::Status s = DropPrivileges(config->run_as); !s.ok()) {
      return Report({absl::IsNotFound(s) ? kExitConfig : kExitOsErr,
                     StatusText(s)},
                    log);
    }
    absl::Status ended =
        net::ServePop3OnStdio(server_options, &service, STDIN_FILENO,
                              STDOUT_FILENO);
    if (!ended.ok()) {
      log->Log(LOG_INFO, fmt::format("session ended: {}", StatusText(ended)));
    }
    return kExitOk;
  }

  auto server = net::Pop3Server::Create(std::move(server_options), &service);
  if (!server.ok()) {
    const absl::Status& s = server.status();
    const int code = absl::IsPermissionDenied(s) ? kExitNoPerm
                     : absl::IsInvalidArgument(s) || absl::IsNotFound(s)
                         ? (flags->listen.empty() && flags->listen_tls.empty()
                                ? kExitConfig
                                : kExitUsage)
                         : kExitUnavailable;
    return Report({code, fmt::format("cannot start: {}", StatusText(s))}, log);
  }
  for (const std::string& endpoint : (*server)->local_endpoints()) {
    fmt::print(stderr, "popper: listening on {}\n", endpoint);
    log->Log(LOG_INFO, fmt::format("listening on {}", endpoint));
  }
  std::fflush(stderr);
  if (absl::Status s = DropPrivileges(config->run_as); !s.ok()) {
    return Report({absl::IsNotFound(s) ? kExitConfig : kExitOsErr,
                   StatusText(s)},
                  log);
  }
  if (absl::Status s = (*server)->Run(); !s.ok()) {
    return Report({kExitUnavailable, fmt::format("stopped: {}", StatusText(s))},
                  log);
  }
  log->Log(LOG_INFO, "stopped");
  return kExitOk;
}

}  // namespace
}  // namespace posthorn::tools

int main(int argc, char** argv) { return posthorn::tools::Main(argc, argv); }
