// Pop3Server over loopback TCP (127.0.0.1 and ::1, port 0), STLS and
// implicit TLS with a certificate made at test time, the in-memory
// transport: login policy, RETR / TOP byte-exactness, pipelining, the
// failed-login delay, the worker pool, timeouts, limits, shutdown, the
// protocol log and the session summary. Every wait is bounded.

#include <sys/socket.h>

#include <atomic>
#include <cstdlib>
#include <chrono>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <openssl/evp.h>

#include "fmt/format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "net_test_util.h"
#include "pop3_test_util.h"
#include "posthorn/net/pop3_server.h"

namespace posthorn::net::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;
using Clock = std::chrono::steady_clock;

std::string Md5Hex(std::string_view text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(text.data(), text.size(), digest, &length, EVP_md5(), nullptr);
  std::string out;
  for (unsigned int i = 0; i < length; ++i) {
    out += fmt::format("{:02x}", digest[i]);
  }
  return out;
}

// The timestamp of a greeting "+OK ... <...>".
std::string TimestampOf(const std::string& greeting) {
  const auto start = greeting.rfind('<');
  const auto end = greeting.rfind('>');
  if (start == std::string::npos || end == std::string::npos) return "";
  return greeting.substr(start, end - start + 1);
}

// A message of about `size` octets whose lines often start with '.'.
std::string BigMessage(std::size_t size) {
  std::string message = "From: a@example.org\r\nSubject: big\r\n\r\n";
  for (std::size_t i = 0; message.size() < size; ++i) {
    if (i % 3 == 0) message += ".";
    if (i % 11 == 0) message += ".\r\n";
    message += fmt::format("line {} {}\r\n", i, std::string(i % 90, 'x'));
  }
  return message;
}

class Pop3ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    handler_.messages = {SampleMessage(10), "Subject: two\r\n\r\nhello\r\n",
                         SampleMessage(30)};
  }
  Pop3ServerOptions Options() {
    Pop3ServerOptions options;
    options.listen = {"127.0.0.1:0"};
    options.session.hostname = "pop.example.org";
    options.failed_login_delay = std::chrono::milliseconds(0);
    return options;
  }
  Pop3ServerOptions TlsOptions() {
    auto files = MakeTestCertificate(dir_.path());
    EXPECT_TRUE(files.ok()) << files.status();
    Pop3ServerOptions options = Options();
    if (files.ok()) options.tls = *files;
    return options;
  }
  void StartServer(Pop3ServerOptions options) {
    auto server = Pop3ServerThread::Start(std::move(options), &handler_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
  }
  std::unique_ptr<PopClient> Connect(std::size_t listener = 0) {
    auto client =
        PopClient::Connect(server_->host(listener), server_->port(listener));
    EXPECT_TRUE(client.ok()) << client.status();
    return client.ok() ? std::move(*client) : nullptr;
  }
  // Connects, reads the greeting and logs in as alice with USER / PASS.
  std::unique_ptr<PopClient> LoggedIn(std::size_t listener = 0) {
    auto client = Connect(listener);
    if (client == nullptr) return nullptr;
    EXPECT_THAT(client->ReadLine().value_or(""), StartsWith("+OK"));
    EXPECT_THAT(client->Command("USER alice").value_or(""), StartsWith("+OK"));
    EXPECT_THAT(client->Command("PASS secret").value_or(""),
                StartsWith("+OK"));
    return client;
  }

  TempDir dir_;
  FakePop3Handler handler_;
  std::unique_ptr<Pop3ServerThread> server_;
};

TEST_F(Pop3ServerTest, GreetingCarriesAFreshApopTimestamp) {
  StartServer(Options());
  std::set<std::string> seen;
  for (int i = 0; i < 3; ++i) {
    auto client = Connect();
    ASSERT_NE(client, nullptr);
    auto greeting = client->ReadLine();
    ASSERT_TRUE(greeting.ok()) << greeting.status();
    EXPECT_THAT(*greeting, StartsWith("+OK POP3 server ready <"));
    const std::string timestamp = TimestampOf(*greeting);
    EXPECT_THAT(timestamp, HasSubstr("@pop.example.org>"));
    EXPECT_TRUE(seen.insert(timestamp).second) << timestamp;
  }
}

TEST_F(Pop3ServerTest, ApopLogin) {
  StartServer(Options());
  auto client = Connect();
  ASSERT_NE(client, nullptr);
  const std::string timestamp = TimestampOf(client->ReadLine().value_or(""));
  ASSERT_FALSE(timestamp.empty());
  auto reply = client->Command("APOP alice " + Md5Hex(timestamp + "secret"));
  ASSERT_TRUE(reply.ok());
  EXPECT_THAT(*reply, StartsWith("+OK"));
  ASSERT_EQ(handler_.logins().size(), 1u);
  EXPECT_EQ(handler_.logins()[0].mechanism, pop3::LoginMechanism::kApop);
  EXPECT_EQ(handler_.logins()[0].apop_timestamp, timestamp);
}

TEST_F(Pop3ServerTest, UserPassOverIpv4AndIpv6WithPlaintextAllowed) {
  Pop3ServerOptions options = Options();
  options.listen = {"127.0.0.1:0", "[::1]:0"};
  options.session.allow_plaintext_auth = true;
  StartServer(options);
  for (std::size_t listener : {0u, 1u}) {
    auto client = LoggedIn(listener);
    ASSERT_NE(client, nullptr);
    EXPECT_EQ(client->Command("STAT").value_or(""),
              fmt::format("+OK 3 {}", handler_.messages[0].size() +
                                          handler_.messages[1].size() +
                                          handler_.messages[2].size()));
    EXPECT_THAT(client->Command("QUIT").value_or(""),
                HasSubstr("signing off"));
    EXPECT_TRUE(client->WaitForClose());
  }
  const auto logins = handler_.logins();
  ASSERT_EQ(logins.size(), 2u);
  EXPECT_EQ(logins[0].peer.address, "127.0.0.1");
  EXPECT_EQ(logins[1].peer.address, "::1");
  EXPECT_EQ(logins[0].user, "alice");
  EXPECT_EQ(logins[0].password, "secret");
  EXPECT_FALSE(logins[0].tls);
}

TEST_F(Pop3ServerTest, PlaintextLoginRefusedWithoutTls) {
  StartServer(Options());
  auto client = Connect();
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->ReadLine().ok());
  EXPECT_THAT(client->Command("USER alice").value_or(""),
              StartsWith("-ERR [AUTH] Plaintext authentication disallowed"));
  EXPECT_THAT(client->Command("PASS secret").value_or(""),
              StartsWith("-ERR"));
  EXPECT_TRUE(handler_.logins().empty());
}

TEST_F(Pop3ServerTest, StlsThenLogin) {
  StartServer(TlsOptions());
  auto client = Connect();
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->ReadLine().ok());
  ASSERT_THAT(client->Command("CAPA").value_or(""), StartsWith("+OK"));
  auto capa = client->ReadBody();
  ASSERT_TRUE(capa.ok());
  EXPECT_THAT(*capa, HasSubstr("STLS\r\n"));
  EXPECT_THAT(*capa, Not(HasSubstr("USER\r\n")));
  EXPECT_THAT(client->Command("STLS").value_or(""),
              StartsWith("+OK Begin TLS"));
  ASSERT_TRUE(client->StartTls());
  EXPECT_THAT(client->Command("USER alice").value_or(""), StartsWith("+OK"));
  EXPECT_THAT(client->Command("PASS secret").value_or(""), StartsWith("+OK"));
  EXPECT_THAT(client->Command("QUIT").value_or(""), StartsWith("+OK"));
  ASSERT_TRUE(handler_.WaitForSummaries(1));
  EXPECT_TRUE(handler_.logins().at(0).tls);
  EXPECT_TRUE(handler_.summaries().at(0).tls);
}

TEST_F(Pop3ServerTest, ImplicitTlsListener) {
  Pop3ServerOptions options = TlsOptions();
  options.listen_tls = {"[::1]:0"};
  StartServer(options);
  ASSERT_EQ(server_->server().local_endpoints().size(), 2u);
  auto client = Connect(1);
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->StartTls());
  EXPECT_THAT(client->ReadLine().value_or(""), StartsWith("+OK"));
  ASSERT_THAT(client->Command("CAPA").value_or(""), StartsWith("+OK"));
  auto capa = client->ReadBody();
  ASSERT_TRUE(capa.ok());
  EXPECT_THAT(*capa, Not(HasSubstr("STLS")));
  EXPECT_THAT(*capa, HasSubstr("USER\r\n"));
  EXPECT_THAT(client->Command("USER alice").value_or(""), StartsWith("+OK"));
  EXPECT_THAT(client->Command("PASS secret").value_or(""), StartsWith("+OK"));
  ASSERT_EQ(handler_.logins().size(), 1u);
  EXPECT_TRUE(handler_.logins()[0].tls);
  EXPECT_EQ(handler_.logins()[0].peer.address, "::1");
}

TEST_F(Pop3ServerTest, CommandsInjectedBeforeTheHandshakeAreDiscarded) {
  // CVE-2011-0411: a man in the middle appends USER to STLS in the same
  // packet, hoping it counts inside the TLS session.
  StartServer(TlsOptions());
  auto client = Connect();
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->ReadLine().ok());
  ASSERT_TRUE(client->Send("STLS\r\nUSER alice\r\n").ok());
  EXPECT_THAT(client->ReadLine().value_or(""), StartsWith("+OK Begin TLS"));
  ASSERT_TRUE(client->StartTls());
  // Had the injected USER counted, PASS would log in.
  EXPECT_THAT(client->Command("PASS secret").value_or(""),
              StartsWith("-ERR"));
  EXPECT_TRUE(handler_.logins().empty());
  EXPECT_THAT(client->Command("QUIT").value_or(""), StartsWith("+OK"));
}

TEST_F(Pop3ServerTest, RetrOfABigMessageIsByteExact) {
  handler_.messages = {BigMessage(5 << 20)};
  handler_.read_limit = 10000;  // many small reads per pool round trip
  Pop3ServerOptions options = Options();
  options.session.allow_plaintext_auth = true;
  StartServer(options);
  auto client = LoggedIn();
  ASSERT_NE(client, nullptr);
  const auto start = Clock::now();
  EXPECT_EQ(client->Command("RETR 1").value_or(""),
            fmt::format("+OK {} octets", handler_.messages[0].size()));
  auto body = client->ReadBody();
  const auto elapsed = Clock::now() - start;
  ASSERT_TRUE(body.ok()) << body.status();
  EXPECT_TRUE(Unstuff(*body) == handler_.messages[0]);
  EXPECT_GT(body->size(), handler_.messages[0].size());  // it was stuffed
  const double seconds = std::chrono::duration<double>(elapsed).count();
  std::printf("RETR of %zu octets: %.3f s, %.0f MB/s\n", body->size(), seconds,
              static_cast<double>(body->size()) / 1e6 / seconds);
  // The session goes on after a big response.
  EXPECT_THAT(client->Command("NOOP").value_or(""), StartsWith("+OK"));
}

// A throughput figure, not a check: runs only with
// POSTHORN_POP3_RETR_MB=<size in MiB> in the environment.
TEST_F(Pop3ServerTest, RetrThroughput) {
  const char* size = std::getenv("POSTHORN_POP3_RETR_MB");
  if (size == nullptr) GTEST_SKIP() << "set POSTHORN_POP3_RETR_MB";
  handler_.messages = {BigMessage(std::stoul(size) << 20)};
  Pop3ServerOptions options = Options();
  options.session.allow_plaintext_auth = true;
  StartServer(options);
  auto client = LoggedIn();
  ASSERT_NE(client, nullptr);
  for (int round = 0; round < 3; ++round) {
    const auto start = Clock::now();
    ASSERT_THAT(client->Command("RETR 1").value_or(""), StartsWith("+OK"));
    auto size = client->SkipBody();
    ASSERT_TRUE(size.ok());
    const double seconds =
        std::chrono::duration<double>(Clock::now() - start).count();
    std::printf("RETR %zu octets: %.0f MB/s\n", *size,
                static_cast<double>(*size) / 1e6 / seconds);
  }
}

TEST_F(Pop3ServerTest, TopSendsTheHeaderAndSomeBodyLines) {
  handler_.messages = {"Subject: t\r\nX: y\r\n\r\nl1\r\n.l2\r\nl3\r\nl4\r\n"};
  Pop3ServerOptions options = Options();
  options.session.allow_plaintext_auth = true;
  StartServer(options);
  auto client = LoggedIn();
  ASSERT_NE(client, nullptr);
  EXPECT_THAT(client->Command("TOP 1 2").value_or(""), StartsWith("+OK"));
  EXPECT_EQ(client->ReadBody().value_or("?"),
            "Subject: t\r\nX: y\r\n\r\nl1\r\n..l2\r\n");
  EXPECT_THAT(client->Command("TOP 1 0").value_or(""), StartsWith("+OK"));
  EXPECT_EQ(client->ReadBody().value_or("?"), "Subject: t\r\nX: y\r\n\r\n");
}

TEST_F(Pop3ServerTest, PipelinedCommandsAreAnsweredInOrder) {
  Pop3ServerOptions options = Options();
  options.session.allow_plaintext_auth = true;
  StartServer(options);
  auto client = Connect();
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->ReadLine().ok());
  ASSERT_TRUE(client
                  ->Send("USER alice\r\nPASS secret\r\nSTAT\r\nRETR 2\r\n"
                         "LIST\r\nDELE 1\r\nUIDL 2\r\nNOOP\r\nQUIT\r\n")
                  .ok());
  EXPECT_THAT(client->ReadLine().value_or(""), StartsWith("+OK Password"));
  EXPECT_THAT(client->ReadLine().value_or(""), StartsWith("+OK alice"));
  EXPECT_THAT(client->ReadLine().value_or(""), StartsWith("+OK 3 "));
  EXPECT_THAT(client->ReadLine().value_or(""), StartsWith("+OK"));
  EXPECT_EQ(client->ReadBody().value_or(""), handler_.messages[1]);
  EXPECT_THAT(client->ReadLine().value_or(""), StartsWith("+OK 3 messages"));
  EXPECT_THAT(client->ReadBody().value_or(""), StartsWith("1 "));
  EXPECT_EQ(client->ReadLine().value_or(""), "+OK message 1 deleted");
  EXPECT_EQ(client->ReadLine().value_or(""), "+OK 2 uid-2");
  EXPECT_EQ(client->ReadLine().value_or(""), "+OK");
  EXPECT_THAT(client->ReadLine().value_or(""), HasSubstr("signing off"));
  EXPECT_TRUE(client->WaitForClose());
  ASSERT_TRUE(handler_.WaitForSummaries(1));
  EXPECT_THAT(handler_.updates(), ElementsAre(std::vector<std::size_t>{0}));
}

TEST_F(Pop3ServerTest, FailedLoginsAreDelayedAndLimited) {
  Pop3ServerOptions options = Options();
  options.session.allow_plaintext_auth = true;
  options.session.limits.max_failed_logins = 2;
  options.failed_login_delay = std::chrono::milliseconds(300);
  StartServer(options);
  auto client = Connect();
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->ReadLine().ok());
  ASSERT_THAT(client->Command("USER alice").value_or(""), StartsWith("+OK"));
  auto start = Clock::now();
  EXPECT_THAT(client->Command("PASS wrong").value_or(""),
              StartsWith("-ERR [AUTH]"));
  EXPECT_GE(Clock::now() - start, std::chrono::milliseconds(300));
  ASSERT_THAT(client->Command("USER alice").value_or(""), StartsWith("+OK"));
  start = Clock::now();
  EXPECT_THAT(client->Command("PASS wrong again").value_or(""),
              StartsWith("-ERR"));
  EXPECT_GE(Clock::now() - start, std::chrono::milliseconds(300));
  EXPECT_TRUE(client->WaitForClose());  // max_failed_logins
  ASSERT_TRUE(handler_.WaitForSummaries(1));
  EXPECT_FALSE(handler_.summaries()[0].logged_in);
  EXPECT_EQ(handler_.maildrops_open(), 0);
}

TEST_F(Pop3ServerTest, ASlowLoginDoesNotDelayOtherConnections) {
  handler_.passwords["slow"] = "secret";
  handler_.slow_login = kWait;  // until released below
  Pop3ServerOptions options = Options();
  options.session.allow_plaintext_auth = true;
  options.io_threads = 1;
  options.worker_threads = 2;
  StartServer(options);
  auto other = LoggedIn();
  ASSERT_NE(other, nullptr);
  auto slow = Connect();
  ASSERT_NE(slow, nullptr);
  ASSERT_TRUE(slow->ReadLine().ok());
  ASSERT_THAT(slow->Command("USER slow").value_or(""), StartsWith("+OK"));
  ASSERT_TRUE(slow->Send("PASS secret\r\n").ok());
  ASSERT_TRUE(handler_.WaitForSlowLogin());
  // The one loop thread answers while a worker is stuck in Login().
  EXPECT_EQ(other->Command("NOOP").value_or(""), "+OK");
  EXPECT_EQ(other->Command("STAT").value_or("").substr(0, 6), "+OK 3 ");
  handler_.ReleaseSlowLogin();
  EXPECT_THAT(slow->ReadLine().value_or(""), StartsWith("+OK"));
}

TEST_F(Pop3ServerTest, IdleTimeoutEndsTheSessionWithoutUpdate) {
  Pop3ServerOptions options = Options();
  options.session.allow_plaintext_auth = true;
  options.idle_timeout = std::chrono::seconds(1);
  StartServer(options);
  auto client = LoggedIn();
  ASSERT_NE(client, nullptr);
  EXPECT_EQ(client->Command("DELE 1").value_or(""), "+OK message 1 deleted");
  const auto start = Clock::now();
  EXPECT_EQ(client->ReadLine().value_or(""), "-ERR autologout timer expired");
  EXPECT_GE(Clock::now() - start, std::chrono::milliseconds(900));
  EXPECT_TRUE(client->WaitForClose());
  ASSERT_TRUE(handler_.WaitForSummaries(1));
  EXPECT_TRUE(handler_.updates().empty());
  EXPECT_EQ(handler_.maildrops_open(), 0);
  const Pop3SessionSummary summary = handler_.summaries()[0];
  EXPECT_FALSE(summary.updated);
  EXPECT_EQ(summary.end.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(summary.left_messages, 3u);  // nothing was removed
}

TEST_F(Pop3ServerTest, QuitRunsTheUpdateAndSummarizes) {
  Pop3ServerOptions options = Options();
  options.session.allow_plaintext_auth = true;
  StartServer(options);
  auto client = LoggedIn();
  ASSERT_NE(client, nullptr);
  EXPECT_THAT(client->Command("DELE 3").value_or(""), StartsWith("+OK"));
  EXPECT_THAT(client->Command("DELE 1").value_or(""), StartsWith("+OK"));
  EXPECT_THAT(client->Command("QUIT").value_or(""),
              HasSubstr("signing off (1 message left)"));
  EXPECT_TRUE(client->WaitForClose());
  ASSERT_TRUE(handler_.WaitForSummaries(1));
  EXPECT_THAT(handler_.updates(),
              ElementsAre(std::vector<std::size_t>{0, 2}));
  EXPECT_EQ(handler_.maildrops_open(), 0);
  const Pop3SessionSummary summary = handler_.summaries()[0];
  EXPECT_EQ(summary.user, "alice");
  EXPECT_TRUE(summary.logged_in);
  EXPECT_TRUE(summary.updated);
  EXPECT_EQ(summary.deleted_messages, 2u);
  EXPECT_EQ(summary.deleted_octets,
            handler_.messages[0].size() + handler_.messages[2].size());
  EXPECT_EQ(summary.left_messages, 1u);
  EXPECT_EQ(summary.left_octets, handler_.messages[1].size());
  EXPECT_TRUE(summary.end.ok()) << summary.end;
  EXPECT_FALSE(summary.tls);
  EXPECT_EQ(summary.peer.address, "127.0.0.1");
}

TEST_F(Pop3ServerTest, StoreErrorsAreAnsweredAndSummarized) {
  handler_.open_error = absl::UnavailableError("disk on fire");
  handler_.update_error = absl::InternalError("rename failed");
  Pop3ServerOptions options = Options();
  options.session.allow_plaintext_auth = true;
  StartServer(options);
  auto client = LoggedIn();
  ASSERT_NE(client, nullptr);
  EXPECT_THAT(client->Command("RETR 1").value_or(""),
              StartsWith("-ERR [SYS/TEMP]"));
  EXPECT_EQ(client->Command("NOOP").value_or(""), "+OK");  // goes on
  EXPECT_THAT(client->Command("DELE 1").value_or(""), StartsWith("+OK"));
  EXPECT_THAT(client->Command("QUIT").value_or(""),
              StartsWith("-ERR [SYS/TEMP]"));
  EXPECT_TRUE(client->WaitForClose());
  ASSERT_TRUE(handler_.WaitForSummaries(1));
  EXPECT_EQ(handler_.maildrops_open(), 0);
  const Pop3SessionSummary summary = handler_.summaries()[0];
  EXPECT_FALSE(summary.updated);
  EXPECT_EQ(summary.left_messages, 3u);
  EXPECT_EQ(summary.end.code(), absl::StatusCode::kInternal);
}

TEST_F(Pop3ServerTest, EofInTransactionKeepsEverything) {
  Pop3ServerOptions options = Options();
  options.session.allow_plaintext_auth = true;
  StartServer(options);
  {
    auto client = LoggedIn();
    ASSERT_NE(client, nullptr);
    EXPECT_THAT(client->Command("DELE 2").value_or(""), StartsWith("+OK"));
  }  // closed without QUIT
  ASSERT_TRUE(handler_.WaitForSummaries(1));
  EXPECT_TRUE(handler_.updates().empty());
  EXPECT_EQ(handler_.maildrops_open(), 0);
  EXPECT_EQ(handler_.maildrops_destroyed(), 1);
  const Pop3SessionSummary summary = handler_.summaries()[0];
  EXPECT_TRUE(summary.logged_in);
  EXPECT_FALSE(summary.updated);
  EXPECT_EQ(summary.deleted_messages, 1u);
  EXPECT_EQ(summary.left_messages, 3u);
  EXPECT_FALSE(summary.end.ok());
}

TEST_F(Pop3ServerTest, MaxConnections) {
  Pop3ServerOptions options = Options();
  options.max_connections = 1;
  StartServer(options);
  auto first = Connect();
  ASSERT_NE(first, nullptr);
  EXPECT_THAT(first->ReadLine().value_or(""), StartsWith("+OK"));
  auto second = Connect();
  ASSERT_NE(second, nullptr);
  EXPECT_EQ(second->ReadLine().value_or(""),
            "-ERR [SYS/TEMP] too many connections");
  EXPECT_TRUE(second->WaitForClose());
  EXPECT_EQ(server_->server().connections_accepted(), 1u);
  EXPECT_EQ(server_->server().active_connections(), 1u);
  first.reset();
  ASSERT_TRUE(handler_.WaitForSummaries(1));  // only served ones
}

TEST_F(Pop3ServerTest, OnConnectRefusal) {
  handler_.refuse_connections = "go away\r\nnow";
  StartServer(Options());
  auto client = Connect();
  ASSERT_NE(client, nullptr);
  EXPECT_EQ(client->ReadLine().value_or(""), "-ERR [SYS/TEMP] go away  now");
  EXPECT_TRUE(client->WaitForClose());
}

TEST_F(Pop3ServerTest, StopEndsOpenSessionsWithoutUpdate) {
  Pop3ServerOptions options = Options();
  options.session.allow_plaintext_auth = true;
  StartServer(options);
  auto client = LoggedIn();
  ASSERT_NE(client, nullptr);
  auto idle = Connect();
  ASSERT_NE(idle, nullptr);
  EXPECT_THAT(idle->ReadLine().value_or(""), StartsWith("+OK"));
  EXPECT_THAT(client->Command("DELE 1").value_or(""), StartsWith("+OK"));
  ASSERT_TRUE(server_->StopAndJoin().ok());
  EXPECT_EQ(client->ReadLine().value_or(""),
            "-ERR [SYS/TEMP] server shutting down");
  EXPECT_TRUE(client->WaitForClose());
  EXPECT_TRUE(idle->WaitForClose());
  EXPECT_TRUE(handler_.updates().empty());
  EXPECT_EQ(handler_.maildrops_open(), 0);
  EXPECT_EQ(handler_.summaries().size(), 2u);
  EXPECT_FALSE(server_->server().ConnectInMemory().ok());
}

TEST_F(Pop3ServerTest, InMemoryConnection) {
  Pop3ServerOptions options = Options();
  options.listen.clear();
  StartServer(options);
  auto stream = server_->server().ConnectInMemory(Peer{"192.0.2.1", 4711});
  ASSERT_TRUE(stream.ok()) << stream.status();
  auto greeting = (*stream)->ReadUntil("\r\n", kWait);
  ASSERT_TRUE(greeting.ok());
  EXPECT_THAT(*greeting, StartsWith("+OK"));
  const std::string timestamp = TimestampOf(*greeting);
  ASSERT_TRUE((*stream)
                  ->Write("APOP alice " + Md5Hex(timestamp + "secret") +
                          "\r\nQUIT\r\n")
                  .ok());
  auto all = (*stream)->ReadToEnd(kWait);
  ASSERT_TRUE(all.ok());
  EXPECT_THAT(*all, HasSubstr("+OK alice's maildrop has 3 messages"));
  ASSERT_TRUE(handler_.WaitForSummaries(1));
  EXPECT_EQ(handler_.summaries()[0].peer.address, "192.0.2.1");
  EXPECT_TRUE(handler_.summaries()[0].updated);
}

TEST_F(Pop3ServerTest, ProtocolLogMasksSecretsAndSkipsContent) {
  handler_.messages = {"Subject: s\r\n\r\n+OK forged status line\r\n"
                       "secret-body-text\r\n"};
  std::mutex mu;
  std::vector<std::string> lines;
  Pop3ServerOptions options = Options();
  options.session.allow_plaintext_auth = true;
  options.protocol_log = [&](std::string_view line) {
    std::lock_guard<std::mutex> lock(mu);
    lines.emplace_back(line);
  };
  StartServer(options);
  auto client = Connect();
  ASSERT_NE(client, nullptr);
  const std::string timestamp = TimestampOf(client->ReadLine().value_or(""));
  EXPECT_THAT(client->Command("USER alice").value_or(""), StartsWith("+OK"));
  EXPECT_THAT(client->Command("PASS wrong\x01").value_or(""),
              StartsWith("-ERR"));
  EXPECT_THAT(client->Command("AUTH PLAIN").value_or(""), StartsWith("+"));
  // base64("\0alice\0secret")
  EXPECT_THAT(client->Command("AGFsaWNlAHNlY3JldA==").value_or(""),
              StartsWith("+OK"));
  EXPECT_THAT(client->Command("RETR 1").value_or(""), StartsWith("+OK"));
  EXPECT_TRUE(client->ReadBody().ok());
  EXPECT_THAT(client->Command("LIST").value_or(""), StartsWith("+OK"));
  EXPECT_TRUE(client->ReadBody().ok());
  EXPECT_THAT(client->Command("QUIT").value_or(""), StartsWith("+OK"));
  EXPECT_TRUE(client->WaitForClose());
  ASSERT_TRUE(handler_.WaitForSummaries(1));

  std::lock_guard<std::mutex> lock(mu);
  std::string all;
  for (const std::string& line : lines) {
    EXPECT_THAT(line, StartsWith("127.0.0.1:"));
    all += line + "\n";
  }
  EXPECT_THAT(all, HasSubstr(" < +OK POP3 server ready " + timestamp + "\n"));
  EXPECT_THAT(all, HasSubstr(" > USER alice\n"));
  EXPECT_THAT(all, HasSubstr(" > PASS ***\n"));
  EXPECT_THAT(all, HasSubstr(" > AUTH PLAIN\n"));
  EXPECT_THAT(all, HasSubstr(" < + \n"));
  EXPECT_THAT(all, HasSubstr(" > ***\n"));
  EXPECT_THAT(all, HasSubstr(" > RETR 1\n"));
  EXPECT_THAT(all, HasSubstr(" < +OK 1 message ("));
  EXPECT_THAT(all, HasSubstr(" > QUIT\n"));
  EXPECT_THAT(all, HasSubstr("signing off"));
  EXPECT_THAT(all, Not(HasSubstr("wrong")));
  EXPECT_THAT(all, Not(HasSubstr("AGFsaWNl")));
  EXPECT_THAT(all, Not(HasSubstr("secret")));
  EXPECT_THAT(all, Not(HasSubstr("forged")));
  for (const std::string& line : lines) {
    // Only status lines: no LIST body ("1 47"), no message text.
    const std::size_t mark = line.find(" < ");
    if (mark == std::string::npos) continue;
    const char first = line[mark + 3];
    EXPECT_TRUE(first == '+' || first == '-') << line;
  }
}

TEST_F(Pop3ServerTest, ProtocolLogEscapesAndCuts) {
  std::mutex mu;
  std::vector<std::string> lines;
  Pop3ServerOptions options = Options();
  options.protocol_log = [&](std::string_view line) {
    std::lock_guard<std::mutex> lock(mu);
    lines.emplace_back(line);
  };
  options.session.limits.max_command_line = 1000;
  StartServer(options);
  auto client = Connect();
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->ReadLine().ok());
  EXPECT_THAT(client->Command("NOOP\x1b[2J\\").value_or(""),
              StartsWith("-ERR"));
  EXPECT_THAT(client->Command("X" + std::string(600, 'y')).value_or(""),
              StartsWith("-ERR"));
  EXPECT_THAT(client->Command("QUIT").value_or(""), StartsWith("+OK"));
  EXPECT_TRUE(client->WaitForClose());
  ASSERT_TRUE(handler_.WaitForSummaries(1));
  std::lock_guard<std::mutex> lock(mu);
  std::string escaped, cut;
  for (const std::string& line : lines) {
    if (line.find("> NOOP") != std::string::npos) escaped = line;
    if (line.find("> Xyyy") != std::string::npos) cut = line;
  }
  EXPECT_THAT(escaped, ::testing::EndsWith("> NOOP\\x1B[2J\\x5C"));
  EXPECT_THAT(cut, ::testing::EndsWith("yyy..."));
  EXPECT_LE(cut.size(), std::string_view("127.0.0.1:65535 > ").size() + 200);
}

}  // namespace
}  // namespace posthorn::net::testing
