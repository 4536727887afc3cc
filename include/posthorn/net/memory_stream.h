// posthorn/net/memory_stream.h — an in-process connection to an SmtpServer.
//
// PURPOSE
//   SmtpServer::ConnectInMemory() starts a session exactly like an accepted
//   TCP connection (same coroutine, same limits, timeouts and shutdown),
//   but over a pair of in-process byte pipes instead of a socket. The
//   caller holds the client end, a MemoryStream, and talks SMTP through it
//   from any thread. Meant for tests of embedding programs (no ports, no
//   sockets), and used by posthorn's own tests:
//
//     auto client = server->ConnectInMemory();
//     auto greeting = (*client)->ReadUntil("\r\n", std::chrono::seconds(5));
//     (*client)->Write("EHLO test\r\n");
//
// LIMITS
//   Each direction buffers at most kMemoryPipeCapacity bytes; a writer
//   waits (up to its timeout) for the reader to make room. No TLS: a
//   server connection over a pipe never offers STARTTLS.
//
// THREADS
//   A MemoryStream may be used from one thread at a time; the server end
//   runs on the server's loop thread.

#ifndef POSTHORN_NET_MEMORY_STREAM_H_
#define POSTHORN_NET_MEMORY_STREAM_H_

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace posthorn::net {

inline constexpr std::size_t kMemoryPipeCapacity = 1 << 20;  // per direction

class MemoryStream {
 public:
  // The state both ends share (defined in src/net).
  class Pipe;

  explicit MemoryStream(std::shared_ptr<Pipe> pipe);
  ~MemoryStream();  // closes both directions
  MemoryStream(const MemoryStream&) = delete;
  MemoryStream& operator=(const MemoryStream&) = delete;

  // Sends bytes to the server; DeadlineExceeded when the pipe stayed full,
  // FailedPrecondition after the server closed the connection.
  [[nodiscard]] absl::Status Write(
      std::string_view bytes,
      std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // Whatever the server sent so far (at least one byte); "" once the
  // server closed and everything was read; DeadlineExceeded when nothing
  // came within `timeout`.
  [[nodiscard]] absl::StatusOr<std::string> Read(
      std::chrono::milliseconds timeout);
  // Reads until `needle` has arrived and returns everything up to and
  // including it (later bytes stay for the next call); NotFound when the
  // server closed first, DeadlineExceeded on timeout.
  [[nodiscard]] absl::StatusOr<std::string> ReadUntil(
      std::string_view needle, std::chrono::milliseconds timeout);
  // Everything until the server closes; DeadlineExceeded on timeout.
  [[nodiscard]] absl::StatusOr<std::string> ReadToEnd(
      std::chrono::milliseconds timeout);
  // End of input for the server (it sees EOF); reading still works.
  void CloseWrite();

 private:
  std::shared_ptr<Pipe> pipe_;
  std::string pending_;  // read from the pipe, not yet returned
};

}  // namespace posthorn::net

#endif  // POSTHORN_NET_MEMORY_STREAM_H_
