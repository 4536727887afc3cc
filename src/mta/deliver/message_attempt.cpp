// mta/deliver/message_attempt.cpp — see message_attempt.h.

#include "mta/deliver/message_attempt.h"

#include <algorithm>
#include <array>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

#include "fmt/format.h"
#include "mta/deliver/delivery_log.h"
#include "mta/deliver/dsn_queue.h"
#include "posthorn/mta/dsn.h"
#include "posthorn/store/status.h"

namespace posthorn::mta::deliver {
namespace {

using store::RecipientState;

// The final reply of a recipient still pending when the lifetime ends.
constexpr std::string_view kExpiredReply = "550 5.4.7 Delivery time expired";

enum class NoticeKind { kFailure, kSuccess, kDelay };

// Local deliveries to one user take turns inside the process first.
// The maildrop's own locks (dot lock, fcntl) are polled with sleeps of
// up to 50 ms, so N delivery threads racing for one mbox left it idle
// most of the time (measured: ~95 deliveries/s to one user whatever the
// parallelism). A mutex hands the turn over at once; the file locks stay
// the real protection (other processes, aliases naming one maildrop).
// Users are hashed onto kUserStripes mutexes: two users sharing a stripe
// only take turns, and a message locks its stripes in increasing order,
// so no two attempts can wait for each other.
constexpr std::size_t kUserStripes = 64;

class UserTurns {
 public:
  explicit UserTurns(const std::vector<Route>& routes) {
    for (const Route& route : routes) {
      stripes_.push_back(std::hash<std::string>{}(route.local_part) %
                         kUserStripes);
    }
    std::sort(stripes_.begin(), stripes_.end());
    stripes_.erase(std::unique(stripes_.begin(), stripes_.end()),
                   stripes_.end());
    for (std::size_t s : stripes_) Mutexes()[s].lock();
  }
  ~UserTurns() {
    for (auto it = stripes_.rbegin(); it != stripes_.rend(); ++it) {
      Mutexes()[*it].unlock();
    }
  }
  UserTurns(const UserTurns&) = delete;
  UserTurns& operator=(const UserTurns&) = delete;

 private:
  static std::array<std::mutex, kUserStripes>& Mutexes() {
    static std::array<std::mutex, kUserStripes> mutexes;
    return mutexes;
  }
  std::vector<std::size_t> stripes_;
};

class Attempt {
 public:
  Attempt(const QueueRunnerOptions& options, const std::string& id,
          bool only_if_due)
      : options_(options), id_(id), only_if_due_(only_if_due) {}

  AttemptResult Run() {
    auto lease = options_.queue->Lease(id_);
    if (!lease.ok()) {
      if (store::IsInUse(lease.status())) {
        result_.summary.busy = 1;
      } else if (!absl::IsNotFound(lease.status())) {
        Log(LogLevel::kError, fmt::format("{}: cannot lease: {}", id_,
                                          std::string(lease.status().message())));
      }
      return std::move(result_);
    }
    lease_ = std::move(*lease);
    envelope_ = lease_->envelope();
    now_ = absl::Now();
    if (only_if_due_ && envelope_.next_attempt > now_) {
      return std::move(result_);
    }
    outcome_.assign(envelope_.recipients.size(), std::nullopt);
    result_.summary.messages = 1;

    DeliverPending();
    Finish();
    for (const auto& status : outcome_) {
      if (!status) continue;
      switch (*status) {
        case DeliveryStatus::kSent:
          ++result_.summary.delivered;
          break;
        case DeliveryStatus::kDeferred:
          ++result_.summary.deferred;
          break;
        case DeliveryStatus::kBounced:
          ++result_.summary.bounced;
          break;
      }
    }
    return std::move(result_);
  }

 private:
  struct Group {
    std::string hop;  // FormatNextHop; "" for the local group
    std::vector<std::size_t> recipients;
    std::vector<Route> routes;
  };

  void Log(LogLevel level, std::string line) const {
    if (options_.log) options_.log(level, line);
  }

  void DeliverPending() {
    Group local;
    std::vector<Group> remote;
    for (std::size_t i = 0; i < envelope_.recipients.size(); ++i) {
      const store::QueuedRecipient& r = envelope_.recipients[i];
      if (r.state != RecipientState::kPending) continue;
      absl::StatusOr<Route> route = options_.router->RouteAddress(r.address);
      if (!route.ok()) {
        Record(i, DeliveryStatus::kBounced,
               fmt::format("553 5.1.3 <{}>: {}", r.address,
                           std::string(route.status().message())),
               "none", false);
        continue;
      }
      if (route->kind == RouteKind::kLocal) {
        local.recipients.push_back(i);
        local.routes.push_back(*std::move(route));
        continue;
      }
      std::string hop = FormatNextHop(route->hop);
      Group* group = nullptr;
      for (Group& g : remote) {
        if (g.hop == hop) group = &g;
      }
      if (group == nullptr) {
        remote.push_back(Group{hop, {}, {}});
        group = &remote.back();
      }
      group->recipients.push_back(i);
      group->routes.push_back(*std::move(route));
    }
    if (!local.recipients.empty() && options_.local == nullptr) {
      for (std::size_t i : local.recipients) {
        Record(i, DeliveryStatus::kDeferred,
               "451 4.3.0 no local delivery configured", "local", false);
      }
    } else if (!local.recipients.empty()) {
      Deliver(options_.local, local, false);
    }
    for (const Group& group : remote) {
      if (options_.remote == nullptr) {
        for (std::size_t i : group.recipients) {
          Record(i, DeliveryStatus::kDeferred,
                 "451 4.4.0 no remote delivery configured", group.hop, true);
        }
        continue;
      }
      Deliver(options_.remote, group, true);
    }
  }

  void Deliver(DeliveryAgent* agent, const Group& group, bool remote) {
    DeliveryRequest request;
    request.envelope = &envelope_;
    request.recipients = group.recipients;
    request.routes = group.routes;
    store::QueueLease* lease = lease_.get();
    request.open_data = [lease] { return lease->OpenData(); };
    std::string fallback_relay = remote ? group.hop : agent->name();

    absl::StatusOr<std::vector<RecipientOutcome>> outcomes;
    if (remote) {
      outcomes = agent->Deliver(request);
    } else {
      UserTurns turns(group.routes);
      outcomes = agent->Deliver(request);
    }
    if (!outcomes.ok()) {
      for (std::size_t i : group.recipients) {
        Record(i, DeliveryStatus::kDeferred,
               fmt::format("451 4.3.0 {}", std::string(outcomes.status().message())),
               fallback_relay, remote);
      }
      return;
    }
    std::size_t sent = 0;
    std::vector<bool> answered(group.recipients.size(), false);
    for (const RecipientOutcome& o : *outcomes) {
      // Only indexes that were asked for, each once.
      std::size_t pos = 0;
      while (pos < group.recipients.size() &&
             (group.recipients[pos] != o.index || answered[pos])) {
        ++pos;
      }
      if (pos == group.recipients.size()) continue;
      answered[pos] = true;
      if (o.status == DeliveryStatus::kSent) ++sent;
      Record(o.index, o.status, o.reply,
             o.relay.empty() ? fallback_relay : o.relay, remote);
    }
    for (std::size_t pos = 0; pos < answered.size(); ++pos) {
      if (answered[pos]) continue;
      Record(group.recipients[pos], DeliveryStatus::kDeferred,
             "451 4.3.0 delivery agent gave no result", fallback_relay,
             remote);
    }
    if (sent > 0 && options_.stats != nullptr) {
      // One message per mailer run, as sendmail's mailstats counts.
      MailerCounters delta;
      delta.mailer = agent->name();
      delta.msgs_to = 1;
      delta.bytes_to = envelope_.size;
      if (absl::Status s = options_.stats->Add(delta); !s.ok()) {
        Log(LogLevel::kWarning,
            fmt::format("{}: mailstats: {}", id_, std::string(s.message())));
      }
    }
  }

  void Record(std::size_t index, DeliveryStatus status, std::string reply,
              std::string relay, bool remote) {
    store::QueuedRecipient& r = envelope_.recipients[index];
    switch (status) {
      case DeliveryStatus::kSent:
        r.state = RecipientState::kDelivered;
        break;
      case DeliveryStatus::kBounced:
        r.state = RecipientState::kFailed;
        break;
      case DeliveryStatus::kDeferred:
        r.state = RecipientState::kPending;
        break;
    }
    r.last_reply = std::move(reply);
    r.remote_host = remote ? relay : "";
    outcome_[index] = status;
    Log(status == DeliveryStatus::kBounced ? LogLevel::kNotice
                                           : LogLevel::kInfo,
        FormatDeliveryLine(id_, r.address, relay,
                           absl::Now() - envelope_.arrival,
                           status, r.last_reply));
  }

  bool AnyPending() const {
    for (const auto& r : envelope_.recipients) {
      if (r.state == RecipientState::kPending) return true;
    }
    return false;
  }

  void Finish() {
    bool pending = AnyPending();
    if (pending && store::IsExpired(options_.retry, envelope_, now_)) {
      for (std::size_t i = 0; i < envelope_.recipients.size(); ++i) {
        const store::QueuedRecipient& r = envelope_.recipients[i];
        if (r.state != RecipientState::kPending) continue;
        // The last reason goes along: it is what the sender needs to know.
        std::string reply(kExpiredReply);
        if (!r.last_reply.empty()) {
          reply += fmt::format(" (last error: {})", r.last_reply);
        }
        std::string relay = r.remote_host.empty() ? "none" : r.remote_host;
        Record(i, DeliveryStatus::kBounced, std::move(reply),
               std::move(relay), !r.remote_host.empty());
      }
      pending = false;
    }

    if (!pending) {
      bool notified = Notify(NoticeKind::kFailure);
      notified = Notify(NoticeKind::kSuccess) && notified;
      if (!notified) {
        // Keep the message (and its results) so the notice is retried.
        Defer();
        return;
      }
      absl::Status removed = lease_->Remove();
      if (removed.ok()) {
        Log(LogLevel::kInfo, fmt::format("{}: removed", id_));
        return;
      }
      Log(LogLevel::kError,
          fmt::format("{}: cannot remove: {}", id_, std::string(removed.message())));
      // Keep the dsn_sent marks so the notices are not sent again.
      if (absl::Status s = lease_->Save(envelope_); !s.ok()) {
        Log(LogLevel::kError,
            fmt::format("{}: cannot save: {}", id_, std::string(s.message())));
      }
      return;
    }

    // Bounces of this attempt are reported now, not when the rest is done.
    // A failure here is retried with the next attempt (dsn_sent stays off).
    (void)Notify(NoticeKind::kFailure);
    if (store::DelayWarningDue(options_.retry, envelope_, now_) &&
        Notify(NoticeKind::kDelay)) {
      envelope_.delay_warned = true;
    }
    Defer();
  }

  void Defer() {
    envelope_.attempts += 1;
    envelope_.next_attempt =
        store::NextAttempt(options_.retry, envelope_.attempts, now_);
    if (absl::Status s = lease_->Save(envelope_); !s.ok()) {
      Log(LogLevel::kError,
          fmt::format("{}: cannot save the envelope: {}", id_, std::string(s.message())));
    }
  }

  // Queues one notice of `kind` about the recipients owed one. True when
  // nothing is owed any more (sent, or nobody to send it to).
  bool Notify(NoticeKind kind) {
    std::vector<DsnRecipient> about;
    for (std::size_t i = 0; i < envelope_.recipients.size(); ++i) {
      const store::QueuedRecipient& r = envelope_.recipients[i];
      DsnRecipient d;
      d.index = i;
      d.reply = r.last_reply;
      d.remote_mta = r.remote_host;
      switch (kind) {
        case NoticeKind::kFailure:
          if (r.state != RecipientState::kFailed || !r.notify_failure ||
              r.dsn_sent) {
            continue;
          }
          d.action = DsnAction::kFailed;
          break;
        case NoticeKind::kSuccess:
          if (r.state != RecipientState::kDelivered || !r.notify_success ||
              r.dsn_sent) {
            continue;
          }
          d.action = DsnAction::kDelivered;
          break;
        case NoticeKind::kDelay:
          if (r.state != RecipientState::kPending || !r.notify_delay) continue;
          d.action = DsnAction::kDelayed;
          break;
      }
      about.push_back(std::move(d));
    }
    if (about.empty()) return true;

    std::string_view what = kind == NoticeKind::kFailure ? "non-delivery"
                            : kind == NoticeKind::kSuccess ? "delivery"
                                                           : "delay";
    if (!ShouldNotify(envelope_)) {
      // Never a notice to the null sender: a bounce of a bounce loops.
      if (kind == NoticeKind::kFailure) {
        Log(LogLevel::kNotice,
            fmt::format("{}: {} notification to the null sender dropped",
                        id_, what));
      }
      MarkSent(kind, about);
      return true;
    }
    DsnOptions dsn_options;
    dsn_options.hostname = options_.hostname;
    dsn_options.now = now_;
    dsn_options.retry_until = envelope_.arrival + options_.retry.lifetime;
    absl::StatusOr<std::string> dsn_id = QueueDsn(
        *options_.queue, *lease_, envelope_, about, dsn_options);
    if (!dsn_id.ok()) {
      Log(LogLevel::kError,
          fmt::format("{}: cannot queue the sender {} notification: {}", id_,
                      what, std::string(dsn_id.status().message())));
      return false;
    }
    MarkSent(kind, about);
    Log(LogLevel::kInfo, fmt::format("{}: sender {} notification: {}", id_,
                                     what, *dsn_id));
    result_.queued.push_back(*std::move(dsn_id));
    return true;
  }

  void MarkSent(NoticeKind kind, const std::vector<DsnRecipient>& about) {
    if (kind == NoticeKind::kDelay) return;  // delay_warned covers it
    for (const DsnRecipient& d : about) {
      envelope_.recipients[d.index].dsn_sent = true;
    }
  }

  const QueueRunnerOptions& options_;
  const std::string& id_;
  const bool only_if_due_;
  std::unique_ptr<store::QueueLease> lease_;
  store::QueueEnvelope envelope_;
  absl::Time now_;
  std::vector<std::optional<DeliveryStatus>> outcome_;  // this attempt's
  AttemptResult result_;
};

}  // namespace

AttemptResult AttemptMessage(const QueueRunnerOptions& options,
                             const std::string& id, bool only_if_due) {
  return Attempt(options, id, only_if_due).Run();
}

void AddSummary(RunSummary* into, const RunSummary& from) {
  into->messages += from.messages;
  into->delivered += from.delivered;
  into->deferred += from.deferred;
  into->bounced += from.bounced;
  into->busy += from.busy;
}

}  // namespace posthorn::mta::deliver
