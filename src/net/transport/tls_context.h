// net/transport/tls_context.h — OpenSSL contexts for the server and client.
//
// SECURITY
//   TLS 1.2 and newer only (RFC 8996 retires 1.0 and 1.1); compression off
//   (CRIME); the server's key is checked against its certificate at load
//   time so a wrong pair fails at start-up, not at the first STARTTLS.
//   Client verification: the system trust store plus an optional CA file,
//   and the host name (SSL_set1_host) — see ConfigureClientStream().

#ifndef POSTHORN_SRC_NET_TRANSPORT_TLS_CONTEXT_H_
#define POSTHORN_SRC_NET_TRANSPORT_TLS_CONTEXT_H_

#include <memory>
#include <string>
#include <string_view>
#include <system_error>

#include <asio/ssl/context.hpp>
#include <openssl/ssl.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "posthorn/net/smtp_server.h"

namespace posthorn::net {

// Loads the PEM certificate chain and key; the error names the file.
absl::StatusOr<std::unique_ptr<asio::ssl::context>> MakeServerTlsContext(
    const TlsFiles& files);

// verify: system store + ca_file (when not empty), peer verification on.
absl::StatusOr<std::unique_ptr<asio::ssl::context>> MakeClientTlsContext(
    bool verify, const std::string& ca_file);

// Sets SNI (for names, not for IP literals) and, when verify, the expected
// host name or IP address on a client SSL object.
absl::Status ConfigureClientSsl(SSL* ssl, std::string_view host, bool verify);

// The reason of the last OpenSSL / asio TLS failure in words.
std::string TlsErrorText(const std::error_code& ec);

}  // namespace posthorn::net

#endif  // POSTHORN_SRC_NET_TRANSPORT_TLS_CONTEXT_H_
