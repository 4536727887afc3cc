// Helpers for the POP3 server tests: an in-memory maildrop and handler
// that record what the server did, a Pop3Server running in a thread, and
// a blocking POP3 client (plain or TLS) whose every read is bounded.

#ifndef POSTHORN_TESTS_NET_POP3_TEST_UTIL_H_
#define POSTHORN_TESTS_NET_POP3_TEST_UTIL_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <openssl/ssl.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "net_test_util.h"
#include "posthorn/net/pop3_server.h"

namespace posthorn::net::testing {

// Users, their messages and a log of every call. Thread-safe: Login and
// the maildrop run on worker threads.
class FakePop3Handler : public Pop3Handler {
 public:
  std::optional<std::string> OnConnect(const Peer& peer) override;
  Pop3LoginResult Login(const Pop3LoginRequest& request) override;
  void OnSessionEnd(const Pop3SessionSummary& summary) override;

  // Knobs (set before the server starts).
  std::map<std::string, std::string> passwords{{"alice", "secret"}};
  std::vector<std::string> messages;  // CRLF text, not dot-stuffed
  std::optional<std::string> refuse_connections;  // OnConnect text
  // Login of user "slow" blocks (on its worker thread) until
  // ReleaseSlowLogin() or for at most this long.
  std::chrono::milliseconds slow_login{0};
  std::size_t read_limit = 0;  // ReadMessage returns at most this (0: all)
  absl::Status open_error;     // returned by OpenMessage when not OK
  absl::Status update_error;   // returned by Update when not OK

  // Records.
  std::vector<Pop3LoginRequest> logins() const;
  std::vector<std::vector<std::size_t>> updates() const;
  int maildrops_open() const;       // created and not yet destroyed
  int maildrops_destroyed() const;
  std::vector<Pop3SessionSummary> summaries() const;
  // Waits until `count` sessions ended; false on timeout.
  bool WaitForSummaries(std::size_t count,
                        std::chrono::milliseconds timeout = kWait) const;
  // Waits until a slow login has started.
  bool WaitForSlowLogin(std::chrono::milliseconds timeout = kWait) const;
  void ReleaseSlowLogin();

 private:
  friend class FakeMaildrop;
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::vector<Pop3LoginRequest> logins_;
  std::vector<std::vector<std::size_t>> updates_;
  int open_ = 0;
  int destroyed_ = 0;
  bool slow_started_ = false;
  bool slow_released_ = false;
  std::vector<Pop3SessionSummary> summaries_;
};

// A Pop3Server running in its own thread; stops and joins (bounded) in
// the destructor.
class Pop3ServerThread {
 public:
  static absl::StatusOr<std::unique_ptr<Pop3ServerThread>> Start(
      Pop3ServerOptions options, Pop3Handler* handler);
  ~Pop3ServerThread();

  Pop3Server& server() { return *server_; }
  std::string host(std::size_t i = 0) const;
  std::uint16_t port(std::size_t i = 0) const;
  absl::Status StopAndJoin(std::chrono::milliseconds timeout = kWait);
  bool finished() const;

 private:
  std::unique_ptr<Pop3Server> server_;
  std::thread thread_;
  mutable std::mutex mu_;
  std::optional<absl::Status> result_;
};

// A blocking POP3 client on a socket; TLS after StartTls(). Reads wait at
// most kWait (SO_RCVTIMEO).
class PopClient {
 public:
  static absl::StatusOr<std::unique_ptr<PopClient>> Connect(
      const std::string& host, std::uint16_t port);
  explicit PopClient(int fd);  // takes ownership
  ~PopClient();

  absl::Status Send(std::string_view bytes);
  // One line without CRLF; NotFound at EOF.
  absl::StatusOr<std::string> ReadLine();
  // The lines of a multi-line body up to "." (still dot-stuffed, CRLF
  // line ends kept).
  absl::StatusOr<std::string> ReadBody();
  // Reads a multi-line body and returns only its size (stuffed, without
  // the final "."), keeping no copy: for throughput figures.
  absl::StatusOr<std::size_t> SkipBody();
  // Sends a command and returns its status line.
  absl::StatusOr<std::string> Command(std::string_view line);
  // True when the server closes (after any remaining bytes) within kWait.
  bool WaitForClose(std::string* rest = nullptr);
  // TLS client handshake on the socket (no verification).
  bool StartTls();
  int fd() const { return fd_; }

 private:
  long ReadSome();  // >0 bytes, 0 EOF, <0 error or timeout
  int fd_ = -1;
  SSL_CTX* context_ = nullptr;
  SSL* ssl_ = nullptr;
  std::string buffer_;
};

// Removes the dot-stuffing of a multi-line body.
std::string Unstuff(std::string_view body);

}  // namespace posthorn::net::testing

#endif  // POSTHORN_TESTS_NET_POP3_TEST_UTIL_H_
