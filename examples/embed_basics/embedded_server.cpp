// embedded_server — an application that receives mail itself.
//
//   embedded_server PORT FOLDER [CERT KEY]
//
// Runs net::SmtpServer on 127.0.0.1:PORT (0 picks a free port) and prints
// "listening on 127.0.0.1:NNNNN". Clients must log in (AUTH PLAIN or LOGIN,
// user "demo", password "demo-secret") before MAIL. AUTH needs TLS: with
// CERT and KEY (PEM files) STARTTLS is offered; without them nobody can log
// in, which only shows that clients refuse to go on. Each message is kept
// in memory while it arrives, then written to FOLDER/1.eml, 2.eml, ... and
// summed up in one line on stdout. SIGTERM or SIGINT stop it cleanly:
// transactions in progress may finish, then Run() returns. Exit status: 0
// after a signal, 1 when it cannot start.

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "fmt/format.h"
#include "posthorn/net/smtp_server.h"

namespace net = posthorn::net;
namespace smtp = posthorn::smtp;

namespace {

// One message: collected by Write(), stored by Commit(). The server's
// session.limits.max_message_size (10 MB by default) bounds the string.
class FileMessage final : public net::MessageSink {
 public:
  FileMessage(std::string folder, int* counter)
      : folder_(std::move(folder)), counter_(counter) {}

  absl::Status Write(std::string_view chunk) override {
    data_.append(chunk);
    return absl::OkStatus();
  }
  // The client hears 250 only after this returns: the file must be on disk
  // (a real store would also fsync the folder after the rename).
  absl::StatusOr<std::string> Commit(const smtp::Envelope& envelope) override {
    const int number = *counter_ + 1;
    const std::string path = fmt::format("{}/{}.eml", folder_, number);
    const std::string temp = path + ".tmp";  // nobody sees half a file
    std::FILE* f = std::fopen(temp.c_str(), "wb");
    if (f == nullptr) return absl::InternalError("cannot store the message");
    const bool written = std::fwrite(data_.data(), 1, data_.size(), f) ==
                             data_.size() &&
                         std::fflush(f) == 0 && ::fsync(::fileno(f)) == 0;
    if (std::fclose(f) != 0 || !written ||
        std::rename(temp.c_str(), path.c_str()) != 0) {
      std::remove(temp.c_str());
      return absl::InternalError("cannot store the message");  // 451 4.3.0
    }
    *counter_ = number;
    fmt::print("message {}: from <{}> to {} recipient(s), {} bytes\n", number,
               envelope.mail_from, envelope.recipients.size(), data_.size());
    std::fflush(stdout);
    return fmt::format("Ok: stored as {}.eml", number);
  }
  void Abort() override {}  // nothing was written yet

 private:
  std::string folder_;
  int* counter_;
  std::string data_;
};

// Policy: the default SmtpHandler accepts every sender and recipient; this
// one adds a password check and opens a FileMessage per message.
class Handler final : public net::SmtpHandler {
 public:
  explicit Handler(std::string folder) : folder_(std::move(folder)) {}

  smtp::Verdict OnAuth(const net::Peer& /*peer*/, std::string_view /*mech*/,
                       std::string_view /*authzid*/, std::string_view user,
                       std::string_view password) override {
    if (user == "demo" && password == "demo-secret") {
      return smtp::Verdict::Accept();
    }
    return smtp::Verdict::Reject(
        smtp::MakeReply(535, "5.7.8", "Authentication credentials invalid"));
  }
  std::unique_ptr<net::MessageSink> OpenMessage(
      const net::Peer& /*peer*/, const smtp::ServerSession& /*s*/) override {
    // Handlers run on the one event-loop thread (io_threads = 1), so the
    // plain counter needs no lock.
    return std::make_unique<FileMessage>(folder_, &count_);
  }
  int count() const { return count_; }

 private:
  std::string folder_;
  int count_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3 && argc != 5) {
    std::fprintf(stderr, "usage: embedded_server PORT FOLDER [CERT KEY]\n");
    return 1;
  }
  std::error_code ignored;  // a missing folder shows at the first Commit()
  std::filesystem::create_directories(argv[2], ignored);

  net::SmtpServerOptions options;
  options.listen = {fmt::format("127.0.0.1:{}", argv[1])};
  options.session.hostname = "embedded.example";
  options.session.auth_enabled = true;
  options.session.require_auth = true;  // MAIL before AUTH: 530 5.7.0
  if (argc == 5) options.tls = net::TlsFiles{argv[3], argv[4]};
  options.idle_timeout = std::chrono::seconds(60);
  options.shutdown_grace = std::chrono::seconds(5);
  // options.handle_signals (the default) makes SIGTERM / SIGINT end Run().

  Handler handler(argv[2]);
  auto server = net::SmtpServer::Create(options, &handler);
  if (!server.ok()) {  // bad address, port in use, unreadable TLS files
    std::fprintf(stderr, "embedded_server: %s\n",
                 server.status().ToString().c_str());
    return 1;
  }
  fmt::print("listening on {}\n", (*server)->local_endpoints().front());
  std::fflush(stdout);

  const absl::Status run = (*server)->Run();
  fmt::print("stopped after {} message(s)\n", handler.count());
  return run.ok() ? 0 : 1;
}
