// pop3d/pop3_service.cpp — Pop3Service (posthorn/pop3d/pop3_service.h).
//
// Login order, and why:
//   1. ValidateUserName: a hostile name ("../x", NUL, 10 KB) never reaches
//      the AuthDb, a path or a log line unescaped; its answer is the one of
//      a wrong password, so names cannot be probed.
//   2. Credentials. Every refusal is recorded with the AddressLimiter;
//      AuthDb errors are not refusals (SYS/TEMP, the client retries).
//   3. OpenSession takes the POP-session lock. Bulletins are delivered
//      while it is held: the lock serialises them against a second login of
//      the same user (in this process or another popper under inetd), so
//      the record is read and moved by one session at a time and a
//      bulletin is not delivered twice. When any arrived, the session is
//      reopened so its snapshot includes them (if another session takes
//      the lock in that instant, this login gets IN-USE, as it would have
//      a moment later).
// Log lines carry only escaped network text (EscapeForLog).

#include "posthorn/pop3d/pop3_service.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "fmt/format.h"
#include "pop3d/store_maildrop.h"
#include "posthorn/pop3/response.h"
#include "posthorn/pop3d/bulletins.h"
#include "posthorn/store/status.h"

namespace posthorn::pop3d {
namespace {

pop3::LoginFailure Failure(std::string_view code, std::string_view text) {
  return pop3::LoginFailure{std::string(code), std::string(text)};
}

pop3::LoginFailure AuthFailure() {
  return Failure(pop3::kCodeAuth, "authentication failed");
}

// "127.0.0.1", or "stdio" for a session without a network peer.
std::string PeerText(const net::Peer& peer) {
  return peer.address.empty() ? "stdio" : EscapeForLog(peer.address, 64);
}

// "(apop, tls)"
std::string HowText(const net::Pop3LoginRequest& request) {
  return fmt::format("({}{})", pop3::LoginMechanismName(request.mechanism),
                     request.tls ? ", tls" : "");
}

}  // namespace

class Pop3Service::Impl {
 public:
  explicit Impl(ServiceOptions options)
      : options_(std::move(options)), limiter_(options_.address_limits) {}

  std::optional<std::string> OnConnect(const net::Peer& peer) {
    if (!limiter_.IsBlocked(peer.address, AddressLimiter::Clock::now())) {
      return std::nullopt;
    }
    // Debug only: a blocked client may reconnect in a loop; the block
    // itself was logged once, when it began (Refuse).
    Log(LogLevel::kDebug,
        fmt::format("refused connection from {}: too many failed logins",
                    PeerText(peer)));
    return "too many failed logins from your address; try again later";
  }

  net::Pop3LoginResult Login(const net::Pop3LoginRequest& request) {
    net::Pop3LoginResult result;
    if (absl::Status valid = store::ValidateUserName(request.user);
        !valid.ok()) {
      result.failure = Refuse(request, "invalid user name");
      return result;
    }
    absl::StatusOr<bool> accepted = CheckCredentials(request);
    if (!accepted.ok()) {
      Log(LogLevel::kError,
          fmt::format("login {} from {}: authentication database: {}",
                      request.user, PeerText(request.peer),
                      EscapeForLog(accepted.status().ToString(), 400)));
      result.failure =
          Failure(pop3::kCodeSysTemp, "authentication temporarily unavailable");
      return result;
    }
    if (!*accepted) {
      result.failure = Refuse(request, "wrong credentials");
      return result;
    }

    auto session = OpenMaildrop(request, &result.failure);
    if (session == nullptr) return result;
    if (options_.bulletin_dir.has_value() && !options_.bulletin_dir->empty() &&
        DeliverBulletinsTo(request.user) > 0) {
      session.reset();  // reopen: the snapshot shall include them
      session = OpenMaildrop(request, &result.failure);
      if (session == nullptr) return result;
    }

    auto maildrop = std::make_unique<detail::StoreMaildrop>(std::move(session));
    result.listing = maildrop->Listing();
    result.maildrop = std::move(maildrop);
    Log(LogLevel::kInfo,
        fmt::format("login {} from {} {}: {} messages", request.user,
                    PeerText(request.peer), HowText(request),
                    result.listing.sizes.size()));
    return result;
  }

  void OnSessionEnd(const net::Pop3SessionSummary& summary) {
    if (!summary.logged_in) return;
    if (options_.stats) Log(LogLevel::kNotice, FormatStatsLine(summary));
    if (!summary.updated) {
      Log(LogLevel::kInfo,
          fmt::format("session of {} from {} ended without update: {}",
                      EscapeForLog(summary.user), PeerText(summary.peer),
                      EscapeForLog(summary.end.ToString(), 400)));
    }
  }

 private:
  void Log(LogLevel level, std::string_view line) const {
    if (options_.log) options_.log(level, line);
  }

  // Counts the failure against the client's address, logs it (the name
  // escaped: it may be anything) and returns the AUTH answer.
  pop3::LoginFailure Refuse(const net::Pop3LoginRequest& request,
                            std::string_view why) {
    const auto now = AddressLimiter::Clock::now();
    const bool was_blocked = limiter_.IsBlocked(request.peer.address, now);
    limiter_.RecordFailure(request.peer.address, now);
    Log(LogLevel::kInfo,
        fmt::format("failed login for {} from {} {}: {}",
                    EscapeForLog(request.user, store::kMaxUserNameLength),
                    PeerText(request.peer), HowText(request), why));
    if (!was_blocked && limiter_.IsBlocked(request.peer.address, now)) {
      Log(LogLevel::kNotice,
          fmt::format("blocking {} for {} s: too many failed logins",
                      PeerText(request.peer),
                      options_.address_limits.window.count()));
    }
    return AuthFailure();
  }

  absl::StatusOr<bool> CheckCredentials(const net::Pop3LoginRequest& request) {
    const store::AuthDb& auth = *options_.auth_db;
    switch (request.mechanism) {
      case pop3::LoginMechanism::kApop:
        if (request.apop_timestamp.empty()) return false;
        return auth.CheckApop(request.user, request.apop_timestamp,
                              request.password);
      case pop3::LoginMechanism::kSaslPlain:
        // A proxy login (authorise as someone else) is not supported.
        if (!request.authzid.empty() && request.authzid != request.user) {
          return false;
        }
        return auth.CheckPassword(request.user, request.password);
      case pop3::LoginMechanism::kUserPass:
        return auth.CheckPassword(request.user, request.password);
    }
    return false;
  }

  // The store session, or null with *failure set (IN-USE or SYS/TEMP).
  std::unique_ptr<store::MaildropSession> OpenMaildrop(
      const net::Pop3LoginRequest& request, pop3::LoginFailure* failure) {
    auto session = options_.mailstore->OpenSession(request.user);
    if (session.ok()) return std::move(*session);
    if (store::IsInUse(session.status())) {
      Log(LogLevel::kInfo,
          fmt::format("login {} from {} {}: maildrop in use", request.user,
                      PeerText(request.peer), HowText(request)));
      *failure = Failure(pop3::kCodeInUse,
                         "maildrop is locked by another session");
    } else {
      Log(LogLevel::kError,
          fmt::format("login {} from {}: cannot open maildrop: {}",
                      request.user, PeerText(request.peer),
                      EscapeForLog(session.status().ToString(), 400)));
      *failure = Failure(pop3::kCodeSysTemp, "cannot open maildrop");
    }
    return nullptr;
  }

  // Bulletin trouble is logged and never blocks the login.
  std::size_t DeliverBulletinsTo(const std::string& user) {
    std::vector<std::string> warnings;
    auto delivered = DeliverBulletins(*options_.mailstore,
                                      *options_.bulletin_dir, user,
                                      options_.hostname, &warnings);
    for (const std::string& warning : warnings) {
      Log(LogLevel::kWarning, fmt::format("bulletins: {}", warning));
    }
    if (!delivered.ok()) {
      Log(LogLevel::kWarning,
          fmt::format("bulletins for {}: {}", user,
                      EscapeForLog(delivered.status().ToString(), 400)));
      return 0;
    }
    if (*delivered > 0) {
      Log(LogLevel::kInfo,
          fmt::format("bulletins for {}: {} delivered", user, *delivered));
    }
    return *delivered;
  }

  const ServiceOptions options_;
  AddressLimiter limiter_;
};

Pop3Service::Pop3Service(ServiceOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}
Pop3Service::~Pop3Service() = default;

std::optional<std::string> Pop3Service::OnConnect(const net::Peer& peer) {
  return impl_->OnConnect(peer);
}

net::Pop3LoginResult Pop3Service::Login(const net::Pop3LoginRequest& request) {
  return impl_->Login(request);
}

void Pop3Service::OnSessionEnd(const net::Pop3SessionSummary& summary) {
  impl_->OnSessionEnd(summary);
}

}  // namespace posthorn::pop3d
