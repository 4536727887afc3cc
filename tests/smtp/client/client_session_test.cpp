// Tests for posthorn/smtp/client_session.h.
//
// Most tests are transcripts in tests/data/smtp/client/*.txt, replayed by
// the runner below with the server's bytes fed whole, split in two at
// every byte offset of the whole server stream, and byte by byte. Each
// chunk is an exactly-sized heap copy (ASan catches over-reads and views
// that outlive their chunk).
//
// TRANSCRIPT FORMAT (one directive per line)
//   # ...              comment; blank lines are ignored
//   @ key=value ...    session options, before the first S line:
//                        helo=NAME  tls=none|opportunistic|required
//                        implicit_tls=yes  user=U pass=P authzid=Z
//                        plaintext_auth=yes  pipelining=off  body_input=lf
//   S: text            the server sends text + CRLF
//   S~ text            the server sends text exactly (no CRLF added)
//   C: text            the client must have written text + CRLF
//   C~ text            the client must have written text exactly
//   E: event           the next event: ready starttls body done closed
//   > action ...       a driver action:
//                        from [ADDR]           envelope sender ("" = <>)
//                        rcpt ADDR [notify=success,failure|never]
//                             [orcpt=TYPE;ADDR]
//                        env [size=N] [body=7bit|8bit] [smtputf8]
//                            [ret=full|hdrs] [envid=X]
//                        start                 StartTransaction(): OK
//                        start! CODE           ... fails with CODE
//                                              (InvalidArgument, ...)
//                        body TEXT             SendBody(TEXT)
//                        end                   EndBody()
//                        tls                   OnTlsStarted()
//                        quit                  Quit()
//                        lost                  OnConnectionLost(Unavailable)
//   = check ...        an assertion on the session:
//                        result OUTCOME CODE [ENHANCED]
//                        rcpt INDEX OUTCOME CODE
//                        status CODE           (OK, Unavailable, ...)
//                        failure OUTCOME [CODE]
//                        caps FLAG...          the exact set: esmtp
//                          pipelining starttls 8bitmime dsn smtputf8
//                          enhanced chunking auth_plain auth_login size=N
//                        tls yes|no   auth yes|no   greeting CODE
//   OUTCOME is ok, transient or permanent.
//   Escapes in text: \r \n \t \\ \xHH.
//
// Semantics: consecutive S lines form one group of server bytes. The
// output and events are compared (everything so far, exactly) before each
// new S group, each check and at the end; so C and E lines describe what
// the session produced after the S group or the actions above them.

#include "posthorn/smtp/client_session.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "posthorn/smtp/reply.h"
#include "wire/chunking.h"

namespace posthorn::smtp {
namespace {

using wire::chunking::Chunk;

std::string DataPath(std::string_view name) {
  const char* root = std::getenv("POSTHORN_TESTDATA");
  std::string dir = root != nullptr ? root : "tests/data";
  return dir + "/smtp/client/" + std::string(name);
}

std::string Unescape(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\' || i + 1 == s.size()) {
      out += s[i];
      continue;
    }
    const char c = s[++i];
    switch (c) {
      case 'r': out += '\r'; break;
      case 'n': out += '\n'; break;
      case 't': out += '\t'; break;
      case '\\': out += '\\'; break;
      case 'x':
        if (i + 2 < s.size()) {
          out += static_cast<char>(
              std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
          i += 2;
        }
        break;
      default: out += '\\'; out += c; break;
    }
  }
  return out;
}

std::vector<std::string> Words(std::string_view s) {
  std::vector<std::string> words;
  std::istringstream in{std::string(s)};
  for (std::string w; in >> w;) words.push_back(w);
  return words;
}

std::string_view EventName(ClientEventKind kind) {
  switch (kind) {
    case ClientEventKind::kReady: return "ready";
    case ClientEventKind::kStartTls: return "starttls";
    case ClientEventKind::kSendBody: return "body";
    case ClientEventKind::kTransactionDone: return "done";
    case ClientEventKind::kClosed: return "closed";
  }
  return "?";
}

std::string_view OutcomeName(Outcome o) {
  switch (o) {
    case Outcome::kOk: return "ok";
    case Outcome::kTransient: return "transient";
    case Outcome::kPermanent: return "permanent";
  }
  return "?";
}

std::string StatusCodeName(const absl::Status& s) {
  switch (s.code()) {
    case absl::StatusCode::kOk: return "OK";
    case absl::StatusCode::kUnavailable: return "Unavailable";
    case absl::StatusCode::kFailedPrecondition: return "FailedPrecondition";
    case absl::StatusCode::kPermissionDenied: return "PermissionDenied";
    case absl::StatusCode::kInvalidArgument: return "InvalidArgument";
    case absl::StatusCode::kCancelled: return "Cancelled";
    case absl::StatusCode::kDeadlineExceeded: return "DeadlineExceeded";
    default: return "Other(" + std::to_string(static_cast<int>(s.code())) + ")";
  }
}

std::string CapsString(const ServerCapabilities& c) {
  std::string s;
  auto add = [&s](bool on, std::string_view name) {
    if (!on) return;
    if (!s.empty()) s += ' ';
    s += name;
  };
  add(c.esmtp, "esmtp");
  add(c.pipelining, "pipelining");
  add(c.starttls, "starttls");
  add(c.eightbitmime, "8bitmime");
  add(c.dsn, "dsn");
  add(c.smtputf8, "smtputf8");
  add(c.enhanced_status_codes, "enhanced");
  add(c.chunking, "chunking");
  add(c.auth_plain, "auth_plain");
  add(c.auth_login, "auth_login");
  if (c.size.has_value()) add(true, "size=" + std::to_string(*c.size));
  return s;
}

struct Step {
  char kind;  // 'S', 's' (raw), 'C', 'c' (raw), 'E', '>', '='
  std::string text;
  int line;
};

struct Transcript {
  ClientOptions options;
  std::vector<Step> steps;
  std::size_t server_bytes = 0;
};

Transcript Load(std::string_view name) {
  Transcript t;
  std::ifstream in(DataPath(name), std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot open " << DataPath(name);
  std::string line;
  int number = 0;
  ClientCredentials credentials;
  bool have_credentials = false;
  while (std::getline(in, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    if (line[0] == '@') {
      for (const std::string& w : Words(line.substr(1))) {
        const std::size_t eq = w.find('=');
        const std::string key = w.substr(0, eq);
        const std::string value =
            eq == std::string::npos ? "" : w.substr(eq + 1);
        if (key == "helo") t.options.helo_name = value;
        else if (key == "tls")
          t.options.tls = value == "required" ? TlsMode::kRequired
                          : value == "opportunistic"
                              ? TlsMode::kOpportunistic
                              : TlsMode::kNone;
        else if (key == "implicit_tls") t.options.tls_active = value == "yes";
        else if (key == "user") credentials.username = value,
                                have_credentials = true;
        else if (key == "pass") credentials.password = value;
        else if (key == "authzid") credentials.authzid = value;
        else if (key == "plaintext_auth")
          t.options.allow_plaintext_auth = value == "yes";
        else if (key == "pipelining")
          t.options.use_pipelining = value != "off";
        else if (key == "body_input")
          t.options.body_input = value == "lf" ? wire::EncoderInput::kLfToCrlf
                                               : wire::EncoderInput::kCrlf;
        else ADD_FAILURE() << name << ":" << number << ": option " << key;
      }
      continue;
    }
    Step step{0, "", number};
    const std::string_view head = std::string_view(line).substr(0, 2);
    std::string rest = line.size() > 3 ? line.substr(3) : "";
    if (head == "S:") step = {'S', Unescape(rest) + "\r\n", number};
    else if (head == "S~") step = {'s', Unescape(rest), number};
    else if (head == "C:") step = {'C', Unescape(rest) + "\r\n", number};
    else if (head == "C~") step = {'c', Unescape(rest), number};
    else if (head == "E:") step = {'E', rest, number};
    else if (line[0] == '>') step = {'>', line.substr(1), number};
    else if (line[0] == '=') step = {'=', line.substr(1), number};
    else ADD_FAILURE() << name << ":" << number << ": bad line " << line;
    if (step.kind == 'S' || step.kind == 's') {
      t.server_bytes += step.text.size();
    }
    t.steps.push_back(step);
  }
  if (have_credentials) t.options.credentials = credentials;
  return t;
}

// How the server's bytes are cut: whole, in two at split_at (an offset in
// the whole server stream), or byte by byte.
struct Feeding {
  enum Mode { kWhole, kSplit, kBytes } mode = kWhole;
  std::size_t split_at = 0;
  std::string Describe() const {
    if (mode == kWhole) return "fed whole";
    if (mode == kBytes) return "fed byte by byte";
    return "split at server offset " + std::to_string(split_at);
  }
};

class Replay {
 public:
  Replay(std::string_view name, const Transcript& t, Feeding feeding)
      : name_(name), t_(t), feeding_(feeding), session_(t.options) {}

  // Returns false after the first mismatch (reported with ADD_FAILURE).
  bool Run() {
    char previous = 0;
    for (const Step& step : t_.steps) {
      step_ = &step;
      switch (step.kind) {
        case 'S':
        case 's':
          if (previous != 'S' && previous != 's' && !Checkpoint()) {
            return false;
          }
          pending_ += step.text;
          break;
        case 'C':
        case 'c':
          Flush();
          expected_out_ += step.text;
          break;
        case 'E':
          Flush();
          expected_events_ += step.text + " ";
          break;
        case '>':
          // Output and events so far are collected (not yet compared: the
          // C lines of several actions may follow them).
          Flush();
          Drain();
          if (!Act(Words(step.text))) return false;
          break;
        case '=':
          if (!Checkpoint() || !Check(Words(step.text))) return false;
          break;
      }
      previous = step.kind;
    }
    step_ = nullptr;
    return Checkpoint();
  }

 private:
  std::string Where() const {
    return std::string(name_) + ":" +
           (step_ != nullptr ? std::to_string(step_->line) : "end") + " (" +
           feeding_.Describe() + ")";
  }

  void Feed(std::string_view bytes) {
    const Chunk chunk(bytes);
    const std::size_t n = session_.Receive(chunk.view());
    if (n != bytes.size()) {
      ADD_FAILURE() << Where() << ": Receive consumed " << n << " of "
                    << bytes.size();
    }
  }

  void Flush() {
    if (pending_.empty()) return;
    const std::string_view all = pending_;
    if (feeding_.mode == Feeding::kBytes) {
      for (char c : all) Feed(std::string_view(&c, 1));
    } else if (feeding_.mode == Feeding::kSplit && feeding_.split_at > fed_ &&
               feeding_.split_at < fed_ + all.size()) {
      const std::size_t k = feeding_.split_at - fed_;
      Feed(all.substr(0, k));
      Feed(all.substr(k));
    } else {
      Feed(all);
    }
    fed_ += all.size();
    pending_.clear();
  }

  void Drain() {
    actual_out_ += session_.TakeOutput();
    EXPECT_FALSE(session_.has_output());
    while (auto event = session_.NextEvent()) {
      actual_events_ += std::string(EventName(event->kind)) + " ";
    }
  }

  bool Checkpoint() {
    Flush();
    Drain();
    if (actual_out_ != expected_out_) {
      ADD_FAILURE() << Where() << ": client output differs\n  expected: "
                    << Escape(expected_out_)
                    << "\n  actual:   " << Escape(actual_out_);
      return false;
    }
    if (actual_events_ != expected_events_) {
      ADD_FAILURE() << Where() << ": events differ\n  expected: "
                    << expected_events_ << "\n  actual:   " << actual_events_;
      return false;
    }
    return true;
  }

  static std::string Escape(std::string_view s) {
    std::string out;
    for (char c : s) {
      if (c == '\r') out += "\\r";
      else if (c == '\n') out += "\\n";
      else out += c;
    }
    return out;
  }

  bool Act(const std::vector<std::string>& w) {
    if (w.empty()) return Fail("empty action");
    const std::string& verb = w[0];
    if (verb == "from") {
      envelope_ = ClientEnvelope{};
      envelope_.mail_from = w.size() > 1 ? w[1] : "";
    } else if (verb == "rcpt") {
      if (w.size() < 2) return Fail("rcpt without address");
      ClientRecipient r;
      r.address = w[1];
      for (std::size_t i = 2; i < w.size(); ++i) {
        if (w[i].rfind("notify=", 0) == 0) {
          r.notify.present = true;
          const std::string v = w[i].substr(7);
          r.notify.never = v.find("never") != std::string::npos;
          r.notify.success = v.find("success") != std::string::npos;
          r.notify.failure = v.find("failure") != std::string::npos;
          r.notify.delay = v.find("delay") != std::string::npos;
        } else if (w[i].rfind("orcpt=", 0) == 0) {
          r.orcpt = Unescape(w[i].substr(6));
        } else {
          return Fail("rcpt option " + w[i]);
        }
      }
      envelope_.recipients.push_back(r);
    } else if (verb == "env") {
      for (std::size_t i = 1; i < w.size(); ++i) {
        const std::string& o = w[i];
        if (o.rfind("size=", 0) == 0) envelope_.size = std::stoull(o.substr(5));
        else if (o == "body=7bit") envelope_.body = BodyType::k7Bit;
        else if (o == "body=8bit") envelope_.body = BodyType::k8BitMime;
        else if (o == "body=binary") envelope_.body = BodyType::kBinaryMime;
        else if (o == "smtputf8") envelope_.smtputf8 = true;
        else if (o == "ret=full") envelope_.ret = DsnRet::kFull;
        else if (o == "ret=hdrs") envelope_.ret = DsnRet::kHeaders;
        else if (o.rfind("envid=", 0) == 0) envelope_.envid = Unescape(o.substr(6));
        else return Fail("env option " + o);
      }
    } else if (verb == "start" || verb == "start!") {
      const absl::Status s = session_.StartTransaction(envelope_);
      const std::string want = verb == "start" ? "OK" : w.at(1);
      if (StatusCodeName(s) != want) {
        return Fail("StartTransaction: " + s.ToString() + ", want " + want);
      }
    } else if (verb == "body") {
      const std::size_t at = step_->text.find("body");
      std::string text = step_->text.substr(at + 4);
      if (!text.empty() && text[0] == ' ') text.erase(0, 1);
      session_.SendBody(Unescape(text));
    } else if (verb == "end") {
      session_.EndBody();
    } else if (verb == "tls") {
      session_.OnTlsStarted();
    } else if (verb == "quit") {
      session_.Quit();
    } else if (verb == "lost") {
      session_.OnConnectionLost(absl::UnavailableError("test: reset"));
    } else {
      return Fail("unknown action " + verb);
    }
    return true;
  }

  bool Check(const std::vector<std::string>& w) {
    if (w.empty()) return Fail("empty check");
    const std::string& what = w[0];
    auto expect = [this](bool ok, const std::string& detail) {
      return ok ? true : Fail(detail);
    };
    if (what == "result") {
      const TransactionResult& r = session_.result();
      std::string got = std::string(OutcomeName(r.outcome)) + " " +
                        std::to_string(r.reply.code);
      std::string want = w.at(1) + " " + w.at(2);
      if (w.size() > 3) {
        got += " " + r.reply.enhanced;
        want += " " + w[3];
      }
      return expect(got == want, "result " + got + ", want " + want +
                                     " (" + r.reply.text() + ")");
    }
    if (what == "rcpt") {
      const auto& rs = session_.result().recipients;
      const std::size_t i = std::stoul(w.at(1));
      if (i >= rs.size()) return Fail("no recipient " + w[1]);
      const std::string got = std::string(OutcomeName(rs[i].outcome)) + " " +
                              std::to_string(rs[i].reply.code);
      const std::string want = w.at(2) + " " + w.at(3);
      return expect(got == want, "rcpt " + w[1] + ": " + got + ", want " +
                                     want);
    }
    if (what == "status") {
      const std::string got = StatusCodeName(session_.status());
      return expect(got == w.at(1), "status " + session_.status().ToString());
    }
    if (what == "failure") {
      std::string got = std::string(OutcomeName(session_.failure_outcome()));
      std::string want = w.at(1);
      if (w.size() > 2) {
        got += " " + std::to_string(session_.failure_reply().code);
        want += " " + w[2];
      }
      return expect(got == want, "failure " + got + ", want " + want);
    }
    if (what == "caps") {
      std::string want;
      for (std::size_t i = 1; i < w.size(); ++i) {
        want += (i > 1 ? " " : "") + w[i];
      }
      const std::string got = CapsString(session_.capabilities());
      return expect(got == want, "caps [" + got + "], want [" + want + "]");
    }
    if (what == "tls") {
      return expect(session_.tls_active() == (w.at(1) == "yes"), "tls");
    }
    if (what == "auth") {
      return expect(session_.authenticated() == (w.at(1) == "yes"), "auth");
    }
    if (what == "greeting") {
      return expect(std::to_string(session_.greeting().code) == w.at(1),
                    "greeting " + std::to_string(session_.greeting().code));
    }
    return Fail("unknown check " + what);
  }

  bool Fail(const std::string& why) {
    ADD_FAILURE() << Where() << ": " << why;
    return false;
  }

  std::string_view name_;
  const Transcript& t_;
  Feeding feeding_;
  ClientSession session_;
  const Step* step_ = nullptr;
  std::string pending_;
  std::size_t fed_ = 0;
  std::string expected_out_, actual_out_;
  std::string expected_events_, actual_events_;
  ClientEnvelope envelope_;
};

class TranscriptTest : public ::testing::TestWithParam<const char*> {};

TEST_P(TranscriptTest, Whole) {
  const Transcript t = Load(GetParam());
  ASSERT_FALSE(t.steps.empty());
  EXPECT_TRUE(Replay(GetParam(), t, {}).Run());
}

TEST_P(TranscriptTest, SplitAtEveryOffset) {
  const Transcript t = Load(GetParam());
  for (std::size_t k = 1; k < t.server_bytes; ++k) {
    if (!Replay(GetParam(), t, {Feeding::kSplit, k}).Run()) break;
  }
}

TEST_P(TranscriptTest, ByteByByte) {
  const Transcript t = Load(GetParam());
  EXPECT_TRUE(Replay(GetParam(), t, {Feeding::kBytes, 0}).Run());
}

INSTANTIATE_TEST_SUITE_P(
    Client, TranscriptTest,
    ::testing::Values(
        "plain.txt", "pipelined.txt", "pipelining_off.txt",
        "helo_fallback.txt", "ehlo_refused.txt", "greeting_554.txt",
        "greeting_421.txt", "starttls_opportunistic.txt",
        "starttls_not_offered.txt", "starttls_opportunistic_refused.txt",
        "starttls_required_missing.txt", "starttls_required_refused.txt",
        "starttls_injection.txt", "auth_plain.txt",
        "auth_plain_refused.txt", "auth_login.txt",
        "auth_login_refused.txt", "auth_plaintext_refused.txt",
        "auth_plaintext_allowed.txt", "auth_no_mechanism.txt",
        "some_rcpt_refused.txt", "all_rcpt_refused.txt",
        "all_rcpt_refused_354.txt", "all_rcpt_refused_serial.txt",
        "mail_4xx.txt", "mail_4xx_pipelined.txt", "data_refused.txt",
        "final_5xx.txt", "size_refused_locally.txt", "dsn_offered.txt",
        "dsn_not_offered.txt", "extension_missing.txt",
        "lost_mid_data.txt", "lost_after_quit.txt", "malformed_reply.txt",
        "unexpected_reply.txt", "server_421.txt", "multi_transaction.txt",
        "dot_stuffing.txt", "quit_mid_data.txt", "ehlo_keywords.txt",
        "helo_refused.txt", "auth_unexpected_334.txt",
        "required_implicit_tls.txt"),
    [](const ::testing::TestParamInfo<const char*>& info) {
      std::string name = info.param;
      name = name.substr(0, name.find('.'));
      return name;
    });

// ---------------------------------------------------------------------------
// Direct tests of the API around the transcripts.

TEST(ClassifyTest, ByFirstDigit) {
  EXPECT_EQ(Classify(MakeReply(250, "2.0.0", "ok")), Outcome::kOk);
  EXPECT_EQ(Classify(MakeReply(221, "", "bye")), Outcome::kOk);
  EXPECT_EQ(Classify(MakeReply(354, "", "go")), Outcome::kTransient);
  EXPECT_EQ(Classify(MakeReply(421, "4.4.2", "x")), Outcome::kTransient);
  EXPECT_EQ(Classify(MakeReply(452, "4.5.3", "x")), Outcome::kTransient);
  EXPECT_EQ(Classify(MakeReply(550, "5.1.1", "x")), Outcome::kPermanent);
  EXPECT_EQ(Classify(MakeReply(554, "", "x")), Outcome::kPermanent);
  EXPECT_EQ(Classify(Reply{}), Outcome::kTransient);
}

// Brings a session to kReady against a PIPELINING server.
void MakeReady(ClientSession* s) {
  ASSERT_EQ(s->Receive("220 mx ESMTP\r\n"), 14u);
  ASSERT_EQ(s->TakeOutput(), "EHLO localhost\r\n");
  const std::string_view ehlo = "250-mx\r\n250 PIPELINING\r\n";
  ASSERT_EQ(s->Receive(ehlo), ehlo.size());
  auto e = s->NextEvent();
  ASSERT_TRUE(e.has_value());
  ASSERT_EQ(e->kind, ClientEventKind::kReady);
}

ClientEnvelope Envelope(std::string from, std::string to) {
  ClientEnvelope env;
  env.mail_from = std::move(from);
  env.recipients.push_back({std::move(to), {}, {}});
  return env;
}

TEST(ClientSessionTest, StartTransactionBeforeReadyIsRefused) {
  ClientSession s{ClientOptions{}};
  EXPECT_EQ(s.StartTransaction(Envelope("a@example.org", "b@example.net"))
                .code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_FALSE(s.has_output());
}

TEST(ClientSessionTest, RefusesBadEnvelopes) {
  ClientSession s{ClientOptions{}};
  MakeReady(&s);
  ClientEnvelope none;
  none.mail_from = "a@example.org";
  EXPECT_EQ(s.StartTransaction(none).code(),
            absl::StatusCode::kInvalidArgument);
  // Addresses that would smuggle a second command or a parameter, or that
  // the grammar refuses.
  for (const char* bad :
       {"b@example.net>\r\nRSET", "b@example.net\r\n", "b@exa mple.net",
        "b@example.net> NOTIFY=NEVER", "b", "\xc3\xa9@example.net"}) {
    EXPECT_EQ(s.StartTransaction(Envelope("a@example.org", bad)).code(),
              absl::StatusCode::kInvalidArgument)
        << bad;
    EXPECT_EQ(s.StartTransaction(Envelope(bad, "b@example.net")).code(),
              absl::StatusCode::kInvalidArgument)
        << bad;
  }
  EXPECT_EQ(s.StartTransaction(Envelope("a@example.org", "")).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(s.has_output());
  // The null sender is fine.
  EXPECT_TRUE(s.StartTransaction(Envelope("", "b@example.net")).ok());
  EXPECT_EQ(s.TakeOutput(),
            "MAIL FROM:<>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n");
}

TEST(ClientSessionTest, BinaryMimeIsRefused) {
  ClientSession s{ClientOptions{}};
  MakeReady(&s);
  ClientEnvelope env = Envelope("a@example.org", "b@example.net");
  env.body = BodyType::kBinaryMime;
  EXPECT_EQ(s.StartTransaction(env).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ClientSessionTest, InvalidHeloNameFailsWithoutSendingIt) {
  ClientOptions options;
  options.helo_name = "evil\r\nMAIL FROM:<x@y>";
  ClientSession s{options};
  ASSERT_EQ(s.Receive("220 mx\r\n"), 8u);
  EXPECT_EQ(s.TakeOutput(), "QUIT\r\n");
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.failure_outcome(), Outcome::kPermanent);
}

// The session never holds the body: each SendBody's stuffed bytes are in
// the next TakeOutput, and nothing accumulates.
TEST(ClientSessionTest, BodyIsStreamedNotHeld) {
  ClientSession s{ClientOptions{}};
  MakeReady(&s);
  ASSERT_TRUE(s.StartTransaction(Envelope("a@example.org", "b@example.net"))
                  .ok());
  ASSERT_EQ(s.TakeOutput(),
            "MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\n"
            "DATA\r\n");
  const std::string_view replies = "250 ok\r\n250 ok\r\n354 go\r\n";
  ASSERT_EQ(s.Receive(replies), replies.size());
  ASSERT_EQ(s.NextEvent()->kind, ClientEventKind::kSendBody);
  const std::string line(4094, 'x');
  std::size_t total = 0;
  for (int i = 0; i < 256; ++i) {
    s.SendBody("." + line + "\r\n");
    const std::string out = s.TakeOutput();
    EXPECT_EQ(out, ".." + line + "\r\n");
    total += out.size();
  }
  s.EndBody();
  EXPECT_EQ(s.TakeOutput(), ".\r\n");
  EXPECT_EQ(total, 256u * 4098u);
  ASSERT_EQ(s.Receive("250 queued\r\n"), 12u);
  ASSERT_EQ(s.NextEvent()->kind, ClientEventKind::kTransactionDone);
  EXPECT_EQ(s.result().outcome, Outcome::kOk);
}

TEST(ClientSessionTest, NothingAfterClosed) {
  ClientSession s{ClientOptions{}};
  MakeReady(&s);
  s.OnConnectionLost(absl::UnavailableError("gone"));
  ASSERT_EQ(s.NextEvent()->kind, ClientEventKind::kClosed);
  EXPECT_EQ(s.Receive("250 ok\r\n"), 8u);
  s.OnConnectionLost(absl::UnavailableError("again"));
  s.Quit();
  EXPECT_FALSE(s.NextEvent().has_value());
  EXPECT_FALSE(s.has_output());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(s.failure_outcome(), Outcome::kTransient);
}

}  // namespace
}  // namespace posthorn::smtp
