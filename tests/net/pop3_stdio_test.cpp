// ServePop3OnStdio over a socketpair (as inetd hands a socket: STLS works)
// and over two pipes (no TLS, peer ""). Bounded waits throughout.

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <future>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "net_test_util.h"
#include "pop3_test_util.h"
#include "posthorn/net/pop3_server.h"

namespace posthorn::net::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

class Pop3StdioTest : public ::testing::Test {
 protected:
  void SetUp() override {
    handler_.messages = {SampleMessage(10), "Subject: two\r\n\r\nhi\r\n"};
  }
  std::future<absl::Status> Serve(Pop3ServerOptions options, int in_fd,
                                  int out_fd) {
    options.handle_signals = false;
    options.failed_login_delay = std::chrono::milliseconds(0);
    return std::async(std::launch::async, [this, options, in_fd, out_fd] {
      return ServePop3OnStdio(options, &handler_, in_fd, out_fd);
    });
  }

  TempDir dir_;
  FakePop3Handler handler_;
};

TEST_F(Pop3StdioTest, SocketpairOffersStlsAndRuns) {
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
  auto files = MakeTestCertificate(dir_.path());
  ASSERT_TRUE(files.ok());
  Pop3ServerOptions options;
  options.tls = *files;
  auto done = Serve(options, fds[1], fds[1]);
  PopClient client(fds[0]);
  EXPECT_THAT(client.ReadLine().value_or(""), StartsWith("+OK"));
  ASSERT_THAT(client.Command("CAPA").value_or(""), StartsWith("+OK"));
  EXPECT_THAT(client.ReadBody().value_or(""), HasSubstr("STLS"));
  EXPECT_THAT(client.Command("STLS").value_or(""), StartsWith("+OK"));
  ASSERT_TRUE(client.StartTls());
  EXPECT_THAT(client.Command("USER alice").value_or(""), StartsWith("+OK"));
  EXPECT_THAT(client.Command("PASS secret").value_or(""), StartsWith("+OK"));
  EXPECT_THAT(client.Command("RETR 2").value_or(""), StartsWith("+OK"));
  EXPECT_EQ(client.ReadBody().value_or(""), handler_.messages[1]);
  EXPECT_THAT(client.Command("DELE 2").value_or(""), StartsWith("+OK"));
  EXPECT_THAT(client.Command("QUIT").value_or(""), StartsWith("+OK"));
  EXPECT_TRUE(client.WaitForClose());
  ASSERT_EQ(done.wait_for(kWait), std::future_status::ready);
  EXPECT_TRUE(done.get().ok());
  // The server's copy is closed; ours is still open.
  EXPECT_EQ(::fcntl(fds[1], F_GETFD), FD_CLOEXEC);
  ::close(fds[1]);
  // OnSessionEnd ran before ServePop3OnStdio returned.
  ASSERT_EQ(handler_.summaries().size(), 1u);
  const Pop3SessionSummary summary = handler_.summaries()[0];
  EXPECT_TRUE(summary.tls);
  EXPECT_TRUE(summary.updated);
  EXPECT_EQ(summary.peer.address, "");  // a socketpair has no address
  EXPECT_EQ(handler_.updates().size(), 1u);
}

TEST_F(Pop3StdioTest, PipesWorkWithoutTls) {
  int to_server[2];
  int to_client[2];
  ASSERT_EQ(::pipe2(to_server, O_CLOEXEC), 0);
  ASSERT_EQ(::pipe2(to_client, O_CLOEXEC), 0);
  auto files = MakeTestCertificate(dir_.path());
  ASSERT_TRUE(files.ok());
  Pop3ServerOptions options;
  options.tls = *files;  // ignored on pipes
  options.session.allow_plaintext_auth = true;
  // The server dup()s the descriptors in its thread: ours stay open until
  // it is done.
  auto done = Serve(options, to_server[0], to_client[1]);
  // The script a client would send, all at once; then EOF.
  const std::string script =
      "CAPA\r\nUSER alice\r\nPASS secret\r\nSTAT\r\nQUIT\r\n";
  ASSERT_EQ(::write(to_server[1], script.data(), script.size()),
            static_cast<ssize_t>(script.size()));
  ::close(to_server[1]);  // as inetd's client would, after QUIT
  ASSERT_EQ(done.wait_for(kWait), std::future_status::ready);
  EXPECT_TRUE(done.get().ok());
  for (int fd : {to_server[0], to_client[1]}) ::close(fd);
  std::string output;
  char chunk[4096];
  for (ssize_t n; (n = ::read(to_client[0], chunk, sizeof chunk)) > 0;) {
    output.append(chunk, static_cast<std::size_t>(n));
  }
  ::close(to_client[0]);
  EXPECT_THAT(output, StartsWith("+OK POP3 server ready <"));
  EXPECT_THAT(output, Not(HasSubstr("STLS")));
  EXPECT_THAT(output, HasSubstr("+OK alice's maildrop has 2 messages"));
  EXPECT_THAT(output, HasSubstr("signing off"));
  ASSERT_EQ(handler_.summaries().size(), 1u);
  EXPECT_FALSE(handler_.summaries()[0].tls);
  EXPECT_EQ(handler_.summaries()[0].peer.address, "");
}

TEST_F(Pop3StdioTest, EofOnPipesAbortsWithoutUpdate) {
  int to_server[2];
  int to_client[2];
  ASSERT_EQ(::pipe2(to_server, O_CLOEXEC), 0);
  ASSERT_EQ(::pipe2(to_client, O_CLOEXEC), 0);
  Pop3ServerOptions options;
  options.session.allow_plaintext_auth = true;
  auto done = Serve(options, to_server[0], to_client[1]);
  const std::string script = "USER alice\r\nPASS secret\r\nDELE 1\r\n";
  ASSERT_EQ(::write(to_server[1], script.data(), script.size()),
            static_cast<ssize_t>(script.size()));
  ::close(to_server[1]);  // EOF without QUIT
  ASSERT_EQ(done.wait_for(kWait), std::future_status::ready);
  EXPECT_TRUE(done.get().ok());
  for (int fd : {to_server[0], to_client[0], to_client[1]}) ::close(fd);
  EXPECT_TRUE(handler_.updates().empty());
  EXPECT_EQ(handler_.maildrops_open(), 0);
  ASSERT_EQ(handler_.summaries().size(), 1u);
  EXPECT_FALSE(handler_.summaries()[0].updated);
  EXPECT_EQ(handler_.summaries()[0].deleted_messages, 1u);
}

}  // namespace
}  // namespace posthorn::net::testing
