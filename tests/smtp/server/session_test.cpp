// Unit cases for posthorn/smtp/server_session.h that transcripts cannot
// express: pausing and view lifetimes, the envelope, limits validation,
// streaming, output buffer reuse, FormatReceived, protocol_name, and the
// strict SASL helpers.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "gtest/gtest.h"
#include "posthorn/smtp/server_session.h"

namespace posthorn::smtp {
namespace {

std::string Greet(ServerSession& s) {
  s.Start();
  return s.TakeOutput();
}

// Feeds `bytes` from a heap copy that is freed right after the call.
std::size_t FeedCopy(ServerSession& s, std::string_view bytes) {
  auto copy = std::make_unique<char[]>(bytes.size() + 1);
  std::copy(bytes.begin(), bytes.end(), copy.get());
  return s.Receive(std::string_view(copy.get(), bytes.size()));
}

TEST(ServerLimits, DefaultsArePostfixAndValid) {
  ServerLimits l;
  EXPECT_TRUE(l.Validate().ok());
  EXPECT_EQ(l.max_message_size, 10'240'000u);
  EXPECT_EQ(l.max_recipients, 1000u);
  EXPECT_EQ(l.soft_error_limit, 10);
  EXPECT_EQ(l.hard_error_limit, 20);
}

TEST(ServerLimits, RefusesBelowRfcMinimums) {
  auto bad = [](auto mutate) {
    ServerLimits l;
    mutate(l);
    return l.Validate();
  };
  EXPECT_FALSE(bad([](ServerLimits& l) { l.max_command_line = 511; }).ok());
  EXPECT_FALSE(bad([](ServerLimits& l) { l.max_text_line = 999; }).ok());
  EXPECT_FALSE(bad([](ServerLimits& l) { l.max_recipients = 99; }).ok());
  EXPECT_FALSE(bad([](ServerLimits& l) { l.max_message_size = 65535; }).ok());
  EXPECT_FALSE(bad([](ServerLimits& l) { l.soft_error_limit = 0; }).ok());
  EXPECT_FALSE(bad([](ServerLimits& l) { l.soft_error_limit = 30; }).ok());
  EXPECT_FALSE(bad([](ServerLimits& l) { l.max_auth_attempts = 0; }).ok());
  EXPECT_FALSE(bad([](ServerLimits& l) { l.max_auth_line = 100; }).ok());
  EXPECT_TRUE(bad([](ServerLimits& l) { l.max_message_size = 0; }).ok());
  EXPECT_TRUE(bad([](ServerLimits& l) {
                l.max_command_line = 512;
                l.max_recipients = 100;
                l.max_message_size = 65536;
              }).ok());
  EXPECT_EQ(bad([](ServerLimits& l) { l.max_recipients = 5; }).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ServerSession, PausesUntilAnswered) {
  ServerSession s{ServerOptions{}};
  Greet(s);
  const std::string input =
      "HELO c\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\n";
  // HELO must end its group: feed it alone.
  ASSERT_EQ(FeedCopy(s, "HELO c\r\n"), 8u);
  auto helo = s.NextEvent();
  ASSERT_TRUE(helo.has_value());
  EXPECT_EQ(helo->kind, EventKind::kHelo);
  EXPECT_EQ(helo->helo_name, "c");
  EXPECT_FALSE(helo->needs_answer);

  const std::string rest = input.substr(8);
  const std::size_t n = FeedCopy(s, rest);
  EXPECT_EQ(n, std::string("MAIL FROM:<a@example.org>\r\n").size());
  EXPECT_TRUE(s.waiting_for_answer());
  EXPECT_EQ(s.TakeOutput(), "250 localhost\r\n");  // MAIL's reply not yet
  // While waiting nothing is consumed.
  EXPECT_EQ(FeedCopy(s, rest.substr(n)), 0u);
  auto mail = s.NextEvent();
  ASSERT_TRUE(mail.has_value());
  EXPECT_EQ(mail->kind, EventKind::kMailFrom);
  EXPECT_TRUE(mail->needs_answer);
  EXPECT_EQ(mail->path.mailbox, "a@example.org");
  EXPECT_FALSE(s.NextEvent().has_value());
  s.Answer(Verdict::Accept());
  EXPECT_FALSE(s.waiting_for_answer());
  EXPECT_EQ(s.TakeOutput(), "250 2.1.0 Ok\r\n");
  EXPECT_EQ(s.envelope().mail_from, "a@example.org");

  EXPECT_EQ(FeedCopy(s, rest.substr(n)), rest.size() - n);
  auto rcpt = s.NextEvent();
  ASSERT_TRUE(rcpt.has_value());
  EXPECT_EQ(rcpt->path.mailbox, "b@example.org");
  s.Answer(Verdict::Reject(MakeReply(550, "5.1.1", "no such user")));
  EXPECT_EQ(s.TakeOutput(), "550 5.1.1 no such user\r\n");
  EXPECT_TRUE(s.envelope().recipients.empty());
}

TEST(ServerSession, AnswerWithoutQuestionIsIgnored) {
  ServerSession s{ServerOptions{}};
  Greet(s);
  s.Answer(Verdict::Accept());
  EXPECT_FALSE(s.has_output());
  EXPECT_FALSE(s.closed());
}

TEST(ServerSession, EnvelopeKeepsOwnedDecodedCopies) {
  ServerSession s{ServerOptions{}};
  Greet(s);
  ASSERT_EQ(FeedCopy(s, "EHLO c\r\n"), 8u);
  std::string line =
      "MAIL FROM:<a@example.org> ENVID=x+2By AUTH=u+40example.org\r\n";
  ASSERT_EQ(FeedCopy(s, line), line.size());
  while (auto e = s.NextEvent()) {
    if (e->needs_answer) s.Answer(Verdict::Accept());
  }
  line = "RCPT TO:<b@example.org> NOTIFY=FAILURE,DELAY ORCPT=rfc822;b+40x\r\n";
  ASSERT_EQ(FeedCopy(s, line), line.size());
  while (auto e = s.NextEvent()) {
    if (e->needs_answer) s.Answer(Verdict::Accept());
  }
  const Envelope& env = s.envelope();
  EXPECT_EQ(env.helo_name, "c");
  EXPECT_TRUE(env.esmtp);
  EXPECT_EQ(env.mail_from, "a@example.org");
  EXPECT_EQ(env.envid, "x+y");
  EXPECT_EQ(env.auth_sender, "u@example.org");
  EXPECT_TRUE(env.mail.envid.empty());
  ASSERT_EQ(env.recipients.size(), 1u);
  EXPECT_EQ(env.recipients[0].address, "b@example.org");
  EXPECT_TRUE(env.recipients[0].notify.failure);
  EXPECT_TRUE(env.recipients[0].notify.delay);
  EXPECT_FALSE(env.recipients[0].notify.success);
  EXPECT_EQ(env.recipients[0].orcpt, "rfc822;b@x");
}

// Drives a session to the DATA phase.
void ToData(ServerSession& s, const ServerOptions& = {}) {
  Greet(s);
  for (std::string_view cmd :
       {"HELO c\r\n", "MAIL FROM:<a@example.org>\r\n",
        "RCPT TO:<b@example.org>\r\n", "DATA\r\n"}) {
    ASSERT_EQ(FeedCopy(s, cmd), cmd.size());
    while (auto e = s.NextEvent()) {
      if (e->needs_answer) s.Answer(Verdict::Accept());
    }
  }
  s.TakeOutput();
}

TEST(ServerSession, BodyStreamsInChunksNeverBuffered) {
  ServerSession s{ServerOptions{}};
  ToData(s);
  std::string body;
  for (int i = 0; i < 2000; ++i) body += "line " + std::to_string(i) + "\r\n";
  std::string received;
  std::size_t largest = 0;
  int chunks = 0;
  for (std::size_t pos = 0; pos < body.size(); pos += 1000) {
    const std::string_view part = std::string_view(body).substr(pos, 1000);
    ASSERT_EQ(FeedCopy(s, part), part.size());
    while (auto e = s.NextEvent()) {
      ASSERT_EQ(e->kind, EventKind::kMessageData);
      largest = std::max(largest, e->data.size());
      received.append(e->data);
      ++chunks;
    }
  }
  EXPECT_EQ(s.message_bytes(), body.size());
  ASSERT_EQ(FeedCopy(s, ".\r\n"), 3u);
  auto end = s.NextEvent();
  ASSERT_TRUE(end.has_value());
  EXPECT_EQ(end->kind, EventKind::kMessageEnd);
  s.Answer(Verdict::Accept());
  EXPECT_EQ(received, body);
  EXPECT_GE(chunks, static_cast<int>(body.size() / 1000));
  EXPECT_LE(largest, 1000u);
  EXPECT_EQ(s.TakeOutput(), "250 2.0.0 Ok: queued\r\n");
  // The transaction is over: the envelope is empty again.
  EXPECT_TRUE(s.envelope().recipients.empty());
  EXPECT_EQ(s.envelope().mail_from, "");
}

TEST(ServerSession, UndrainedDataChunksMerge) {
  ServerSession s{ServerOptions{}};
  ToData(s);
  ASSERT_EQ(FeedCopy(s, "abc"), 3u);
  ASSERT_EQ(FeedCopy(s, "def\r\n"), 5u);
  auto e = s.NextEvent();
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->data, "abcdef\r\n");
  EXPECT_FALSE(s.NextEvent().has_value());
}

TEST(ServerSession, SizeCountedWhileStreaming) {
  ServerOptions o;
  o.limits.max_message_size = 65536;
  ServerSession s{o};
  ToData(s);
  const std::string line(98, 'x');
  std::uint64_t delivered = 0;
  for (int i = 0; i < 1000; ++i) {
    ASSERT_EQ(FeedCopy(s, line + "\r\n"), 100u);
    while (auto e = s.NextEvent()) delivered += e->data.size();
  }
  EXPECT_EQ(delivered, 65536u);  // output stops exactly at the budget
  EXPECT_FALSE(s.has_output());
  ASSERT_EQ(FeedCopy(s, ".\r\n"), 3u);
  auto e = s.NextEvent();
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->kind, EventKind::kMessageAborted);
  EXPECT_EQ(e->reason.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(s.TakeOutput(), "552 5.3.4 Error: message file too big\r\n");
  EXPECT_FALSE(s.closed());
}

TEST(ServerSession, TakeOutputIntoReusesBuffers) {
  ServerSession s{ServerOptions{}};
  std::string out;
  s.Start();
  s.TakeOutput(&out);
  EXPECT_EQ(out, "220 localhost ESMTP posthorn\r\n");
  out.reserve(4096);
  const char* buffer = out.data();
  ASSERT_EQ(FeedCopy(s, "NOOP\r\n"), 6u);
  s.TakeOutput(&out);  // the session now holds our 4 KiB buffer
  EXPECT_EQ(out, "250 2.0.0 Ok\r\n");
  ASSERT_EQ(FeedCopy(s, "NOOP\r\n"), 6u);
  s.TakeOutput(&out);
  EXPECT_EQ(out.data(), buffer);  // and gives it back: no allocation
  EXPECT_EQ(out, "250 2.0.0 Ok\r\n");
}

TEST(ServerSession, PartialWritesWithConsumeOutput) {
  ServerSession s{ServerOptions{}};
  s.Start();
  EXPECT_EQ(s.output(), "220 localhost ESMTP posthorn\r\n");
  s.ConsumeOutput(4);
  EXPECT_EQ(s.output(), "localhost ESMTP posthorn\r\n");
  s.ConsumeOutput(1000);
  EXPECT_FALSE(s.has_output());
}

TEST(ServerSession, ProtocolNames) {
  ServerOptions o;
  o.tls_available = true;
  o.auth_enabled = true;
  ServerSession s{o};
  Greet(s);
  EXPECT_EQ(s.protocol_name(), "SMTP");
  ASSERT_EQ(FeedCopy(s, "EHLO c\r\n"), 8u);
  EXPECT_EQ(s.protocol_name(), "ESMTP");
  ASSERT_EQ(FeedCopy(s, "STARTTLS\r\n"), 10u);
  while (auto e = s.NextEvent()) {
  }
  s.OnTlsStarted();
  EXPECT_TRUE(s.tls_active());
  EXPECT_EQ(s.protocol_name(), "SMTP");  // EHLO again after TLS
  ASSERT_EQ(FeedCopy(s, "EHLO c\r\n"), 8u);
  EXPECT_EQ(s.protocol_name(), "ESMTPS");
  ASSERT_EQ(FeedCopy(s, "AUTH PLAIN AHUAcA==\r\n"), 21u);
  while (auto e = s.NextEvent()) {
    if (e->needs_answer) {
      EXPECT_EQ(e->username, "u");
      EXPECT_EQ(e->password, "p");
      s.Answer(Verdict::Accept());
    }
  }
  EXPECT_TRUE(s.authenticated());
  EXPECT_EQ(s.authenticated_user(), "u");
  EXPECT_EQ(s.protocol_name(), "ESMTPSA");

  ServerOptions plain;
  plain.auth_enabled = true;
  plain.allow_plaintext_auth = true;
  ServerSession p{plain};
  Greet(p);
  ASSERT_EQ(FeedCopy(p, "EHLO c\r\n"), 8u);
  ASSERT_EQ(FeedCopy(p, "AUTH PLAIN AHUAcA==\r\n"), 21u);
  while (auto e = p.NextEvent()) {
    if (e->needs_answer) p.Answer(Verdict::Accept());
  }
  EXPECT_EQ(p.protocol_name(), "ESMTPA");
}

TEST(ServerSession, StartTlsDiscardsTheRestOfTheChunk) {
  ServerOptions o;
  o.tls_available = true;
  o.reject_improper_pipelining = false;
  ServerSession s{o};
  Greet(s);
  ASSERT_EQ(FeedCopy(s, "EHLO c\r\n"), 8u);
  s.TakeOutput();
  const std::string chunk = "STARTTLS\r\nMAIL FROM:<evil@x.example>\r\nRC";
  EXPECT_EQ(FeedCopy(s, chunk), chunk.size());
  EXPECT_EQ(s.TakeOutput(), "220 2.0.0 Ready to start TLS\r\n");
  // Plaintext between the 220 and the handshake is dropped as well.
  EXPECT_EQ(FeedCopy(s, "PT TO:<x@y.example>\r\n"), 21u);
  EXPECT_FALSE(s.has_output());
  s.OnTlsStarted();
  ASSERT_EQ(FeedCopy(s, "NOOP\r\n"), 6u);
  EXPECT_EQ(s.TakeOutput(), "250 2.0.0 Ok\r\n");
  std::vector<EventKind> kinds;
  while (auto e = s.NextEvent()) kinds.push_back(e->kind);
  EXPECT_EQ(kinds, (std::vector<EventKind>{EventKind::kHelo,
                                           EventKind::kStartTls}));
}

TEST(ServerSession, ClosedSessionSwallowsInput) {
  ServerSession s{ServerOptions{}};
  Greet(s);
  s.OnTimeout();
  EXPECT_TRUE(s.closed());
  EXPECT_EQ(s.TakeOutput(), "421 4.4.2 localhost Error: timeout exceeded\r\n");
  EXPECT_EQ(FeedCopy(s, "NOOP\r\n"), 6u);
  EXPECT_FALSE(s.has_output());
  s.OnShutdown();
  EXPECT_FALSE(s.has_output());
}

TEST(ServerSession, HardErrorLimitCountsDriverRejections) {
  ServerOptions o;
  o.limits.hard_error_limit = 3;
  ServerSession s{o};
  Greet(s);
  ASSERT_EQ(FeedCopy(s, "HELO c\r\n"), 8u);
  s.TakeOutput();
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(FeedCopy(s, "MAIL FROM:<a@example.org>\r\n"), 27u);
    while (auto e = s.NextEvent()) {
      if (e->needs_answer) {
        s.Answer(Verdict::Reject(MakeReply(550, "5.7.1", "no")));
      }
    }
  }
  EXPECT_TRUE(s.closed());
  EXPECT_EQ(s.TakeOutput(),
            "550 5.7.1 no\r\n550 5.7.1 no\r\n550 5.7.1 no\r\n"
            "421 4.7.0 localhost Error: too many errors\r\n");
}

TEST(ServerSession, HostileConfigurationTextCannotSplitReplies) {
  ServerOptions o;
  o.hostname = "evil\r\n250 injected";
  o.help_lines = {"a\r\nb"};
  ServerSession s{o};
  s.Start();
  EXPECT_EQ(s.TakeOutput(), "220 evil  250 injected ESMTP posthorn\r\n");
  ASSERT_EQ(FeedCopy(s, "HELP\r\n"), 6u);
  EXPECT_EQ(s.TakeOutput(), "214 2.0.0 a  b\r\n");
}

TEST(ServerSession, RefusedStartWithBadReplyFallsBack) {
  ServerSession s{ServerOptions{}};
  Reply r;
  r.code = 42;
  r.lines = {"x"};
  s.StartRefused(r);
  EXPECT_TRUE(s.closed());
  EXPECT_EQ(s.TakeOutput(), "554 5.7.1 Service unavailable\r\n");
}

TEST(FormatReceived, FoldedWithRecipient) {
  ReceivedInfo info;
  info.helo_name = "client.example";
  info.client_address = "192.0.2.1";
  info.client_hostname = "mail.client.example";
  info.by_hostname = "mx.example.org";
  info.protocol = "ESMTPS";
  info.id = "4AbC12";
  info.for_recipient = "bob@example.org";
  info.date = "Tue, 2 Jan 2024 10:00:00 +0000";
  EXPECT_EQ(FormatReceived(info),
            "Received: from client.example (mail.client.example "
            "[192.0.2.1])\r\n"
            "\tby mx.example.org with ESMTPS id 4AbC12\r\n"
            "\tfor <bob@example.org>; Tue, 2 Jan 2024 10:00:00 +0000\r\n");
}

TEST(FormatReceived, WithoutRecipientOrReverseName) {
  ReceivedInfo info;
  info.helo_name = "c";
  info.client_address = "IPv6:::1";
  info.by_hostname = "localhost";
  info.protocol = "SMTP";
  info.date = "Mon, 1 Jan 2024 00:00:00 +0000";
  EXPECT_EQ(FormatReceived(info),
            "Received: from c (unknown [IPv6:::1])\r\n"
            "\tby localhost with SMTP;\r\n"
            "\tMon, 1 Jan 2024 00:00:00 +0000\r\n");
}

TEST(FormatReceived, HostileFieldsCannotBreakTheHeader) {
  ReceivedInfo info;
  info.helo_name = "a)\r\nX-Injected: yes (";
  info.by_hostname = "h";
  info.date = "d\r\n";
  const std::string r = FormatReceived(info);
  EXPECT_EQ(r.find("\r\nX-"), std::string::npos);
  EXPECT_EQ(r,
            "Received: from a???X-Injected:?yes??\r\n\tby h;\r\n\td??\r\n");
}

}  // namespace
}  // namespace posthorn::smtp
