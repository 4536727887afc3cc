// tools/sendmail/submit_mode.cpp — `sendmail [-t] [flags] rcpt... <
// message`: the message from stdin into the queue (mta::Submission), then
// delivery as -odb / -odi / -odq say.
//
// EXIT STATUS
//   0 queued; 64 no recipients; 65 a recipient that is not an address
//   ("sendmail: a@b@c: not a valid address"), a message over
//   message_size_limit, unreadable input; 67 a well-formed local
//   recipient that no local_recipients source knows (nothing is queued);
//   73 / 75 the queue cannot be written (73: permission or missing
//   folder); 74 reading stdin failed; 78 configuration.

#include <pwd.h>
#include <syslog.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "fmt/format.h"
#include "posthorn/mta/submit.h"
#include "tools/common/exit_codes.h"
#include "tools/common/privileges.h"
#include "tools/sendmail/modes.h"
#include "tools/sendmail/setup.h"

namespace posthorn::tools {
namespace {

// stdin is read in chunks of this size (the message is never held whole).
constexpr std::size_t kReadChunk = 64 * 1024;

struct Invoker {
  std::string login;
  std::string full_name;  // gecos up to the first comma
};

Invoker WhoIsCalling() {
  Invoker who;
  struct passwd entry;
  struct passwd* found = nullptr;
  std::vector<char> buffer(16384);
  if (::getpwuid_r(::getuid(), &entry, buffer.data(), buffer.size(),
                   &found) == 0 &&
      found != nullptr) {
    who.login = entry.pw_name;
    if (entry.pw_gecos != nullptr) {
      std::string gecos = entry.pw_gecos;
      who.full_name = gecos.substr(0, gecos.find(','));
    }
  }
  if (who.login.empty()) {
    const char* env = std::getenv("LOGNAME");
    if (env == nullptr || env[0] == '\0') env = std::getenv("USER");
    who.login = env != nullptr && env[0] != '\0' ? env : "nobody";
  }
  return who;
}

// Command-line recipients: addresses, and local users that exist. Sources
// that cannot be opened by this user (a 0600 auth_db) switch the user
// check off: the local agent decides at delivery instead.
std::optional<Failure> CheckRecipients(const SendmailFlags& flags,
                                       const Config& config,
                                       const mta::Router& router) {
  Stores stores;
  const bool can_check = !OpenAliases(config, &stores).has_value() &&
                         !OpenAuthDbIfPresent(config, &stores).has_value();
  mta::RecipientCheck check =
      can_check ? MakeRecipientCheck(config, stores) : nullptr;
  for (const std::string& address : flags.arguments) {
    // Syntax first: "a@b@c" must not reach the user check as user "a@b".
    const std::optional<std::string> parsed =
        mta::ParseSubmissionRecipient(address);
    if (!parsed) {
      return Failure{kExitDataErr,
                     fmt::format("{}: not a valid address", address)};
    }
    auto route = router.RouteAddress(*parsed);
    if (!route.ok()) {
      return Failure{kExitDataErr, fmt::format("{}... {}", address,
                                               StatusText(route.status()))};
    }
    if (route->kind != mta::RouteKind::kLocal || !check ||
        route->local_part == "postmaster") {
      continue;
    }
    absl::StatusOr<bool> known = check(route->local_part);
    if (known.ok() && !*known) {
      return Failure{kExitNoUser, fmt::format("{}... User unknown", address)};
    }
  }
  return std::nullopt;
}

Failure QueueFailure(const SendmailFlags& flags, const absl::Status& s) {
  if (absl::IsResourceExhausted(s)) {
    return {kExitDataErr, StatusText(s)};
  }
  if (absl::IsInvalidArgument(s)) {
    // -t found no recipient in the header: a usage error, as without -t.
    const bool none = flags.extract_recipients && flags.arguments.empty() &&
                      StatusText(s).find("no recipient") != std::string::npos;
    return {none ? kExitUsage : kExitDataErr, StatusText(s)};
  }
  if (absl::IsPermissionDenied(s) || absl::IsNotFound(s) ||
      absl::IsFailedPrecondition(s)) {
    return {kExitCantCreat, fmt::format("cannot queue: {}", StatusText(s))};
  }
  return {kExitTempFail, fmt::format("cannot queue: {}", StatusText(s))};
}

}  // namespace

int RunSubmit(const SendmailFlags& flags, const Config& config) {
  auto logger = MakeLogger(config, flags.verbose);
  if (!logger.ok()) return Report(flags, LoggerFailure(logger.status()));
  Logger* log = logger->get();
  const Invoker who = WhoIsCalling();  // before giving up root
  // As root: the queue files belong to run_as, like the daemon's.
  if (absl::Status s = DropPrivileges(config.run_as); !s.ok()) {
    return Report(flags,
                  {absl::IsNotFound(s) ? kExitConfig : kExitOsErr,
                   StatusText(s)},
                  log);
  }
  std::unique_ptr<mta::Router> router;
  if (auto failure = MakeRouter(config, &router)) {
    return Report(flags, *failure, log);
  }
  if (auto failure = CheckRecipients(flags, config, *router)) {
    return Report(flags, *failure, log);
  }
  Stores stores;
  if (auto failure = OpenQueue(config, &stores)) {
    return Report(flags, *failure, log);
  }

  mta::SubmitOptions options;
  options.hostname = config.hostname;
  options.login_name = who.login;
  options.sender = flags.sender.value_or("");
  options.full_name = flags.full_name.empty() ? who.full_name
                                              : flags.full_name;
  options.ignore_dots = flags.ignore_dots;
  options.extract_recipients = flags.extract_recipients;
  options.recipients = flags.arguments;
  options.message_size_limit = config.message_size_limit;
  options.recipient_limit = config.recipient_limit;
  // -V, -R, -N: recorded in the envelope as it is queued.
  options.envid = flags.envid;
  options.ret_headers_only = flags.ret_headers_only;
  if (flags.notify) {
    const std::string& n = *flags.notify;  // "never" or a checked list
    options.notify_success = n.find("success") != std::string::npos;
    options.notify_failure = n.find("failure") != std::string::npos;
    options.notify_delay = n.find("delay") != std::string::npos;
  }
  mta::Submission submission(std::move(options), stores.queue.get());

  std::string buffer(kReadChunk, '\0');
  while (true) {
    const ssize_t n = ::read(STDIN_FILENO, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      return Report(flags,
                    {kExitIoErr, StatusText(StatusFromErrno(errno, "stdin"))},
                    log);
    }
    if (n == 0) break;
    absl::Status fed = submission.Feed(
        std::string_view(buffer.data(), static_cast<std::size_t>(n)));
    if (!fed.ok()) return Report(flags, QueueFailure(flags, fed), log);
  }
  absl::StatusOr<std::string> id = submission.Finish();
  if (!id.ok()) return Report(flags, QueueFailure(flags, id.status()), log);
  stores.queue.reset();
  DeliverQueued(flags, config, {*id});
  return kExitOk;
}

}  // namespace posthorn::tools
