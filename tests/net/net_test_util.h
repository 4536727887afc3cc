// Helpers for the net tests: a recording handler, a server running in a
// thread, a blocking loopback client with bounded waits, temporary folders
// and a TLS certificate made at test time.

#ifndef POSTHORN_TESTS_NET_NET_TEST_UTIL_H_
#define POSTHORN_TESTS_NET_NET_TEST_UTIL_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "posthorn/net/smtp_server.h"

namespace posthorn::net::testing {

using std::chrono::milliseconds;
using std::chrono::seconds;

// Every wait in these tests is bounded by this unless a test says less.
inline constexpr milliseconds kWait{10'000};

struct StoredMessage {
  std::string mail_from;
  std::vector<std::string> recipients;
  std::string data;
  std::string peer;
  bool tls = false;
};

// Keeps every committed message in memory.
class RecordingHandler : public SmtpHandler {
 public:
  std::unique_ptr<MessageSink> OpenMessage(
      const Peer& peer, const smtp::ServerSession& session) override;
  smtp::Verdict OnRcptTo(const Peer& peer, const smtp::ServerSession& session,
                         const smtp::Path& path,
                         const smtp::RcptParams& params) override;
  smtp::Verdict OnAuth(const Peer& peer, std::string_view mechanism,
                       std::string_view authzid, std::string_view username,
                       std::string_view password) override;

  std::vector<StoredMessage> messages() const;
  int aborted() const;
  // Waits until a DATA phase has begun (for shutdown tests).
  bool WaitForDataStart(milliseconds timeout) const;

  // Knobs.
  absl::Status commit_error;       // returned by Commit() when not OK
  std::string refuse_recipient;    // RCPT to this address gets 550
  std::string user = "user";       // the one AUTH credential
  std::string password = "secret";

 private:
  friend class RecordingSink;
  mutable std::mutex mu_;
  std::vector<StoredMessage> messages_;
  int aborted_ = 0;
  int data_started_ = 0;
};

// An SmtpServer running in its own thread; stops (gracefully) and joins
// in the destructor.
class ServerThread {
 public:
  static absl::StatusOr<std::unique_ptr<ServerThread>> Start(
      SmtpServerOptions options, SmtpHandler* handler);
  ~ServerThread();

  SmtpServer& server() { return *server_; }
  // "127.0.0.1:40123" -> host and port of listener i.
  std::string host(std::size_t i = 0) const;
  std::uint16_t port(std::size_t i = 0) const;
  // Stops and waits (bounded) for Run() to return; its status.
  absl::Status StopAndJoin(milliseconds timeout = kWait);
  bool finished() const;

 private:
  std::unique_ptr<SmtpServer> server_;
  std::thread thread_;
  mutable std::mutex mu_;
  std::optional<absl::Status> result_;
};

// A blocking TCP client whose every read is bounded.
class RawClient {
 public:
  static absl::StatusOr<RawClient> Connect(const std::string& host,
                                           std::uint16_t port);
  // Takes ownership of a connected descriptor (a socketpair end).
  static RawClient Adopt(int fd) { return RawClient(fd); }
  RawClient(RawClient&& other) noexcept;
  RawClient& operator=(RawClient&&) = delete;
  ~RawClient();

  absl::Status Send(std::string_view bytes);
  // One complete reply (all its lines), e.g. "250-a\r\n250 b\r\n".
  absl::StatusOr<std::string> ReadReply(milliseconds timeout = kWait);
  // Everything until the server closes.
  absl::StatusOr<std::string> ReadToEof(milliseconds timeout = kWait);
  // True when the server closed (or reset) within `timeout`, with no more
  // bytes than `*rest` collects.
  bool WaitForClose(milliseconds timeout, std::string* rest = nullptr);
  int fd() const { return fd_; }

 private:
  explicit RawClient(int fd) : fd_(fd) {}
  // Reads once (waiting up to timeout); 0 at EOF, -1 timeout, -2 error.
  long ReadSome(milliseconds timeout);
  int fd_ = -1;
  std::string buffer_;
};

// A temporary folder, removed with its files.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
 private:
  std::string path_;
};

// A self-signed certificate for "localhost", 127.0.0.1 and ::1 (also its
// own CA), written as PEM into dir: returns {cert, key} paths.
absl::StatusOr<TlsFiles> MakeTestCertificate(const std::string& dir);

// A test message with CRLF line ends and lines that need dot-stuffing.
std::string SampleMessage(std::size_t body_lines = 20);

}  // namespace posthorn::net::testing

#endif  // POSTHORN_TESTS_NET_NET_TEST_UTIL_H_
