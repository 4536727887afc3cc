// Tests of mta::MakeRemoteAgent against a real net::SmtpServer on
// 127.0.0.1 (port 0) in a thread: per-recipient outcomes, a dead port,
// MX fallback to the second host (127.0.0.2 has no listener), DNS errors
// through a fake resolver, the host status table and the log lines.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <mutex>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "net_test_util.h"
#include "posthorn/mta/remote_delivery.h"

namespace posthorn::mta {
namespace {

using net::testing::RecordingHandler;
using net::testing::ServerThread;
using net::testing::TempDir;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// Accepts everyone but reject@ (550) and defer@ (450); refuses the
// sender bad-sender@ at MAIL (550).
class PickyHandler : public RecordingHandler {
 public:
  smtp::Verdict OnMailFrom(const net::Peer& peer,
                           const smtp::ServerSession& session,
                           const smtp::Path& path,
                           const smtp::MailParams& params) override {
    if (path.mailbox.starts_with("bad-sender@")) {
      return smtp::Verdict::Reject(
          smtp::MakeReply(550, "5.7.1", "sender refused"));
    }
    return RecordingHandler::OnMailFrom(peer, session, path, params);
  }
  smtp::Verdict OnRcptTo(const net::Peer& peer,
                         const smtp::ServerSession& session,
                         const smtp::Path& path,
                         const smtp::RcptParams& params) override {
    if (path.mailbox.starts_with("reject@")) {
      return smtp::Verdict::Reject(
          smtp::MakeReply(550, "5.1.1", "no such user"));
    }
    if (path.mailbox.starts_with("defer@")) {
      return smtp::Verdict::Reject(
          smtp::MakeReply(450, "4.2.0", "greylisted, try later"));
    }
    return RecordingHandler::OnRcptTo(peer, session, path, params);
  }
};

// Answers LookupMx from a table; no DNS.
class FakeResolver : public Resolver {
 public:
  absl::StatusOr<std::vector<MxHost>> LookupMx(std::string_view) override {
    if (!error.ok()) return error;
    return hosts;
  }
  absl::StatusOr<std::vector<std::string>> LookupAddresses(
      std::string_view) override {
    if (!error.ok()) return error;
    return std::vector<std::string>{"127.0.0.1"};
  }
  std::vector<MxHost> hosts;
  absl::Status error;
};

// A loopback TCP port with nobody listening (bound, then closed).
std::uint16_t DeadPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

class RemoteAgentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    net::SmtpServerOptions options;
    options.listen = {"127.0.0.1:0"};
    options.handle_signals = false;
    auto server = ServerThread::Start(options, &handler_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    auto table = HostStatusTable::Open(dir_.path() + "/.hoststat");
    ASSERT_TRUE(table.ok()) << table.status();
    table_ = *std::move(table);
    message_ = net::testing::SampleMessage(50);
  }

  std::unique_ptr<DeliveryAgent> Agent(std::size_t max_hosts = 5) {
    RemoteAgentOptions options;
    options.helo_name = "client.test";
    options.resolver = &resolver_;
    options.host_status = table_.get();
    options.connect_timeout = std::chrono::seconds(5);
    options.reply_timeout = std::chrono::seconds(10);
    options.max_hosts = max_hosts;
    options.log = [this](LogLevel, std::string_view line) {
      std::lock_guard<std::mutex> lock(log_mu_);
      log_.emplace_back(line);
    };
    return MakeRemoteAgent(std::move(options));
  }

  // A request for every recipient of envelope_ to `hop`.
  DeliveryRequest Request(const NextHop& hop) {
    DeliveryRequest request;
    request.envelope = &envelope_;
    for (std::size_t i = 0; i < envelope_.recipients.size(); ++i) {
      request.recipients.push_back(i);
      Route route;
      route.kind = RouteKind::kRemote;
      route.domain = "example.test";
      route.hop = hop;
      request.routes.push_back(route);
    }
    request.open_data =
        [this]() -> absl::StatusOr<std::unique_ptr<store::MessageReader>> {
      return std::unique_ptr<store::MessageReader>(
          std::make_unique<store::StringReader>(message_));
    };
    return request;
  }

  void SetRecipients(std::vector<std::string> addresses) {
    envelope_.id = "0TESTQUEUEID";
    envelope_.sender = "alice@origin.test";
    envelope_.size = message_.size();
    for (std::string& address : addresses) {
      store::QueuedRecipient r;
      r.address = std::move(address);
      envelope_.recipients.push_back(r);
    }
  }

  NextHop Literal(std::uint16_t port) {
    return NextHop{"127.0.0.1", port, false};
  }

  std::vector<std::string> Log() {
    std::lock_guard<std::mutex> lock(log_mu_);
    return log_;
  }

  TempDir dir_;
  PickyHandler handler_;
  std::unique_ptr<ServerThread> server_;
  std::unique_ptr<HostStatusTable> table_;
  FakeResolver resolver_;
  store::QueueEnvelope envelope_;
  std::string message_;
  std::mutex log_mu_;
  std::vector<std::string> log_;
};

TEST_F(RemoteAgentTest, PerRecipientOutcomes) {
  SetRecipients({"a@example.test", "reject@example.test",
                 "defer@example.test", "b@example.test"});
  auto agent = Agent();
  EXPECT_EQ(agent->name(), "esmtp");
  auto outcomes = agent->Deliver(Request(Literal(server_->port())));
  ASSERT_TRUE(outcomes.ok()) << outcomes.status();
  ASSERT_EQ(outcomes->size(), 4u);
  const std::string relay = fmt::format("[127.0.0.1]:{}", server_->port());
  const DeliveryStatus expected[] = {
      DeliveryStatus::kSent, DeliveryStatus::kBounced,
      DeliveryStatus::kDeferred, DeliveryStatus::kSent};
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_EQ((*outcomes)[i].index, i);
    EXPECT_EQ((*outcomes)[i].status, expected[i]) << i;
    EXPECT_EQ((*outcomes)[i].relay, relay);
  }
  EXPECT_THAT((*outcomes)[0].reply, StartsWith("250 2.0.0"));
  EXPECT_EQ((*outcomes)[1].reply, "550 5.1.1 no such user");
  EXPECT_EQ((*outcomes)[2].reply, "450 4.2.0 greylisted, try later");

  // The message arrives once, byte for byte, for the accepted two.
  auto messages = handler_.messages();
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].mail_from, "alice@origin.test");
  EXPECT_THAT(messages[0].recipients,
              ElementsAre("a@example.test", "b@example.test"));
  EXPECT_EQ(messages[0].data, message_);

  auto hosts = table_->List();
  ASSERT_TRUE(hosts.ok()) << hosts.status();
  ASSERT_EQ(hosts->size(), 1u);
  EXPECT_EQ((*hosts)[0].host, relay);
  EXPECT_TRUE((*hosts)[0].up);
  EXPECT_THAT((*hosts)[0].reply, StartsWith("250"));
}

TEST_F(RemoteAgentTest, SenderRefusedBouncesEveryone) {
  SetRecipients({"a@example.test", "b@example.test"});
  envelope_.sender = "bad-sender@origin.test";
  auto outcomes = Agent()->Deliver(Request(Literal(server_->port())));
  ASSERT_TRUE(outcomes.ok()) << outcomes.status();
  ASSERT_EQ(outcomes->size(), 2u);
  for (const RecipientOutcome& outcome : *outcomes) {
    EXPECT_EQ(outcome.status, DeliveryStatus::kBounced);
    EXPECT_EQ(outcome.reply, "550 5.7.1 sender refused");
  }
  EXPECT_TRUE(handler_.messages().empty());
}

TEST_F(RemoteAgentTest, DeadPortDefersAndRecordsHostDown) {
  SetRecipients({"a@example.test"});
  const std::uint16_t port = DeadPort();
  auto outcomes = Agent()->Deliver(Request(Literal(port)));
  ASSERT_TRUE(outcomes.ok()) << outcomes.status();
  ASSERT_EQ(outcomes->size(), 1u);
  const std::string relay = fmt::format("[127.0.0.1]:{}", port);
  EXPECT_EQ((*outcomes)[0].status, DeliveryStatus::kDeferred);
  EXPECT_THAT((*outcomes)[0].reply,
              StartsWith("451 4.4.1 connect to " + relay + ": "));
  EXPECT_THAT((*outcomes)[0].reply, HasSubstr("refused"));

  auto hosts = table_->List();
  ASSERT_TRUE(hosts.ok());
  ASSERT_EQ(hosts->size(), 1u);
  EXPECT_EQ((*hosts)[0].host, relay);
  EXPECT_FALSE((*hosts)[0].up);
  EXPECT_TRUE(table_->RecentlyDown(relay, absl::Minutes(5)));

  auto log = Log();
  ASSERT_FALSE(log.empty());
  EXPECT_THAT(log[0], StartsWith("0TESTQUEUEID: connect to " + relay + ": "));
}

TEST_F(RemoteAgentTest, FirstMxDeadSecondDelivers) {
  SetRecipients({"a@example.test", "b@example.test"});
  resolver_.hosts = {MxHost{"mx1.example.test", 10, {"127.0.0.2"}},
                     MxHost{"mx2.example.test", 20, {"127.0.0.1"}}};
  auto outcomes = Agent()->Deliver(
      Request(NextHop{"example.test", server_->port(), true}));
  ASSERT_TRUE(outcomes.ok()) << outcomes.status();
  for (const RecipientOutcome& outcome : *outcomes) {
    EXPECT_EQ(outcome.status, DeliveryStatus::kSent);
    EXPECT_EQ(outcome.relay,
              fmt::format("mx2.example.test[127.0.0.1]:{}", server_->port()));
  }
  auto messages = handler_.messages();
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].data, message_);

  auto hosts = table_->List();
  ASSERT_TRUE(hosts.ok());
  ASSERT_EQ(hosts->size(), 2u);
  EXPECT_EQ((*hosts)[0].host, "mx1.example.test");
  EXPECT_FALSE((*hosts)[0].up);
  EXPECT_EQ((*hosts)[1].host, "mx2.example.test");
  EXPECT_TRUE((*hosts)[1].up);
}

TEST_F(RemoteAgentTest, MaxHostsLimitsTheTries) {
  SetRecipients({"a@example.test"});
  resolver_.hosts = {MxHost{"mx1.example.test", 10, {"127.0.0.2"}},
                     MxHost{"mx2.example.test", 20, {"127.0.0.1"}}};
  auto outcomes = Agent(/*max_hosts=*/1)->Deliver(
      Request(NextHop{"example.test", server_->port(), true}));
  ASSERT_TRUE(outcomes.ok()) << outcomes.status();
  EXPECT_EQ((*outcomes)[0].status, DeliveryStatus::kDeferred);
  EXPECT_THAT((*outcomes)[0].reply,
              StartsWith("451 4.4.1 connect to mx1.example.test[127.0.0.2]"));
  EXPECT_TRUE(handler_.messages().empty());
}

TEST_F(RemoteAgentTest, DnsErrors) {
  SetRecipients({"a@example.test", "b@example.test"});
  const NextHop hop{"example.test", 25, true};
  struct Case {
    absl::Status error;
    DeliveryStatus status;
    std::string prefix;
  } cases[] = {
      {absl::NotFoundError("example.test: Host or domain name not found"),
       DeliveryStatus::kBounced, "550 5.1.2 example.test: Host or domain"},
      {absl::UnavailableError("example.test: Host or domain name lookup "
                              "failed: timed out"),
       DeliveryStatus::kDeferred, "451 4.4.3 example.test: Host or domain"},
      {absl::FailedPreconditionError("example.test: null MX"),
       DeliveryStatus::kBounced, "556 5.1.10 "},
  };
  for (const Case& c : cases) {
    resolver_.error = c.error;
    auto outcomes = Agent()->Deliver(Request(hop));
    ASSERT_TRUE(outcomes.ok()) << outcomes.status();
    ASSERT_EQ(outcomes->size(), 2u);
    for (const RecipientOutcome& outcome : *outcomes) {
      EXPECT_EQ(outcome.status, c.status) << c.error;
      EXPECT_THAT(outcome.reply, StartsWith(c.prefix));
    }
  }
  EXPECT_TRUE(handler_.messages().empty());
}

TEST_F(RemoteAgentTest, BracketedNameUsesAddressLookup) {
  SetRecipients({"a@example.test"});
  auto outcomes = Agent()->Deliver(
      Request(NextHop{"relay.example.test", server_->port(), false}));
  ASSERT_TRUE(outcomes.ok()) << outcomes.status();
  EXPECT_EQ((*outcomes)[0].status, DeliveryStatus::kSent);
  EXPECT_EQ((*outcomes)[0].relay,
            fmt::format("relay.example.test[127.0.0.1]:{}", server_->port()));
  auto hosts = table_->List();
  ASSERT_TRUE(hosts.ok());
  ASSERT_EQ(hosts->size(), 1u);
  EXPECT_EQ((*hosts)[0].host,
            fmt::format("[relay.example.test]:{}", server_->port()));
}

TEST_F(RemoteAgentTest, UnreadableMessageDefers) {
  SetRecipients({"a@example.test"});
  DeliveryRequest request = Request(Literal(server_->port()));
  request.open_data =
      []() -> absl::StatusOr<std::unique_ptr<store::MessageReader>> {
    return absl::UnavailableError("disk on fire");
  };
  auto outcomes = Agent()->Deliver(request);
  ASSERT_TRUE(outcomes.ok()) << outcomes.status();
  EXPECT_EQ((*outcomes)[0].status, DeliveryStatus::kDeferred);
  EXPECT_THAT((*outcomes)[0].reply, HasSubstr("disk on fire"));
}

TEST_F(RemoteAgentTest, MalformedRequestIsAnError) {
  SetRecipients({"a@example.test"});
  DeliveryRequest request = Request(Literal(server_->port()));
  request.routes.clear();
  EXPECT_TRUE(absl::IsInvalidArgument(Agent()->Deliver(request).status()));
  request = Request(Literal(server_->port()));
  request.recipients[0] = 7;
  EXPECT_TRUE(absl::IsInvalidArgument(Agent()->Deliver(request).status()));
}

}  // namespace
}  // namespace posthorn::mta
