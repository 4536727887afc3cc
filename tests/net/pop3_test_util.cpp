// Helpers for the POP3 server tests: see pop3_test_util.h.

#include "pop3_test_util.h"

#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>

#include <openssl/evp.h>

#include "fmt/format.h"

namespace posthorn::net::testing {

// ---------------------------------------------------------------------------
// FakeMaildrop.

class FakeMaildrop : public Pop3Maildrop {
 public:
  FakeMaildrop(FakePop3Handler* owner, std::vector<std::string> messages)
      : owner_(owner), messages_(std::move(messages)) {
    std::lock_guard<std::mutex> lock(owner_->mu_);
    ++owner_->open_;
  }
  ~FakeMaildrop() override {
    std::lock_guard<std::mutex> lock(owner_->mu_);
    --owner_->open_;
    ++owner_->destroyed_;
    owner_->cv_.notify_all();
  }
  absl::Status OpenMessage(std::size_t index,
                           std::optional<std::uint64_t> /*top_lines*/) override {
    if (!owner_->open_error.ok()) return owner_->open_error;
    if (index >= messages_.size()) {
      return absl::NotFoundError("no such message");
    }
    // The session cuts TOP itself; the whole text is fine.
    open_ = &messages_[index];
    offset_ = 0;
    return absl::OkStatus();
  }
  absl::StatusOr<std::size_t> ReadMessage(std::span<char> buffer) override {
    if (open_ == nullptr) return absl::FailedPreconditionError("not open");
    std::size_t n = std::min(buffer.size(), open_->size() - offset_);
    if (owner_->read_limit > 0) n = std::min(n, owner_->read_limit);
    std::memcpy(buffer.data(), open_->data() + offset_, n);
    offset_ += n;
    return n;
  }
  absl::Status Update(std::span<const std::size_t> deleted) override {
    std::lock_guard<std::mutex> lock(owner_->mu_);
    owner_->updates_.emplace_back(deleted.begin(), deleted.end());
    return owner_->update_error;
  }

 private:
  FakePop3Handler* owner_;
  std::vector<std::string> messages_;
  const std::string* open_ = nullptr;
  std::size_t offset_ = 0;
};

// ---------------------------------------------------------------------------
// FakePop3Handler.

namespace {

std::string Md5Hex(std::string_view text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(text.data(), text.size(), digest, &length, EVP_md5(), nullptr);
  std::string out;
  for (unsigned int i = 0; i < length; ++i) out += fmt::format("{:02x}", digest[i]);
  return out;
}

}  // namespace

std::optional<std::string> FakePop3Handler::OnConnect(const Peer& /*peer*/) {
  return refuse_connections;
}

Pop3LoginResult FakePop3Handler::Login(const Pop3LoginRequest& request) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    logins_.push_back(request);
    if (request.user == "slow") {
      slow_started_ = true;
      cv_.notify_all();
    }
  }
  if (request.user == "slow") {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, slow_login, [&] { return slow_released_; });
  }
  Pop3LoginResult result;
  const auto user = passwords.find(request.user);
  bool good = false;
  if (user != passwords.end()) {
    if (request.mechanism == pop3::LoginMechanism::kApop) {
      good = request.password ==
             Md5Hex(request.apop_timestamp + user->second);
    } else {
      good = request.password == user->second;
    }
  }
  if (!good) return result;  // failure: AUTH, "authentication failed"
  result.maildrop = std::make_unique<FakeMaildrop>(this, messages);
  for (std::size_t i = 0; i < messages.size(); ++i) {
    result.listing.sizes.push_back(messages[i].size());
    result.listing.uids.push_back(fmt::format("uid-{}", i + 1));
  }
  return result;
}

void FakePop3Handler::OnSessionEnd(const Pop3SessionSummary& summary) {
  std::lock_guard<std::mutex> lock(mu_);
  summaries_.push_back(summary);
  cv_.notify_all();
}

std::vector<Pop3LoginRequest> FakePop3Handler::logins() const {
  std::lock_guard<std::mutex> lock(mu_);
  return logins_;
}

std::vector<std::vector<std::size_t>> FakePop3Handler::updates() const {
  std::lock_guard<std::mutex> lock(mu_);
  return updates_;
}

int FakePop3Handler::maildrops_open() const {
  std::lock_guard<std::mutex> lock(mu_);
  return open_;
}

int FakePop3Handler::maildrops_destroyed() const {
  std::lock_guard<std::mutex> lock(mu_);
  return destroyed_;
}

std::vector<Pop3SessionSummary> FakePop3Handler::summaries() const {
  std::lock_guard<std::mutex> lock(mu_);
  return summaries_;
}

bool FakePop3Handler::WaitForSummaries(std::size_t count,
                                       std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, timeout,
                      [&] { return summaries_.size() >= count; });
}

bool FakePop3Handler::WaitForSlowLogin(std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return slow_started_; });
}

void FakePop3Handler::ReleaseSlowLogin() {
  std::lock_guard<std::mutex> lock(mu_);
  slow_released_ = true;
  cv_.notify_all();
}

// ---------------------------------------------------------------------------
// Pop3ServerThread.

absl::StatusOr<std::unique_ptr<Pop3ServerThread>> Pop3ServerThread::Start(
    Pop3ServerOptions options, Pop3Handler* handler) {
  options.handle_signals = false;  // the test process keeps its signals
  auto server = Pop3Server::Create(std::move(options), handler);
  if (!server.ok()) return server.status();
  auto thread = std::make_unique<Pop3ServerThread>();
  thread->server_ = std::move(*server);
  Pop3ServerThread* self = thread.get();
  thread->thread_ = std::thread([self] {
    absl::Status status = self->server_->Run();
    std::lock_guard<std::mutex> lock(self->mu_);
    self->result_ = std::move(status);
  });
  return thread;
}

Pop3ServerThread::~Pop3ServerThread() {
  if (thread_.joinable()) {
    const absl::Status status = StopAndJoin();
    if (!status.ok()) {
      std::fprintf(stderr, "server did not stop: %s\n",
                   std::string(status.message()).c_str());
      std::abort();  // a hung server must fail the test, not hang it
    }
  }
}

bool Pop3ServerThread::finished() const {
  std::lock_guard<std::mutex> lock(mu_);
  return result_.has_value();
}

absl::Status Pop3ServerThread::StopAndJoin(std::chrono::milliseconds timeout) {
  server_->Stop();
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!finished()) {
    if (std::chrono::steady_clock::now() > deadline) {
      return absl::DeadlineExceededError("Run() did not return");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  thread_.join();
  std::lock_guard<std::mutex> lock(mu_);
  return *result_;
}

std::string Pop3ServerThread::host(std::size_t i) const {
  auto parsed = ParseEndpoint(server_->local_endpoints().at(i));
  return parsed.ok() ? parsed->first : "";
}

std::uint16_t Pop3ServerThread::port(std::size_t i) const {
  auto parsed = ParseEndpoint(server_->local_endpoints().at(i));
  return parsed.ok() ? parsed->second : 0;
}

// ---------------------------------------------------------------------------
// PopClient.

absl::StatusOr<std::unique_ptr<PopClient>> PopClient::Connect(
    const std::string& host, std::uint16_t port) {
  auto raw = RawClient::Connect(host, port);
  if (!raw.ok()) return raw.status();
  // Take the descriptor over from the RawClient.
  const int fd = ::dup(raw->fd());
  if (fd < 0) return absl::InternalError(std::strerror(errno));
  return std::make_unique<PopClient>(fd);
}

PopClient::PopClient(int fd) : fd_(fd) {
  timeval timeout{static_cast<long>(kWait.count() / 1000), 0};
  ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
}

PopClient::~PopClient() {
  if (ssl_ != nullptr) SSL_free(ssl_);
  if (context_ != nullptr) SSL_CTX_free(context_);
  if (fd_ >= 0) ::close(fd_);
}

bool PopClient::StartTls() {
  context_ = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_verify(context_, SSL_VERIFY_NONE, nullptr);
  ssl_ = SSL_new(context_);
  SSL_set_fd(ssl_, fd_);
  buffer_.clear();
  return SSL_connect(ssl_) == 1;
}

absl::Status PopClient::Send(std::string_view bytes) {
  while (!bytes.empty()) {
    long n = 0;
    if (ssl_ != nullptr) {
      n = SSL_write(ssl_, bytes.data(), static_cast<int>(bytes.size()));
      if (n <= 0) return absl::UnavailableError("SSL_write failed");
    } else {
      n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EINTR) continue;
        return absl::UnavailableError(std::strerror(errno));
      }
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return absl::OkStatus();
}

long PopClient::ReadSome() {
  char chunk[64 * 1024];
  long n = 0;
  if (ssl_ != nullptr) {
    errno = 0;
    n = SSL_read(ssl_, chunk, sizeof chunk);
    if (n <= 0) {
      // The server ends with a FIN, no close_notify (OpenSSL 3 reports an
      // unexpected EOF): that is the close. Only a timeout is an error.
      return errno == EAGAIN || errno == EWOULDBLOCK ? -1 : 0;
    }
  } else {
    do {
      n = ::recv(fd_, chunk, sizeof chunk, 0);
    } while (n < 0 && errno == EINTR);
    if (n < 0) return errno == ECONNRESET ? 0 : -1;
  }
  buffer_.append(chunk, static_cast<std::size_t>(n));
  return n;
}

absl::StatusOr<std::string> PopClient::ReadLine() {
  for (;;) {
    const std::size_t end = buffer_.find("\r\n");
    if (end != std::string::npos) {
      std::string line = buffer_.substr(0, end);
      buffer_.erase(0, end + 2);
      return line;
    }
    const long n = ReadSome();
    if (n == 0) return absl::NotFoundError("closed; have: " + buffer_);
    if (n < 0) return absl::DeadlineExceededError("no line; have: " + buffer_);
  }
}

absl::StatusOr<std::string> PopClient::ReadBody() {
  std::size_t scan = 0;
  for (;;) {
    // The body ends with a line that is exactly ".".
    if (buffer_.compare(0, 3, ".\r\n") == 0) {
      buffer_.erase(0, 3);
      return std::string();
    }
    const std::size_t end = buffer_.find("\r\n.\r\n", scan);
    if (end != std::string::npos) {
      std::string body = buffer_.substr(0, end + 2);
      buffer_.erase(0, end + 5);
      return body;
    }
    scan = buffer_.size() < 4 ? 0 : buffer_.size() - 4;
    const long n = ReadSome();
    if (n == 0) return absl::NotFoundError("closed in a body");
    if (n < 0) return absl::DeadlineExceededError("body timeout");
  }
}

absl::StatusOr<std::size_t> PopClient::SkipBody() {
  std::size_t size = 0;
  for (bool first = true;; first = false) {
    // An empty body: the terminator right at the start (only there: the
    // kept tail of a longer body may start with ".\r\n" too).
    if (first && buffer_.compare(0, 3, ".\r\n") == 0) {
      buffer_.erase(0, 3);
      return size;
    }
    const std::size_t end = buffer_.find("\r\n.\r\n");
    if (end != std::string::npos) {
      buffer_.erase(0, end + 5);
      return size + end + 2;
    }
    // Keep the last 4 octets: the terminator may straddle two reads.
    if (buffer_.size() > 4) {
      size += buffer_.size() - 4;
      buffer_.erase(0, buffer_.size() - 4);
    }
    const long n = ReadSome();
    if (n == 0) return absl::NotFoundError("closed in a body");
    if (n < 0) return absl::DeadlineExceededError("body timeout");
  }
}

absl::StatusOr<std::string> PopClient::Command(std::string_view line) {
  if (absl::Status sent = Send(std::string(line) + "\r\n"); !sent.ok()) {
    return sent;
  }
  return ReadLine();
}

bool PopClient::WaitForClose(std::string* rest) {
  for (;;) {
    const long n = ReadSome();
    if (n == 0) break;
    if (n < 0) return false;
  }
  if (rest != nullptr) *rest = std::exchange(buffer_, std::string());
  return true;
}

std::string Unstuff(std::string_view body) {
  std::string out;
  out.reserve(body.size());
  bool line_start = true;
  for (std::size_t i = 0; i < body.size(); ++i) {
    if (line_start && body[i] == '.') {
      line_start = false;
      continue;  // the stuffed dot
    }
    out.push_back(body[i]);
    line_start = body[i] == '\n';
  }
  return out;
}

}  // namespace posthorn::net::testing
