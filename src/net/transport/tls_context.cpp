// OpenSSL contexts: see tls_context.h.

#include "net/transport/tls_context.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>

#include <asio/buffer.hpp>
#include <asio/ip/address.hpp>
#include <asio/ssl/context.hpp>
#include <asio/ssl/error.hpp>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "fmt/format.h"

namespace posthorn::net {
namespace {

constexpr long kContextOptions =
    asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
    asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
    asio::ssl::context::no_tlsv1_1 | asio::ssl::context::no_compression |
    asio::ssl::context::single_dh_use;

absl::StatusOr<std::unique_ptr<asio::ssl::context>> NewContext(
    asio::ssl::context::method method) {
  // asio throws when SSL_CTX_new fails (out of memory): keep it inside.
  try {
    auto context = std::make_unique<asio::ssl::context>(method);
    std::error_code ec;
    context->set_options(kContextOptions, ec);
    if (ec) return absl::InternalError("TLS: " + TlsErrorText(ec));
    if (SSL_CTX_set_min_proto_version(context->native_handle(),
                                      TLS1_2_VERSION) != 1) {
      return absl::InternalError("TLS: cannot require TLS 1.2");
    }
    return context;
  } catch (const std::system_error& e) {
    return absl::InternalError(fmt::format("TLS: {}", e.what()));
  }
}

// A certificate chain or key larger than this is not a PEM file.
constexpr std::size_t kMaxPemBytes = 1 << 20;

absl::Status ReadPem(const std::string& path, std::string& out) {
  std::FILE* file = std::fopen(path.c_str(), "rbe");
  if (file == nullptr) {
    const int err = errno;
    const std::string message =
        fmt::format("TLS file {}: {}", path, std::strerror(err));
    if (err == ENOENT) return absl::NotFoundError(message);
    if (err == EACCES || err == EPERM) {
      return absl::PermissionDeniedError(message);
    }
    return absl::UnavailableError(message);
  }
  std::string data;
  char chunk[8192];
  std::size_t n = 0;
  while ((n = std::fread(chunk, 1, sizeof chunk, file)) > 0) {
    if (data.size() + n > kMaxPemBytes) {
      std::fclose(file);
      return absl::InvalidArgumentError(fmt::format(
          "TLS file {}: larger than {} bytes", path, kMaxPemBytes));
    }
    data.append(chunk, n);
  }
  const bool failed = std::ferror(file) != 0;
  std::fclose(file);
  if (failed) {
    return absl::UnavailableError(fmt::format("TLS file {}: read error", path));
  }
  out = std::move(data);
  return absl::OkStatus();
}

}  // namespace

absl::Status ReadTlsFiles(TlsFiles& files) {
  if (files.cert_file.empty() || files.key_file.empty()) {
    return absl::InvalidArgumentError(
        "TLS needs both a certificate file and a key file");
  }
  if (absl::Status s = ReadPem(files.cert_file, files.cert_pem); !s.ok()) {
    return s;
  }
  return ReadPem(files.key_file, files.key_pem);
}

std::string TlsErrorText(const std::error_code& ec) {
  std::string text = ec.message();
  if (ec.category() == asio::error::get_ssl_category()) {
    // The reason alone ("no such file"), from ERR_reason_error_string.
    const char* reason =
        ERR_reason_error_string(static_cast<unsigned long>(ec.value()));
    if (reason != nullptr) text = reason;
  }
  return text;
}

absl::StatusOr<std::unique_ptr<asio::ssl::context>> MakeServerTlsContext(
    const TlsFiles& files) {
  if (files.cert_file.empty() || files.key_file.empty()) {
    return absl::InvalidArgumentError(
        "TLS needs both a certificate file and a key file");
  }
  auto context = NewContext(asio::ssl::context::tls_server);
  if (!context.ok()) return context.status();
  std::error_code ec;
  if (!files.cert_pem.empty()) {
    (*context)->use_certificate_chain(
        asio::buffer(files.cert_pem.data(), files.cert_pem.size()), ec);
  } else {
    (*context)->use_certificate_chain_file(files.cert_file, ec);
  }
  if (ec) {
    return absl::InvalidArgumentError(fmt::format(
        "TLS certificate {}: {}", files.cert_file, TlsErrorText(ec)));
  }
  if (!files.key_pem.empty()) {
    (*context)->use_private_key(
        asio::buffer(files.key_pem.data(), files.key_pem.size()),
        asio::ssl::context::pem, ec);
  } else {
    (*context)->use_private_key_file(files.key_file, asio::ssl::context::pem,
                                     ec);
  }
  if (ec) {
    return absl::InvalidArgumentError(fmt::format(
        "TLS key {}: {}", files.key_file, TlsErrorText(ec)));
  }
  if (SSL_CTX_check_private_key((*context)->native_handle()) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError(
        fmt::format("TLS key {} does not match the certificate {}",
                    files.key_file, files.cert_file));
  }
  return context;
}

absl::StatusOr<std::unique_ptr<asio::ssl::context>> MakeClientTlsContext(
    bool verify, const std::string& ca_file) {
  auto context = NewContext(asio::ssl::context::tls_client);
  if (!context.ok()) return context.status();
  std::error_code ec;
  if (!verify) {
    // Encryption without trust: for self-signed test servers, or
    // opportunistic TLS between MTAs (RFC 7435).
    (*context)->set_verify_mode(asio::ssl::verify_none, ec);
    return context;
  }
  (*context)->set_default_verify_paths(ec);
  if (ec) {
    return absl::InternalError("TLS: no system trust store: " +
                               TlsErrorText(ec));
  }
  if (!ca_file.empty()) {
    (*context)->load_verify_file(ca_file, ec);
    if (ec) {
      return absl::InvalidArgumentError(
          fmt::format("TLS CA file {}: {}", ca_file, TlsErrorText(ec)));
    }
  }
  (*context)->set_verify_mode(asio::ssl::verify_peer, ec);
  if (ec) return absl::InternalError("TLS: " + TlsErrorText(ec));
  return context;
}

absl::Status ConfigureClientSsl(SSL* ssl, std::string_view host,
                                bool verify) {
  const std::string name(host);
  std::error_code ec;
  const asio::ip::address literal = asio::ip::make_address(name, ec);
  const bool is_ip = !ec;
  // RFC 6066 3: SNI carries host names only, never IP literals.
  if (!is_ip && SSL_set_tlsext_host_name(ssl, name.c_str()) != 1) {
    return absl::InvalidArgumentError(
        fmt::format("TLS: cannot send SNI for \"{}\"", name));
  }
  if (!verify) return absl::OkStatus();
  if (is_ip) {
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
    if (X509_VERIFY_PARAM_set1_ip_asc(param, literal.to_string().c_str()) !=
        1) {
      return absl::InvalidArgumentError("TLS: bad IP address " + name);
    }
  } else if (SSL_set1_host(ssl, name.c_str()) != 1) {
    return absl::InvalidArgumentError("TLS: bad host name " + name);
  }
  return absl::OkStatus();
}

}  // namespace posthorn::net
