// posthorn/net/pop3_server.h — a POP3 server on sockets, for embedding.
//
// PURPOSE
//   Puts pop3::ServerSession on TCP (IPv4 and IPv6), STLS (RFC 2595),
//   implicit TLS (RFC 8314, port 995) and stdin/stdout (inetd). The
//   embedding program implements Pop3Handler: it checks credentials and
//   opens the maildrop (pop3d's Pop3Service does this over the store):
//
//     class Drops : public net::Pop3Handler { ... };
//     net::Pop3ServerOptions options;
//     options.listen = {"127.0.0.1:1100", "[::1]:1100"};
//     Drops drops;
//     auto server = net::Pop3Server::Create(options, &drops);
//     if (!server.ok()) ...;
//     (*server)->Run();  // until Stop() or SIGTERM/SIGINT
//
//   Asio and OpenSSL stay inside src/net: this header includes neither.
//   The net layer knows nothing of the store: a maildrop is the abstract
//   Pop3Maildrop below.
//
// THREADS
//   Connections run on io_threads event-loop threads. Handler and maildrop
//   calls that may block (Login: a crypt() and a file lock; Update: a
//   rewrite with fsync; opening and reading a message) run on a separate
//   pool of worker_threads, so a slow disk or a slow hash never stalls the
//   other connections. Calls for one connection never overlap; calls for
//   different connections may run concurrently.
//
// SECURITY
//   Exposed to anyone who can connect. Every buffer is bounded (a 16 KiB
//   read buffer, a bounded message chunk, the session's own limits); every
//   wait has a deadline (idle_timeout between commands, writes and TLS
//   handshakes). After STLS nothing read in plaintext is used: the session
//   drops its buffer and so does the driver (CVE-2011-0411). A rejected
//   login is answered only after failed_login_delay (a timer, not a sleep:
//   the loop goes on). The APOP timestamp is fresh per connection
//   ("<pid.counter.clock@hostname>", RFC 1939 section 7). TLS files are read
//   once, at Create().
//
// LIMITS AND TIMEOUTS
//   max_connections: further clients get "-ERR [SYS/TEMP] too many
//   connections" and are closed. idle_timeout: no command for that long
//   gives "-ERR autologout timer expired" and a close without UPDATE
//   (RFC 1939 section 3: at least 10 minutes). SIGTERM: stop accepting,
//   sessions end without UPDATE after shutdown_grace (nothing is deleted
//   by a shutdown).

#ifndef POSTHORN_NET_POP3_SERVER_H_
#define POSTHORN_NET_POP3_SERVER_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "posthorn/net/memory_stream.h"
#include "posthorn/net/smtp_server.h"  // Peer, TlsFiles, ParseEndpoint
#include "posthorn/pop3/server_session.h"

namespace posthorn::net {

struct Pop3ServerOptions {
  // "127.0.0.1:110", "[::1]:110", "0.0.0.0:110"; port 0 picks a free port
  // (see Pop3Server::local_endpoints()).
  std::vector<std::string> listen;
  // Same form; implicit TLS (pop3s, RFC 8314) on these.
  std::vector<std::string> listen_tls;
  // hostname, greeting, limits, plaintext policy. tls_available,
  // tls_active and apop_timestamp are set per connection by the server.
  pop3::ServerOptions session;
  bool apop = true;  // a fresh APOP timestamp in every greeting
  std::optional<TlsFiles> tls;  // STLS and listen_tls need it
  std::size_t max_connections = 1000;
  std::chrono::seconds idle_timeout{600};
  // Before each "-ERR" for a login refused with code AUTH (or no code).
  std::chrono::milliseconds failed_login_delay{1000};
  std::chrono::seconds shutdown_grace{10};
  int io_threads = 1;
  int worker_threads = 2;  // blocking handler / maildrop calls
  bool handle_signals = true;  // SIGTERM / SIGINT stop the server
  // When set, one line per client command and per response status line
  // ("[::1]:4711 > USER alice", "[::1]:4711 < +OK ..."); the password of
  // PASS, the digest of APOP, the initial response of AUTH and SASL
  // continuation lines are replaced by "***" (APOP's user name and AUTH's
  // mechanism stay), bytes outside 0x20..0x7E and '\' are escaped as
  // \xHH, lines are cut at 200 octets. Message content is never logged.
  // (popper -d / -t.) Called on loop threads: with io_threads > 1
  // possibly concurrently, so it must be thread-safe.
  std::function<void(std::string_view line)> protocol_log;
};

// The maildrop of a logged-in session; the connection owns it and
// destroys it when the session ends. Destruction without Update() removes
// nothing and releases the POP-session lock (dropped connection, timeout,
// shutdown, a killed server: nothing is lost).
class Pop3Maildrop {
 public:
  virtual ~Pop3Maildrop() = default;
  // Starts reading message `index` (0-based): the whole message, or with
  // top_lines its header, the empty line and that many body lines. The
  // text is the stored message with CRLF line ends, not dot-stuffed.
  virtual absl::Status OpenMessage(std::size_t index,
                                   std::optional<std::uint64_t> top_lines) = 0;
  // The next bytes of the open message (at most buffer.size()); 0 at the
  // end. An error after some bytes ends the connection (see
  // pop3::ServerSession::FailMessage).
  virtual absl::StatusOr<std::size_t> ReadMessage(std::span<char> buffer) = 0;
  // QUIT in TRANSACTION: remove `deleted` (0-based, ascending) atomically,
  // keep the rest and mail that arrived meanwhile, release the lock.
  virtual absl::Status Update(std::span<const std::size_t> deleted) = 0;
};

struct Pop3LoginRequest {
  Peer peer;
  pop3::LoginMechanism mechanism = pop3::LoginMechanism::kUserPass;
  std::string user;
  std::string password;        // kApop: the client's digest (lower-case hex)
  std::string authzid;         // kSaslPlain, may be empty
  std::string apop_timestamp;  // kApop: the greeting's timestamp
  bool tls = false;            // the session runs over TLS
};

// Either a maildrop with its listing, or a failure.
struct Pop3LoginResult {
  std::unique_ptr<Pop3Maildrop> maildrop;
  pop3::MaildropListing listing;
  pop3::LoginFailure failure;  // used when maildrop is null
};

// Once per connection, when it ends (the -s statistics line); not for
// connections refused for max_connections.
struct Pop3SessionSummary {
  Peer peer;
  std::string user;         // "" when nobody logged in
  bool logged_in = false;
  bool updated = false;     // QUIT ran the UPDATE and it succeeded
  std::size_t deleted_messages = 0;  // marked deleted (removed if updated)
  std::uint64_t deleted_octets = 0;
  std::size_t left_messages = 0;     // in the maildrop after the session
  std::uint64_t left_octets = 0;
  bool tls = false;
  absl::Status end;  // OK for QUIT, else why it ended (EOF, timeout, ...)
};

// The embedding program's credentials and maildrops.
class Pop3Handler {
 public:
  virtual ~Pop3Handler() = default;
  // A text refuses the connection: "-ERR [SYS/TEMP] <text>" and close.
  // Called on a loop thread: must not block.
  virtual std::optional<std::string> OnConnect(const Peer& peer);
  // Checks the credentials and opens the maildrop. Called on a worker
  // thread; may block. A failure with code AUTH (or none) is delayed by
  // failed_login_delay and counts towards the session's max_failed_logins.
  virtual Pop3LoginResult Login(const Pop3LoginRequest& request) = 0;
  // Called on a worker thread after the maildrop is gone; may block.
  virtual void OnSessionEnd(const Pop3SessionSummary& summary);
};

class Pop3Server {
 public:
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<Pop3Server>> Create(
      Pop3ServerOptions options, Pop3Handler* handler);
  ~Pop3Server();

  // Serves until Stop() or a signal; returns after the shutdown.
  [[nodiscard]] absl::Status Run();
  // Thread-safe.
  void Stop();
  std::vector<std::string> local_endpoints() const;
  std::uint64_t connections_accepted() const;
  std::size_t active_connections() const;

  // A session over an in-process pipe (tests); same limits and shutdown.
  absl::StatusOr<std::unique_ptr<MemoryStream>> ConnectInMemory(
      Peer peer = Peer{"127.0.0.1", 0});

  class Impl;

 private:
  explicit Pop3Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// One session on already-open descriptors (inetd: popper with no -l). When
// in_fd is a connected socket it is used as one (peer address from it, and
// STLS offered when options.tls is set); for pipes and terminals there is
// no TLS and the peer is "". Descriptors are dup()ed. Returns when the
// session is over (after OnSessionEnd).
absl::Status ServePop3OnStdio(const Pop3ServerOptions& options,
                              Pop3Handler* handler, int in_fd = 0,
                              int out_fd = 1);

}  // namespace posthorn::net

#endif  // POSTHORN_NET_POP3_SERVER_H_
