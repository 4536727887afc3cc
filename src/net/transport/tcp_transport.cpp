// TCP transport: see tcp_transport.h.

#include "net/transport/tcp_transport.h"

#include <memory>
#include <string_view>
#include <system_error>
#include <utility>

#include <asio/buffer.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/redirect_error.hpp>
#include <asio/ssl.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include "net/transport/tls_context.h"

namespace posthorn::net {

void SetConnectionOptions(asio::ip::tcp::socket& socket) {
  std::error_code ignored;
  socket.set_option(asio::socket_base::keep_alive(true), ignored);
  socket.set_option(asio::ip::tcp::no_delay(true), ignored);
}

TcpTransport::TcpTransport(asio::ip::tcp::socket socket)
    : plain_(std::move(socket)) {}

TcpTransport::~TcpTransport() = default;

asio::ip::tcp::socket& TcpTransport::socket() {
  return tls_ ? tls_->next_layer() : plain_;
}

const asio::ip::tcp::socket& TcpTransport::socket() const {
  return tls_ ? tls_->next_layer() : plain_;
}

asio::awaitable<IoResult> TcpTransport::ReadSome(char* data,
                                                 std::size_t size) {
  IoResult result;
  if (tls_) {
    result.bytes = co_await tls_->async_read_some(
        asio::buffer(data, size),
        asio::redirect_error(asio::use_awaitable, result.ec));
  } else {
    result.bytes = co_await plain_.async_read_some(
        asio::buffer(data, size),
        asio::redirect_error(asio::use_awaitable, result.ec));
  }
  co_return result;
}

asio::awaitable<std::error_code> TcpTransport::WriteAll(std::string_view data) {
  std::error_code ec;
  if (tls_) {
    co_await asio::async_write(*tls_, asio::buffer(data),
                               asio::redirect_error(asio::use_awaitable, ec));
  } else {
    co_await asio::async_write(plain_, asio::buffer(data),
                               asio::redirect_error(asio::use_awaitable, ec));
  }
  co_return ec;
}

asio::awaitable<std::error_code> TcpTransport::ServerHandshake(
    asio::ssl::context& context) {
  if (tls_) co_return asio::error::already_connected;
  tls_ = std::make_unique<asio::ssl::stream<asio::ip::tcp::socket>>(
      std::move(plain_), context);
  std::error_code ec;
  co_await tls_->async_handshake(
      asio::ssl::stream_base::server,
      asio::redirect_error(asio::use_awaitable, ec));
  co_return ec;
}

asio::awaitable<std::error_code> TcpTransport::ClientHandshake(
    asio::ssl::context& context, std::string_view host, bool verify) {
  if (tls_) co_return asio::error::already_connected;
  tls_ = std::make_unique<asio::ssl::stream<asio::ip::tcp::socket>>(
      std::move(plain_), context);
  if (!ConfigureClientSsl(tls_->native_handle(), host, verify).ok()) {
    co_return asio::error::invalid_argument;
  }
  std::error_code ec;
  co_await tls_->async_handshake(
      asio::ssl::stream_base::client,
      asio::redirect_error(asio::use_awaitable, ec));
  co_return ec;
}

void TcpTransport::Cancel() {
  std::error_code ignored;
  socket().cancel(ignored);
}

void TcpTransport::ShutdownSend() {
  std::error_code ignored;
  // A TLS close_notify would need another round trip; the SMTP reply
  // (221 / 421) already tells the client the session is over.
  socket().shutdown(asio::socket_base::shutdown_send, ignored);
}

void TcpTransport::Close() {
  std::error_code ignored;
  socket().close(ignored);
}

Peer TcpTransport::peer() const {
  std::error_code ec;
  const auto endpoint = socket().remote_endpoint(ec);
  if (ec) return {};
  asio::ip::address address = endpoint.address();
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    address = asio::ip::make_address_v4(asio::ip::v4_mapped,
                                        address.to_v6());
  }
  return Peer{address.to_string(), endpoint.port()};
}

}  // namespace posthorn::net
