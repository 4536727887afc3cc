// Helpers for the net tests: see net_test_util.h.

#include "net_test_util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <future>
#include <memory>
#include <string>
#include <utility>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "absl/status/status.h"
#include "fmt/format.h"

namespace posthorn::net::testing {

// ---------------------------------------------------------------------------
// RecordingHandler.

class RecordingSink : public MessageSink {
 public:
  RecordingSink(RecordingHandler* owner, std::string peer, bool tls)
      : owner_(owner) {
    message_.peer = std::move(peer);
    message_.tls = tls;
  }
  absl::Status Write(std::string_view chunk) override {
    message_.data.append(chunk);
    return absl::OkStatus();
  }
  absl::StatusOr<std::string> Commit(const smtp::Envelope& envelope) override {
    if (!owner_->commit_error.ok()) return owner_->commit_error;
    message_.mail_from = envelope.mail_from;
    for (const auto& recipient : envelope.recipients) {
      message_.recipients.push_back(recipient.address);
    }
    std::lock_guard<std::mutex> lock(owner_->mu_);
    owner_->messages_.push_back(std::move(message_));
    return fmt::format("Ok: queued as T{}", owner_->messages_.size());
  }
  void Abort() override {
    std::lock_guard<std::mutex> lock(owner_->mu_);
    ++owner_->aborted_;
  }

 private:
  RecordingHandler* owner_;
  StoredMessage message_;
};

std::unique_ptr<MessageSink> RecordingHandler::OpenMessage(
    const Peer& peer, const smtp::ServerSession& session) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++data_started_;
  }
  return std::make_unique<RecordingSink>(this, peer.address,
                                         session.tls_active());
}

smtp::Verdict RecordingHandler::OnRcptTo(const Peer& /*peer*/,
                                         const smtp::ServerSession& /*session*/,
                                         const smtp::Path& path,
                                         const smtp::RcptParams& /*params*/) {
  if (!refuse_recipient.empty() && path.mailbox == refuse_recipient) {
    return smtp::Verdict::Reject(
        smtp::MakeReply(550, "5.1.1", "No such user here"));
  }
  return smtp::Verdict::Accept();
}

smtp::Verdict RecordingHandler::OnAuth(const Peer& /*peer*/,
                                       std::string_view /*mechanism*/,
                                       std::string_view /*authzid*/,
                                       std::string_view username,
                                       std::string_view pass) {
  if (username == user && pass == password) return smtp::Verdict::Accept();
  return smtp::Verdict::Reject(
      smtp::MakeReply(535, "5.7.8", "Authentication credentials invalid"));
}

std::vector<StoredMessage> RecordingHandler::messages() const {
  std::lock_guard<std::mutex> lock(mu_);
  return messages_;
}

int RecordingHandler::aborted() const {
  std::lock_guard<std::mutex> lock(mu_);
  return aborted_;
}

bool RecordingHandler::WaitForDataStart(milliseconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (data_started_ > 0) return true;
    }
    std::this_thread::sleep_for(milliseconds(5));
  }
  return false;
}

// ---------------------------------------------------------------------------
// ServerThread.

absl::StatusOr<std::unique_ptr<ServerThread>> ServerThread::Start(
    SmtpServerOptions options, SmtpHandler* handler) {
  options.handle_signals = false;  // the test process keeps its signals
  auto server = SmtpServer::Create(std::move(options), handler);
  if (!server.ok()) return server.status();
  auto thread = std::make_unique<ServerThread>();
  thread->server_ = std::move(*server);
  ServerThread* self = thread.get();
  thread->thread_ = std::thread([self] {
    absl::Status status = self->server_->Run();
    std::lock_guard<std::mutex> lock(self->mu_);
    self->result_ = std::move(status);
  });
  return thread;
}

ServerThread::~ServerThread() {
  if (thread_.joinable()) {
    const absl::Status status = StopAndJoin();
    if (!status.ok()) {
      std::fprintf(stderr, "server did not stop: %s\n",
                   std::string(status.message()).c_str());
      std::abort();  // a hung server must fail the test, not hang it
    }
  }
}

bool ServerThread::finished() const {
  std::lock_guard<std::mutex> lock(mu_);
  return result_.has_value();
}

absl::Status ServerThread::StopAndJoin(milliseconds timeout) {
  server_->Stop();
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!finished()) {
    if (std::chrono::steady_clock::now() > deadline) {
      return absl::DeadlineExceededError("Run() did not return");
    }
    std::this_thread::sleep_for(milliseconds(5));
  }
  thread_.join();
  std::lock_guard<std::mutex> lock(mu_);
  return *result_;
}

std::string ServerThread::host(std::size_t i) const {
  auto parsed = ParseEndpoint(server_->local_endpoints().at(i));
  return parsed.ok() ? parsed->first : "";
}

std::uint16_t ServerThread::port(std::size_t i) const {
  auto parsed = ParseEndpoint(server_->local_endpoints().at(i));
  return parsed.ok() ? parsed->second : 0;
}

// ---------------------------------------------------------------------------
// RawClient.

absl::StatusOr<RawClient> RawClient::Connect(const std::string& host,
                                             std::uint16_t port) {
  sockaddr_storage storage{};
  socklen_t length = 0;
  int family = AF_INET;
  if (host.find(':') != std::string::npos) {
    family = AF_INET6;
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&storage);
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(port);
    if (inet_pton(AF_INET6, host.c_str(), &in6->sin6_addr) != 1) {
      return absl::InvalidArgumentError("bad address " + host);
    }
    length = sizeof *in6;
  } else {
    auto* in = reinterpret_cast<sockaddr_in*>(&storage);
    in->sin_family = AF_INET;
    in->sin_port = htons(port);
    if (inet_pton(AF_INET, host.c_str(), &in->sin_addr) != 1) {
      return absl::InvalidArgumentError("bad address " + host);
    }
    length = sizeof *in;
  }
  const int fd = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::InternalError(std::strerror(errno));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&storage), length) != 0) {
    const int saved = errno;
    ::close(fd);
    return absl::UnavailableError(std::strerror(saved));
  }
  return RawClient(fd);
}

RawClient::RawClient(RawClient&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), buffer_(std::move(other.buffer_)) {}

RawClient::~RawClient() {
  if (fd_ >= 0) ::close(fd_);
}

absl::Status RawClient::Send(std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return absl::UnavailableError(std::strerror(errno));
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return absl::OkStatus();
}

long RawClient::ReadSome(milliseconds timeout) {
  pollfd p{fd_, POLLIN, 0};
  const int ready = ::poll(&p, 1, static_cast<int>(timeout.count()));
  if (ready == 0) return -1;
  if (ready < 0) return -2;
  char chunk[4096];
  const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
  if (n < 0) return errno == ECONNRESET ? 0 : -2;
  buffer_.append(chunk, static_cast<std::size_t>(n));
  return n;
}

absl::StatusOr<std::string> RawClient::ReadReply(milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    // A reply ends with a line "ddd " or "ddd\r\n".
    std::size_t start = 0;
    while (true) {
      const std::size_t end = buffer_.find("\r\n", start);
      if (end == std::string::npos) break;
      if (end - start >= 3 && (end - start == 3 || buffer_[start + 3] == ' ')) {
        std::string reply = buffer_.substr(0, end + 2);
        buffer_.erase(0, end + 2);
        return reply;
      }
      start = end + 2;
    }
    const auto left = std::chrono::duration_cast<milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      return absl::DeadlineExceededError("no reply; have: " + buffer_);
    }
    const long n = ReadSome(left);
    if (n == 0) return absl::NotFoundError("closed; have: " + buffer_);
    if (n == -2) return absl::UnavailableError(std::strerror(errno));
  }
}

absl::StatusOr<std::string> RawClient::ReadToEof(milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const auto left = std::chrono::duration_cast<milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      return absl::DeadlineExceededError("still open; have: " + buffer_);
    }
    const long n = ReadSome(left);
    if (n == 0) return std::exchange(buffer_, std::string());
    if (n == -2) return absl::UnavailableError(std::strerror(errno));
  }
}

bool RawClient::WaitForClose(milliseconds timeout, std::string* rest) {
  auto all = ReadToEof(timeout);
  if (!all.ok()) return false;
  if (rest != nullptr) *rest = *all;
  return true;
}

// ---------------------------------------------------------------------------
// TempDir.

TempDir::TempDir() {
  std::string pattern =
      (std::filesystem::temp_directory_path() / "posthorn-net-XXXXXX")
          .string();
  if (::mkdtemp(pattern.data()) == nullptr) std::abort();
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

// ---------------------------------------------------------------------------
// Certificate.

namespace {

bool AddExtension(X509* cert, int nid, const char* value) {
  X509V3_CTX context;
  X509V3_set_ctx_nodb(&context);
  X509V3_set_ctx(&context, cert, cert, nullptr, nullptr, 0);
  X509_EXTENSION* extension =
      X509V3_EXT_conf_nid(nullptr, &context, nid, value);
  if (extension == nullptr) return false;
  const bool ok = X509_add_ext(cert, extension, -1) == 1;
  X509_EXTENSION_free(extension);
  return ok;
}

}  // namespace

absl::StatusOr<TlsFiles> MakeTestCertificate(const std::string& dir) {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
      EVP_EC_gen("P-256"), EVP_PKEY_free);
  if (!key) return absl::InternalError("EC key generation failed");
  std::unique_ptr<X509, decltype(&X509_free)> cert(X509_new(), X509_free);
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 86400);
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(
      name, "CN", MBSTRING_ASC,
      reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  if (!AddExtension(cert.get(), NID_basic_constraints, "critical,CA:TRUE") ||
      !AddExtension(cert.get(), NID_key_usage,
                    "critical,digitalSignature,keyCertSign") ||
      !AddExtension(cert.get(), NID_ext_key_usage, "serverAuth") ||
      !AddExtension(cert.get(), NID_subject_key_identifier, "hash") ||
      !AddExtension(cert.get(), NID_subject_alt_name,
                    "DNS:localhost,IP:127.0.0.1,IP:::1")) {
    return absl::InternalError("certificate extensions");
  }
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) {
    return absl::InternalError("certificate signing failed");
  }
  TlsFiles files{dir + "/cert.pem", dir + "/key.pem"};
  std::FILE* out = std::fopen(files.cert_file.c_str(), "w");
  if (out == nullptr) return absl::InternalError("cannot write cert");
  const bool cert_ok = PEM_write_X509(out, cert.get()) == 1;
  std::fclose(out);
  out = std::fopen(files.key_file.c_str(), "w");
  if (out == nullptr) return absl::InternalError("cannot write key");
  const bool key_ok = PEM_write_PrivateKey(out, key.get(), nullptr, nullptr,
                                           0, nullptr, nullptr) == 1;
  std::fclose(out);
  if (!cert_ok || !key_ok) return absl::InternalError("PEM write failed");
  return files;
}

std::string SampleMessage(std::size_t body_lines) {
  std::string message =
      "From: a@example.org\r\nTo: b@example.net\r\nSubject: test\r\n\r\n";
  for (std::size_t i = 0; i < body_lines; ++i) {
    message += fmt::format("line {} of the body\r\n", i);
    if (i % 5 == 0) message += ".a line that starts with a dot\r\n";
    if (i % 7 == 0) message += ".\r\n..\r\n";  // a lone dot, stuffed
  }
  return message;
}

}  // namespace posthorn::net::testing
