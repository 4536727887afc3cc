// net/transport/stdio_transport.h — a session on two file descriptors.
//
// For inetd ("smtp stream tcp nowait ... -bs") and sendmail -bs: input on
// one descriptor, output on another (often the same socket twice). Both
// are dup()ed, so closing the transport leaves the caller's descriptors
// open. No TLS: an inetd socket could do STARTTLS, but a pipe or a
// terminal cannot, and telling them apart is not worth the risk here.
// Note: asio puts the descriptors in non-blocking mode, which is shared
// with the caller's copies (same open file description).

#ifndef POSTHORN_SRC_NET_TRANSPORT_STDIO_TRANSPORT_H_
#define POSTHORN_SRC_NET_TRANSPORT_STDIO_TRANSPORT_H_

#include <string_view>
#include <system_error>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/posix/stream_descriptor.hpp>

#include "absl/status/statusor.h"
#include "net/transport/transport.h"

namespace posthorn::net {

class StdioTransport final : public Transport {
 public:
  static absl::StatusOr<std::unique_ptr<StdioTransport>> Open(
      const asio::any_io_executor& executor, int in_fd, int out_fd);

  asio::awaitable<IoResult> ReadSome(char* data, std::size_t size) override;
  asio::awaitable<std::error_code> WriteAll(std::string_view data) override;
  void Cancel() override;
  void ShutdownSend() override;
  void Close() override;
  Peer peer() const override { return peer_; }

 private:
  StdioTransport(asio::posix::stream_descriptor in,
                 asio::posix::stream_descriptor out, Peer peer);

  asio::posix::stream_descriptor in_;
  asio::posix::stream_descriptor out_;
  Peer peer_;
};

// The peer of a socket descriptor; empty for anything else.
Peer PeerOfDescriptor(int fd);

}  // namespace posthorn::net

#endif  // POSTHORN_SRC_NET_TRANSPORT_STDIO_TRANSPORT_H_
