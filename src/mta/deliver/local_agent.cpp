// mta/deliver/local_agent.cpp — mta::MakeLocalAgent (local_delivery.h).
//
// Per requested recipient: ExpandLocal (local_targets.h), then each final
// target in turn (maildrop, forward, file, program). The recipient's
// outcome is the worst of its targets: any deferred -> deferred, else any
// bounced -> bounced, else sent.
//
// EXACTLY ONCE INTO MAILDROPS
//   Each maildrop delivery carries DeliveryInfo::delivery_id =
//   "<queue id>.<recipient index>.<user>" (store/mailstore.h, idempotent
//   delivery). A retry of the recipient — after a crash between the
//   append and the queue update, or because another target of the same
//   alias deferred — finds the earlier copy and appends nothing.
//   Files, programs and forwards are still at least once: when one target
//   of an alias defers and another of those succeeded, the whole recipient
//   is retried later and they get the message again (one state per RCPT
//   in the envelope, the trade sendmail makes).

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "fmt/format.h"
#include "mta/deliver/file_target.h"
#include "mta/deliver/local_targets.h"
#include "mta/deliver/program_target.h"
#include "mta/deliver/target_result.h"
#include "posthorn/mta/local_delivery.h"

namespace posthorn::mta {
namespace {

using deliver::LocalTarget;
using deliver::TargetKind;
using deliver::TargetResult;

// Names listed in a "delivered to" reply before "and N more".
constexpr std::size_t kMaxNamesInReply = 5;

// "a, b, c and 3 more": replies stay short however long the list.
std::string JoinNames(const std::vector<std::string>& names) {
  std::string out;
  for (std::size_t i = 0; i < names.size() && i < kMaxNamesInReply; ++i) {
    out += (i == 0 ? "" : ", ") + names[i];
  }
  if (names.size() > kMaxNamesInReply) {
    out += fmt::format(" and {} more", names.size() - kMaxNamesInReply);
  }
  return out;
}

int Severity(DeliveryStatus status) {
  switch (status) {
    case DeliveryStatus::kSent:
      return 0;
    case DeliveryStatus::kBounced:
      return 1;
    case DeliveryStatus::kDeferred:
      return 2;
  }
  return 2;
}

class LocalAgent final : public DeliveryAgent {
 public:
  explicit LocalAgent(LocalAgentOptions options)
      : options_(std::move(options)) {}

  std::string name() const override { return "local"; }

  absl::StatusOr<std::vector<RecipientOutcome>> Deliver(
      const DeliveryRequest& request) override {
    if (request.envelope == nullptr || options_.mailstore == nullptr ||
        options_.router == nullptr) {
      return absl::FailedPreconditionError(
          "local delivery is not configured (no mailstore or router)");
    }
    std::vector<RecipientOutcome> outcomes;
    for (std::size_t k = 0; k < request.recipients.size(); ++k) {
      std::size_t index = request.recipients[k];
      std::string local_part = k < request.routes.size()
                                   ? request.routes[k].local_part
                                   : std::string();
      outcomes.push_back(DeliverOne(request, index, local_part));
    }
    return outcomes;
  }

 private:
  void Log(LogLevel level, std::string line) const {
    if (options_.log) options_.log(level, line);
  }

  RecipientOutcome DeliverOne(const DeliveryRequest& request,
                              std::size_t index, std::string local_part) {
    const store::QueueEnvelope& envelope = *request.envelope;
    const std::string& address = envelope.recipients.at(index).address;
    RecipientOutcome outcome;
    outcome.index = index;
    outcome.relay = "local";
    if (local_part.empty()) {
      auto route = options_.router->RouteAddress(address);
      if (route.ok()) local_part = route->local_part;
    }
    if (local_part.empty()) {
      outcome.status = DeliveryStatus::kBounced;
      outcome.reply = fmt::format("553 5.1.3 <{}>: not a local address",
                                  address);
      return outcome;
    }

    auto targets = deliver::ExpandLocal(options_, local_part);
    if (!targets.ok()) {
      std::string reason(targets.status().message());
      Log(LogLevel::kWarning, fmt::format("{}: alias {}: {}", envelope.id,
                                          local_part, reason));
      if (absl::IsResourceExhausted(targets.status())) {
        outcome.status = DeliveryStatus::kBounced;
        outcome.reply = fmt::format("554 5.3.0 <{}>: {}", address, reason);
      } else {
        outcome.status = DeliveryStatus::kDeferred;
        outcome.reply =
            fmt::format("451 4.3.0 <{}>: alias lookup: {}", address, reason);
      }
      return outcome;
    }
    for (const std::string& problem : targets->problems) {
      Log(LogLevel::kWarning,
          fmt::format("{}: <{}>: {}", envelope.id, address, problem));
    }
    if (targets->targets.empty()) {
      outcome.status = DeliveryStatus::kBounced;
      outcome.reply =
          targets->loop
              ? fmt::format("554 5.4.6 <{}>: Alias loop", address)
              : fmt::format("550 5.1.1 <{}>: alias has no usable target",
                            address);
      return outcome;
    }

    // Each target, then the worst result wins.
    std::vector<std::pair<TargetResult, std::string>> results;  // + relay
    std::vector<std::string> delivered;
    std::map<std::string, std::vector<std::string>> forwards;  // by sender
    bool single = targets->targets.size() == 1;
    for (const LocalTarget& target : targets->targets) {
      if (target.kind == TargetKind::kRemote) {
        forwards[ForwardSender(envelope, target)].push_back(target.value);
        continue;
      }
      auto [result, relay] =
          DeliverTarget(request, index, address, target, single);
      if (result.status == DeliveryStatus::kSent) {
        delivered.push_back(target.kind == TargetKind::kProgram
                                ? "|" + target.value
                                : target.value);
      }
      results.emplace_back(std::move(result), std::move(relay));
    }
    for (auto& [sender, addresses] : forwards) {
      TargetResult result = Forward(request, addresses, sender);
      if (result.status == DeliveryStatus::kSent) {
        delivered.insert(delivered.end(), addresses.begin(), addresses.end());
      }
      results.emplace_back(std::move(result), "forwarded");
    }

    std::size_t worst = 0;
    for (std::size_t i = 1; i < results.size(); ++i) {
      if (Severity(results[i].first.status) >
          Severity(results[worst].first.status)) {
        worst = i;
      }
    }
    outcome.status = results[worst].first.status;
    outcome.relay = results[worst].second;
    if (outcome.status != DeliveryStatus::kSent || results.size() == 1) {
      outcome.reply = results[worst].first.reply;
      return outcome;
    }
    outcome.relay = "local";
    outcome.reply =
        fmt::format("250 2.0.0 delivered to {}", JoinNames(delivered));
    return outcome;
  }

  // The envelope sender of mail sent on behalf of an alias: its owner
  // ("owner-list", qualified with the first local domain), else the
  // original sender.
  std::string ForwardSender(const store::QueueEnvelope& envelope,
                            const LocalTarget& target) const {
    if (target.owner.empty()) return envelope.sender;
    const auto& domains = options_.router->options().local_domains;
    if (domains.empty()) return target.owner;
    return target.owner + "@" + domains.front();
  }

  std::pair<TargetResult, std::string> DeliverTarget(
      const DeliveryRequest& request, std::size_t index,
      const std::string& address, const LocalTarget& target, bool single) {
    const store::QueueEnvelope& envelope = *request.envelope;
    switch (target.kind) {
      case TargetKind::kUser:
        return {DeliverToUser(request, index, target.value), "local"};
      case TargetKind::kUnknownUser:
        return {{DeliveryStatus::kBounced,
                 fmt::format("550 5.1.1 <{}>: User unknown",
                             single ? address : target.value)},
                "local"};
      case TargetKind::kFile:
        if (!options_.allow_file_targets) {
          return {{DeliveryStatus::kBounced,
                   fmt::format("550 5.7.1 <{}>: file target {} not allowed",
                               address, target.value)},
                  target.value};
        }
        return {deliver::AppendToFile(target.value, envelope.sender,
                                      envelope.arrival, request.open_data),
                target.value};
      case TargetKind::kProgram: {
        std::string relay = "|" + target.value;
        if (!options_.allow_program_targets) {
          return {{DeliveryStatus::kBounced,
                   fmt::format("550 5.7.1 <{}>: program target \"{}\" not "
                               "allowed", address, relay)},
                  relay};
        }
        deliver::ProgramRun run;
        run.command = target.value;
        run.sender = envelope.sender;
        run.recipient = address;
        run.timeout = options_.program_timeout;
        return {deliver::RunProgram(run, request.open_data), relay};
      }
      case TargetKind::kRemote:
        break;  // handled by Forward
    }
    return {{DeliveryStatus::kDeferred, "451 4.3.0 internal error"}, "local"};
  }

  TargetResult DeliverToUser(const DeliveryRequest& request,
                             std::size_t index, const std::string& user) {
    const store::QueueEnvelope& envelope = *request.envelope;
    auto reader = request.open_data();
    if (!reader.ok()) {
      return deliver::StorageFailure(reader.status(), "queue data");
    }
    store::DeliveryInfo info;
    info.envelope_sender = envelope.sender;
    info.arrival = envelope.arrival;
    info.delivery_id = fmt::format("{}.{}.{}", envelope.id, index, user);
    absl::Status status = options_.mailstore->Deliver(user, info, **reader);
    if (!status.ok()) {
      return deliver::StorageFailure(status,
                                     fmt::format("maildrop of {}", user));
    }
    return {DeliveryStatus::kSent, "250 2.0.0 delivered to maildrop"};
  }

  TargetResult Forward(const DeliveryRequest& request,
                       const std::vector<std::string>& addresses,
                       const std::string& sender) {
    std::string list = JoinNames(addresses);
    if (!options_.forward) {
      return {DeliveryStatus::kDeferred,
              fmt::format("451 4.3.0 cannot forward to {}: forwarding is not "
                          "configured", list)};
    }
    absl::Status status = options_.forward(addresses, sender, request.open_data);
    if (!status.ok()) {
      return {DeliveryStatus::kDeferred,
              fmt::format("451 4.3.0 cannot forward to {}: {}", list,
                          std::string(status.message()))};
    }
    return {DeliveryStatus::kSent,
            fmt::format("250 2.0.0 forwarded to {}", list)};
  }

  LocalAgentOptions options_;
};

}  // namespace

std::unique_ptr<DeliveryAgent> MakeLocalAgent(LocalAgentOptions options) {
  return std::make_unique<LocalAgent>(std::move(options));
}

}  // namespace posthorn::mta
