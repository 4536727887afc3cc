// Tests for posthorn/pop3/client_session.h: canned server bytes fed whole,
// split in two at every offset and byte by byte (exact-size heap copies),
// with the same commands written and the same event log every time; and a
// client talking to a ServerSession in memory.

#include "posthorn/pop3/client_session.h"

#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "posthorn/pop3/server_session.h"

namespace posthorn::pop3 {
namespace {

std::string Describe(const ClientEvent& e) {
  switch (e.kind) {
    case ClientEventKind::kReady: return "ready";
    case ClientEventKind::kStartTls: return "starttls";
    case ClientEventKind::kClosed: return "closed";
    case ClientEventKind::kMessageData:
      return "data " + std::to_string(e.message) + " " + std::string(e.data);
    case ClientEventKind::kDone: {
      std::string d = "done " + std::string(VerbName(e.verb)) +
                      (e.ok ? " ok" : " err") + " count=" +
                      std::to_string(e.count) + " octets=" +
                      std::to_string(e.octets);
      for (const ListEntry& l : e.listing) {
        d += " [" + std::to_string(l.number) + " " + std::to_string(l.size) +
             " " + l.uid + "]";
      }
      return d;
    }
  }
  return "?";
}

// The driver: on kReady it runs `commands`; kMessageData chunks of one
// message are merged in the log.
struct Replay {
  std::string written;
  std::vector<std::string> log;
  std::unique_ptr<ClientSession> client;

  Replay(const ClientOptions& options,
      const std::function<void(ClientSession&)>& commands,
      std::string_view server, const std::vector<std::size_t>& cuts) {
    client = std::make_unique<ClientSession>(options);
    std::size_t off = 0;
    std::vector<std::size_t> sizes = cuts;
    for (std::size_t size : sizes) {
      std::unique_ptr<char[]> copy(new char[size]);
      std::memcpy(copy.get(), server.data() + off, size);
      client->Receive(std::string_view(copy.get(), size));
      copy.reset();
      off += size;
      Drain(commands);
    }
  }

  void Drain(const std::function<void(ClientSession&)>& commands) {
    while (auto e = client->NextEvent()) {
      std::string d = Describe(*e);
      if (e->kind == ClientEventKind::kMessageData && !log.empty() &&
          log.back().rfind("data ", 0) == 0) {
        log.back() += e->data;
      } else {
        log.push_back(d);
      }
      if (e->kind == ClientEventKind::kReady) commands(*client);
    }
    written += client->TakeOutput();
  }
};

std::vector<std::vector<std::size_t>> Cuts(std::size_t size) {
  std::vector<std::vector<std::size_t>> all;
  all.push_back({size});
  for (std::size_t k = 1; k < size; ++k) all.push_back({k, size - k});
  all.push_back(std::vector<std::size_t>(size, 1));
  return all;
}

void ExpectSameEverywhere(const ClientOptions& options,
                          const std::function<void(ClientSession&)>& commands,
                          std::string_view server,
                          const std::string& expected_written,
                          const std::vector<std::string>& expected_log) {
  for (const auto& cuts : Cuts(server.size())) {
    Replay run(options, commands, server, cuts);
    ASSERT_EQ(run.written, expected_written) << cuts.size() << " chunks";
    ASSERT_EQ(run.log, expected_log) << cuts.size() << " chunks, first "
                                     << cuts[0];
  }
}

TEST(Pop3ClientSession, ApopPipelinedSession) {
  ClientOptions o;
  o.credentials.user = "mrose";
  o.credentials.apop_digest = [](std::string_view ts) {
    EXPECT_EQ(ts, "<1896.697170952@dbc.mtview.ca.us>");
    return std::string("c4c9334bac560ecc979e58001b3e22fb");
  };
  const std::string server =
      "+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>\r\n"
      "+OK Capability list follows\r\nTOP\r\nUIDL\r\nPIPELINING\r\n"
      "IMPLEMENTATION test server\r\n.\r\n"
      "+OK mrose's maildrop has 2 messages (320 octets)\r\n"
      "+OK 2 320\r\n"
      "+OK 2 messages (320 octets)\r\n1 120\r\n2 200\r\n.\r\n"
      "+OK\r\n1 whqtswO00WBw418f9t5JxYwZ\r\n2 QhdPYR:00WBw1Ph7x7\r\n.\r\n"
      "+OK 120 octets\r\nSubject: x\r\n\r\n..dot\r\n.\r\n"
      "+OK\r\nSubject: y\r\n\r\n.\r\n"
      "+OK message 1 deleted\r\n"
      "+OK 1\r\n"
      "-ERR no such message, only 2 messages in maildrop\r\n"
      "+OK dewey POP3 server signing off (1 message left)\r\n";
  auto commands = [](ClientSession& c) {
    ASSERT_TRUE(c.Stat().ok());
    ASSERT_TRUE(c.List().ok());
    ASSERT_TRUE(c.Uidl().ok());
    ASSERT_TRUE(c.Retrieve(1).ok());
    ASSERT_TRUE(c.Top(2, 0).ok());
    ASSERT_TRUE(c.Delete(1).ok());
    ASSERT_TRUE(c.Last().ok());
    ASSERT_TRUE(c.List(3).ok());
    c.Quit();
    EXPECT_EQ(c.Noop().code(), absl::StatusCode::kFailedPrecondition);
  };
  ExpectSameEverywhere(
      o, commands, server,
      "CAPA\r\nAPOP mrose c4c9334bac560ecc979e58001b3e22fb\r\nSTAT\r\nLIST\r\n"
      "UIDL\r\nRETR 1\r\nTOP 2 0\r\nDELE 1\r\nLAST\r\nLIST 3\r\nQUIT\r\n",
      {"ready", "done STAT ok count=2 octets=320",
       "done LIST ok count=0 octets=0 [1 120 ] [2 200 ]",
       "done UIDL ok count=0 octets=0 [1 0 whqtswO00WBw418f9t5JxYwZ] "
       "[2 0 QhdPYR:00WBw1Ph7x7]",
       "data 1 Subject: x\r\n\r\n.dot\r\n", "done RETR ok count=0 octets=0",
       "data 2 Subject: y\r\n\r\n", "done TOP ok count=0 octets=0",
       "done DELE ok count=0 octets=0", "done LAST ok count=1 octets=0",
       "done LIST err count=0 octets=0", "done QUIT ok count=0 octets=0",
       "closed"});
  Replay run(o, commands, server, {server.size()});
  EXPECT_TRUE(run.client->status().ok());
  EXPECT_EQ(run.client->capabilities().implementation, "test server");
  EXPECT_EQ(run.client->apop_timestamp(), "<1896.697170952@dbc.mtview.ca.us>");
}

TEST(Pop3ClientSession, UserPassWithoutPipeliningOneAtATime) {
  ClientOptions o;
  o.credentials.user = "u";
  o.credentials.password = "p w";
  o.allow_plaintext_auth = true;
  const std::string server =
      "+OK hello\r\n-ERR unknown command\r\n"
      "+OK Password required for u.\r\n+OK u's maildrop has 1 message\r\n"
      "+OK 1 22\r\n+OK 1 22\r\n+OK bye\r\n";
  auto commands = [](ClientSession& c) {
    ASSERT_TRUE(c.Stat().ok());
    ASSERT_TRUE(c.List(1).ok());
    c.Quit();
  };
  // Without PIPELINING the second command is written after the first
  // answer: with canned bytes all commands end up written anyway, in order.
  ExpectSameEverywhere(o, commands, server,
                       "CAPA\r\nUSER u\r\nPASS p w\r\nSTAT\r\nLIST 1\r\nQUIT\r\n",
                       {"ready", "done STAT ok count=1 octets=22",
                        "done LIST ok count=0 octets=22 [1 22 ]",
                        "done QUIT ok count=0 octets=0", "closed"});
  // Before the first answer only STAT is written.
  ClientSession c(o);
  c.Receive("+OK hello\r\n-ERR no\r\n+OK\r\n+OK\r\n");
  while (auto e = c.NextEvent()) {
    if (e->kind == ClientEventKind::kReady) {
      ASSERT_TRUE(c.Stat().ok());
      ASSERT_TRUE(c.Noop().ok());
    }
  }
  EXPECT_EQ(c.TakeOutput(), "CAPA\r\nUSER u\r\nPASS p w\r\nSTAT\r\n");
}

TEST(Pop3ClientSession, SaslPlainAndRefusal) {
  ClientOptions o;
  o.credentials.user = "user";
  o.credentials.password = "pass";
  o.allow_plaintext_auth = true;
  const std::string server =
      "+OK hi\r\n+OK\r\nSASL PLAIN\r\nUSER\r\n.\r\n"
      "-ERR [AUTH] authentication failed\r\n";
  ExpectSameEverywhere(o, [](ClientSession&) {}, server,
                       "CAPA\r\nAUTH PLAIN AHVzZXIAcGFzcw==\r\n", {"closed"});
  Replay run(o, [](ClientSession&) {}, server, {server.size()});
  EXPECT_EQ(run.client->status().code(), absl::StatusCode::kUnauthenticated);
  ASSERT_TRUE(run.client->failure_response().has_value());
  EXPECT_EQ(run.client->failure_response()->code, "AUTH");
  // A long credential goes after the "+ " challenge.
  o.credentials.password = std::string(300, 'x');
  ClientSession c(o);
  c.Receive("+OK hi\r\n+OK\r\nSASL PLAIN\r\n.\r\n");
  EXPECT_EQ(c.TakeOutput(), "CAPA\r\nAUTH PLAIN\r\n");
  c.Receive("+ \r\n");
  EXPECT_EQ(c.TakeOutput().size(), 4 * (306 / 3) + 2);  // base64 + CRLF
  c.Receive("+OK in\r\n");
  EXPECT_TRUE(c.logged_in());
}

// PLAIN is one message (RFC 4616): one "+ " gets the credentials, a second
// one fails the session instead of sending them again and again (found by
// fuzz_pop3_client: the output grew with every "+ " line).
TEST(Pop3ClientSession, SaslPlainAnswersOneContinuationOnly) {
  ClientOptions o;
  o.credentials.user = "user";
  o.credentials.password = "pass";
  o.allow_plaintext_auth = true;
  o.auth = AuthMethod::kSaslPlain;
  for (const char* capabilities : {"SASL PLAIN\r\n", "SASIN\r\n"}) {
    ClientSession c(o);
    c.Receive(std::string("+OK hi\r\n+OK\r\n") + capabilities + ".\r\n");
    EXPECT_EQ(c.TakeOutput(), "CAPA\r\nAUTH PLAIN AHVzZXIAcGFzcw==\r\n");
    c.Receive("+ \r\n");
    EXPECT_EQ(c.TakeOutput(), "AHVzZXIAcGFzcw==\r\n");
    c.Receive("+ \r\n+ \r\n+ \r\n");
    EXPECT_EQ(c.TakeOutput(), "");
    EXPECT_EQ(c.status().code(), absl::StatusCode::kDataLoss);
    EXPECT_FALSE(c.logged_in());
  }
}

TEST(Pop3ClientSession, PlaintextRefusedWithoutTls) {
  ClientOptions o;
  o.credentials.user = "u";
  const std::string server = "+OK hi\r\n+OK\r\nUSER\r\n.\r\n";
  ExpectSameEverywhere(o, [](ClientSession&) {}, server, "CAPA\r\n",
                       {"closed"});
  Replay run(o, [](ClientSession&) {}, server, {server.size()});
  EXPECT_EQ(run.client->status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(Pop3ClientSession, TlsRequiredButNotOffered) {
  ClientOptions o;
  o.tls = TlsMode::kRequired;
  o.credentials.user = "u";
  const std::string server = "+OK hi\r\n+OK\r\nUSER\r\n.\r\n";
  ExpectSameEverywhere(o, [](ClientSession&) {}, server, "CAPA\r\n",
                       {"closed"});
}

TEST(Pop3ClientSession, StlsDiscardsBytesBeforeTheHandshake) {
  ClientOptions o;
  o.tls = TlsMode::kRequired;
  o.credentials.user = "u";
  o.credentials.password = "p";
  const std::string before =
      "+OK hi\r\n+OK\r\nSTLS\r\n.\r\n+OK Begin TLS negotiation\r\n";
  for (const auto& cuts : Cuts(before.size())) {
    ClientSession c(o);
    std::size_t off = 0;
    std::vector<std::string> log;
    for (std::size_t size : cuts) {
      c.Receive(std::string_view(before).substr(off, size));
      off += size;
      while (auto e = c.NextEvent()) log.push_back(Describe(*e));
    }
    ASSERT_EQ(log, std::vector<std::string>{"starttls"});
    // Injected before the handshake: ignored.
    c.Receive("+OK Capability list follows\r\nUSER\r\n.\r\n");
    EXPECT_EQ(c.TakeOutput(), "CAPA\r\nSTLS\r\n");
    c.OnTlsStarted();
    EXPECT_TRUE(c.tls_active());
    EXPECT_EQ(c.TakeOutput(), "CAPA\r\n");
    c.Receive("+OK\r\nUSER\r\n.\r\n+OK\r\n+OK\r\n");
    EXPECT_EQ(c.TakeOutput(), "USER u\r\nPASS p\r\n");
    EXPECT_TRUE(c.logged_in());
  }
}

TEST(Pop3ClientSession, LostConnectionFailsOutstandingCommands) {
  ClientOptions o;
  o.credentials.user = "u";
  o.allow_plaintext_auth = true;
  o.use_capa = false;
  ClientSession c(o);
  c.Receive("+OK hi\r\n+OK\r\n+OK\r\n");
  std::vector<std::string> log;
  while (auto e = c.NextEvent()) {
    log.push_back(Describe(*e));
    if (e->kind == ClientEventKind::kReady) {
      ASSERT_TRUE(c.Retrieve(1).ok());
    }
  }
  c.Receive("+OK 5 octets\r\nab");
  c.OnConnectionLost(absl::UnavailableError("reset"));
  while (auto e = c.NextEvent()) log.push_back(Describe(*e));
  EXPECT_EQ(log, (std::vector<std::string>{"ready", "data 1 ab",
                                           "done RETR err count=0 octets=0",
                                           "closed"}));
  EXPECT_EQ(c.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(c.Retrieve(0).code(), absl::StatusCode::kFailedPrecondition);
}

TEST(Pop3ClientSession, MalformedResponses) {
  for (std::string_view server :
       {"HELLO\r\n", "-ERR go away\r\n", "+OK hi\r\n+ \r\n"}) {
    ClientOptions o;
    ClientSession c(o);
    c.Receive(server);
    std::vector<std::string> log;
    while (auto e = c.NextEvent()) log.push_back(Describe(*e));
    EXPECT_EQ(log, std::vector<std::string>{"closed"}) << server;
    EXPECT_FALSE(c.status().ok());
  }
  ClientSession c{ClientOptions{}};
  c.Receive("+OK " + std::string(600, 'x') + "\r\n");
  EXPECT_EQ(c.status().code(), absl::StatusCode::kDataLoss);
}

// The client against the server session, in memory: download everything,
// delete everything, QUIT; the bytes match what the "store" held.
TEST(Pop3ClientSession, AgainstServerSession) {
  const std::vector<std::string> store = {
      "Subject: a\r\n\r\n.\r\n..\r\n.x\r\nend\r\n",
      "Subject: b\r\n\r\nno final newline",
      "Subject: c\r\n\r\n" + std::string(5000, 'z') + "\r\n"};
  ServerOptions so;
  so.apop_timestamp = "<1.2@test>";
  ServerSession server(so);
  ClientOptions co;
  co.credentials.user = "u";
  co.credentials.apop_digest = [](std::string_view) {
    return std::string(32, 'a');
  };
  ClientSession client(co);
  std::vector<std::string> got(store.size());
  std::vector<std::size_t> update;
  bool quit_ok = false;
  server.Start();
  std::string to_client = server.TakeOutput();
  std::string to_server;
  for (int round = 0; round < 1000 && !(server.closed() && to_client.empty());
       ++round) {
    client.Receive(to_client);
    to_client.clear();
    while (auto e = client.NextEvent()) {
      switch (e->kind) {
        case ClientEventKind::kReady:
          for (std::uint64_t i = 1; i <= store.size(); ++i) {
            ASSERT_TRUE(client.Retrieve(i).ok());
            ASSERT_TRUE(client.Delete(i).ok());
          }
          client.Quit();
          break;
        case ClientEventKind::kMessageData:
          got[e->message - 1] += e->data;
          break;
        case ClientEventKind::kDone:
          if (e->verb == Verb::kQuit) quit_ok = e->ok;
          EXPECT_TRUE(e->ok) << VerbName(e->verb);
          break;
        default:
          break;
      }
    }
    to_server += client.TakeOutput();
    std::size_t n = server.Receive(to_server);
    to_server.erase(0, n);
    while (auto e = server.NextEvent()) {
      if (e->kind == EventKind::kLogin) {
        EXPECT_EQ(e->password, std::string(32, 'a'));
        MaildropListing l;
        for (std::size_t i = 0; i < store.size(); ++i) {
          l.sizes.push_back(store[i].size());
          l.uids.push_back("u" + std::to_string(i));
        }
        ASSERT_TRUE(server.AcceptLogin(l).ok());
      } else if (e->kind == EventKind::kRetrieve) {
        const std::string& m = store[e->index];
        for (std::size_t off = 0; off < m.size(); off += 1000) {
          server.SendMessageData(std::string_view(m).substr(off, 1000));
        }
        server.EndMessageData();
      } else if (e->kind == EventKind::kUpdate) {
        update.assign(e->deleted.begin(), e->deleted.end());
        server.AnswerUpdate(absl::OkStatus());
      }
    }
    to_client += server.TakeOutput();
  }
  client.Receive(to_client);
  while (auto e = client.NextEvent()) {
    if (e->kind == ClientEventKind::kDone && e->verb == Verb::kQuit) {
      quit_ok = e->ok;
    }
  }
  EXPECT_TRUE(quit_ok);
  EXPECT_EQ(got[0], store[0]);
  EXPECT_EQ(got[1], store[1] + "\r\n");  // POP3 ends every line
  EXPECT_EQ(got[2], store[2]);
  EXPECT_EQ(update, (std::vector<std::size_t>{0, 1, 2}));
  EXPECT_TRUE(client.status().ok());
}

}  // namespace
}  // namespace posthorn::pop3
