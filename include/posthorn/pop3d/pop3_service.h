// posthorn/pop3d/pop3_service.h — the POP3 service: sessions on maildrops.
//
// PURPOSE
//   The policy between the network (net::Pop3Server, which speaks the
//   protocol) and the store (Mailstore, AuthDb). Pop3Service is the
//   net::Pop3Handler that popper runs, and one a C++ program can embed:
//
//     auto store = store::MakeMboxStore({.spool_dir = "/var/spool/mail"});
//     auto auth = store::OpenAuthDb("/etc/pop.auth", /*writable=*/false);
//     pop3d::ServiceOptions so;
//     so.mailstore = store->get();  so.auth_db = auth->get();
//     so.bulletin_dir = "/var/spool/bulls";  so.stats = true;
//     pop3d::Pop3Service service(so);
//     auto server = net::Pop3Server::Create(server_options, &service);
//
// LOGIN (Login(), on a worker thread)
//   1. The user name is checked with store::ValidateUserName before
//      anything else: "../x", "a/b", "", NUL, overlong names are refused
//      ("-ERR [AUTH] authentication failed", the same answer as a wrong
//      password, so names cannot be probed) and never reach a path.
//   2. Credentials against the AuthDb: PASS and AUTH PLAIN with
//      CheckPassword, APOP with CheckApop. AUTH PLAIN with an authzid other
//      than the user (proxy login) is refused.
//   3. Too many failures from one client address: see AddressLimiter.
//   4. Bulletins (bulletin_dir set): see bulletins.h; delivered while the
//      maildrop's POP-session lock is held (so two logins of one user never
//      both deliver one), then the session is reopened, so they are
//      ordinary messages of this and later sessions. Bulletin errors are
//      logged and never block the login.
//   5. Mailstore::OpenSession: IsInUse -> "-ERR [IN-USE] maildrop is locked
//      by another session" (not a failed login); other errors ->
//      "-ERR [SYS/TEMP] cannot open maildrop" and the detail in the log.
//   The listing's uids are the store's (never an X-UIDL header from the
//   message: a sender could forge it).
//
// LOGGING
//   Through ServiceOptions::log (popper sends it to syslog local0 and the
//   -t trace file). Text that came from the network (user names, header
//   text) is escaped before it reaches a line, so a client cannot forge
//   log lines. With stats, one line per session that logged in:
//   "Stats: alice 2 320 5 1200" (user deleted_msgs deleted_bytes
//   left_msgs left_bytes, qpopper's -s format), at level kNotice.

#ifndef POSTHORN_POP3D_POP3_SERVICE_H_
#define POSTHORN_POP3D_POP3_SERVICE_H_

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "posthorn/net/pop3_server.h"
#include "posthorn/pop3d/address_limiter.h"
#include "posthorn/store/auth_db.h"
#include "posthorn/store/mailstore.h"

namespace posthorn::pop3d {

enum class LogLevel { kDebug, kInfo, kNotice, kWarning, kError };

// Receives finished, escaped log lines (no trailing newline). Called from
// loop and worker threads: must be thread-safe.
using LogFunction = std::function<void(LogLevel level, std::string_view line)>;

struct ServiceOptions {
  store::Mailstore* mailstore = nullptr;  // required, outlives the service
  const store::AuthDb* auth_db = nullptr;  // required, outlives the service
  std::optional<std::string> bulletin_dir;  // popper -b
  std::string hostname = "localhost";  // bulletins' To: user@hostname
  bool stats = false;                  // popper -s
  AddressLimits address_limits;
  LogFunction log;  // null: nothing is logged
};

class Pop3Service : public net::Pop3Handler {
 public:
  explicit Pop3Service(ServiceOptions options);
  ~Pop3Service() override;

  std::optional<std::string> OnConnect(const net::Peer& peer) override;
  net::Pop3LoginResult Login(const net::Pop3LoginRequest& request) override;
  void OnSessionEnd(const net::Pop3SessionSummary& summary) override;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

// "Stats: user deleted_msgs deleted_bytes left_msgs left_bytes".
std::string FormatStatsLine(const net::Pop3SessionSummary& summary);

// Escapes text from the network for a log line: bytes outside 0x20..0x7E
// and '\' become \xHH; at most max_length octets of input are kept
// ("..." marks a cut).
std::string EscapeForLog(std::string_view text, std::size_t max_length = 200);

}  // namespace posthorn::pop3d

#endif  // POSTHORN_POP3D_POP3_SERVICE_H_
