// mta::MakeRemoteAgent: one group of recipients (same next hop) sent over
// SMTP to the first of its hosts that answers (remote_delivery.h).
//
// THE HOST LOOP
//   Up to max_hosts addresses are tried in order (delivery_targets.h).
//   A temporary failure that hit every recipient alike — no connection, a
//   421 greeting, a lost connection, a 4xx to MAIL — moves on to the next
//   address, as sendmail and Postfix do. Anything else is the answer: the
//   per-recipient replies (2xx sent, 4xx deferred, 5xx bounced), or a 5xx
//   to MAIL or to the data for every recipient. When no address answered,
//   every recipient is deferred with the last failure.
//
// SECURITY
//   Replies and DNS names are peer data: they are escaped before they go
//   into logs or the queue (EscapeForLog), and bounded in length.
#include <algorithm>
#include <span>

#include <fmt/format.h>

#include "mta/remote/delivery_targets.h"
#include "posthorn/mta/remote_delivery.h"
#include "posthorn/net/send_message.h"

namespace posthorn::mta {
namespace {

using detail::DeliveryTarget;
using detail::TargetFailure;

// The message is read in slices of this size for each host tried.
constexpr std::size_t kBodyChunk = 64 * 1024;
// Replies kept in outcomes and logs (a multi-line reply joined).
constexpr std::size_t kMaxReplyText = 1000;

// "550 5.1.1 text" on one line, escaped, with a default enhanced code
// when the server sent none.
std::string ReplyText(const smtp::Reply& reply) {
  std::string enhanced = reply.enhanced;
  if (enhanced.empty()) enhanced = fmt::format("{}.0.0", reply.code / 100);
  std::string text;
  for (const std::string& line : reply.lines) {
    if (!text.empty()) text += ' ';
    text += line;
  }
  std::string out =
      EscapeForLog(fmt::format("{} {} {}", reply.code, enhanced, text));
  if (out.size() > kMaxReplyText) out.resize(kMaxReplyText);
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

DeliveryStatus StatusOf(smtp::Outcome outcome) {
  switch (outcome) {
    case smtp::Outcome::kOk:
      return DeliveryStatus::kSent;
    case smtp::Outcome::kPermanent:
      return DeliveryStatus::kBounced;
    case smtp::Outcome::kTransient:
      break;
  }
  return DeliveryStatus::kDeferred;
}

bool SameReply(const smtp::Reply& x, const smtp::Reply& y) {
  return x.code == y.code && x.enhanced == y.enhanced && x.lines == y.lines;
}

// A temporary failure that every recipient shares: the host, not the
// recipients, was the problem, so the next host may do better.
bool HostLevelFailure(const smtp::TransactionResult& result) {
  if (result.outcome != smtp::Outcome::kTransient) return false;
  return std::all_of(result.recipients.begin(), result.recipients.end(),
                     [&](const smtp::RecipientResult& r) {
                       return r.outcome == smtp::Outcome::kTransient &&
                              SameReply(r.reply, result.reply);
                     });
}

// net::SendMessage says "connect to 127.0.0.1:25: reason"; the queue and
// the logs name the host as "name[addr]:port" (sendmail's form).
std::string HostFailureText(const smtp::Reply& reply,
                            const DeliveryTarget& target) {
  const std::string text = reply.lines.empty() ? "" : reply.lines.front();
  const std::string prefix =
      fmt::format("connect to {}:{}: ", target.address, target.port);
  if (reply.enhanced == "4.4.1" && text.starts_with(prefix)) {
    return EscapeForLog(fmt::format("451 4.4.1 connect to {}: {}",
                                    target.Relay(),
                                    text.substr(prefix.size())));
  }
  return ReplyText(reply);
}

smtp::ClientEnvelope MakeEnvelope(const DeliveryRequest& request) {
  const store::QueueEnvelope& queued = *request.envelope;
  smtp::ClientEnvelope envelope;
  envelope.mail_from = queued.sender;
  if (queued.size > 0) envelope.size = queued.size;
  envelope.ret = queued.ret_headers_only ? smtp::DsnRet::kHeaders
                                         : smtp::DsnRet::kNone;
  envelope.envid = queued.envid;
  for (std::size_t index : request.recipients) {
    const store::QueuedRecipient& r = queued.recipients[index];
    smtp::ClientRecipient recipient;
    recipient.address = r.address;
    recipient.orcpt = r.orcpt;
    // The queue keeps the effective NOTIFY; the usual default (FAILURE,
    // DELAY) is not repeated, anything else is passed on.
    const bool defaults = !r.notify_success && r.notify_failure &&
                          r.notify_delay;
    if (!defaults) {
      recipient.notify.present = true;
      recipient.notify.never =
          !r.notify_success && !r.notify_failure && !r.notify_delay;
      recipient.notify.success = r.notify_success;
      recipient.notify.failure = r.notify_failure;
      recipient.notify.delay = r.notify_delay;
    }
    envelope.recipients.push_back(std::move(recipient));
  }
  return envelope;
}

class RemoteAgent final : public DeliveryAgent {
 public:
  explicit RemoteAgent(RemoteAgentOptions options)
      : options_(std::move(options)) {}

  std::string name() const override { return "esmtp"; }
  absl::StatusOr<std::vector<RecipientOutcome>> Deliver(
      const DeliveryRequest& request) override;

 private:
  // Every recipient of the request with the same status and reply.
  static std::vector<RecipientOutcome> All(const DeliveryRequest& request,
                                           DeliveryStatus status,
                                           const std::string& reply,
                                           const std::string& relay) {
    std::vector<RecipientOutcome> out;
    for (std::size_t index : request.recipients) {
      out.push_back(RecipientOutcome{index, status, reply, relay});
    }
    return out;
  }
  void Log(LogLevel level, const DeliveryRequest& request,
           std::string_view text) const {
    if (!options_.log) return;
    const std::string& id = request.envelope->id;
    options_.log(level, id.empty() ? std::string(text)
                                   : fmt::format("{}: {}", id, text));
  }
  void RecordHost(const DeliveryTarget& target, bool up,
                  const std::string& reply, const DeliveryRequest& request) {
    if (options_.host_status == nullptr) return;
    HostStatus status;
    status.host = target.status_key;
    status.when = absl::Now();
    status.up = up;
    status.reply = reply;
    if (absl::Status s = options_.host_status->Record(status); !s.ok()) {
      Log(LogLevel::kWarning, request,
          fmt::format("host status not recorded: {}", std::string(s.message())));
    }
  }
  absl::StatusOr<smtp::TransactionResult> Send(
      const DeliveryTarget& target, const smtp::ClientEnvelope& envelope,
      const DeliveryRequest& request) const;

  RemoteAgentOptions options_;
};

absl::StatusOr<smtp::TransactionResult> RemoteAgent::Send(
    const DeliveryTarget& target, const smtp::ClientEnvelope& envelope,
    const DeliveryRequest& request) const {
  // A new reader per host: the message is read from the start each time.
  absl::StatusOr<std::unique_ptr<store::MessageReader>> reader =
      request.open_data();
  if (!reader.ok()) return reader.status();
  std::shared_ptr<store::MessageReader> shared = *std::move(reader);
  auto buffer = std::make_shared<std::vector<char>>(kBodyChunk);
  net::BodyReader body =
      [shared, buffer]() -> absl::StatusOr<std::string_view> {
    absl::StatusOr<std::size_t> n = shared->Read(std::span<char>(*buffer));
    if (!n.ok()) return n.status();
    return std::string_view(buffer->data(), *n);
  };
  net::SendOptions send;
  send.client.helo_name = options_.helo_name;
  send.client.tls = options_.opportunistic_tls ? smtp::TlsMode::kOpportunistic
                                               : smtp::TlsMode::kNone;
  // Port 25 practice: encrypt when offered, trust nothing (RFC 7435).
  send.verify_certificate = false;
  send.connect_timeout = options_.connect_timeout;
  send.reply_timeout = options_.reply_timeout;
  return net::SendMessage(target.address, target.port, envelope,
                          std::move(body), send);
}

absl::StatusOr<std::vector<RecipientOutcome>> RemoteAgent::Deliver(
    const DeliveryRequest& request) {
  if (request.envelope == nullptr || request.recipients.empty() ||
      request.routes.size() != request.recipients.size() ||
      !request.open_data) {
    return absl::InvalidArgumentError("remote delivery: malformed request");
  }
  for (std::size_t index : request.recipients) {
    if (index >= request.envelope->recipients.size()) {
      return absl::InvalidArgumentError(
          "remote delivery: recipient index out of range");
    }
  }
  const NextHop& hop = request.routes.front().hop;

  auto found = detail::FindTargets(hop, options_.resolver);
  if (const auto* failure = std::get_if<TargetFailure>(&found)) {
    Log(LogLevel::kInfo, request, failure->reply);
    return All(request, failure->status, failure->reply, "none");
  }
  const auto& targets = std::get<std::vector<DeliveryTarget>>(found);
  const smtp::ClientEnvelope envelope = MakeEnvelope(request);

  std::string last_failure;
  std::string last_relay = "none";
  const std::size_t tries =
      std::min(targets.size(), std::max<std::size_t>(options_.max_hosts, 1));
  for (std::size_t i = 0; i < tries; ++i) {
    const DeliveryTarget& target = targets[i];
    absl::StatusOr<smtp::TransactionResult> result =
        Send(target, envelope, request);
    if (!result.ok()) {
      // Local trouble: the message cannot be read, or an address cannot
      // be sent at all. Nothing here improves with another host.
      const bool bad_address =
          result.status().code() == absl::StatusCode::kInvalidArgument;
      const std::string reply = EscapeForLog(fmt::format(
          "{} {}", bad_address ? "554 5.5.0" : "451 4.3.0",
          std::string(result.status().message())));
      Log(LogLevel::kWarning, request, reply);
      return All(request,
                 bad_address ? DeliveryStatus::kBounced
                             : DeliveryStatus::kDeferred,
                 reply, target.Relay());
    }
    if (HostLevelFailure(*result)) {
      last_failure = HostFailureText(result->reply, target);
      last_relay = target.Relay();
      RecordHost(target, /*up=*/false, last_failure, request);
      // "451 4.4.1 connect to mx[addr]:25: reason" -> the part after the
      // codes, as sendmail logs it.
      const std::string_view text = std::string_view(last_failure).substr(
          std::min<std::size_t>(last_failure.size(), 10));
      Log(LogLevel::kInfo, request,
          text.starts_with("connect to ")
              ? std::string(text)
              : fmt::format("{}: {}", EscapeForLog(target.Relay()),
                            last_failure));
      continue;
    }

    // The host answered: its replies decide.
    const std::string transaction_reply = ReplyText(result->reply);
    std::vector<RecipientOutcome> outcomes;
    for (std::size_t k = 0; k < request.recipients.size(); ++k) {
      RecipientOutcome outcome;
      outcome.index = request.recipients[k];
      outcome.relay = EscapeForLog(target.Relay());
      const smtp::RecipientResult* r =
          k < result->recipients.size() ? &result->recipients[k] : nullptr;
      if (r == nullptr) {
        outcome.status = StatusOf(result->outcome);
        outcome.reply = transaction_reply;
      } else if (r->outcome == smtp::Outcome::kOk &&
                 result->outcome != smtp::Outcome::kOk) {
        // RCPT accepted, but the message was not: the transaction's reason.
        outcome.status = StatusOf(result->outcome);
        outcome.reply = transaction_reply;
      } else if (r->outcome == smtp::Outcome::kOk) {
        // Sent: the final reply names what the server did ("queued as").
        outcome.status = DeliveryStatus::kSent;
        outcome.reply = result->reply.code != 0 ? transaction_reply
                                                : ReplyText(r->reply);
      } else {
        outcome.status = StatusOf(r->outcome);
        outcome.reply = ReplyText(r->reply);
      }
      outcomes.push_back(std::move(outcome));
    }
    RecordHost(target, /*up=*/true,
               result->reply.code != 0 ? transaction_reply
                                       : outcomes.front().reply,
               request);
    return outcomes;
  }
  if (last_failure.empty()) {
    last_failure = "451 4.4.3 no host could be tried";
  }
  return All(request, DeliveryStatus::kDeferred, last_failure,
             EscapeForLog(last_relay));
}

}  // namespace

std::unique_ptr<DeliveryAgent> MakeRemoteAgent(RemoteAgentOptions options) {
  return std::make_unique<RemoteAgent>(std::move(options));
}

}  // namespace posthorn::mta
