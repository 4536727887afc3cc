// net/pop3/pop3_connection.h — one POP3 server connection: the coroutine
// that drives pop3::ServerSession over a Transport.
//
// THE LOOP (see pop3/server_session.h for the session's side)
//   flush responses -> read into a fixed buffer -> feed it to Receive()
//   one line at a time -> answer every event -> feed the rest -> repeat.
//   Feeding line by line lets the driver flush once kFlushThreshold
//   octets of responses are queued, so a pipelined flood of "LIST" lines
//   cannot grow the output without bound.
//
// BLOCKING WORK
//   Handler::Login, the maildrop's OpenMessage / ReadMessage / Update,
//   its destruction and Handler::OnSessionEnd run on the worker pool; the
//   coroutine waits for them and resumes on its own loop thread, so the
//   loop serves other connections meanwhile. One call at a time per
//   connection (the coroutine awaits each before the next).
//
// SECURITY
//   - STLS: the session discards what followed the STLS line; this driver
//     feeds one line at a time and drops the rest of its read buffer, then
//     handshakes (CVE-2011-0411).
//   - A watchdog timer enforces idle_timeout between responses and on
//     every write and TLS handshake (a client that never reads). While the
//     worker pool runs a call for this connection no deadline applies:
//     the server is the slow side then.
//   - A refused login (code AUTH or none) is answered after
//     failed_login_delay, on a timer.
//   - After the last response the socket is half-closed and drained
//     briefly so the response is not destroyed by a TCP reset.
//
// MEMORY (idle connection, plaintext)
//   The session (with the listing once logged in), the coroutine frame, a
//   socket and the read buffer (kReadBufferSize, at the first read). The
//   two message buffers (kMessageChunk) exist only during RETR / TOP.

#ifndef POSTHORN_SRC_NET_POP3_POP3_CONNECTION_H_
#define POSTHORN_SRC_NET_POP3_POP3_CONNECTION_H_

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/ssl/context.hpp>
#include <asio/steady_timer.hpp>

#include "absl/status/status.h"
#include "net/pop3/protocol_log.h"
#include "net/transport/transport.h"
#include "posthorn/net/pop3_server.h"
#include "posthorn/pop3/server_session.h"

namespace posthorn::net {

inline constexpr std::size_t kPop3ReadBufferSize = 16 * 1024;
// Message text read per worker-pool round trip and handed to the session
// at once (the output then holds it dot-stuffed until it is written).
// A retrieval holds two of these (one written, one read ahead).
inline constexpr std::size_t kMessageChunk = 128 * 1024;
// Queued responses beyond this are written before the next command.
inline constexpr std::size_t kFlushThreshold = 64 * 1024;
inline constexpr std::chrono::milliseconds kPop3LingerTime{1000};
inline constexpr std::chrono::milliseconds kPop3ShutdownLingerTime{100};
inline constexpr std::size_t kPop3LingerBytes = 64 * 1024;

// What every connection of one server (or one stdio session) shares.
struct Pop3Shared {
  const Pop3ServerOptions* options = nullptr;
  pop3::ServerOptions session_options;  // tls_available already decided
  Pop3Handler* handler = nullptr;
  asio::ssl::context* tls = nullptr;  // null: no STLS, no implicit TLS
  asio::any_io_executor pool;         // the worker pool
  std::atomic<std::uint64_t> connections_accepted{0};
  std::atomic<std::size_t> active{0};  // served connections open now
};

// A chunk of message text read on the worker pool.
struct ChunkRead {
  absl::Status status;
  std::size_t bytes = 0;
  bool eof = false;  // ReadMessage returned 0: nothing more follows
};

class Pop3Connection : public std::enable_shared_from_this<Pop3Connection> {
 public:
  enum class Mode : std::uint8_t {
    kPlain,        // greeting at once; STLS when the server has TLS
    kImplicitTls,  // handshake first (RFC 8314, port 995)
    kBusy,         // "-ERR [SYS/TEMP] too many connections" and close
  };

  Pop3Connection(Pop3Shared& shared, const asio::any_io_executor& executor,
                 std::unique_ptr<Transport> transport, Mode mode,
                 std::function<void(Pop3Connection*)> on_finished);
  ~Pop3Connection();

  // The whole life of the connection; `self` keeps it alive.
  static asio::awaitable<void> Run(std::shared_ptr<Pop3Connection> self);

  // The server stops: a session waiting for a command ends at once
  // ("-ERR [SYS/TEMP] server shutting down", no UPDATE); a busy one
  // (RETR, login, UPDATE on the pool) when it is done.
  void RequestShutdown();
  // The grace period is over: close now.
  void ForceClose();

 private:
  using Clock = std::chrono::steady_clock;

  asio::awaitable<void> Serve();
  asio::awaitable<bool> Greet();
  // Writes what the session queued; false when the connection is gone.
  asio::awaitable<bool> Flush();
  asio::awaitable<bool> WriteRaw(std::string_view line);
  // Feeds one read; false when the connection must end now.
  asio::awaitable<bool> Feed(std::string_view chunk);
  asio::awaitable<bool> StartTls();
  // Answers every pending event; false when the connection is gone.
  asio::awaitable<bool> HandleEvents();
  asio::awaitable<void> Login(const pop3::Event& event);
  asio::awaitable<bool> Retrieve(std::size_t index,
                                 std::optional<std::uint64_t> top_lines);
  // Fills `buffer` (kMessageChunk) from the open message, on the pool.
  asio::awaitable<ChunkRead> ReadChunk(char* buffer);
  asio::awaitable<void> Update(std::vector<std::size_t> deleted);
  asio::awaitable<void> DropMaildrop();
  asio::awaitable<void> EndSession();
  asio::awaitable<void> Linger();
  void EnsureBuffer();
  // Records why the session ended; the first reason wins.
  void SetEnd(absl::Status status);

  // Runs fn() on the worker pool and resumes here with its result.
  template <typename Fn>
  auto OnPool(Fn fn) -> asio::awaitable<decltype(fn())>;

  // Watchdog: one timer, re-armed only when a deadline moves earlier; a
  // later deadline is picked up when the timer fires.
  void SetDeadline(Clock::time_point deadline);
  void ClearDeadline() { deadline_ = Clock::time_point::max(); }
  void ArmWatchdog(Clock::time_point at);
  void OnWatchdog(const std::error_code& ec);
  void Finish();

  Pop3Shared& shared_;
  const Pop3ServerOptions& options_;
  std::unique_ptr<Transport> transport_;
  Mode mode_;
  std::function<void(Pop3Connection*)> on_finished_;
  pop3::ServerSession session_;
  Peer peer_;
  ProtocolLog log_;
  std::unique_ptr<char[]> buffer_;  // kPop3ReadBufferSize, lazily
  std::string output_;              // swapped with the session's buffer

  asio::steady_timer watchdog_;
  Clock::time_point deadline_;
  Clock::time_point armed_;
  asio::steady_timer delay_timer_;  // failed_login_delay
  Clock::time_point last_reply_;

  // The logged-in session.
  std::unique_ptr<Pop3Maildrop> maildrop_;
  std::string user_;
  std::size_t listing_messages_ = 0;
  std::uint64_t listing_octets_ = 0;
  bool logged_in_ = false;
  bool updated_ = false;
  std::optional<absl::Status> end_;

  bool start_tls_requested_ = false;
  bool retrieving_ = false;  // inside Retrieve(): keep the big buffers
  bool reading_ = false;
  bool timed_out_ = false;
  bool shutdown_requested_ = false;
  bool force_closed_ = false;
  bool finished_ = false;
  bool session_ended_ = false;  // OnSessionEnd ran (or is not due)
  bool counted_ = false;        // counts in shared_.active
};

}  // namespace posthorn::net

#endif  // POSTHORN_SRC_NET_POP3_POP3_CONNECTION_H_
