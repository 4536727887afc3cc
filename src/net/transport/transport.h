// net/transport/transport.h — the byte stream a connection coroutine drives.
//
// One interface over TCP (with STARTTLS / implicit TLS), a pair of file
// descriptors (stdio) and the in-process pipe used by tests, so the same
// connection code runs on all of them. Operations are coroutines; errors
// are returned, never thrown. Cancel() makes a pending operation complete
// with asio::error::operation_aborted (used by the watchdog and Stop()).

#ifndef POSTHORN_SRC_NET_TRANSPORT_TRANSPORT_H_
#define POSTHORN_SRC_NET_TRANSPORT_TRANSPORT_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <system_error>

#include <asio/awaitable.hpp>
#include <asio/error.hpp>
#include <asio/ssl/context.hpp>

#include "posthorn/net/smtp_server.h"

namespace posthorn::net {

struct IoResult {
  std::error_code ec;
  std::size_t bytes = 0;
};

class Transport {
 public:
  virtual ~Transport() = default;

  // Reads at least one byte into [data, data + size); asio::error::eof at
  // the end of the stream.
  virtual asio::awaitable<IoResult> ReadSome(char* data, std::size_t size) = 0;
  // Writes all of `data` (or fails).
  virtual asio::awaitable<std::error_code> WriteAll(std::string_view data) = 0;

  // Server-side TLS handshake on this connection (STARTTLS: after the 220
  // went out; implicit TLS: before the greeting).
  virtual bool CanStartTls() const { return false; }
  virtual asio::awaitable<std::error_code> ServerHandshake(
      asio::ssl::context& context) {
    (void)context;
    co_return asio::error::operation_not_supported;
  }

  // Pending operations complete with operation_aborted.
  virtual void Cancel() = 0;
  // Sends FIN (or the equivalent) after the last reply.
  virtual void ShutdownSend() = 0;
  virtual void Close() = 0;

  // The peer as the handler sees it ("" for a pipe or a terminal).
  virtual Peer peer() const = 0;
};

}  // namespace posthorn::net

#endif  // POSTHORN_SRC_NET_TRANSPORT_TRANSPORT_H_
