// The in-memory transport: SmtpServer::ConnectInMemory() runs the same
// connection coroutine over in-process pipes, no sockets.

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "net_test_util.h"
#include "posthorn/net/memory_stream.h"
#include "posthorn/net/smtp_server.h"

namespace posthorn::net::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

class MemoryStreamTest : public ::testing::Test {
 protected:
  void StartServer(SmtpServerOptions options = {}) {
    options.listen.clear();  // pipes only
    auto server = ServerThread::Start(std::move(options), &handler_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
  }
  std::unique_ptr<MemoryStream> Connect() {
    auto client = server_->server().ConnectInMemory(Peer{"192.0.2.7", 4242});
    EXPECT_TRUE(client.ok()) << client.status();
    return client.ok() ? std::move(*client) : nullptr;
  }

  RecordingHandler handler_;
  std::unique_ptr<ServerThread> server_;
};

constexpr char kSession[] =
    "EHLO client.example\r\n"
    "MAIL FROM:<a@example.org>\r\n"
    "RCPT TO:<b@example.net>\r\n"
    "DATA\r\n"
    "Subject: memory\r\n\r\n..dot\r\nbody\r\n.\r\n"
    "QUIT\r\n";

TEST_F(MemoryStreamTest, RunsAWholeSession) {
  StartServer();
  auto client = Connect();
  ASSERT_NE(client, nullptr);
  auto greeting = client->ReadUntil("\r\n", kWait);
  ASSERT_TRUE(greeting.ok()) << greeting.status();
  EXPECT_THAT(*greeting, StartsWith("220 "));
  ASSERT_TRUE(client->Write("EHLO client.example\r\n").ok());
  auto ehlo = client->ReadUntil("250 ", kWait);
  ASSERT_TRUE(ehlo.ok()) << ehlo.status();
  ASSERT_TRUE(client->ReadUntil("\r\n", kWait).ok());
  ASSERT_TRUE(client
                  ->Write("MAIL FROM:<a@example.org>\r\n"
                          "RCPT TO:<b@example.net>\r\nDATA\r\n")
                  .ok());
  auto go = client->ReadUntil("354 ", kWait);
  ASSERT_TRUE(go.ok()) << go.status();
  ASSERT_TRUE(client->ReadUntil("\r\n", kWait).ok());
  ASSERT_TRUE(
      client->Write("Subject: memory\r\n\r\n..dot\r\n.\r\nQUIT\r\n").ok());
  auto rest = client->ReadToEnd(kWait);
  ASSERT_TRUE(rest.ok()) << rest.status();
  EXPECT_THAT(*rest, StartsWith("250 2.0.0 Ok: queued as T1\r\n221"));

  const auto messages = handler_.messages();
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].data, "Subject: memory\r\n\r\n.dot\r\n");
  EXPECT_EQ(messages[0].peer, "192.0.2.7");
  EXPECT_EQ(server_->server().connections_accepted(), 1u);
}

// The same client bytes, written in two pieces split at every offset, give
// the same replies and the same stored message.
TEST_F(MemoryStreamTest, EverySplitGivesTheSameTranscript) {
  StartServer();
  const std::string input = kSession;
  std::string reference;
  for (std::size_t split = 0; split <= input.size(); ++split) {
    auto client = Connect();
    ASSERT_NE(client, nullptr);
    ASSERT_TRUE(client->ReadUntil("\r\n", kWait).ok());  // greeting
    // EHLO must come alone (RFC 2920: it ends a group), so the first
    // write stops at its end at the latest.
    const std::size_t ehlo_end = input.find("\r\n") + 2;
    const std::size_t cut = std::min(split, ehlo_end);
    ASSERT_TRUE(client->Write(input.substr(0, cut)).ok());
    if (cut < ehlo_end) {
      ASSERT_TRUE(client->Write(input.substr(cut, ehlo_end - cut)).ok());
    }
    std::string output;
    auto ehlo = client->ReadUntil("250 ", kWait);
    ASSERT_TRUE(ehlo.ok()) << ehlo.status();
    auto ehlo_tail = client->ReadUntil("\r\n", kWait);
    ASSERT_TRUE(ehlo_tail.ok());
    output = *ehlo + *ehlo_tail;
    // The transaction group (ends with DATA), then the data and QUIT.
    const std::size_t data_end = input.find("DATA\r\n") + 6;
    const std::size_t inner = std::max(split, ehlo_end);
    if (inner < data_end) {
      ASSERT_TRUE(client->Write(input.substr(ehlo_end, inner - ehlo_end)).ok());
      ASSERT_TRUE(client->Write(input.substr(inner, data_end - inner)).ok());
    } else {
      ASSERT_TRUE(client->Write(input.substr(ehlo_end, data_end - ehlo_end))
                      .ok());
    }
    auto go = client->ReadUntil("354 ", kWait);
    ASSERT_TRUE(go.ok()) << go.status();
    output += *go;
    const std::size_t tail = std::max(split, data_end);
    ASSERT_TRUE(client->Write(input.substr(data_end, tail - data_end)).ok());
    ASSERT_TRUE(client->Write(input.substr(tail)).ok());
    auto rest = client->ReadToEnd(kWait);
    ASSERT_TRUE(rest.ok()) << rest.status();
    output += *rest;
    // The queue id counts messages; take it out before comparing.
    const std::size_t id = output.find("queued as T");
    ASSERT_NE(id, std::string::npos) << output;
    output.erase(id + 11, output.find("\r\n", id) - id - 11);
    if (split == 0) {
      reference = output;
    } else {
      ASSERT_EQ(output, reference) << "split at " << split;
    }
  }
  const auto messages = handler_.messages();
  ASSERT_EQ(messages.size(), input.size() + 1);
  for (const StoredMessage& message : messages) {
    ASSERT_EQ(message.data, "Subject: memory\r\n\r\n.dot\r\nbody\r\n");
  }
}

TEST_F(MemoryStreamTest, ServerSeesEofAndAbortsTheMessage) {
  StartServer();
  auto client = Connect();
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->ReadUntil("\r\n", kWait).ok());
  ASSERT_TRUE(client->Write("HELO c\r\n").ok());
  ASSERT_TRUE(client->ReadUntil("\r\n", kWait).ok());
  ASSERT_TRUE(client->Write("MAIL FROM:<a@x.org>\r\n").ok());
  ASSERT_TRUE(client->ReadUntil("\r\n", kWait).ok());
  ASSERT_TRUE(client->Write("RCPT TO:<b@y.org>\r\n").ok());
  ASSERT_TRUE(client->ReadUntil("\r\n", kWait).ok());
  ASSERT_TRUE(client->Write("DATA\r\n").ok());
  ASSERT_TRUE(client->ReadUntil("\r\n", kWait).ok());
  ASSERT_TRUE(client->Write("Subject: cut\r\n").ok());
  client->CloseWrite();
  auto rest = client->ReadToEnd(kWait);
  ASSERT_TRUE(rest.ok()) << rest.status();
  EXPECT_EQ(*rest, "");  // nobody left to answer
  EXPECT_TRUE(handler_.messages().empty());
  EXPECT_EQ(handler_.aborted(), 1);
}

TEST_F(MemoryStreamTest, LimitsAndShutdownApplyToo) {
  SmtpServerOptions options;
  options.max_connections = 1;
  StartServer(options);
  auto first = Connect();
  ASSERT_NE(first, nullptr);
  ASSERT_TRUE(first->ReadUntil("\r\n", kWait).ok());
  auto second = Connect();
  ASSERT_NE(second, nullptr);
  auto refused = second->ReadToEnd(kWait);
  ASSERT_TRUE(refused.ok()) << refused.status();
  EXPECT_EQ(*refused, "421 4.3.2 Too many connections\r\n");

  std::thread stopper([this] { EXPECT_TRUE(server_->StopAndJoin().ok()); });
  auto bye = first->ReadToEnd(kWait);
  stopper.join();
  ASSERT_TRUE(bye.ok()) << bye.status();
  EXPECT_THAT(*bye, StartsWith("421 4.3.2"));
  EXPECT_EQ(server_->server().ConnectInMemory().status().code(),
            absl::StatusCode::kUnavailable);
}

TEST_F(MemoryStreamTest, IdleTimeoutOverThePipe) {
  SmtpServerOptions options;
  options.idle_timeout = std::chrono::seconds(1);
  StartServer(options);
  auto client = Connect();
  ASSERT_NE(client, nullptr);
  auto all = client->ReadToEnd(kWait);
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_THAT(*all, StartsWith("220 "));
  EXPECT_THAT(*all, HasSubstr("\r\n421 4.4.2"));
}

TEST_F(MemoryStreamTest, ReadTimesOutWhenTheServerIsQuiet) {
  StartServer();
  auto client = Connect();
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->ReadUntil("\r\n", kWait).ok());
  EXPECT_EQ(client->Read(std::chrono::milliseconds(50)).status().code(),
            absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(client->ReadUntil("x", std::chrono::milliseconds(50))
                .status()
                .code(),
            absl::StatusCode::kDeadlineExceeded);
}

TEST_F(MemoryStreamTest, BigDataThroughTheBoundedPipe) {
  StartServer();
  auto client = Connect();
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->ReadUntil("\r\n", kWait).ok());
  ASSERT_TRUE(client->Write("HELO c\r\n").ok());
  ASSERT_TRUE(client->ReadUntil("\r\n", kWait).ok());
  ASSERT_TRUE(
      client->Write("MAIL FROM:<a@x.org>\r\nRCPT TO:<b@y.org>\r\nDATA\r\n")
          .ok());
  // HELO: not ESMTP, but the server still answers a pipelined group.
  ASSERT_TRUE(client->ReadUntil("354 ", kWait).ok());
  ASSERT_TRUE(client->ReadUntil("\r\n", kWait).ok());
  std::string body;
  while (body.size() < 3 * kMemoryPipeCapacity) {
    body += "0123456789012345678901234567890123456789012345678901234567\r\n";
  }
  ASSERT_TRUE(client->Write(body, std::chrono::seconds(30)).ok());
  ASSERT_TRUE(client->Write(".\r\n").ok());
  auto stored = client->ReadUntil("\r\n", kWait);
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_THAT(*stored, StartsWith("250 "));
  ASSERT_EQ(handler_.messages().size(), 1u);
  EXPECT_EQ(handler_.messages()[0].data, body);
}

}  // namespace
}  // namespace posthorn::net::testing
