// ClientSession wired to ServerSession in memory: no socket, no thread.
// A 1 MiB body with dot-leading lines is streamed in 4 KiB chunks and must
// arrive byte-exact at the server; with and without PIPELINING, with
// STARTTLS (the "handshake" is a no-op on both sides) and AUTH PLAIN, and
// with a recipient the server refuses.

#include <gtest/gtest.h>

#include <cstddef>
#include <random>
#include <string>
#include <string_view>

#include "posthorn/smtp/client_session.h"
#include "posthorn/smtp/server_session.h"

namespace posthorn::smtp {
namespace {

constexpr std::size_t kBodySize = 1024 * 1024;
constexpr std::size_t kChunkSize = 4096;
// Every loop below is bounded; a stuck exchange fails instead of hanging.
constexpr int kMaxRounds = 10'000;

// CRLF text, exactly kBodySize octets, with lines that start with "." and
// ".." and an empty line now and then.
std::string MakeBody() {
  std::mt19937 rng(42);
  std::string body;
  body.reserve(kBodySize);
  while (body.size() < kBodySize) {
    std::size_t len = rng() % 120;
    const unsigned kind = rng() % 8;
    std::string line;
    if (kind == 0) line = ".";
    if (kind == 1) line = "..";
    for (std::size_t i = 0; i < len; ++i) {
      line += static_cast<char>(' ' + rng() % 95);
    }
    line += "\r\n";
    if (body.size() + line.size() > kBodySize) {
      line = std::string(kBodySize - body.size() - 2, 'z') + "\r\n";
    }
    body += line;
  }
  return body;
}

struct Scenario {
  bool pipelining = true;
  bool tls_and_auth = false;
  bool refuse_second_recipient = false;
};

class Wire {
 public:
  explicit Wire(const Scenario& setup)
      : setup_(setup),
        server_(ServerOptionsFor(setup)),
        client_(ClientOptionsFor(setup)) {}

  static ServerOptions ServerOptionsFor(const Scenario& setup) {
    ServerOptions o;
    o.hostname = "mx.example.net";
    o.tls_available = setup.tls_and_auth;
    o.auth_enabled = setup.tls_and_auth;
    return o;
  }

  static ClientOptions ClientOptionsFor(const Scenario& setup) {
    ClientOptions o;
    o.helo_name = "client.example.org";
    o.use_pipelining = setup.pipelining;
    if (setup.tls_and_auth) {
      o.tls = TlsMode::kRequired;
      o.credentials = ClientCredentials{"user", "secret", ""};
    }
    return o;
  }

  void Run(const std::string& body) {
    server_.Start();
    for (int round = 0; round < kMaxRounds && !client_closed_; ++round) {
      const std::string to_client = server_.TakeOutput();
      if (server_tls_pending_) {
        // The 220 is on its way: now the server "handshakes".
        server_tls_pending_ = false;
        server_.OnTlsStarted();
      }
      if (!to_client.empty()) {
        ASSERT_EQ(client_.Receive(to_client), to_client.size());
      }
      HandleClientEvents(body);
      ToServer();
      if (to_client.empty() && !client_.has_output() &&
          !server_.has_output() && !client_closed_) {
        if (server_.closed()) client_.OnConnectionLost(absl::OkStatus());
      }
    }
    ASSERT_TRUE(client_closed_);
  }

  const std::string& stored() const { return stored_; }
  int messages() const { return messages_; }
  const ClientSession& client() const { return client_; }
  const TransactionResult& result() const { return result_; }
  bool server_saw_tls() const { return server_tls_; }
  std::string_view server_user() const { return server_user_; }

 private:
  void HandleClientEvents(const std::string& body) {
    while (auto e = client_.NextEvent()) {
      switch (e->kind) {
        case ClientEventKind::kReady: {
          ClientEnvelope env;
          env.mail_from = "alice@example.org";
          env.recipients = {{"bob@example.net", {}, {}},
                            {"carol@example.net", {}, {}},
                            {"dave@example.net", {}, {}}};
          env.size = body.size();
          ASSERT_TRUE(client_.StartTransaction(env).ok());
          break;
        }
        case ClientEventKind::kStartTls:
          // The in-memory "handshake" (the server's side is in Run()).
          client_.OnTlsStarted();
          break;
        case ClientEventKind::kSendBody:
          for (std::size_t at = 0; at < body.size(); at += kChunkSize) {
            client_.SendBody(std::string_view(body).substr(at, kChunkSize));
            // Streamed: never more than one stuffed chunk waits in output.
            const std::string out = client_.TakeOutput();
            ASSERT_LE(out.size(), 2 * kChunkSize);
            FeedServer(out);
          }
          client_.EndBody();
          break;
        case ClientEventKind::kTransactionDone:
          result_ = client_.result();
          client_.Quit();
          break;
        case ClientEventKind::kClosed:
          client_closed_ = true;
          break;
      }
    }
  }

  // Moves the client's bytes to the server, answering its events.
  void ToServer() { FeedServer(client_.TakeOutput()); }

  void FeedServer(const std::string& bytes) {
    std::string_view rest = bytes;
    for (int guard = 0; guard < kMaxRounds; ++guard) {
      const std::size_t n = server_.Receive(rest);
      rest.remove_prefix(n);
      HandleServerEvents();
      if (rest.empty() || server_.closed()) break;
    }
  }

  void HandleServerEvents() {
    while (auto e = server_.NextEvent()) {
      switch (e->kind) {
        case EventKind::kRcptTo:
          if (setup_.refuse_second_recipient &&
              e->path.mailbox == "carol@example.net") {
            server_.Answer(
                Verdict::Reject(MakeReply(550, "5.1.1", "no such user")));
          } else {
            server_.Answer(Verdict::Accept());
          }
          break;
        case EventKind::kMessageData:
          stored_.append(e->data);
          break;
        case EventKind::kMessageEnd:
          ++messages_;
          server_.Answer(Verdict::Accept());
          break;
        case EventKind::kStartTls:
          server_tls_ = true;
          server_tls_pending_ = true;
          break;
        case EventKind::kAuth:
          server_user_ = std::string(e->username);
          server_.Answer(e->password == "secret" ? Verdict::Accept()
                                                 : Verdict::Reject(MakeReply(
                                                       535, "5.7.8", "no")));
          break;
        default:
          if (e->needs_answer) server_.Answer(Verdict::Accept());
          break;
      }
    }
  }

  Scenario setup_;
  ServerSession server_;
  ClientSession client_;
  bool client_closed_ = false;
  bool server_tls_ = false;
  bool server_tls_pending_ = false;
  std::string server_user_;
  std::string stored_;
  int messages_ = 0;
  TransactionResult result_;
};

class ClientServerTest : public ::testing::TestWithParam<Scenario> {};

TEST_P(ClientServerTest, OneMebibyteArrivesByteExact) {
  const Scenario setup = GetParam();
  const std::string body = MakeBody();
  ASSERT_EQ(body.size(), kBodySize);
  Wire wire(setup);
  wire.Run(body);
  ASSERT_EQ(wire.messages(), 1);
  EXPECT_EQ(wire.stored().size(), body.size());
  EXPECT_TRUE(wire.stored() == body) << "body differs at the server";
  EXPECT_EQ(wire.result().outcome, Outcome::kOk);
  ASSERT_EQ(wire.result().recipients.size(), 3u);
  EXPECT_EQ(wire.result().recipients[1].outcome,
            setup.refuse_second_recipient ? Outcome::kPermanent
                                          : Outcome::kOk);
  EXPECT_EQ(wire.result().recipients[2].outcome, Outcome::kOk);
  EXPECT_TRUE(wire.client().status().ok()) << wire.client().status();
  EXPECT_EQ(wire.client().capabilities().pipelining, true);
  EXPECT_EQ(wire.client().tls_active(), setup.tls_and_auth);
  EXPECT_EQ(wire.server_saw_tls(), setup.tls_and_auth);
  EXPECT_EQ(wire.client().authenticated(), setup.tls_and_auth);
  if (setup.tls_and_auth) {
    EXPECT_EQ(wire.server_user(), "user");
  }
}

INSTANTIATE_TEST_SUITE_P(
    InMemory, ClientServerTest,
    ::testing::Values(Scenario{true, false, false}, Scenario{false, false, false},
                      Scenario{true, true, false}, Scenario{true, false, true},
                      Scenario{false, true, true}),
    [](const ::testing::TestParamInfo<Scenario>& info) {
      std::string name = info.param.pipelining ? "Pipelined" : "Serial";
      if (info.param.tls_and_auth) name += "TlsAuth";
      if (info.param.refuse_second_recipient) name += "OneRefused";
      return name;
    });

}  // namespace
}  // namespace posthorn::smtp
