// net/transport/tcp_transport.h — a TCP connection, plain or TLS.
//
// STARTTLS (RFC 3207) switches the same socket to TLS: the socket moves
// into an asio::ssl::stream and every later read and write goes through
// it. Nothing read before the switch survives it: the driver drops its own
// buffer and the sans-I/O session drops its own (CVE-2011-0411); this class
// holds no read buffer of its own, so there is nothing else to discard.

#ifndef POSTHORN_SRC_NET_TRANSPORT_TCP_TRANSPORT_H_
#define POSTHORN_SRC_NET_TRANSPORT_TCP_TRANSPORT_H_

#include <memory>
#include <string_view>
#include <system_error>

#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/ssl/context.hpp>
#include <asio/ssl/stream.hpp>

#include "net/transport/transport.h"

namespace posthorn::net {

class TcpTransport final : public Transport {
 public:
  explicit TcpTransport(asio::ip::tcp::socket socket);
  ~TcpTransport() override;

  asio::awaitable<IoResult> ReadSome(char* data, std::size_t size) override;
  asio::awaitable<std::error_code> WriteAll(std::string_view data) override;
  bool CanStartTls() const override { return tls_ == nullptr; }
  asio::awaitable<std::error_code> ServerHandshake(
      asio::ssl::context& context) override;
  // The client side (SendMessage): SNI and, when verify, the host check.
  asio::awaitable<std::error_code> ClientHandshake(asio::ssl::context& context,
                                                   std::string_view host,
                                                   bool verify);
  void Cancel() override;
  void ShutdownSend() override;
  void Close() override;
  Peer peer() const override;

  bool tls_active() const { return tls_ != nullptr; }

 private:
  asio::ip::tcp::socket& socket();
  const asio::ip::tcp::socket& socket() const;

  asio::ip::tcp::socket plain_;
  // Allocated at STARTTLS only: an idle plaintext connection does not pay
  // for the TLS buffers.
  std::unique_ptr<asio::ssl::stream<asio::ip::tcp::socket>> tls_;
};

// Socket options every SMTP connection gets: SO_KEEPALIVE (find dead peers
// of long sessions) and TCP_NODELAY (replies are written whole; Nagle
// would only delay them).
void SetConnectionOptions(asio::ip::tcp::socket& socket);

}  // namespace posthorn::net

#endif  // POSTHORN_SRC_NET_TRANSPORT_TCP_TRANSPORT_H_
