// net/server/connection.h — one SMTP server connection: the coroutine that
// drives smtp::ServerSession over a Transport.
//
// THE LOOP (see smtp/server_session.h for the session's side)
//   flush replies -> read into a fixed buffer -> Receive() -> answer every
//   event through SmtpHandler -> feed the unconsumed rest again -> repeat.
//   The handler answers synchronously, so the session is never left
//   waiting and the rest of a pipelined chunk is fed at once.
//
// SECURITY
//   - STARTTLS: the session discards what followed the STARTTLS line; this
//     driver drops the rest of its own read buffer too, then flushes the
//     220 and handshakes on the same socket (CVE-2011-0411).
//   - A watchdog timer enforces, per connection: the time from connect to
//     the first command and between replies (idle_timeout, "421 4.4.2"),
//     the minimum data rate in DATA after data_rate_grace, and the time
//     any write or TLS handshake may take (a client that never reads).
//   - After the last reply (221, 421, 554) the socket is half-closed and
//     drained briefly (kLingerTime, kLingerBytes) so the reply is not
//     destroyed by a TCP reset when the client had sent more.
//
// MEMORY (idle connection, plaintext)
//   The session, the coroutine frame, a socket, and the read buffer
//   (kReadBufferSize, allocated at the first read). No TLS buffers unless
//   STARTTLS.

#ifndef POSTHORN_SRC_NET_SERVER_CONNECTION_H_
#define POSTHORN_SRC_NET_SERVER_CONNECTION_H_

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/ssl/context.hpp>
#include <asio/steady_timer.hpp>

#include "net/transport/transport.h"
#include "posthorn/net/smtp_server.h"
#include "posthorn/smtp/server_session.h"

namespace posthorn::net {

// Enough for a pipelined group of commands or a good slice of DATA per
// read; small enough for the < 64 KiB per idle connection target.
inline constexpr std::size_t kReadBufferSize = 16 * 1024;
// After the final reply: how long and how much to read and discard (a
// client normally closes at once; shorter while the server shuts down).
inline constexpr std::chrono::milliseconds kLingerTime{1000};
inline constexpr std::chrono::milliseconds kShutdownLingerTime{100};
inline constexpr std::size_t kLingerBytes = 64 * 1024;
// Longest reply text taken from a handler's status message.
inline constexpr std::size_t kMaxStatusText = 400;

// What every connection of one server (or one stdio session) shares.
struct ServerShared {
  const SmtpServerOptions* options = nullptr;
  smtp::ServerOptions session_options;  // tls_available already decided
  SmtpHandler* handler = nullptr;
  asio::ssl::context* tls = nullptr;  // null: no STARTTLS, no implicit TLS
  std::atomic<std::uint64_t> connections_accepted{0};
  std::atomic<std::uint64_t> messages_accepted{0};
  std::atomic<std::size_t> active{0};  // served connections open now
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  enum class Mode : std::uint8_t {
    kPlain,        // greeting at once; STARTTLS when the server has TLS
    kImplicitTls,  // handshake first (RFC 8314 port 465)
    kBusy,         // "421 4.3.2 Too many connections" and close
  };

  Connection(ServerShared& shared, const asio::any_io_executor& executor,
             std::unique_ptr<Transport> transport, Mode mode,
             std::function<void(Connection*)> on_finished);
  ~Connection();

  // The whole life of the connection; `self` keeps it alive.
  static asio::awaitable<void> Run(std::shared_ptr<Connection> self);

  // The server stops: an idle session gets 421 at once, a transaction in
  // DATA may finish first.
  void RequestShutdown();
  // The grace period is over: close now.
  void ForceClose();

 private:
  using Clock = std::chrono::steady_clock;

  asio::awaitable<void> Serve();
  // Writes what the session queued; false when the connection is gone.
  // PREGREET: waits greet_pause for a client that talks first; false
  // when the connection ended meanwhile.
  asio::awaitable<bool> GreetPause();
  asio::awaitable<bool> Flush();
  // Feeds one read; false when the connection must end now.
  asio::awaitable<bool> Feed(std::string_view chunk);
  asio::awaitable<void> Linger();
  // Answers every pending event; true when the session asked for TLS.
  bool HandleEvents();
  void HandleMessageEnd();
  void AbortMessage();
  void EnsureBuffer();

  // Watchdog: one timer per connection, re-armed only when a deadline
  // moves earlier; a later deadline is picked up when the timer fires.
  void SetDeadline(Clock::time_point deadline);
  void SetReadDeadline();
  void ArmWatchdog(Clock::time_point at);
  void OnWatchdog(const std::error_code& ec);
  void Finish();

  ServerShared& shared_;
  const SmtpServerOptions& options_;
  std::unique_ptr<Transport> transport_;
  Mode mode_;
  std::function<void(Connection*)> on_finished_;
  smtp::ServerSession session_;
  Peer peer_;
  std::unique_ptr<char[]> buffer_;  // kReadBufferSize, lazily

  asio::steady_timer watchdog_;
  Clock::time_point deadline_;
  Clock::time_point armed_;
  std::optional<asio::steady_timer> penalty_timer_;

  Clock::time_point last_reply_;
  Clock::time_point last_read_;
  Clock::time_point data_start_;
  std::uint64_t data_bytes_ = 0;

  std::unique_ptr<MessageSink> sink_;
  absl::Status sink_status_;

  bool in_data_ = false;
  bool reading_ = false;
  bool timed_out_ = false;
  bool shutdown_requested_ = false;
  bool force_closed_ = false;
  bool finished_ = false;
  bool counted_ = false;  // counts in shared_.active
};

// The reply for a MessageSink::Write()/Commit() error (see MessageSink in
// posthorn/net/smtp_server.h), including a leading enhanced code.
smtp::Reply ReplyForCommitError(const absl::Status& status);

}  // namespace posthorn::net

#endif  // POSTHORN_SRC_NET_SERVER_CONNECTION_H_
