// posthorn/net/send_message.h — send one message over SMTP, for embedding.
//
// PURPOSE
//   Connects to host:port, runs smtp::ClientSession (EHLO, STARTTLS, AUTH,
//   PIPELINING, SIZE, DSN), streams the message, QUITs, and returns every
//   reply classified:
//
//     smtp::ClientEnvelope envelope{.mail_from = "a@example.org",
//                                   .recipients = {{"b@example.net"}}};
//     net::SendOptions options;
//     options.client.tls = smtp::TlsMode::kRequired;
//     auto result = net::SendMessage("127.0.0.1", 2525, envelope,
//                                    message_bytes, options);
//
//   result is an error only when no transaction could be attempted and the
//   reason is local (bad arguments); a refused connection, a timeout or a
//   4xx is a TransactionResult with Outcome::kTransient, so a caller always
//   knows whether to retry.
//
//   Local errors (a non-OK status): no recipient, empty host, port 0, an
//   address ClientSession refuses to send, an unreadable ca_file, and an
//   error returned by the BodyReader (the connection is then dropped
//   without the final "." so the server discards the partial message).
//   A refused or failed TLS handshake, a lost connection or a timeout
//   gives a kTransient result with a synthetic "421 4.4.x <reason>";
//   TLS required but not offered is kPermanent.
//
// STANDARDS
//   RFC 5321 (4.5.3.2 timeouts), RFC 3207 STARTTLS, RFC 8314 implicit TLS
//   (client.tls_active: handshake before the greeting), RFC 6125 host
//   name checks (SSL_set1_host; IP literals against the IP SAN), RFC 6066
//   SNI (names only).
//
// LIMITS
//   The body is handed to the session in 64 KiB slices, each written
//   before the next is read; replies are read 16 KiB at a time. Every
//   wait is bounded: resolve + connect by connect_timeout, each reply,
//   write and handshake by reply_timeout.
//
//   Asio and OpenSSL stay inside src/net.

#ifndef POSTHORN_NET_SEND_MESSAGE_H_
#define POSTHORN_NET_SEND_MESSAGE_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "posthorn/smtp/client_session.h"

namespace posthorn::net {

struct SendOptions {
  smtp::ClientOptions client;
  // Verify the server certificate against the system store and the host
  // name (false for self-signed test servers: encryption without trust).
  bool verify_certificate = true;
  std::string ca_file;  // extra trust anchor (PEM), e.g. a test CA
  std::chrono::seconds connect_timeout{30};
  // Per reply; RFC 5321 4.5.3.2 asks for 5 min (greeting), 10 min (end
  // of data); one value keeps it simple.
  std::chrono::seconds reply_timeout{300};
};

// Reads the message from `read` in chunks until it returns an empty view.
using BodyReader = std::function<absl::StatusOr<std::string_view>()>;

[[nodiscard]] absl::StatusOr<smtp::TransactionResult> SendMessage(
    std::string_view host, std::uint16_t port,
    const smtp::ClientEnvelope& envelope, std::string_view message,
    const SendOptions& options = {});
[[nodiscard]] absl::StatusOr<smtp::TransactionResult> SendMessage(
    std::string_view host, std::uint16_t port,
    const smtp::ClientEnvelope& envelope, BodyReader body,
    const SendOptions& options = {});

}  // namespace posthorn::net

#endif  // POSTHORN_NET_SEND_MESSAGE_H_
