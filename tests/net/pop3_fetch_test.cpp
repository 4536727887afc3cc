// FetchMaildrop against a scripted fake POP3 server on 127.0.0.1: byte-
// exact downloads, DELE only of what the sink stored, QUIT last, every
// failure (login, truncation, stall, size) an error that deletes nothing.
//
// The fake server runs in a thread, serves one connection, answers from a
// Script and records every command line. Every wait is bounded. The last
// tests run against posthorn's own Pop3Server (STLS, implicit TLS, APOP).

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "net_test_util.h"
#include "pop3_test_util.h"
#include "posthorn/net/pop3_fetch.h"
#include "posthorn/net/pop3_server.h"

namespace posthorn::net {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using std::chrono::milliseconds;

// No single wait of the fake server lasts longer.
constexpr int kWaitMs = 10'000;

// RFC 1939 section 7's example.
constexpr std::string_view kRfcTimestamp = "<1896.697170952@dbc.mtview.ca.us>";
constexpr std::string_view kRfcSecret = "tanstaaf";
constexpr std::string_view kRfcDigest = "c4c9334bac560ecc979e58001b3e22fb";

struct FakeMessage {
  std::string uid;
  std::string content;  // CRLF text as stored, not dot-stuffed
  std::uint64_t listed_size = 0;  // 0: the true size
};

struct Script {
  std::string greeting =
      "+OK POP3 server ready " + std::string(kRfcTimestamp);
  std::vector<std::string> capa = {"TOP", "USER", "UIDL", "PIPELINING"};
  std::string user = "mrose";
  std::string password = "tanstaaf";
  std::string login_error;  // "-ERR ..." line for PASS / APOP when set
  bool uidl = true;
  std::vector<FakeMessage> messages;
  std::uint64_t truncate_retr = 0;  // half of it, then close
  std::string stall_on;             // this command line gets no answer
  std::uint64_t refuse_retr = 0;    // "-ERR" to RETR of this number
};

std::string Stuff(std::string_view content) {
  std::string out;
  std::size_t start = 0;
  while (start < content.size()) {
    std::size_t end = content.find("\r\n", start);
    end = end == std::string_view::npos ? content.size() : end + 2;
    if (content[start] == '.') out += '.';
    out.append(content.substr(start, end - start));
    start = end;
  }
  return out;
}

// One connection, scripted.
class FakePop3Server {
 public:
  explicit FakePop3Server(Script script) : script_(std::move(script)) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), length) !=
            0 ||
        ::listen(listen_fd_, 4) != 0 ||
        ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address),
                      &length) != 0) {
      ADD_FAILURE() << "cannot listen on 127.0.0.1";
    }
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~FakePop3Server() {
    Join();
    ::close(listen_fd_);
  }

  std::string server() const { return "127.0.0.1:" + std::to_string(port_); }
  std::vector<std::string> commands() const {
    std::lock_guard<std::mutex> lock(mu_);
    return commands_;
  }
  // The messages the UPDATE removed (QUIT after DELE); empty without QUIT.
  std::vector<std::uint64_t> removed() const {
    std::lock_guard<std::mutex> lock(mu_);
    return removed_;
  }
  bool quit_seen() const {
    std::lock_guard<std::mutex> lock(mu_);
    return quit_seen_;
  }
  // Waits (bounded) until the connection is over.
  void Join() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }

 private:
  // Waits up to kWaitMs for fd to be readable; false on timeout or stop.
  bool WaitReadable(int fd) {
    for (int waited = 0; waited < kWaitMs; waited += 50) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 50) > 0) return true;
      if (stop_ && fd == listen_fd_) return false;
    }
    return false;
  }

  void Send(int fd, std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return;
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
  }

  void Serve() {
    if (!WaitReadable(listen_fd_)) return;
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) return;
    Send(fd, script_.greeting + "\r\n");
    std::string input;
    char buffer[4096];
    bool open = true;
    while (open && WaitReadable(fd)) {
      const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
      if (n <= 0) break;
      input.append(buffer, static_cast<std::size_t>(n));
      std::size_t end;
      while (open && (end = input.find("\r\n")) != std::string::npos) {
        const std::string line = input.substr(0, end);
        input.erase(0, end + 2);
        {
          std::lock_guard<std::mutex> lock(mu_);
          commands_.push_back(line);
        }
        if (!script_.stall_on.empty() && line == script_.stall_on) {
          // Say nothing until the client gives up (bounded).
          WaitReadable(fd);
          open = false;
          break;
        }
        open = Answer(fd, line);
      }
    }
    ::close(fd);
  }

  const FakeMessage* Find(std::string_view argument, std::uint64_t* number) {
    *number = std::strtoull(std::string(argument).c_str(), nullptr, 10);
    if (*number == 0 || *number > script_.messages.size()) return nullptr;
    return &script_.messages[*number - 1];
  }

  std::uint64_t ListedSize(const FakeMessage& m) const {
    return m.listed_size != 0 ? m.listed_size : m.content.size();
  }

  // Answers one command; false to close the connection.
  bool Answer(int fd, const std::string& line) {
    const std::size_t space = line.find(' ');
    const std::string verb = line.substr(0, space);
    const std::string argument =
        space == std::string::npos ? "" : line.substr(space + 1);
    std::uint64_t number = 0;
    if (verb == "CAPA") {
      std::string out = "+OK Capability list follows\r\n";
      for (const std::string& c : script_.capa) out += c + "\r\n";
      Send(fd, out + ".\r\n");
    } else if (verb == "USER") {
      Send(fd, "+OK Password required\r\n");
    } else if (verb == "PASS" || verb == "APOP") {
      const bool good =
          verb == "PASS"
              ? argument == script_.password
              : argument == script_.user + " " + std::string(kRfcDigest);
      if (!script_.login_error.empty()) {
        Send(fd, script_.login_error + "\r\n");
      } else if (good) {
        Send(fd, "+OK maildrop ready\r\n");
      } else {
        Send(fd, "-ERR [AUTH] invalid password\r\n");
      }
    } else if (verb == "UIDL" && script_.uidl) {
      std::string out = "+OK\r\n";
      for (std::size_t i = 0; i < script_.messages.size(); ++i) {
        out += std::to_string(i + 1) + " " + script_.messages[i].uid + "\r\n";
      }
      Send(fd, out + ".\r\n");
    } else if (verb == "LIST") {
      std::string out = "+OK scan listing follows\r\n";
      for (std::size_t i = 0; i < script_.messages.size(); ++i) {
        out += std::to_string(i + 1) + " " +
               std::to_string(ListedSize(script_.messages[i])) + "\r\n";
      }
      Send(fd, out + ".\r\n");
    } else if (verb == "RETR") {
      const FakeMessage* m = Find(argument, &number);
      if (m == nullptr || number == script_.refuse_retr) {
        Send(fd, "-ERR no such message\r\n");
        return true;
      }
      const std::string body = Stuff(m->content);
      if (number == script_.truncate_retr) {
        Send(fd, "+OK\r\n" + body.substr(0, body.size() / 2));
        return false;  // closed before the "."
      }
      Send(fd, "+OK " + std::to_string(ListedSize(*m)) + " octets\r\n" +
                   body + ".\r\n");
    } else if (verb == "DELE") {
      if (Find(argument, &number) == nullptr) {
        Send(fd, "-ERR no such message\r\n");
      } else {
        deleted_.push_back(number);
        Send(fd, "+OK message deleted\r\n");
      }
    } else if (verb == "QUIT") {
      std::lock_guard<std::mutex> lock(mu_);
      quit_seen_ = true;
      removed_ = deleted_;
      Send(fd, "+OK bye\r\n");
      return false;
    } else {
      Send(fd, "-ERR unknown command\r\n");
    }
    return true;
  }

  Script script_;
  int listen_fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  mutable std::mutex mu_;
  std::vector<std::string> commands_;
  std::vector<std::uint64_t> deleted_;  // this thread only
  std::vector<std::uint64_t> removed_;
  bool quit_seen_ = false;
};

// Keeps what it is given; can be told to fail or to skip.
class RecordingSink : public FetchSink {
 public:
  struct Stored {
    MessageInfo info;
    std::string data;
  };

  Decision Consider(const MessageInfo& message) override {
    considered.push_back(message);
    return decide ? decide(message) : Decision::kFetch;
  }
  absl::Status Begin(const MessageInfo& message) override {
    EXPECT_FALSE(open_) << "Begin while a message is open";
    open_ = true;
    current_ = Stored{message, {}};
    return absl::OkStatus();
  }
  absl::Status Write(std::string_view chunk) override {
    EXPECT_TRUE(open_);
    if (current_.info.number == fail_write_of) {
      return absl::DataLossError("disk full");
    }
    ++writes;
    current_.data.append(chunk);
    return absl::OkStatus();
  }
  absl::Status End() override {
    EXPECT_TRUE(open_);
    open_ = false;
    stored.push_back(std::move(current_));
    return absl::OkStatus();
  }
  void Abort(const absl::Status& why) override {
    EXPECT_TRUE(open_);
    open_ = false;
    aborted.push_back(current_.info.number);
    abort_reasons.push_back(std::string(why.message()));
  }

  std::function<Decision(const MessageInfo&)> decide;
  std::uint64_t fail_write_of = 0;
  std::vector<MessageInfo> considered;
  std::vector<Stored> stored;
  std::vector<std::uint64_t> aborted;
  std::vector<std::string> abort_reasons;
  int writes = 0;

 private:
  bool open_ = false;
  Stored current_;
};

std::vector<FakeMessage> ThreeMessages() {
  return {
      {"uid-a", "From: a@example.org\r\nSubject: one\r\n\r\nfirst\r\n"},
      {"uid-b",
       "From: b@example.org\r\nSubject: two\r\n\r\n.leading dot\r\n..two "
       "dots\r\n.\r\nend\r\n"},
      {"uid-c", "Subject: three\r\n\r\n" + std::string(40'000, 'x') +
                    "\r\n.\r\nlast line\r\n"},
  };
}

FetchOptions Options(const FakePop3Server& server) {
  FetchOptions options;
  options.server = server.server();
  options.user = "mrose";
  options.password = "tanstaaf";
  options.allow_plaintext_auth = true;  // loopback test
  options.timeout = std::chrono::seconds(10);
  return options;
}

std::vector<std::string> Filter(const std::vector<std::string>& commands,
                                std::string_view prefix) {
  std::vector<std::string> out;
  for (const std::string& c : commands) {
    if (c.rfind(prefix, 0) == 0) out.push_back(c);
  }
  return out;
}

class FetchByCapa : public ::testing::TestWithParam<bool> {};

TEST_P(FetchByCapa, DownloadsEveryMessageByteExact) {
  Script script;
  script.messages = ThreeMessages();
  if (!GetParam()) script.capa = {"USER", "UIDL"};  // no PIPELINING
  FakePop3Server server(script);
  RecordingSink sink;
  auto result = FetchMaildrop(Options(server), sink);
  ASSERT_TRUE(result.ok()) << result.status();
  server.Join();

  ASSERT_EQ(sink.stored.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(sink.stored[i].data, script.messages[i].content) << i;
    EXPECT_EQ(sink.stored[i].info.number, i + 1);
    EXPECT_EQ(sink.stored[i].info.uid, script.messages[i].uid);
    EXPECT_EQ(sink.stored[i].info.size, script.messages[i].content.size());
  }
  EXPECT_THAT(sink.aborted, IsEmpty());
  EXPECT_EQ(result->messages, 3u);
  EXPECT_EQ(result->stored, 3u);
  EXPECT_EQ(result->failed, 0u);
  EXPECT_EQ(result->deleted, 0u);
  EXPECT_TRUE(result->uids_usable);
  EXPECT_FALSE(result->tls);
  std::uint64_t octets = 0;
  for (const auto& m : script.messages) octets += m.content.size();
  EXPECT_EQ(result->octets, octets);
  ASSERT_EQ(result->details.size(), 3u);
  EXPECT_EQ(result->details[1].state, FetchedMessage::State::kStored);

  const auto commands = server.commands();
  EXPECT_THAT(Filter(commands, "RETR"),
              ElementsAre("RETR 1", "RETR 2", "RETR 3"));
  EXPECT_THAT(Filter(commands, "DELE"), IsEmpty());
  EXPECT_EQ(commands.back(), "QUIT");
  EXPECT_THAT(commands, ::testing::Contains("USER mrose"));
  EXPECT_THAT(commands, ::testing::Contains("PASS tanstaaf"));
  EXPECT_TRUE(server.removed().empty());
}

INSTANTIATE_TEST_SUITE_P(Pipelining, FetchByCapa, ::testing::Bool());

TEST(FetchMaildrop, DeleteAfterDeletesWhatWasStoredThenQuits) {
  Script script;
  script.messages = ThreeMessages();
  FakePop3Server server(script);
  RecordingSink sink;
  FetchOptions options = Options(server);
  options.delete_after = true;
  auto result = FetchMaildrop(options, sink);
  ASSERT_TRUE(result.ok()) << result.status();
  server.Join();

  const auto commands = server.commands();
  EXPECT_THAT(Filter(commands, "DELE"),
              ElementsAre("DELE 1", "DELE 2", "DELE 3"));
  // Each DELE follows its own RETR; QUIT comes last.
  for (int n = 1; n <= 3; ++n) {
    const auto retr = std::find(commands.begin(), commands.end(),
                                "RETR " + std::to_string(n));
    const auto dele = std::find(commands.begin(), commands.end(),
                                "DELE " + std::to_string(n));
    EXPECT_LT(retr - commands.begin(), dele - commands.begin()) << n;
  }
  EXPECT_EQ(commands.back(), "QUIT");
  EXPECT_THAT(server.removed(), ElementsAre(1u, 2u, 3u));
  EXPECT_EQ(result->deleted, 3u);
  for (const auto& m : result->details) EXPECT_TRUE(m.deleted);
}

TEST(FetchMaildrop, SinkErrorKeepsThatMessageOnTheServer) {
  Script script;
  script.messages = ThreeMessages();
  FakePop3Server server(script);
  RecordingSink sink;
  sink.fail_write_of = 2;
  FetchOptions options = Options(server);
  options.delete_after = true;
  auto result = FetchMaildrop(options, sink);
  ASSERT_TRUE(result.ok()) << result.status();
  server.Join();

  EXPECT_THAT(sink.aborted, ElementsAre(2u));
  EXPECT_THAT(sink.abort_reasons, ElementsAre(HasSubstr("disk full")));
  ASSERT_EQ(sink.stored.size(), 2u);
  EXPECT_EQ(sink.stored[1].data, script.messages[2].content);
  EXPECT_THAT(Filter(server.commands(), "DELE"),
              ElementsAre("DELE 1", "DELE 3"));
  EXPECT_THAT(server.removed(), ElementsAre(1u, 3u));
  EXPECT_EQ(result->stored, 2u);
  EXPECT_EQ(result->failed, 1u);
  EXPECT_EQ(result->deleted, 2u);
  EXPECT_EQ(result->details[1].state, FetchedMessage::State::kFailed);
  EXPECT_FALSE(result->details[1].deleted);
  EXPECT_THAT(std::string(result->details[1].error.message()),
              HasSubstr("disk full"));
}

TEST(FetchMaildrop, RefusedRetrIsAPerMessageFailure) {
  Script script;
  script.messages = ThreeMessages();
  script.refuse_retr = 1;
  FakePop3Server server(script);
  RecordingSink sink;
  FetchOptions options = Options(server);
  options.delete_after = true;
  auto result = FetchMaildrop(options, sink);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->details[0].state, FetchedMessage::State::kFailed);
  EXPECT_THAT(std::string(result->details[0].error.message()),
              HasSubstr("RETR 1 refused: -ERR no such message"));
  EXPECT_THAT(sink.aborted, IsEmpty());  // never begun
  EXPECT_THAT(server.removed(), ElementsAre(2u, 3u));
}

TEST(FetchMaildrop, LoginErrorQuotesTheServer) {
  Script script;
  script.messages = ThreeMessages();
  script.login_error = "-ERR [IN-USE] maildrop already locked";
  FakePop3Server server(script);
  RecordingSink sink;
  auto result = FetchMaildrop(Options(server), sink);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(std::string(result.status().message()),
              HasSubstr("-ERR [IN-USE] maildrop already locked"));
  EXPECT_THAT(std::string(result.status().message()),
              HasSubstr(server.server()));
  server.Join();
  EXPECT_THAT(Filter(server.commands(), "RETR"), IsEmpty());
}

TEST(FetchMaildrop, WrongPasswordIsUnauthenticated) {
  Script script;
  FakePop3Server server(script);
  RecordingSink sink;
  FetchOptions options = Options(server);
  options.password = "wrong";
  auto result = FetchMaildrop(options, sink);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(std::string(result.status().message()),
              HasSubstr("-ERR [AUTH] invalid password"));
}

TEST(FetchMaildrop, ApopDigestIsRfc1939Example) {
  EXPECT_EQ(ApopDigestHex(kRfcTimestamp, kRfcSecret), kRfcDigest);
  EXPECT_EQ(ApopDigestHex("", ""), "d41d8cd98f00b204e9800998ecf8427e");
}

TEST(FetchMaildrop, ApopLoginSendsTheDigestAndNoPassword) {
  Script script;
  script.messages = ThreeMessages();
  FakePop3Server server(script);
  RecordingSink sink;
  FetchOptions options = Options(server);
  options.apop = true;
  options.allow_plaintext_auth = false;  // APOP needs no TLS
  auto result = FetchMaildrop(options, sink);
  ASSERT_TRUE(result.ok()) << result.status();
  server.Join();
  const auto commands = server.commands();
  EXPECT_THAT(Filter(commands, "APOP"),
              ElementsAre("APOP mrose " + std::string(kRfcDigest)));
  EXPECT_THAT(Filter(commands, "PASS"), IsEmpty());
  EXPECT_THAT(Filter(commands, "USER"), IsEmpty());
  EXPECT_EQ(result->stored, 3u);
}

TEST(FetchMaildrop, ApopWithoutTimestampIsRefusedLocally) {
  Script script;
  script.greeting = "+OK no timestamp here";
  FakePop3Server server(script);
  RecordingSink sink;
  FetchOptions options = Options(server);
  options.apop = true;
  auto result = FetchMaildrop(options, sink);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kFailedPrecondition);
  server.Join();
  EXPECT_THAT(Filter(server.commands(), "USER"), IsEmpty());
}

TEST(FetchMaildrop, PlaintextPasswordNeedsPermission) {
  Script script;
  FakePop3Server server(script);
  RecordingSink sink;
  FetchOptions options = Options(server);
  options.allow_plaintext_auth = false;
  auto result = FetchMaildrop(options, sink);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kFailedPrecondition);
  server.Join();
  EXPECT_THAT(Filter(server.commands(), "PASS"), IsEmpty());
}

TEST(FetchMaildrop, StlsRequiredButNotOfferedNeverLogsIn) {
  Script script;  // CAPA without STLS
  FakePop3Server server(script);
  RecordingSink sink;
  FetchOptions options = Options(server);
  options.security = FetchOptions::Security::kStls;
  options.verify_peer = false;
  auto result = FetchMaildrop(options, sink);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(result.status().message()), HasSubstr("STLS"));
  server.Join();
  EXPECT_THAT(Filter(server.commands(), "USER"), IsEmpty());
  EXPECT_THAT(Filter(server.commands(), "PASS"), IsEmpty());
}

TEST(FetchMaildrop, TruncatedResponseIsAnErrorAndDeletesNothing) {
  Script script;
  script.messages = ThreeMessages();
  script.truncate_retr = 2;
  FakePop3Server server(script);
  RecordingSink sink;
  FetchOptions options = Options(server);
  options.delete_after = true;
  auto result = FetchMaildrop(options, sink);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(result.status().message()),
              HasSubstr("during RETR 2"));
  server.Join();
  EXPECT_FALSE(server.quit_seen());
  EXPECT_TRUE(server.removed().empty());
  // Message 1 was complete and is kept by the sink; 2 was cut short.
  ASSERT_EQ(sink.stored.size(), 1u);
  EXPECT_EQ(sink.stored[0].info.number, 1u);
  EXPECT_THAT(sink.aborted, ElementsAre(2u));
}

TEST(FetchMaildrop, StalledServerTimesOut) {
  Script script;
  script.messages = ThreeMessages();
  script.stall_on = "RETR 2";
  script.capa = {"USER", "UIDL"};  // one command at a time
  FakePop3Server server(script);
  RecordingSink sink;
  FetchOptions options = Options(server);
  options.delete_after = true;
  options.timeout = std::chrono::seconds(1);
  const auto start = std::chrono::steady_clock::now();
  auto result = FetchMaildrop(options, sink);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(std::string(result.status().message()),
              HasSubstr("no response within 1 s"));
  EXPECT_LT(elapsed, std::chrono::seconds(5));
  server.Join();
  EXPECT_FALSE(server.quit_seen());
  EXPECT_EQ(sink.stored.size(), 1u);
}

TEST(FetchMaildrop, MessageOverMaxSizeStaysOnTheServer) {
  Script script;
  script.messages = ThreeMessages();  // message 3 is over 40,000 octets
  FakePop3Server server(script);
  RecordingSink sink;
  FetchOptions options = Options(server);
  options.delete_after = true;
  options.max_message_size = 10'000;
  auto result = FetchMaildrop(options, sink);
  ASSERT_TRUE(result.ok()) << result.status();
  server.Join();
  EXPECT_EQ(result->details[2].state, FetchedMessage::State::kTooLarge);
  EXPECT_FALSE(result->details[2].deleted);
  EXPECT_EQ(result->stored, 2u);
  EXPECT_EQ(result->skipped, 1u);
  EXPECT_THAT(Filter(server.commands(), "RETR"),
              ElementsAre("RETR 1", "RETR 2"));
  EXPECT_THAT(server.removed(), ElementsAre(1u, 2u));
  // The sink was not even asked about it.
  EXPECT_EQ(sink.considered.size(), 2u);
}

TEST(FetchMaildrop, MessageLargerThanListedIsCutOff) {
  Script script;
  script.messages = ThreeMessages();
  script.messages[2].listed_size = 100;  // a lie
  FakePop3Server server(script);
  RecordingSink sink;
  FetchOptions options = Options(server);
  options.delete_after = true;
  options.max_message_size = 10'000;
  auto result = FetchMaildrop(options, sink);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kResourceExhausted);
  server.Join();
  EXPECT_FALSE(server.quit_seen());
  EXPECT_THAT(sink.aborted, ElementsAre(3u));
  EXPECT_EQ(sink.stored.size(), 2u);
}

TEST(FetchMaildrop, AlreadyStoredIsDeletedWithoutDownload) {
  Script script;
  script.messages = ThreeMessages();
  FakePop3Server server(script);
  RecordingSink sink;
  sink.decide = [](const MessageInfo& m) {
    return m.uid == "uid-b"   ? FetchSink::Decision::kAlreadyStored
           : m.uid == "uid-c" ? FetchSink::Decision::kSkip
                              : FetchSink::Decision::kFetch;
  };
  FetchOptions options = Options(server);
  options.delete_after = true;
  auto result = FetchMaildrop(options, sink);
  ASSERT_TRUE(result.ok()) << result.status();
  server.Join();
  EXPECT_THAT(Filter(server.commands(), "RETR"), ElementsAre("RETR 1"));
  EXPECT_THAT(server.removed(), ::testing::UnorderedElementsAre(1u, 2u));
  EXPECT_EQ(result->details[1].state, FetchedMessage::State::kAlreadyStored);
  EXPECT_EQ(result->details[2].state, FetchedMessage::State::kSkipped);
  EXPECT_EQ(result->skipped, 2u);
}

TEST(FetchMaildrop, ManyDeletesGoOutInAWindowAndAllCommit) {
  Script script;
  for (int i = 1; i <= 300; ++i) {
    script.messages.push_back(
        {"u" + std::to_string(i), "Subject: " + std::to_string(i) + "\r\n"});
  }
  FakePop3Server server(script);
  RecordingSink sink;
  sink.decide = [](const MessageInfo& m) {
    return m.number % 2 == 0 ? FetchSink::Decision::kAlreadyStored
                             : FetchSink::Decision::kFetch;
  };
  FetchOptions options = Options(server);
  options.delete_after = true;
  auto result = FetchMaildrop(options, sink);
  ASSERT_TRUE(result.ok()) << result.status();
  server.Join();
  EXPECT_EQ(sink.stored.size(), 150u);
  EXPECT_EQ(result->deleted, 300u);
  EXPECT_EQ(server.removed().size(), 300u);
  EXPECT_EQ(server.commands().back(), "QUIT");
}

TEST(FetchMaildrop, DuplicateUidsAreNotTrusted) {
  Script script;
  script.messages = ThreeMessages();
  script.messages[2].uid = "uid-a";
  FakePop3Server server(script);
  RecordingSink sink;
  // A sink that would wrongly claim to have "uid-a" twice.
  sink.decide = [](const MessageInfo& m) {
    return m.uid == "uid-a" ? FetchSink::Decision::kAlreadyStored
                            : FetchSink::Decision::kFetch;
  };
  FetchOptions options = Options(server);
  options.delete_after = true;
  auto result = FetchMaildrop(options, sink);
  ASSERT_TRUE(result.ok()) << result.status();
  server.Join();
  EXPECT_FALSE(result->uids_usable);
  for (const auto& m : sink.considered) EXPECT_THAT(m.uid, IsEmpty());
  EXPECT_EQ(result->stored, 3u);
  EXPECT_THAT(server.removed(), ElementsAre(1u, 2u, 3u));
}

TEST(FetchMaildrop, ServerWithoutUidlStillDownloads) {
  Script script;
  script.messages = ThreeMessages();
  script.uidl = false;
  script.capa = {"USER"};
  FakePop3Server server(script);
  RecordingSink sink;
  auto result = FetchMaildrop(Options(server), sink);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_FALSE(result->uids_usable);
  EXPECT_EQ(result->stored, 3u);
  EXPECT_EQ(sink.stored[1].data, script.messages[1].content);
}

TEST(FetchMaildrop, EmptyMaildropJustQuits) {
  Script script;
  FakePop3Server server(script);
  RecordingSink sink;
  auto result = FetchMaildrop(Options(server), sink);
  ASSERT_TRUE(result.ok()) << result.status();
  server.Join();
  EXPECT_EQ(result->messages, 0u);
  EXPECT_TRUE(server.quit_seen());
}

TEST(FetchMaildrop, BadOptionsAreInvalidArgument) {
  RecordingSink sink;
  FetchOptions options;
  options.user = "u";
  for (const char* server : {"", "host", "127.0.0.1:0", "::1:110",
                             "127.0.0.1:99999"}) {
    options.server = server;
    EXPECT_EQ(FetchMaildrop(options, sink).status().code(),
              absl::StatusCode::kInvalidArgument)
        << server;
  }
  options.server = "127.0.0.1:110";
  options.user.clear();
  EXPECT_EQ(FetchMaildrop(options, sink).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(FetchMaildrop, RefusedConnectionIsUnavailable) {
  // A port that was free a moment ago: bind, note, close.
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), length), 0);
  ASSERT_EQ(
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length), 0);
  ::close(fd);
  RecordingSink sink;
  FetchOptions options;
  options.user = "u";
  options.server = "127.0.0.1:" + std::to_string(ntohs(address.sin_port));
  options.timeout = std::chrono::seconds(5);
  auto result = FetchMaildrop(options, sink);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(result.status().message()), HasSubstr("connect"));
}

// ---------------------------------------------------------------------------
// Against posthorn's own Pop3Server, with TLS (a certificate made now).

class FetchFromPop3Server : public ::testing::Test {
 protected:
  void SetUp() override {
    auto files = testing::MakeTestCertificate(dir_.path());
    ASSERT_TRUE(files.ok()) << files.status();
    cert_file_ = files->cert_file;
    handler_.messages = {
        "Subject: one\r\n\r\n.starts with a dot\r\n.\r\n",
        "Subject: two\r\n\r\n" + std::string(200'000, 'y') + "\r\n",
        "Subject: three\r\n\r\nend\r\n",
    };
    Pop3ServerOptions options;
    options.listen = {"127.0.0.1:0"};
    options.listen_tls = {"[::1]:0"};
    options.tls = *files;
    options.failed_login_delay = std::chrono::milliseconds(0);
    auto server = testing::Pop3ServerThread::Start(options, &handler_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
  }

  FetchOptions Base(std::size_t listener) {
    FetchOptions options;
    options.server = server_->server().local_endpoints().at(listener);
    options.user = "alice";
    options.password = "secret";
    options.ca_file = cert_file_;  // self-signed: its own CA
    options.timeout = std::chrono::seconds(10);
    return options;
  }

  testing::TempDir dir_;
  std::string cert_file_;
  testing::FakePop3Handler handler_;
  std::unique_ptr<testing::Pop3ServerThread> server_;
};

TEST_F(FetchFromPop3Server, StlsDownloadsAndDeletesEverything) {
  FetchOptions options = Base(0);
  options.security = FetchOptions::Security::kStls;
  options.delete_after = true;
  RecordingSink sink;
  auto result = FetchMaildrop(options, sink);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_TRUE(result->tls);
  ASSERT_EQ(sink.stored.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(sink.stored[i].data, handler_.messages[i]) << i;
    EXPECT_EQ(sink.stored[i].info.uid, "uid-" + std::to_string(i + 1));
  }
  EXPECT_EQ(result->deleted, 3u);
  ASSERT_TRUE(handler_.WaitForSummaries(1));
  EXPECT_THAT(handler_.updates(),
              ElementsAre(ElementsAre(0u, 1u, 2u)));
  ASSERT_EQ(handler_.logins().size(), 1u);
  EXPECT_TRUE(handler_.logins()[0].tls);
}

TEST_F(FetchFromPop3Server, ImplicitTlsWithApopKeepsTheMail) {
  FetchOptions options = Base(1);
  options.security = FetchOptions::Security::kImplicitTls;
  options.apop = true;
  RecordingSink sink;
  auto result = FetchMaildrop(options, sink);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_TRUE(result->tls);
  EXPECT_EQ(result->stored, 3u);
  EXPECT_EQ(result->deleted, 0u);
  ASSERT_EQ(handler_.logins().size(), 1u);
  EXPECT_EQ(handler_.logins()[0].mechanism, pop3::LoginMechanism::kApop);
  ASSERT_TRUE(handler_.WaitForSummaries(1));
  for (const auto& update : handler_.updates()) EXPECT_THAT(update, IsEmpty());
}

TEST_F(FetchFromPop3Server, UntrustedCertificateIsRefused) {
  FetchOptions options = Base(0);
  options.security = FetchOptions::Security::kStls;
  options.ca_file.clear();  // the system store does not know the test CA
  RecordingSink sink;
  auto result = FetchMaildrop(options, sink);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(result.status().message()), HasSubstr("TLS"));
  EXPECT_TRUE(handler_.logins().empty());
}

TEST_F(FetchFromPop3Server, WrongPasswordQuotesTheServer) {
  FetchOptions options = Base(0);
  options.security = FetchOptions::Security::kStls;
  options.password = "wrong";
  RecordingSink sink;
  auto result = FetchMaildrop(options, sink);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(std::string(result.status().message()), HasSubstr("-ERR"));
}

}  // namespace
}  // namespace posthorn::net
