// posthorn/net/smtp_server.h — an SMTP server on sockets, for embedding.
//
// PURPOSE
//   Puts smtp::ServerSession on TCP (IPv4 and IPv6), STARTTLS, implicit
//   TLS and stdin/stdout. The embedding program implements SmtpHandler
//   (policy and storage) and calls Run():
//
//     class Sink : public net::SmtpHandler { ... };
//     net::SmtpServerOptions options;
//     options.listen = {"127.0.0.1:2525", "[::1]:2525"};
//     Sink sink;
//     auto server = net::SmtpServer::Create(options, &sink);
//     if (!server.ok()) ...;
//     (*server)->Run();  // until Stop() or SIGTERM/SIGINT
//
//   Asio and OpenSSL stay inside src/net: this header includes neither.
//
// CONCURRENCY
//   One coroutine per connection on one event-loop thread (io_threads
//   more if asked). Handler methods are called on a loop thread, one call
//   at a time per connection; with io_threads > 1 they may be called
//   concurrently for different connections.
//
// STANDARDS
//   RFC 5321 (4.5.3.2 timeouts; 3.1 refusing a connection with 554 / 421),
//   RFC 3207 STARTTLS, RFC 8314 implicit TLS, RFC 8996 (TLS 1.2 minimum),
//   RFC 2920 PIPELINING (replies to one read are written together).
//
// SECURITY
//   Exposed to anyone who can connect. Every buffer is bounded (a 16 KiB
//   read buffer per connection, the session's own limits); every wait has
//   a deadline (connect to first command, per command, data rate, writes,
//   TLS handshakes). After STARTTLS nothing read in plaintext is used
//   (CVE-2011-0411): the session drops its buffer and so does the driver.
//   A handler that throws loses its connection, not the server. TLS files
//   are read once, at Create().
//
// LIMITS AND TIMEOUTS
//   max_connections: further clients get "421 4.3.2 Too many connections"
//   and are closed. idle_timeout: no complete command for that long gives
//   "421 4.4.2 ... timeout" (RFC 5321 4.5.3.2 suggests 5 minutes).
//   In DATA a minimum rate applies (data_min_rate bytes per second after
//   a grace period) so a one-byte-per-timeout client is cut off.
//   SIGTERM: stop accepting, tell idle sessions 421, let transactions in
//   progress finish until shutdown_grace, then close the rest.

#ifndef POSTHORN_NET_SMTP_SERVER_H_
#define POSTHORN_NET_SMTP_SERVER_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "posthorn/net/memory_stream.h"
#include "posthorn/smtp/server_session.h"

namespace posthorn::net {

struct TlsFiles {
  std::string cert_file;  // PEM, certificate chain
  std::string key_file;   // PEM, private key
  // The files' contents, when already read (ReadTlsFiles): then the
  // servers use these and never open the files, so a program that drops
  // privileges before its first STLS/STARTTLS can keep a key only root
  // may read (inetd, socket activation).
  std::string cert_pem{};
  std::string key_pem{};
};

// Reads cert_file and key_file into cert_pem and key_pem (each at most
// 1 MiB). Errors name the file: NotFound, PermissionDenied,
// InvalidArgument (too large).
[[nodiscard]] absl::Status ReadTlsFiles(TlsFiles& files);

struct SmtpServerOptions {
  // "127.0.0.1:2525", "[::1]:2525", "0.0.0.0:25", "[::]:25"; port 0 picks a
  // free port (see SmtpServer::local_endpoints()).
  std::vector<std::string> listen;
  // Same form; implicit TLS (submissions, RFC 8314) on these.
  std::vector<std::string> listen_tls;
  smtp::ServerOptions session;  // tls_available is set from `tls`
  std::optional<TlsFiles> tls;
  std::size_t max_connections = 1000;
  std::chrono::seconds idle_timeout{300};
  std::uint64_t data_min_rate = 1024;  // bytes/s in DATA after the grace
  std::chrono::seconds data_rate_grace{30};
  std::chrono::seconds shutdown_grace{10};
  std::chrono::milliseconds error_penalty{1000};  // sleep when penalty()
  // PREGREET check (Postfix postscreen_greet_wait): wait this long before
  // the greeting; a client that sends anything meanwhile talked before it
  // was greeted (RFC 5321 3.1) and gets "554 5.5.0" and a close. 0 (the
  // default) greets at once, so every connection pays no latency; an MTA
  // facing the Internet sets a second or more.
  std::chrono::milliseconds greet_pause{0};
  int io_threads = 1;
  bool handle_signals = true;  // SIGTERM / SIGINT stop the server
};

struct Peer {
  std::string address;  // "127.0.0.1", "::1"
  std::uint16_t port = 0;
};

// One message being received. Write() gets the body in chunks (CRLF line
// ends, dot-stuffing removed); Commit() must make it durable before
// returning OK (the client gets 250 only then); Abort() discards it.
// After a failed Write() the rest of the data is read and dropped and the
// error becomes the final reply, as for Commit(). The reply for an error,
// by status code: kResourceExhausted -> 452 4.3.1, kPermissionDenied ->
// 554 5.7.1, kInvalidArgument -> 554 5.6.0, anything else -> 451 4.3.0;
// the status message is the reply text (one line, at most 400 octets).
// A message that starts with an enhanced status code (RFC 3463) and a
// space, of the same class as the reply ('5' for 554, '4' for 451/452),
// replaces the default enhanced code: PermissionDeniedError("5.4.6 Too
// many hops") -> "554 5.4.6 Too many hops". Of another class it is text.
// The calls run on the loop thread: a slow Commit() (fsync) delays the
// other connections of that thread (see io_threads).
class MessageSink {
 public:
  virtual ~MessageSink() = default;
  virtual absl::Status Write(std::string_view chunk) = 0;
  // ok -> "250 2.0.0 <text>" (the text may carry the queue id; empty ->
  // "Ok"); an error -> the reply named above.
  virtual absl::StatusOr<std::string> Commit(const smtp::Envelope& envelope) = 0;
  virtual void Abort() = 0;
};

// The embedding program's policy and storage. Default implementations
// accept everything (and AUTH refuses everything).
class SmtpHandler {
 public:
  virtual ~SmtpHandler() = default;
  // Return a Reply to refuse the connection (554 / 421).
  virtual std::optional<smtp::Reply> OnConnect(const Peer& peer);
  virtual smtp::Verdict OnMailFrom(const Peer& peer,
                                   const smtp::ServerSession& session,
                                   const smtp::Path& path,
                                   const smtp::MailParams& params);
  virtual smtp::Verdict OnRcptTo(const Peer& peer,
                                 const smtp::ServerSession& session,
                                 const smtp::Path& path,
                                 const smtp::RcptParams& params);
  virtual smtp::Verdict OnAuth(const Peer& peer, std::string_view mechanism,
                               std::string_view authzid,
                               std::string_view username,
                               std::string_view password);
  virtual smtp::Verdict OnEtrn(const Peer& peer, std::string_view argument);
  // Only asked with session.vrfy_event / session.expn_enabled. Defaults:
  // VRFY "252 2.5.0 Cannot VRFY user, but will accept message", EXPN
  // "502 5.5.1 Command not implemented".
  virtual smtp::Verdict OnVrfy(const Peer& peer, std::string_view argument);
  virtual smtp::Verdict OnExpn(const Peer& peer, std::string_view argument);
  // Called at DATA (after 354 is decided); nullptr refuses with 451.
  virtual std::unique_ptr<MessageSink> OpenMessage(
      const Peer& peer, const smtp::ServerSession& session) = 0;
};

class SmtpServer {
 public:
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<SmtpServer>> Create(
      SmtpServerOptions options, SmtpHandler* handler);
  ~SmtpServer();

  // Serves until Stop() or a signal; returns after the graceful shutdown.
  [[nodiscard]] absl::Status Run();
  // Thread-safe; Run() returns after the grace period.
  void Stop();
  // The bound addresses ("127.0.0.1:40123"), useful with port 0.
  std::vector<std::string> local_endpoints() const;
  // Counters for tests and stats. connections_accepted counts the served
  // connections (not those refused with 421 for max_connections).
  std::uint64_t connections_accepted() const;
  std::uint64_t messages_accepted() const;
  // Served connections open right now.
  std::size_t active_connections() const;

  // A session over an in-process pipe instead of a socket (tests, see
  // memory_stream.h); same limits, counters and shutdown as TCP. Works
  // before Run() (the session starts when Run() does). Unavailable once
  // the server is stopping.
  absl::StatusOr<std::unique_ptr<MemoryStream>> ConnectInMemory(
      Peer peer = Peer{"127.0.0.1", 0});

  class Impl;

 private:
  explicit SmtpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// One session on already-open file descriptors (inetd, sendmail -bs): the
// peer address is taken from the socket when in_fd is one, else "".
// The descriptors are dup()ed (the caller's stay open) and put in
// non-blocking mode. No TLS: STARTTLS is not offered and options.tls,
// listen and listen_tls are ignored. Timeouts, limits and (with
// handle_signals) SIGTERM / SIGINT apply as on TCP. Returns when the
// session is over.
absl::Status ServeSmtpOnStdio(const SmtpServerOptions& options,
                              SmtpHandler* handler, int in_fd = 0,
                              int out_fd = 1);

// Splits "host:port", "[v6]:port" into its parts; error for anything else.
absl::StatusOr<std::pair<std::string, std::uint16_t>> ParseEndpoint(
    std::string_view endpoint);

}  // namespace posthorn::net

#endif  // POSTHORN_NET_SMTP_SERVER_H_
