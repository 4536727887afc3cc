// ServeSmtpOnStdio over a socketpair (as inetd would hand a socket).

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <future>
#include <string>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "net_test_util.h"
#include "posthorn/net/smtp_server.h"

namespace posthorn::net::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

class StdioTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds_), 0);
  }
  void TearDown() override {
    if (fds_[1] >= 0) ::close(fds_[1]);
  }
  // Runs the session in a thread on fds_[1]; the test talks on fds_[0].
  std::future<absl::Status> Serve(SmtpServerOptions options) {
    options.handle_signals = false;
    return std::async(std::launch::async, [this, options] {
      return ServeSmtpOnStdio(options, &handler_, fds_[1], fds_[1]);
    });
  }

  int fds_[2] = {-1, -1};
  RecordingHandler handler_;
};

TEST_F(StdioTest, RunsOneSessionAndReturns) {
  SmtpServerOptions options;
  options.tls = TlsFiles{"/not/used.pem", "/not/used.pem"};  // ignored
  auto done = Serve(options);
  RawClient client = RawClient::Adopt(fds_[0]);
  auto greeting = client.ReadReply();
  ASSERT_TRUE(greeting.ok()) << greeting.status();
  EXPECT_THAT(*greeting, StartsWith("220 "));
  ASSERT_TRUE(client.Send("EHLO c\r\n").ok());
  auto ehlo = client.ReadReply();
  ASSERT_TRUE(ehlo.ok());
  EXPECT_THAT(*ehlo, ::testing::Not(HasSubstr("STARTTLS")));
  ASSERT_TRUE(client
                  .Send("MAIL FROM:<a@example.org>\r\n"
                        "RCPT TO:<b@example.net>\r\nDATA\r\n")
                  .ok());
  for (const char* code : {"250", "250", "354"}) {
    auto reply = client.ReadReply();
    ASSERT_TRUE(reply.ok()) << reply.status();
    EXPECT_THAT(*reply, StartsWith(code));
  }
  ASSERT_TRUE(client.Send("Subject: stdio\r\n\r\n..x\r\n.\r\nQUIT\r\n").ok());
  auto stored = client.ReadReply();
  ASSERT_TRUE(stored.ok());
  EXPECT_THAT(*stored, StartsWith("250 "));
  auto bye = client.ReadReply();
  ASSERT_TRUE(bye.ok());
  EXPECT_THAT(*bye, StartsWith("221"));
  ASSERT_EQ(done.wait_for(kWait), std::future_status::ready);
  EXPECT_TRUE(done.get().ok());
  // The server's copies are closed; ours (fds_[1]) is still open.
  EXPECT_EQ(::fcntl(fds_[1], F_GETFD), FD_CLOEXEC);

  const auto messages = handler_.messages();
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].data, "Subject: stdio\r\n\r\n.x\r\n");
  EXPECT_EQ(messages[0].peer, "");  // a socketpair has no address
}

TEST_F(StdioTest, IdleTimeout) {
  SmtpServerOptions options;
  options.idle_timeout = std::chrono::seconds(1);
  auto done = Serve(options);
  RawClient client = RawClient::Adopt(fds_[0]);
  ASSERT_TRUE(client.ReadReply().ok());
  auto reply = client.ReadReply(std::chrono::seconds(5));
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_THAT(*reply, StartsWith("421 4.4.2"));
  ASSERT_EQ(done.wait_for(kWait), std::future_status::ready);
  EXPECT_TRUE(done.get().ok());
}

TEST_F(StdioTest, EndOfInputEndsTheSession) {
  auto done = Serve(SmtpServerOptions{});
  RawClient client = RawClient::Adopt(fds_[0]);
  ASSERT_TRUE(client.ReadReply().ok());
  ASSERT_TRUE(client.Send("HELO c\r\nMAIL FROM:<a@x.org>\r\n").ok());
  ::shutdown(client.fd(), SHUT_WR);
  ASSERT_EQ(done.wait_for(kWait), std::future_status::ready);
  EXPECT_TRUE(done.get().ok());
  EXPECT_TRUE(handler_.messages().empty());
}

TEST_F(StdioTest, RefusesBadArguments) {
  SmtpServerOptions options;
  EXPECT_FALSE(ServeSmtpOnStdio(options, nullptr, fds_[1], fds_[1]).ok());
  EXPECT_FALSE(ServeSmtpOnStdio(options, &handler_, -1, fds_[1]).ok());
  ::close(fds_[0]);
}

}  // namespace
}  // namespace posthorn::net::testing
