// tools/sendmail/delivery_setup.cpp — the delivery agents and the queue
// runner from posthorn.conf: local agent (aliases, maildrops, forwarding
// through the queue), remote agent (c-ares resolver, host status in
// queue_dir/.hoststat), mailer counters in queue_dir/.mailstats.

#include <algorithm>
#include <span>
#include <string>
#include <utility>

#include "fmt/format.h"
#include "posthorn/mta/remote_delivery.h"
#include "tools/common/exit_codes.h"
#include "tools/sendmail/setup.h"

namespace posthorn::tools {
namespace {

// Copy buffer for forwarded messages.
constexpr std::size_t kCopyChunk = 64 * 1024;

absl::Duration ToAbsl(std::chrono::seconds s) {
  return absl::Seconds(static_cast<std::int64_t>(s.count()));
}

// Remote targets of an alias become a new message in the queue, sent by
// the alias owner (or the original sender); the runner picks it up.
absl::StatusOr<std::string> QueueForward(
    store::Queue& queue, const std::vector<std::string>& addresses,
    const std::string& sender, const mta::DataOpener& data) {
  store::QueueEnvelope envelope;
  envelope.sender = sender;
  envelope.received_from = "alias expansion";
  envelope.arrival = absl::Now();
  for (const std::string& address : addresses) {
    store::QueuedRecipient recipient;
    recipient.address = address;
    envelope.recipients.push_back(std::move(recipient));
  }
  auto reader = data();
  if (!reader.ok()) return reader.status();
  auto writer = queue.BeginEnqueue(std::move(envelope));
  if (!writer.ok()) return writer.status();
  std::string buffer(kCopyChunk, '\0');
  while (true) {
    auto n = (*reader)->Read(std::span<char>(buffer.data(), buffer.size()));
    if (!n.ok()) return n.status();
    if (*n == 0) break;
    if (absl::Status s = (*writer)->Write(std::string_view(buffer.data(), *n));
        !s.ok()) {
      return s;
    }
  }
  return (*writer)->Commit();
}

}  // namespace

store::RetryPolicy MakeRetryPolicy(const Config& config) {
  store::RetryPolicy policy;
  policy.max_backoff = ToAbsl(config.max_backoff);
  policy.first_retry = std::min(policy.first_retry, policy.max_backoff);
  policy.lifetime = ToAbsl(config.queue_lifetime);
  policy.delay_warning = ToAbsl(config.delay_warning);
  return policy;
}

mta::LocalAgentOptions MakeLocalOptions(const Config& config,
                                        const Stores& stores,
                                        const mta::Router& router,
                                        mta::LogFunction log) {
  mta::LocalAgentOptions options;
  options.mailstore = stores.mailstore.get();
  options.aliases = stores.aliases.get();
  options.router = &router;
  options.allow_file_targets = config.allow_file_targets;
  options.allow_program_targets = config.allow_program_targets;
  // A maildrop is created on first delivery; the user must be one the
  // recipient check knows (passwd, aliases, auth_db, maildrop).
  mta::RecipientCheck check = MakeRecipientCheck(config, stores);
  if (check) {
    options.user_exists = [check](std::string_view user) {
      absl::StatusOr<bool> known = check(user);
      // A failed lookup is not "unknown": deliver rather than bounce.
      return !known.ok() || *known;
    };
  }
  options.log = std::move(log);
  return options;
}

std::optional<Failure> MakeDelivery(const Config& config, Stores& stores,
                                    const mta::Router& router,
                                    mta::LogFunction log,
                                    std::chrono::seconds interval,
                                    Delivery* delivery) {
  mta::ResolverOptions resolver_options;
  resolver_options.servers = config.dns_servers;
  auto resolver = mta::MakeAresResolver(resolver_options);
  if (!resolver.ok()) {
    return Failure{kExitUnavailable, fmt::format("DNS resolver: {}",
                                                 StatusText(resolver.status()))};
  }
  delivery->resolver = *std::move(resolver);
  auto host_status =
      mta::HostStatusTable::Open(fmt::format("{}/.hoststat", config.queue_dir));
  if (!host_status.ok()) {
    return Failure{kExitCantCreat,
                   fmt::format("host status: {}",
                               StatusText(host_status.status()))};
  }
  delivery->host_status = *std::move(host_status);
  delivery->stats = std::make_unique<mta::MailStats>(
      fmt::format("{}/.mailstats", config.queue_dir));

  delivery->local_options = MakeLocalOptions(config, stores, router, log);
  store::Queue* queue = stores.queue.get();
  Delivery* self = delivery;
  delivery->local_options.forward =
      [queue, self, log](const std::vector<std::string>& addresses,
                         const std::string& sender,
                         const mta::DataOpener& data) -> absl::Status {
    auto id = QueueForward(*queue, addresses, sender, data);
    if (!id.ok()) return id.status();
    if (log) {
      log(mta::LogLevel::kInfo,
          fmt::format("{}: from=<{}>, nrcpt={} (forwarded by alias)", *id,
                      mta::EscapeForLog(sender), addresses.size()));
    }
    if (self->runner) self->runner->Kick(*id);
    return absl::OkStatus();
  };
  delivery->local = mta::MakeLocalAgent(delivery->local_options);

  mta::RemoteAgentOptions remote_options;
  remote_options.helo_name = config.hostname;
  remote_options.resolver = delivery->resolver.get();
  remote_options.host_status = delivery->host_status.get();
  remote_options.connect_timeout = config.smtp_connect_timeout;
  remote_options.reply_timeout = config.smtp_reply_timeout;
  remote_options.log = log;
  delivery->remote = mta::MakeRemoteAgent(std::move(remote_options));

  mta::QueueRunnerOptions runner_options;
  runner_options.queue = queue;
  runner_options.router = &router;
  runner_options.local = delivery->local.get();
  runner_options.remote = delivery->remote.get();
  runner_options.retry = MakeRetryPolicy(config);
  runner_options.hostname = config.hostname;
  runner_options.max_parallel = static_cast<std::size_t>(config.max_deliveries);
  runner_options.interval = interval;
  runner_options.stats = delivery->stats.get();
  runner_options.log = std::move(log);
  delivery->runner =
      std::make_unique<mta::QueueRunner>(std::move(runner_options));
  return std::nullopt;
}

}  // namespace posthorn::tools
