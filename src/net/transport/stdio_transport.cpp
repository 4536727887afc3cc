// stdio transport: see stdio_transport.h.

#include "net/transport/stdio_transport.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <utility>

#include <asio/buffer.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include "absl/status/status.h"
#include "fmt/format.h"

namespace posthorn::net {

Peer PeerOfDescriptor(int fd) {
  sockaddr_storage storage{};
  socklen_t length = sizeof storage;
  if (getpeername(fd, reinterpret_cast<sockaddr*>(&storage), &length) != 0) {
    return {};
  }
  char text[INET6_ADDRSTRLEN] = {};
  if (storage.ss_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&storage);
    if (inet_ntop(AF_INET, &in->sin_addr, text, sizeof text) == nullptr) {
      return {};
    }
    return Peer{text, ntohs(in->sin_port)};
  }
  if (storage.ss_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&storage);
    if (inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof text) == nullptr) {
      return {};
    }
    return Peer{text, ntohs(in6->sin6_port)};
  }
  return {};  // AF_UNIX socketpair, pipe, terminal
}

absl::StatusOr<std::unique_ptr<StdioTransport>> StdioTransport::Open(
    const asio::any_io_executor& executor, int in_fd, int out_fd) {
  const int in_copy = ::dup(in_fd);
  if (in_copy < 0) {
    return absl::InvalidArgumentError(
        fmt::format("input descriptor {}: {}", in_fd, std::strerror(errno)));
  }
  const int out_copy = ::dup(out_fd);
  if (out_copy < 0) {
    const int saved = errno;
    ::close(in_copy);
    return absl::InvalidArgumentError(
        fmt::format("output descriptor {}: {}", out_fd, std::strerror(saved)));
  }
  Peer peer = PeerOfDescriptor(in_fd);
  return std::unique_ptr<StdioTransport>(new StdioTransport(
      asio::posix::stream_descriptor(executor, in_copy),
      asio::posix::stream_descriptor(executor, out_copy), std::move(peer)));
}

StdioTransport::StdioTransport(asio::posix::stream_descriptor in,
                               asio::posix::stream_descriptor out, Peer peer)
    : in_(std::move(in)), out_(std::move(out)), peer_(std::move(peer)) {}

asio::awaitable<IoResult> StdioTransport::ReadSome(char* data,
                                                   std::size_t size) {
  IoResult result;
  result.bytes = co_await in_.async_read_some(
      asio::buffer(data, size),
      asio::redirect_error(asio::use_awaitable, result.ec));
  co_return result;
}

asio::awaitable<std::error_code> StdioTransport::WriteAll(
    std::string_view data) {
  std::error_code ec;
  co_await asio::async_write(out_, asio::buffer(data),
                             asio::redirect_error(asio::use_awaitable, ec));
  co_return ec;
}

void StdioTransport::Cancel() {
  std::error_code ignored;
  in_.cancel(ignored);
  out_.cancel(ignored);
}

void StdioTransport::ShutdownSend() {
  // A socket (inetd) gets a FIN; for a pipe, closing our copy of the
  // descriptor is not enough while the caller keeps its own, so nothing
  // more can be done here.
  ::shutdown(out_.native_handle(), SHUT_WR);
}

void StdioTransport::Close() {
  std::error_code ignored;
  in_.close(ignored);
  out_.close(ignored);
}

}  // namespace posthorn::net
