// mta::MtaHandler through a real net::SmtpServer (in-memory connections):
// RCPT policy (local users, relaying), AUTH against a real AuthDb, ETRN,
// EXPN, and DATA into a real file queue with its Received: field and the
// hop limit.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <array>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "net_test_util.h"
#include "posthorn/message/base64.h"
#include "posthorn/message/received.h"
#include "posthorn/mta/routing.h"
#include "posthorn/mta/smtpd.h"
#include "posthorn/net/memory_stream.h"
#include "posthorn/net/smtp_server.h"
#include "posthorn/store/auth_db.h"
#include "posthorn/store/queue.h"

namespace posthorn::mta {
namespace {

using net::testing::kWait;
using net::testing::ServerThread;
using net::testing::TempDir;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

constexpr int kMaxReplyLinesRead = 200;  // bounds ReadReply's loop

// One complete reply ("250-a\r\n250 b\r\n"); "" when the stream failed.
std::string ReadReply(net::MemoryStream& client) {
  std::string reply;
  for (int i = 0; i < kMaxReplyLinesRead; ++i) {
    auto line = client.ReadUntil("\r\n", kWait);
    if (!line.ok()) return reply;
    reply += *line;
    if (line->size() >= 4 && (*line)[3] == ' ') return reply;
  }
  return reply;
}

std::string Command(net::MemoryStream& client, std::string_view line) {
  if (!client.Write(std::string(line) + "\r\n").ok()) return "";
  return ReadReply(client);
}

class MtaHandlerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto queue = store::MakeFileQueue({.dir = dir_.path() + "/queue",
                                       .fsync = false});
    ASSERT_TRUE(queue.ok()) << queue.status();
    queue_ = std::move(*queue);
    auth_path_ = dir_.path() + "/auth.db";
    ASSERT_TRUE(store::CreateAuthDb(auth_path_, false).ok());
    auto auth = store::OpenAuthDb(auth_path_, true);
    ASSERT_TRUE(auth.ok()) << auth.status();
    auth_ = std::move(*auth);
    ASSERT_TRUE(auth_->SetPasswordOnly("carol", "s3cret!").ok());
    auto trusted = NetworkList::Parse({"127.0.0.1/32"});
    ASSERT_TRUE(trusted.ok()) << trusted.status();
    trusted_ = *trusted;
  }

  MtaHandlerOptions Options() {
    MtaHandlerOptions options;
    options.hostname = "mx.example.org";
    options.router = &router_;
    options.trusted_networks = trusted_;
    options.queue = queue_.get();
    options.auth_db = auth_.get();
    options.recipient_exists =
        [](std::string_view user) -> absl::StatusOr<bool> {
      if (user == "broken") return absl::UnavailableError("ldap is down");
      return user == "alice" || user == "bob" || user == "john doe";
    };
    options.on_queued = [this](const std::string& id) {
      std::lock_guard<std::mutex> lock(mu_);
      queued_.push_back(id);
      // Commit() returned before this call: the message is in the queue.
      auto listed = queue_->List();
      bool found = false;
      if (listed.ok()) {
        for (const auto& e : *listed) found = found || e.id == id;
      }
      queued_visible_.push_back(found);
    };
    options.on_etrn = [this](const std::string& domain) {
      std::lock_guard<std::mutex> lock(mu_);
      etrn_.push_back(domain);
    };
    options.log = [this](LogLevel, std::string_view line) {
      std::lock_guard<std::mutex> lock(mu_);
      log_.emplace_back(line);
    };
    return options;
  }

  void Start(MtaHandlerOptions options, bool auth = false) {
    auto handler = MtaHandler::Create(std::move(options));
    ASSERT_TRUE(handler.ok()) << handler.status();
    handler_ = std::move(*handler);
    net::SmtpServerOptions server;
    server.session.hostname = "mx.example.org";
    server.session.auth_enabled = auth;
    server.session.allow_plaintext_auth = auth;
    auto thread = ServerThread::Start(std::move(server), handler_.get());
    ASSERT_TRUE(thread.ok()) << thread.status();
    server_ = std::move(*thread);
  }

  // Connected and past EHLO.
  std::unique_ptr<net::MemoryStream> Connect(std::string address,
                                             std::string_view helo =
                                                 "client.example") {
    auto client = server_->server().ConnectInMemory(
        net::Peer{std::move(address), 40000});
    EXPECT_TRUE(client.ok()) << client.status();
    if (!client.ok()) return nullptr;
    EXPECT_THAT(ReadReply(**client), StartsWith("220 "));
    EXPECT_THAT(Command(**client, "EHLO " + std::string(helo)),
                HasSubstr("250 "));
    return std::move(*client);
  }

  std::vector<std::string> Log() {
    std::lock_guard<std::mutex> lock(mu_);
    return log_;
  }
  bool Logged(std::string_view needle) {
    for (const std::string& line : Log()) {
      if (line.find(needle) != std::string::npos) return true;
    }
    return false;
  }

  std::vector<store::QueueEnvelope> Queued() {
    auto listed = queue_->List();
    EXPECT_TRUE(listed.ok()) << listed.status();
    return listed.ok() ? *listed : std::vector<store::QueueEnvelope>{};
  }

  std::string Data(const std::string& id) {
    auto lease = queue_->Lease(id);
    EXPECT_TRUE(lease.ok()) << lease.status();
    if (!lease.ok()) return "";
    auto reader = (*lease)->OpenData();
    EXPECT_TRUE(reader.ok()) << reader.status();
    if (!reader.ok()) return "";
    std::string out;
    std::array<char, 4096> buffer;
    for (int i = 0; i < 10'000; ++i) {  // bounded: 40 MB at most
      auto n = (*reader)->Read(std::span<char>(buffer));
      EXPECT_TRUE(n.ok()) << n.status();
      if (!n.ok() || *n == 0) break;
      out.append(buffer.data(), *n);
    }
    return out;
  }

  TempDir dir_;
  std::string auth_path_;
  std::unique_ptr<store::Queue> queue_;
  std::unique_ptr<store::AuthDb> auth_;
  Router router_{RouterOptions{.local_domains = {"example.org"},
                               .transport = {},
                               .relay_host = std::nullopt}};
  NetworkList trusted_;
  std::unique_ptr<MtaHandler> handler_;
  std::unique_ptr<ServerThread> server_;

  std::mutex mu_;
  std::vector<std::string> log_;
  std::vector<std::string> queued_;
  std::vector<bool> queued_visible_;
  std::vector<std::string> etrn_;
};

constexpr char kBody[] =
    "From: Sender <sender@example.net>\r\n"
    "To: alice@example.org\r\n"
    "Subject: hello\r\n"
    "\r\n"
    "..a line starting with a dot\r\n"
    "last line\r\n";
// kBody as the client sends it (dot-stuffed already), with the end mark.
constexpr char kBodyStuffed[] =
    "From: Sender <sender@example.net>\r\n"
    "To: alice@example.org\r\n"
    "Subject: hello\r\n"
    "\r\n"
    "...a line starting with a dot\r\n"
    "last line\r\n"
    ".\r\n";

TEST_F(MtaHandlerTest, QueuesTheMessageWithAReceivedField) {
  Start(Options());
  auto client = Connect("127.0.0.1");
  ASSERT_NE(client, nullptr);
  EXPECT_THAT(Command(*client,
                      "MAIL FROM:<sender@example.net> RET=HDRS ENVID=env42"),
              StartsWith("250 "));
  EXPECT_THAT(Command(*client,
                      "RCPT TO:<Alice@Example.ORG> NOTIFY=SUCCESS,DELAY "
                      "ORCPT=rfc822;alice@example.org"),
              StartsWith("250 "));
  EXPECT_THAT(Command(*client, "DATA"), StartsWith("354 "));
  ASSERT_TRUE(client->Write(kBodyStuffed).ok());
  const std::string reply = ReadReply(*client);
  ASSERT_THAT(reply, StartsWith("250 2.0.0 Ok: queued as "));
  const std::string id = reply.substr(24, reply.size() - 26);

  // The queue holds it by the time the 250 arrives.
  const auto queued = Queued();
  ASSERT_EQ(queued.size(), 1u);
  const store::QueueEnvelope& e = queued[0];
  EXPECT_EQ(e.id, id);
  EXPECT_EQ(e.sender, "sender@example.net");
  EXPECT_EQ(e.envid, "env42");
  EXPECT_TRUE(e.ret_headers_only);
  EXPECT_EQ(e.received_from, "client.example (localhost [127.0.0.1])");
  EXPECT_LT(absl::Now() - e.arrival, absl::Minutes(5));
  ASSERT_EQ(e.recipients.size(), 1u);
  EXPECT_EQ(e.recipients[0].address, "Alice@Example.ORG");
  EXPECT_EQ(e.recipients[0].orcpt, "rfc822;alice@example.org");
  EXPECT_TRUE(e.recipients[0].notify_success);
  EXPECT_FALSE(e.recipients[0].notify_failure);
  EXPECT_TRUE(e.recipients[0].notify_delay);

  const std::string data = Data(id);
  const std::string expected_start =
      "Received: from client.example (localhost [127.0.0.1])\r\n"
      "\tby mx.example.org with ESMTP id " + id + "\r\n"
      "\tfor <Alice@Example.ORG>; ";
  ASSERT_THAT(data, StartsWith(expected_start));
  const std::size_t end = data.find("\r\n", expected_start.size());
  ASSERT_NE(end, std::string::npos);
  EXPECT_EQ(data.substr(end + 2), kBody);  // the message itself unchanged
  EXPECT_EQ(e.size, data.size());

  const std::string value =
      data.substr(std::string_view("Received:").size(),
                  end - std::string_view("Received:").size());
  message::Defects defects;
  const message::ReceivedField field = message::ParseReceived(value, &defects);
  EXPECT_THAT(field.from, StartsWith("client.example"));
  EXPECT_THAT(field.from, HasSubstr("[127.0.0.1]"));
  EXPECT_EQ(field.by, "mx.example.org");
  EXPECT_EQ(field.with, "ESMTP");
  EXPECT_EQ(field.id, id);
  EXPECT_EQ(field.for_path, "<Alice@Example.ORG>");
  ASSERT_TRUE(field.date.has_value());
  EXPECT_LT(absl::AbsDuration(*field.date - absl::Now()), absl::Minutes(5));

  EXPECT_THAT(Command(*client, "QUIT"), StartsWith("221 "));
  EXPECT_TRUE(Logged(id + ": client=localhost[127.0.0.1]"));
  EXPECT_TRUE(Logged(id + ": from=<sender@example.net>, size=" +
                     std::to_string(data.size()) +
                     ", nrcpt=1 (queue active)"));
  std::lock_guard<std::mutex> lock(mu_);
  ASSERT_EQ(queued_.size(), 1u);
  EXPECT_EQ(queued_[0], id);
  EXPECT_TRUE(queued_visible_[0]);  // on_queued only after Commit()
}

TEST_F(MtaHandlerTest, NoForClauseWithSeveralRecipients) {
  Start(Options());
  auto client = Connect("127.0.0.1");
  ASSERT_NE(client, nullptr);
  EXPECT_THAT(Command(*client, "MAIL FROM:<>"), StartsWith("250 "));
  EXPECT_THAT(Command(*client, "RCPT TO:<alice@example.org>"),
              StartsWith("250 "));
  EXPECT_THAT(Command(*client, "RCPT TO:<someone@example.net>"),
              StartsWith("250 "));  // 127.0.0.1 is trusted: relays
  EXPECT_THAT(Command(*client, "DATA"), StartsWith("354 "));
  ASSERT_TRUE(client->Write("Subject: x\r\n\r\nbody\r\n.\r\n").ok());
  const std::string reply = ReadReply(*client);
  ASSERT_THAT(reply, StartsWith("250 2.0.0 Ok: queued as "));
  const auto queued = Queued();
  ASSERT_EQ(queued.size(), 1u);
  EXPECT_EQ(queued[0].sender, "");
  ASSERT_EQ(queued[0].recipients.size(), 2u);
  EXPECT_TRUE(queued[0].recipients[1].notify_failure);  // DSN defaults
  EXPECT_FALSE(queued[0].recipients[1].notify_success);
  const std::string data = Data(queued[0].id);
  EXPECT_THAT(data, Not(HasSubstr("\tfor <")));
  EXPECT_THAT(data, HasSubstr(" id " + queued[0].id + ";\r\n\t"));
  EXPECT_THAT(data, HasSubstr("\r\nSubject: x\r\n\r\nbody\r\n"));
}

TEST_F(MtaHandlerTest, RelayDeniedForAnUntrustedClient) {
  Start(Options());
  auto client = Connect("127.0.0.2");
  ASSERT_NE(client, nullptr);
  EXPECT_THAT(Command(*client, "MAIL FROM:<a@example.net>"),
              StartsWith("250 "));
  EXPECT_EQ(Command(*client, "RCPT TO:<x@example.com>"),
            "554 5.7.1 <x@example.com>: Relay access denied\r\n");
  EXPECT_TRUE(Logged(
      "NOQUEUE: reject: RCPT from localhost[127.0.0.2]: 554 5.7.1 "
      "<x@example.com>: Relay access denied; from=<a@example.net> "
      "to=<x@example.com> proto=ESMTP helo=<client.example>"));
  // Local recipients are still fine.
  EXPECT_THAT(Command(*client, "RCPT TO:<bob@example.org>"),
              StartsWith("250 "));
}

TEST_F(MtaHandlerTest, RelayAllowedForTrustedAndLocalClients) {
  Start(Options());
  for (const char* address : {"127.0.0.1", ""}) {
    auto client = Connect(address);
    ASSERT_NE(client, nullptr);
    EXPECT_THAT(Command(*client, "MAIL FROM:<a@example.org>"),
                StartsWith("250 "));
    EXPECT_THAT(Command(*client, "RCPT TO:<x@example.com>"),
                StartsWith("250 "))
        << "peer '" << address << "'";
  }
}

TEST_F(MtaHandlerTest, RelayAllowedWhenAuthenticated) {
  Start(Options(), /*auth=*/true);
  auto client = Connect("192.0.2.9");
  ASSERT_NE(client, nullptr);
  const std::string wrong =
      message::Base64Encode(std::string("\0carol\0wrong", 12));
  EXPECT_EQ(Command(*client, "AUTH PLAIN " + wrong),
            "535 5.7.8 Authentication credentials invalid\r\n");
  EXPECT_TRUE(Logged(
      "unknown[192.0.2.9]: SASL PLAIN authentication failed: user=<carol>"));
  EXPECT_THAT(Command(*client, "MAIL FROM:<carol@example.org>"),
              StartsWith("250 "));
  EXPECT_THAT(Command(*client, "RCPT TO:<x@example.com>"),
              StartsWith("554 5.7.1"));
  EXPECT_THAT(Command(*client, "RSET"), StartsWith("250 "));

  const std::string right =
      message::Base64Encode(std::string("\0carol\0s3cret!", 14));
  EXPECT_EQ(Command(*client, "AUTH PLAIN " + right),
            "235 2.7.0 Authentication successful\r\n");
  EXPECT_TRUE(
      Logged("unknown[192.0.2.9]: sasl_method=PLAIN, sasl_username=carol"));
  EXPECT_THAT(Command(*client, "MAIL FROM:<carol@example.org>"),
              StartsWith("250 "));
  EXPECT_THAT(Command(*client, "RCPT TO:<x@example.com>"),
              StartsWith("250 "));
  EXPECT_THAT(Command(*client, "DATA"), StartsWith("354 "));
  ASSERT_TRUE(client->Write("Subject: x\r\n\r\nbody\r\n.\r\n").ok());
  ASSERT_THAT(ReadReply(*client), StartsWith("250 2.0.0 Ok: queued as "));
  const auto queued = Queued();
  ASSERT_EQ(queued.size(), 1u);
  // RFC 3848: authenticated ESMTP is ESMTPA.
  EXPECT_THAT(Data(queued[0].id),
              StartsWith("Received: from client.example (unknown "
                         "[192.0.2.9])\r\n\tby mx.example.org with ESMTPA"));
  EXPECT_TRUE(Logged(queued[0].id +
                     ": client=unknown[192.0.2.9], sasl_username=carol"));
  for (const std::string& line : Log()) {
    EXPECT_THAT(line, Not(HasSubstr("s3cret")));
    EXPECT_THAT(line, Not(HasSubstr("wrong")));
  }
}

TEST_F(MtaHandlerTest, UnknownLocalUsersAreRefusedPostmasterIsNot) {
  Start(Options());
  auto client = Connect("127.0.0.2");
  ASSERT_NE(client, nullptr);
  EXPECT_THAT(Command(*client, "MAIL FROM:<a@example.net>"),
              StartsWith("250 "));
  EXPECT_EQ(Command(*client, "RCPT TO:<nobody@example.org>"),
            "550 5.1.1 <nobody@example.org>: Recipient address rejected: "
            "User unknown in local recipient table\r\n");
  EXPECT_TRUE(Logged("NOQUEUE: reject: RCPT from localhost[127.0.0.2]: 550 "
                     "5.1.1 <nobody@example.org>"));
  EXPECT_THAT(Command(*client, "RCPT TO:<Postmaster@EXAMPLE.org>"),
              StartsWith("250 "));
  EXPECT_THAT(Command(*client, "RCPT TO:<Postmaster>"), StartsWith("250 "));
  EXPECT_THAT(Command(*client, "RCPT TO:<\"John Doe\"@example.org>"),
              StartsWith("250 "));
  EXPECT_THAT(Command(*client, "RCPT TO:<BOB@example.ORG>"),
              StartsWith("250 "));
  EXPECT_THAT(Command(*client, "RCPT TO:<broken@example.org>"),
              StartsWith("451 4.3.0 <broken@example.org>"));
  EXPECT_TRUE(Logged("ldap is down"));
}

TEST_F(MtaHandlerTest, NullRecipientCheckAcceptsEveryLocalUser) {
  MtaHandlerOptions options = Options();
  options.recipient_exists = nullptr;
  Start(std::move(options));
  auto client = Connect("127.0.0.2");
  ASSERT_NE(client, nullptr);
  EXPECT_THAT(Command(*client, "MAIL FROM:<a@example.net>"),
              StartsWith("250 "));
  EXPECT_THAT(Command(*client, "RCPT TO:<anyone@example.org>"),
              StartsWith("250 "));
}

std::string WithReceived(int count) {
  std::string message;
  for (int i = 0; i < count; ++i) {
    message += "Received: from hop" + std::to_string(i) +
               ".example by relay.example;\r\n"
               "\tThu, 26 Nov 2026 09:00:45 +0000\r\n";
  }
  return message + "Subject: loop\r\n\r\nbody\r\n";
}

// A queue on a full disk: the data writes after the first fail as the store reports ENOSPC
// (Unavailable with the strerror text); everything else is the real queue.
class DiskFullQueue : public store::Queue {
 public:
  explicit DiskFullQueue(store::Queue* real) : real_(real) {}
  absl::StatusOr<std::unique_ptr<store::QueueWriter>> BeginEnqueue(
      store::QueueEnvelope envelope) override {
    auto writer = real_->BeginEnqueue(std::move(envelope));
    if (!writer.ok()) return writer.status();
    return std::unique_ptr<store::QueueWriter>(
        new FullWriter(std::move(*writer)));
  }
  absl::StatusOr<std::vector<store::QueueEnvelope>> List() override {
    return real_->List();
  }
  absl::StatusOr<std::vector<std::string>> Due(absl::Time now) override {
    return real_->Due(now);
  }
  absl::StatusOr<std::unique_ptr<store::QueueLease>> Lease(
      std::string_view id) override {
    return real_->Lease(id);
  }
  std::vector<std::string> Problems() override { return real_->Problems(); }

 private:
  class FullWriter : public store::QueueWriter {
   public:
    explicit FullWriter(std::unique_ptr<store::QueueWriter> real)
        : real_(std::move(real)) {}
    // The Received: field still fits (it is written at DATA); the disk
    // fills while the message streams in.
    absl::Status Write(std::string_view bytes) override {
      if (writes_++ == 0) return real_->Write(bytes);
      return absl::UnavailableError(
          "write queue/msg/x.data: No space left on device");
    }
    absl::StatusOr<std::string> Commit() override {
      return absl::UnavailableError(
          "fsync queue/msg/x.data: No space left on device");
    }
    void Abort() override { real_->Abort(); }
    const std::string& id() const override { return real_->id(); }

   private:
    std::unique_ptr<store::QueueWriter> real_;
    int writes_ = 0;
  };
  store::Queue* real_;
};

TEST_F(MtaHandlerTest, FullDiskIs452InsufficientStorageAndNothingQueued) {
  DiskFullQueue full(queue_.get());
  MtaHandlerOptions options = Options();
  options.queue = &full;
  Start(std::move(options));
  auto client = Connect("127.0.0.1");
  ASSERT_NE(client, nullptr);
  EXPECT_THAT(Command(*client, "MAIL FROM:<a@example.net>"),
              StartsWith("250 "));
  EXPECT_THAT(Command(*client, "RCPT TO:<alice@example.org>"),
              StartsWith("250 "));
  EXPECT_THAT(Command(*client, "DATA"), StartsWith("354 "));
  ASSERT_TRUE(client->Write(kBodyStuffed).ok());
  const std::string reply = ReadReply(*client);
  EXPECT_THAT(reply, StartsWith("452 4.3.1 "));
  EXPECT_THAT(reply, Not(HasSubstr("queue/msg")));  // no path to the client
  EXPECT_TRUE(Queued().empty());
  EXPECT_TRUE(Logged("No space left on device"));
  // The session goes on: the client may try again later.
  EXPECT_THAT(Command(*client, "RSET"), StartsWith("250 "));
}

TEST_F(MtaHandlerTest, TooManyHopsIsRefusedAndNothingQueued) {
  MtaHandlerOptions options = Options();
  options.hop_limit = 3;
  Start(std::move(options));
  auto client = Connect("127.0.0.1");
  ASSERT_NE(client, nullptr);
  EXPECT_THAT(Command(*client, "MAIL FROM:<a@example.net>"),
              StartsWith("250 "));
  EXPECT_THAT(Command(*client, "RCPT TO:<alice@example.org>"),
              StartsWith("250 "));
  EXPECT_THAT(Command(*client, "DATA"), StartsWith("354 "));
  ASSERT_TRUE(client->Write(WithReceived(4) + ".\r\n").ok());
  EXPECT_EQ(ReadReply(*client),
            "554 5.4.6 Too many hops (4 Received: fields, limit 3)\r\n");
  EXPECT_TRUE(Queued().empty());
  EXPECT_TRUE(Logged("554 5.4.6 Too many hops"));
  {
    std::lock_guard<std::mutex> lock(mu_);
    EXPECT_TRUE(queued_.empty());
  }
  // Nothing left behind in the queue's work folder either.
  std::error_code ec;
  const auto tmp = std::filesystem::path(dir_.path()) / "queue" / "tmp";
  if (std::filesystem::exists(tmp, ec)) {
    EXPECT_TRUE(std::filesystem::is_empty(tmp, ec));
  }

  // At the limit it passes.
  EXPECT_THAT(Command(*client, "MAIL FROM:<a@example.net>"),
              StartsWith("250 "));
  EXPECT_THAT(Command(*client, "RCPT TO:<alice@example.org>"),
              StartsWith("250 "));
  EXPECT_THAT(Command(*client, "DATA"), StartsWith("354 "));
  ASSERT_TRUE(client->Write(WithReceived(3) + ".\r\n").ok());
  EXPECT_THAT(ReadReply(*client), StartsWith("250 2.0.0 Ok: queued as "));
  const auto queued = Queued();
  ASSERT_EQ(queued.size(), 1u);
  const std::string data = Data(queued[0].id);
  EXPECT_THAT(data, HasSubstr("\r\n" + WithReceived(3)));
}

TEST_F(MtaHandlerTest, LocalSubmissionGetsMissingHeaderFields) {
  MtaHandlerOptions options = Options();
  options.local_submission = true;
  Start(std::move(options));
  auto client = Connect("", "localhost");
  ASSERT_NE(client, nullptr);
  EXPECT_THAT(Command(*client, "MAIL FROM:<alice@example.org>"),
              StartsWith("250 "));
  EXPECT_THAT(Command(*client, "RCPT TO:<bob@example.org>"),
              StartsWith("250 "));
  EXPECT_THAT(Command(*client, "DATA"), StartsWith("354 "));
  ASSERT_TRUE(client->Write("Subject: local\r\n\r\nbody\r\n.\r\n").ok());
  EXPECT_THAT(ReadReply(*client), StartsWith("250 2.0.0 Ok: queued as "));
  const auto queued = Queued();
  ASSERT_EQ(queued.size(), 1u);
  EXPECT_EQ(queued[0].received_from, "localhost (localhost)");
  const std::string data = Data(queued[0].id);
  EXPECT_THAT(data, StartsWith("Received: from localhost (localhost)\r\n"));
  EXPECT_THAT(data, HasSubstr("\r\nDate: "));
  EXPECT_THAT(data, HasSubstr("\r\nMessage-ID: <"));
  EXPECT_THAT(data, HasSubstr("\r\nFrom: "));
  EXPECT_THAT(data, HasSubstr("\r\n\r\nbody\r\n"));
  EXPECT_TRUE(Logged(queued[0].id + ": client=local"));
}

TEST_F(MtaHandlerTest, RemoteMessagesAreNotFixedUp) {
  Start(Options());
  auto client = Connect("127.0.0.1");
  ASSERT_NE(client, nullptr);
  EXPECT_THAT(Command(*client, "MAIL FROM:<a@example.net>"),
              StartsWith("250 "));
  EXPECT_THAT(Command(*client, "RCPT TO:<bob@example.org>"),
              StartsWith("250 "));
  EXPECT_THAT(Command(*client, "DATA"), StartsWith("354 "));
  ASSERT_TRUE(client->Write("Subject: remote\r\n\r\nbody\r\n.\r\n").ok());
  EXPECT_THAT(ReadReply(*client), StartsWith("250 "));
  const auto queued = Queued();
  ASSERT_EQ(queued.size(), 1u);
  const std::string data = Data(queued[0].id);
  EXPECT_THAT(data, Not(HasSubstr("Message-ID:")));
  EXPECT_THAT(data, HasSubstr(">; "));
  EXPECT_THAT(data.substr(data.find("\r\nSubject:")),
              "\r\nSubject: remote\r\n\r\nbody\r\n");
}

TEST_F(MtaHandlerTest, EtrnStartsAQueueRun) {
  Start(Options());
  auto client = Connect("192.0.2.9");
  ASSERT_NE(client, nullptr);
  EXPECT_EQ(Command(*client, "ETRN example.net"),
            "250 2.0.0 Queuing for node example.net started\r\n");
  EXPECT_EQ(Command(*client, "ETRN @sub.example.net"),
            "250 2.0.0 Queuing for node sub.example.net started\r\n");
  EXPECT_THAT(Command(*client, "ETRN #queue1"), StartsWith("459 4.3.0 "));
  EXPECT_THAT(Command(*client, "ETRN bad..name"), StartsWith("501 "));
  std::lock_guard<std::mutex> lock(mu_);
  EXPECT_EQ(etrn_,
            (std::vector<std::string>{"example.net", "sub.example.net"}));
}

TEST_F(MtaHandlerTest, EtrnWithoutARunnerIs458) {
  MtaHandlerOptions options = Options();
  options.on_etrn = nullptr;
  Start(std::move(options));
  auto client = Connect("127.0.0.1");
  ASSERT_NE(client, nullptr);
  EXPECT_EQ(Command(*client, "ETRN example.net"),
            "458 4.3.0 Unable to queue messages for node example.net\r\n");
}

// Direct calls: what needs no server.
TEST(MtaHandlerCreate, NeedsRouterAndQueue) {
  EXPECT_EQ(MtaHandler::Create({}).status().code(),
            absl::StatusCode::kInvalidArgument);
  Router router(RouterOptions{});
  MtaHandlerOptions options;
  options.router = &router;
  EXPECT_EQ(MtaHandler::Create(std::move(options)).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(MtaHandlerTest, AuthWithoutADatabaseIsRefused) {
  MtaHandlerOptions options = Options();
  options.auth_db = nullptr;
  auto handler = MtaHandler::Create(std::move(options));
  ASSERT_TRUE(handler.ok());
  const smtp::Verdict v = (*handler)->OnAuth(net::Peer{"127.0.0.1", 1},
                                             "PLAIN", "", "carol", "s3cret!");
  EXPECT_FALSE(v.accept);
  ASSERT_TRUE(v.reply.has_value());
  EXPECT_EQ(v.reply->code, 502);
}

TEST_F(MtaHandlerTest, AuthorizationIdentityOfAnotherUserIsRefused) {
  auto handler = MtaHandler::Create(Options());
  ASSERT_TRUE(handler.ok());
  const net::Peer peer{"127.0.0.1", 1};
  EXPECT_FALSE(
      (*handler)->OnAuth(peer, "PLAIN", "root", "carol", "s3cret!").accept);
  EXPECT_TRUE(
      (*handler)->OnAuth(peer, "PLAIN", "carol", "carol", "s3cret!").accept);
  EXPECT_TRUE((*handler)->OnAuth(peer, "LOGIN", "", "carol", "s3cret!").accept);
  EXPECT_FALSE((*handler)->OnAuth(peer, "LOGIN", "", "dave", "x").accept);
}

TEST_F(MtaHandlerTest, ExpnListsAliasesForTrustedClientsOnly) {
  MtaHandlerOptions options = Options();
  options.expand = [](std::string_view name)
      -> absl::StatusOr<std::vector<std::string>> {
    if (name == "staff") {
      return std::vector<std::string>{"<alice@example.org>",
                                      "<bob@example.org>"};
    }
    return absl::NotFoundError("no such alias");
  };
  auto handler = MtaHandler::Create(std::move(options));
  ASSERT_TRUE(handler.ok());
  const smtp::Verdict staff =
      (*handler)->OnExpn(net::Peer{"127.0.0.1", 1}, "staff");
  EXPECT_TRUE(staff.accept);
  ASSERT_TRUE(staff.reply.has_value());
  EXPECT_EQ(staff.reply->code, 250);
  EXPECT_EQ(staff.reply->lines,
            (std::vector<std::string>{"<alice@example.org>",
                                      "<bob@example.org>"}));
  const smtp::Verdict unknown =
      (*handler)->OnExpn(net::Peer{"127.0.0.1", 1}, "nobody");
  EXPECT_FALSE(unknown.accept);
  EXPECT_EQ(unknown.reply->code, 550);
  const smtp::Verdict untrusted =
      (*handler)->OnExpn(net::Peer{"192.0.2.9", 1}, "staff");
  EXPECT_FALSE(untrusted.accept);
  EXPECT_EQ(untrusted.reply->code, 550);
  EXPECT_EQ(untrusted.reply->enhanced, "5.7.1");
}

TEST_F(MtaHandlerTest, ConcurrentSessionsEachQueueTheirMessage) {
  Start(Options());
  constexpr int kClients = 4;
  std::vector<std::unique_ptr<net::MemoryStream>> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.push_back(Connect("127.0.0.1"));
    ASSERT_NE(clients.back(), nullptr);
    EXPECT_THAT(Command(*clients.back(), "MAIL FROM:<a@example.net>"),
                StartsWith("250 "));
    EXPECT_THAT(Command(*clients.back(), "RCPT TO:<alice@example.org>"),
                StartsWith("250 "));
    EXPECT_THAT(Command(*clients.back(), "DATA"), StartsWith("354 "));
  }
  std::set<std::string> replies;
  for (int i = 0; i < kClients; ++i) {
    ASSERT_TRUE(clients[i]
                    ->Write("Subject: " + std::to_string(i) +
                            "\r\n\r\nbody\r\n.\r\n")
                    .ok());
  }
  for (int i = 0; i < kClients; ++i) {
    const std::string reply = ReadReply(*clients[i]);
    EXPECT_THAT(reply, StartsWith("250 2.0.0 Ok: queued as "));
    replies.insert(reply);
  }
  EXPECT_EQ(replies.size(), static_cast<std::size_t>(kClients));
  EXPECT_EQ(Queued().size(), static_cast<std::size_t>(kClients));
}

}  // namespace
}  // namespace posthorn::mta
