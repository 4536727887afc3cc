// tools/sendmail/smtpd_setup.cpp — the SMTP side from posthorn.conf: the
// MtaHandler (policy, queue sink) and net::SmtpServerOptions (listen
// addresses, TLS, limits, threads), shared by -bd and -bs.

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <utility>

#include "fmt/format.h"
#include "tools/common/exit_codes.h"
#include "tools/sendmail/setup.h"

namespace posthorn::tools {
namespace {

// EXPN shows one line per final target; a huge list is cut here.
constexpr std::size_t kMaxExpnLines = 100;

std::string DescribeTarget(const store::ExpandedRecipient& r) {
  switch (r.kind) {
    case store::AliasTargetKind::kFile: return r.value;
    case store::AliasTargetKind::kProgram:
      return fmt::format("\"|{}\"", r.value);
    default: return fmt::format("<{}>", r.value);
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<mta::MtaHandler>> MakeHandler(
    const Config& config, const Stores& stores, const mta::Router& router,
    const mta::NetworkList& trusted, bool local_submission,
    mta::LogFunction log, std::function<void(const std::string&)> on_queued,
    std::function<void(const std::string&)> on_etrn) {
  mta::MtaHandlerOptions options;
  options.hostname = config.hostname;
  options.router = &router;
  options.trusted_networks = trusted;
  options.queue = stores.queue.get();
  options.auth_db = stores.auth_db.get();
  options.recipient_exists = MakeRecipientCheck(config, stores);
  options.hop_limit = static_cast<std::size_t>(config.hop_limit);
  options.local_submission = local_submission;
  options.on_queued = std::move(on_queued);
  options.on_etrn = std::move(on_etrn);
  const store::AliasTable* aliases = stores.aliases.get();
  if (config.expn_enabled && aliases != nullptr) {
    const mta::Router* r = &router;
    options.expand = [aliases, r](std::string_view name)
        -> absl::StatusOr<std::vector<std::string>> {
      store::ExpandOptions expand;
      expand.allow_include = false;  // no file reads for a network client
      expand.local_part = [r](std::string_view address)
          -> std::optional<std::string> {
        auto route = r->RouteAddress(address);
        if (!route.ok() || route->kind != mta::RouteKind::kLocal) {
          return std::nullopt;
        }
        return route->local_part;
      };
      // Lists: EXPN of name or name@local-domain.
      std::string local(name);
      if (auto route = r->RouteAddress(name);
          route.ok() && route->kind == mta::RouteKind::kLocal) {
        local = route->local_part;
      }
      auto expansion = store::ExpandAlias(*aliases, local, expand);
      if (!expansion.ok()) return expansion.status();
      std::vector<std::string> lines;
      for (const store::ExpandedRecipient& target : expansion->recipients) {
        if (lines.size() == kMaxExpnLines) break;
        lines.push_back(DescribeTarget(target));
      }
      return lines;
    };
  }
  options.log = std::move(log);
  return mta::MtaHandler::Create(std::move(options));
}

std::optional<Failure> MakeServerOptions(const Config& config,
                                         const Stores& stores, Logger* log,
                                         net::SmtpServerOptions* options) {
  options->listen = config.smtpd_listen;
  smtp::ServerOptions& session = options->session;
  session.hostname = config.hostname;
  session.limits.max_recipients =
      static_cast<std::size_t>(config.recipient_limit);
  session.limits.max_message_size = config.message_size_limit;
  if (absl::Status s = session.limits.Validate(); !s.ok()) {
    return Failure{kExitConfig,
                   fmt::format("{}: message_size_limit / recipient_limit: {}",
                               config.path, StatusText(s))};
  }
  session.bare_newline = config.bare_newline == BareNewline::kNormalize
                             ? wire::BareNewlinePolicy::kNormalize
                             : wire::BareNewlinePolicy::kReject;
  session.auth_enabled = stores.auth_db != nullptr;
  session.allow_plaintext_auth = config.plaintext_auth;
  session.expn_enabled = config.expn_enabled;
  session.help_lines = ReadHelpLines(config, log);
  if (!config.tls_cert.empty() || !config.tls_key.empty()) {
    if (config.tls_cert.empty() || config.tls_key.empty()) {
      return Failure{kExitConfig, fmt::format("{}: tls_cert and tls_key go "
                                              "together",
                                              config.path)};
    }
    for (const std::string& file : {config.tls_cert, config.tls_key}) {
      if (::access(file.c_str(), R_OK) != 0) {
        return Failure{kExitConfig, StatusText(StatusFromErrno(errno, file))};
      }
    }
    options->tls = net::TlsFiles{config.tls_cert, config.tls_key};
  }
  options->max_connections = static_cast<std::size_t>(
      std::min<std::uint64_t>(config.smtpd_max_connections, SIZE_MAX));
  options->idle_timeout = config.smtpd_timeout;
  options->io_threads = static_cast<int>(config.smtpd_threads);
  return std::nullopt;
}

}  // namespace posthorn::tools
