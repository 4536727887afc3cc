// STARTTLS and implicit TLS with a certificate made at test time; the
// client side verification of SendMessage; the STARTTLS injection defence.

#include <sys/socket.h>

#include <memory>
#include <string>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "net_test_util.h"
#include "posthorn/net/send_message.h"
#include "posthorn/net/smtp_server.h"

namespace posthorn::net::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto files = MakeTestCertificate(dir_.path());
    ASSERT_TRUE(files.ok()) << files.status();
    files_ = *files;
  }
  void StartServer(SmtpServerOptions options) {
    auto server = ServerThread::Start(std::move(options), &handler_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
  }
  SmtpServerOptions TlsOptions() {
    SmtpServerOptions options;
    options.listen = {"127.0.0.1:0"};
    options.tls = files_;
    return options;
  }
  static smtp::ClientEnvelope Envelope() {
    smtp::ClientEnvelope envelope;
    envelope.mail_from = "a@example.org";
    envelope.recipients = {{"b@example.net", {}, {}}};
    return envelope;
  }

  TempDir dir_;
  TlsFiles files_;
  RecordingHandler handler_;
  std::unique_ptr<ServerThread> server_;
};

TEST_F(TlsTest, StartTlsWithAVerifiedCertificate) {
  StartServer(TlsOptions());
  SendOptions options;
  options.client.tls = smtp::TlsMode::kRequired;
  options.ca_file = files_.cert_file;
  const std::string message = SampleMessage(50);
  for (const char* host : {"127.0.0.1", "localhost"}) {
    auto result =
        SendMessage(host, server_->port(), Envelope(), message, options);
    ASSERT_TRUE(result.ok()) << result.status();
    EXPECT_EQ(result->outcome, smtp::Outcome::kOk) << result->reply.text();
  }
  const auto messages = handler_.messages();
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_TRUE(messages[0].tls);
  EXPECT_EQ(messages[0].data, message);
}

TEST_F(TlsTest, UntrustedCertificateIsATransientFailure) {
  StartServer(TlsOptions());
  SendOptions options;
  options.client.tls = smtp::TlsMode::kRequired;  // no ca_file: not trusted
  auto result = SendMessage("127.0.0.1", server_->port(), Envelope(),
                            "Subject: x\r\n\r\nx\r\n", options);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->outcome, smtp::Outcome::kTransient);
  EXPECT_THAT(result->reply.text(), HasSubstr("TLS"));
  EXPECT_TRUE(handler_.messages().empty());
}

TEST_F(TlsTest, InsecureSkipsVerification) {
  StartServer(TlsOptions());
  SendOptions options;
  options.client.tls = smtp::TlsMode::kRequired;
  options.verify_certificate = false;
  auto result = SendMessage("127.0.0.1", server_->port(), Envelope(),
                            "Subject: x\r\n\r\nx\r\n", options);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->outcome, smtp::Outcome::kOk) << result->reply.text();
  ASSERT_EQ(handler_.messages().size(), 1u);
  EXPECT_TRUE(handler_.messages()[0].tls);
}

TEST_F(TlsTest, RequiredTlsWithoutStartTlsIsPermanent) {
  SmtpServerOptions plain;
  plain.listen = {"127.0.0.1:0"};
  StartServer(plain);
  SendOptions options;
  options.client.tls = smtp::TlsMode::kRequired;
  auto result = SendMessage("127.0.0.1", server_->port(), Envelope(),
                            "Subject: x\r\n\r\nx\r\n", options);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->outcome, smtp::Outcome::kPermanent)
      << result->reply.text();
  EXPECT_TRUE(handler_.messages().empty());
}

TEST_F(TlsTest, ImplicitTls) {
  SmtpServerOptions server_options = TlsOptions();
  server_options.listen_tls = {"[::1]:0"};
  StartServer(server_options);
  ASSERT_EQ(server_->server().local_endpoints().size(), 2u);
  SendOptions options;
  options.client.tls_active = true;
  options.ca_file = files_.cert_file;
  auto result = SendMessage("::1", server_->port(1), Envelope(),
                            "Subject: implicit\r\n\r\nx\r\n", options);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->outcome, smtp::Outcome::kOk) << result->reply.text();
  ASSERT_EQ(handler_.messages().size(), 1u);
  EXPECT_TRUE(handler_.messages()[0].tls);
}

TEST_F(TlsTest, AuthOverTls) {
  SmtpServerOptions server_options = TlsOptions();
  server_options.session.auth_enabled = true;
  StartServer(server_options);
  SendOptions options;
  options.client.tls = smtp::TlsMode::kRequired;
  options.ca_file = files_.cert_file;
  options.client.credentials = smtp::ClientCredentials{"user", "secret", {}};
  auto good = SendMessage("127.0.0.1", server_->port(), Envelope(),
                          "Subject: x\r\n\r\nx\r\n", options);
  ASSERT_TRUE(good.ok()) << good.status();
  EXPECT_EQ(good->outcome, smtp::Outcome::kOk) << good->reply.text();
  options.client.credentials->password = "wrong";
  auto bad = SendMessage("127.0.0.1", server_->port(), Envelope(),
                         "Subject: x\r\n\r\nx\r\n", options);
  ASSERT_TRUE(bad.ok()) << bad.status();
  EXPECT_NE(bad->outcome, smtp::Outcome::kOk);
  EXPECT_EQ(handler_.messages().size(), 1u);
}

// A minimal blocking TLS client over a RawClient's socket.
class TlsClient {
 public:
  explicit TlsClient(int fd) {
    context_ = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_verify(context_, SSL_VERIFY_NONE, nullptr);
    ssl_ = SSL_new(context_);
    SSL_set_fd(ssl_, fd);
    timeval timeout{10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  }
  ~TlsClient() {
    SSL_free(ssl_);
    SSL_CTX_free(context_);
  }
  bool Handshake() { return SSL_connect(ssl_) == 1; }
  bool Send(std::string_view bytes) {
    return SSL_write(ssl_, bytes.data(), static_cast<int>(bytes.size())) ==
           static_cast<int>(bytes.size());
  }
  // One reply; "" on failure or timeout.
  std::string ReadReply() {
    for (;;) {
      std::size_t start = 0;
      for (std::size_t end; (end = buffer_.find("\r\n", start)) !=
                            std::string::npos;
           start = end + 2) {
        if (end - start >= 4 && buffer_[start + 3] == ' ') {
          std::string reply = buffer_.substr(0, end + 2);
          buffer_.erase(0, end + 2);
          return reply;
        }
      }
      char chunk[4096];
      const int n = SSL_read(ssl_, chunk, sizeof chunk);
      if (n <= 0) return "";
      buffer_.append(chunk, static_cast<std::size_t>(n));
    }
  }

 private:
  SSL_CTX* context_ = nullptr;
  SSL* ssl_ = nullptr;
  std::string buffer_;
};

TEST_F(TlsTest, CommandsInjectedBeforeTheHandshakeAreDiscarded) {
  // CVE-2011-0411: a man in the middle appends a command to STARTTLS in
  // the same packet, hoping it runs inside the TLS session.
  SmtpServerOptions options = TlsOptions();
  options.session.reject_improper_pipelining = false;  // see the injection
  StartServer(options);
  auto client = RawClient::Connect("127.0.0.1", server_->port());
  ASSERT_TRUE(client.ok());
  ASSERT_TRUE(client->ReadReply().ok());
  ASSERT_TRUE(client->Send("EHLO c\r\n").ok());
  auto ehlo = client->ReadReply();
  ASSERT_TRUE(ehlo.ok());
  EXPECT_THAT(*ehlo, HasSubstr("STARTTLS"));
  ASSERT_TRUE(
      client->Send("STARTTLS\r\nMAIL FROM:<evil@example.org>\r\n").ok());
  auto ready = client->ReadReply();
  ASSERT_TRUE(ready.ok()) << ready.status();
  EXPECT_THAT(*ready, StartsWith("220"));

  TlsClient tls(client->fd());
  ASSERT_TRUE(tls.Handshake());
  ASSERT_TRUE(tls.Send("EHLO c\r\n"));
  const std::string ehlo2 = tls.ReadReply();
  EXPECT_THAT(ehlo2, StartsWith("250"));
  EXPECT_THAT(ehlo2, ::testing::Not(HasSubstr("STARTTLS")));
  // Had the injected MAIL run, this RCPT would be accepted.
  ASSERT_TRUE(tls.Send("RCPT TO:<b@example.net>\r\n"));
  EXPECT_THAT(tls.ReadReply(), StartsWith("503"));
  ASSERT_TRUE(tls.Send("QUIT\r\n"));
  EXPECT_THAT(tls.ReadReply(), StartsWith("221"));
}

TEST_F(TlsTest, BadTlsFilesAreNamed) {
  RecordingHandler handler;
  SmtpServerOptions options;
  options.listen = {"127.0.0.1:0"};
  options.tls = TlsFiles{files_.cert_file, dir_.path() + "/missing-key.pem"};
  auto missing_key = SmtpServer::Create(options, &handler);
  ASSERT_FALSE(missing_key.ok());
  EXPECT_THAT(std::string(missing_key.status().message()),
              HasSubstr("missing-key.pem"));
  // A key that does not belong to the certificate.
  TempDir other_dir;
  auto other = MakeTestCertificate(other_dir.path());
  ASSERT_TRUE(other.ok());
  options.tls = TlsFiles{files_.cert_file, other->key_file};
  auto mismatch = SmtpServer::Create(options, &handler);
  ASSERT_FALSE(mismatch.ok());
  EXPECT_THAT(std::string(mismatch.status().message()),
              HasSubstr(other->key_file));
}

}  // namespace
}  // namespace posthorn::net::testing
