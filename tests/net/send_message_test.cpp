// SendMessage: results, streaming bodies, and every failure mode turned
// into a classified result (or, for local mistakes, a status).

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "net_test_util.h"
#include "posthorn/net/send_message.h"
#include "posthorn/net/smtp_server.h"

namespace posthorn::net::testing {
namespace {

using ::testing::HasSubstr;

smtp::ClientEnvelope Envelope(std::initializer_list<const char*> to) {
  smtp::ClientEnvelope envelope;
  envelope.mail_from = "a@example.org";
  for (const char* address : to) {
    envelope.recipients.push_back({address, {}, {}});
  }
  return envelope;
}

// A listening socket that never accepts: connect() succeeds (the kernel's
// backlog) but nothing is ever said.
class SilentListener {
 public:
  SilentListener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    ::bind(fd_, reinterpret_cast<sockaddr*>(&address), length);
    ::listen(fd_, 4);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
  }
  ~SilentListener() { ::close(fd_); }
  std::uint16_t port() const { return port_; }
  void Close() { ::close(std::exchange(fd_, -1)); }

 private:
  int fd_;
  std::uint16_t port_ = 0;
};

class SendMessageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SmtpServerOptions options;
    options.listen = {"127.0.0.1:0"};
    options.session.limits.max_message_size = 2'000'000;
    auto server = ServerThread::Start(options, &handler_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
  }
  RecordingHandler handler_;
  std::unique_ptr<ServerThread> server_;
};

TEST_F(SendMessageTest, LocalMistakesAreStatuses) {
  EXPECT_EQ(SendMessage("127.0.0.1", server_->port(), Envelope({}), "x")
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(SendMessage("", 25, Envelope({"b@example.net"}), "x")
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(SendMessage("127.0.0.1", 0, Envelope({"b@example.net"}), "x")
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(SendMessage("127.0.0.1", server_->port(),
                        Envelope({"b@example.net"}), BodyReader())
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  SendOptions options;
  options.client.tls = smtp::TlsMode::kRequired;
  options.ca_file = "/nonexistent/ca.pem";
  auto bad_ca = SendMessage("127.0.0.1", server_->port(),
                            Envelope({"b@example.net"}), "x", options);
  ASSERT_FALSE(bad_ca.ok());
  EXPECT_THAT(std::string(bad_ca.status().message()),
              HasSubstr("/nonexistent/ca.pem"));
  EXPECT_TRUE(handler_.messages().empty());
}

TEST_F(SendMessageTest, ConnectionRefusedIsTransient) {
  SilentListener listener;
  const std::uint16_t port = listener.port();
  listener.Close();  // nothing listens there now
  auto result = SendMessage("127.0.0.1", port, Envelope({"b@example.net"}),
                            "Subject: x\r\n\r\nx\r\n");
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->outcome, smtp::Outcome::kTransient);
  EXPECT_EQ(result->reply.code, 421);
  EXPECT_THAT(result->reply.text(), HasSubstr("connect"));
  ASSERT_EQ(result->recipients.size(), 1u);
  EXPECT_EQ(result->recipients[0].outcome, smtp::Outcome::kTransient);
}

TEST_F(SendMessageTest, SilentServerTimesOut) {
  SilentListener listener;
  SendOptions options;
  options.reply_timeout = std::chrono::seconds(1);
  const auto start = std::chrono::steady_clock::now();
  auto result = SendMessage("127.0.0.1", listener.port(),
                            Envelope({"b@example.net"}),
                            "Subject: x\r\n\r\nx\r\n", options);
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->outcome, smtp::Outcome::kTransient);
  EXPECT_GE(took, std::chrono::milliseconds(900));
  EXPECT_LT(took, std::chrono::seconds(5));
}

TEST_F(SendMessageTest, PerRecipientResults) {
  handler_.refuse_recipient = "nobody@example.net";
  auto result = SendMessage(
      "127.0.0.1", server_->port(),
      Envelope({"b@example.net", "nobody@example.net", "c@example.net"}),
      "Subject: x\r\n\r\nx\r\n");
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->outcome, smtp::Outcome::kOk);
  ASSERT_EQ(result->recipients.size(), 3u);
  EXPECT_EQ(result->recipients[0].outcome, smtp::Outcome::kOk);
  EXPECT_EQ(result->recipients[1].outcome, smtp::Outcome::kPermanent);
  EXPECT_EQ(result->recipients[1].reply.code, 550);
  EXPECT_EQ(result->recipients[2].outcome, smtp::Outcome::kOk);
  ASSERT_EQ(handler_.messages().size(), 1u);
  EXPECT_THAT(handler_.messages()[0].recipients,
              ::testing::ElementsAre("b@example.net", "c@example.net"));

  auto none = SendMessage("127.0.0.1", server_->port(),
                          Envelope({"nobody@example.net"}), "x\r\n");
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_EQ(none->outcome, smtp::Outcome::kPermanent);
}

TEST_F(SendMessageTest, StreamsABodyReaderWithLfLineEnds) {
  // 1 MiB of LF text in uneven pieces; the server must see CRLF text with
  // the dots unstuffed again.
  std::string lf_text;
  std::string expected;
  for (int i = 0; lf_text.size() < (1 << 20); ++i) {
    const std::string line =
        (i % 9 == 0 ? "." : "") + std::string("line ") + std::to_string(i);
    lf_text += line + "\n";
    expected += line + "\r\n";
  }
  std::size_t offset = 0;
  std::size_t piece = 1;
  BodyReader reader = [&]() -> absl::StatusOr<std::string_view> {
    const std::size_t n = std::min(piece, lf_text.size() - offset);
    std::string_view chunk(lf_text.data() + offset, n);
    offset += n;
    piece = piece * 3 + 1;  // 1, 4, 13, ... up to beyond 64 KiB
    return chunk;
  };
  SendOptions options;
  options.client.body_input = wire::EncoderInput::kLfToCrlf;
  auto result = SendMessage("127.0.0.1", server_->port(),
                            Envelope({"b@example.net"}), reader, options);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->outcome, smtp::Outcome::kOk) << result->reply.text();
  ASSERT_EQ(handler_.messages().size(), 1u);
  EXPECT_EQ(handler_.messages()[0].data, expected);
}

TEST_F(SendMessageTest, ABodyReaderErrorIsAStatusAndNothingIsStored) {
  int calls = 0;
  BodyReader reader = [&]() -> absl::StatusOr<std::string_view> {
    if (++calls == 1) return std::string_view("Subject: x\r\n\r\npart\r\n");
    return absl::DataLossError("disk read failed");
  };
  auto result = SendMessage("127.0.0.1", server_->port(),
                            Envelope({"b@example.net"}), reader);
  EXPECT_EQ(result.status().code(), absl::StatusCode::kDataLoss);
  // The server saw the connection drop in DATA (bounded wait).
  const auto deadline = std::chrono::steady_clock::now() + kWait;
  while (handler_.aborted() == 0 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(handler_.aborted(), 1);
  EXPECT_TRUE(handler_.messages().empty());
}

TEST_F(SendMessageTest, TooBigForTheServersSizeIsPermanent) {
  const std::string big(2'100'000, 'x');
  auto result = SendMessage("127.0.0.1", server_->port(),
                            Envelope({"b@example.net"}), big);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->outcome, smtp::Outcome::kPermanent)
      << result->reply.text();
  EXPECT_TRUE(handler_.messages().empty());
}

}  // namespace
}  // namespace posthorn::net::testing
