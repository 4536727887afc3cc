// Tests of posthorn/message/builder.h: the shape of the output (CRLF only,
// line lengths), errors, determinism and a golden file, and round trips
// through the MIME parser (mime.h).

#include "posthorn/message/builder.h"

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "posthorn/message/address.h"
#include "posthorn/message/date.h"
#include "posthorn/message/encoded_word.h"
#include "posthorn/message/header.h"
#include "posthorn/message/message_id.h"
#include "posthorn/message/mime.h"

namespace posthorn::message {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

BuildContext FixedContext() {
  BuildContext ctx;
  ctx.now = absl::FromCivil(absl::CivilSecond(2026, 11, 25, 15, 23, 1),
                            absl::UTCTimeZone());
  ctx.zone = absl::FixedTimeZone(2 * 3600);
  ctx.random = 0x3f2a9c1b7d5e8a60ull;
  ctx.hostname = "mx.example.org";
  return ctx;
}

Mailbox Mb(std::string name, std::string local, std::string domain) {
  Mailbox m;
  m.display_name = std::move(name);
  m.local_part = std::move(local);
  m.domain = std::move(domain);
  return m;
}

MessageBuilder Minimal() {
  MessageBuilder b;
  b.SetFrom(Mb("Ana Example", "ana", "example.org"));
  b.AddTo(Mb("", "bo", "example.net"));
  b.SetSubject("Hello");
  return b;
}

std::string BuildOk(const MessageBuilder& b,
                    const BuildContext& ctx = FixedContext()) {
  absl::StatusOr<std::string> out = b.Build(ctx);
  EXPECT_TRUE(out.ok()) << out.status();
  return out.ok() ? *out : std::string();
}

std::string RandomBytes(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng() & 0xFF);
  return s;
}

// Every line end is CRLF; returns the lines (without CRLF).
std::vector<std::string_view> CheckedLines(std::string_view msg) {
  std::vector<std::string_view> lines;
  std::size_t start = 0;
  for (std::size_t i = 0; i < msg.size(); ++i) {
    if (msg[i] == '\r') {
      EXPECT_TRUE(i + 1 < msg.size() && msg[i + 1] == '\n')
          << "bare CR at " << i;
      if (i + 1 < msg.size() && msg[i + 1] == '\n') {
        lines.push_back(msg.substr(start, i - start));
        start = i + 2;
        ++i;
      }
    } else if (msg[i] == '\n') {
      ADD_FAILURE() << "bare LF at " << i;
    }
  }
  if (start < msg.size()) lines.push_back(msg.substr(start));
  return lines;
}

void ExpectLinesAtMost(std::string_view msg, std::size_t limit) {
  for (std::string_view line : CheckedLines(msg)) {
    EXPECT_LE(line.size(), limit) << "line: " << line;
  }
}

std::string HeaderSectionOf(std::string_view msg) {
  std::size_t end = msg.find("\r\n\r\n");
  return std::string(msg.substr(0, end == std::string_view::npos
                                        ? msg.size()
                                        : end + 2));
}

// The unfolded value of the first field `name` of the top-level header.
std::string FieldValue(const Message& m, std::string_view name) {
  const HeaderField* f = m.root().headers.Find(name);
  return f == nullptr ? std::string("<missing>") : f->Unfolded();
}

Message ParseOk(std::string_view msg) {
  absl::StatusOr<Message> m = ParseMessage(msg);
  EXPECT_TRUE(m.ok()) << m.status();
  if (!m.ok()) return Message();
  return *std::move(m);
}

// Parses and checks that the parser found nothing wrong.
Message ParseClean(std::string_view msg) {
  Message m = ParseOk(msg);
  for (const Defect& d : m.defects()) {
    ADD_FAILURE() << "defect " << DefectName(d.kind) << " at " << d.offset
                  << " near: " << msg.substr(d.offset, 60);
  }
  return m;
}

// --- Shape -----------------------------------------------------------------

TEST(BuilderTest, MinimalMessage) {
  std::string msg = BuildOk(Minimal());
  EXPECT_EQ(msg,
            "Date: Wed, 25 Nov 2026 17:23:01 +0200\r\n"
            "From: Ana Example <ana@example.org>\r\n"
            "To: bo@example.net\r\n"
            "Subject: Hello\r\n"
            "Message-ID: " +
                MakeMessageId(FixedContext().now, FixedContext().random,
                              "mx.example.org") +
                "\r\n"
                "MIME-Version: 1.0\r\n"
                "Content-Type: text/plain; charset=us-ascii\r\n"
                "Content-Transfer-Encoding: 7bit\r\n"
                "\r\n");
}

TEST(BuilderTest, AsciiTextIs7BitAndKeptByteForByte) {
  MessageBuilder b = Minimal();
  std::string text = ".leading dot\r\nFrom the start\r\n..\r\n.\r\nend\r\n";
  b.SetText(text);
  std::string msg = BuildOk(b);
  EXPECT_THAT(msg, HasSubstr("Content-Transfer-Encoding: 7bit\r\n"));
  EXPECT_THAT(msg, HasSubstr("charset=us-ascii"));
  EXPECT_EQ(msg.substr(msg.find("\r\n\r\n") + 4), text);
}

TEST(BuilderTest, BareLineEndsInTextBecomeCrlf) {
  MessageBuilder b = Minimal();
  b.SetText("one\ntwo\rthree\r\nfour\n");
  std::string msg = BuildOk(b);
  CheckedLines(msg);
  EXPECT_EQ(msg.substr(msg.find("\r\n\r\n") + 4),
            "one\r\ntwo\r\nthree\r\nfour\r\n");
}

TEST(BuilderTest, NonAsciiTextIsQuotedPrintableUtf8) {
  MessageBuilder b = Minimal();
  b.SetText("Grüße aus Köln\r\n");
  std::string msg = BuildOk(b);
  EXPECT_THAT(msg, HasSubstr("charset=utf-8"));
  EXPECT_THAT(msg, HasSubstr("Content-Transfer-Encoding: quoted-printable"));
  ExpectLinesAtMost(msg, 78);
}

TEST(BuilderTest, LongLineTextIsQuotedPrintable) {
  MessageBuilder b = Minimal();
  std::string text(999, 'x');
  text += "\r\n";
  b.SetText(text);
  std::string msg = BuildOk(b);
  EXPECT_THAT(msg, HasSubstr("Content-Transfer-Encoding: quoted-printable"));
  EXPECT_THAT(msg, HasSubstr("charset=us-ascii"));
  ExpectLinesAtMost(msg, 78);
  // 998 octets is still 7bit.
  b.SetText(std::string(998, 'y'));
  EXPECT_THAT(BuildOk(b), HasSubstr("Content-Transfer-Encoding: 7bit"));
}

TEST(BuilderTest, NoBodyIsAnEmptyTextPart) {
  std::string msg = BuildOk(Minimal());
  EXPECT_TRUE(msg.ends_with("Content-Transfer-Encoding: 7bit\r\n\r\n"));
}

TEST(BuilderTest, LongAsciiSubjectIsFoldedAtWhitespace) {
  MessageBuilder b = Minimal();
  std::string subject;
  for (int i = 0; i < 60; ++i) subject += "word" + std::to_string(i) + " ";
  subject += "end";
  b.SetSubject(subject);
  std::string msg = BuildOk(b);
  ExpectLinesAtMost(HeaderSectionOf(msg), 78);
  EXPECT_THAT(msg, HasSubstr("\r\n word"));
  Message m = ParseClean(msg);
  EXPECT_EQ(DecodeUnstructured(FieldValue(m, "Subject")), subject);
}

// Random words and blanks: every line is at most 78 octets unless it is a
// single word too long to break, and unfolding gives the value back.
TEST(BuilderTest, FoldingPropertiesOnRandomValues) {
  std::mt19937_64 rng(42);
  for (int round = 0; round < 300; ++round) {
    std::string value;
    int words = 1 + static_cast<int>(rng() % 40);
    for (int w = 0; w < words; ++w) {
      if (w > 0) {
        int blanks = 1 + static_cast<int>(rng() % 3);
        for (int k = 0; k < blanks; ++k) value += (rng() % 4 == 0) ? '\t' : ' ';
      }
      std::size_t len = 1 + rng() % (rng() % 8 == 0 ? 120 : 12);
      for (std::size_t k = 0; k < len; ++k) {
        value += static_cast<char>('a' + rng() % 26);
      }
    }
    SCOPED_TRACE(value);
    MessageBuilder b = Minimal();
    b.AddRawHeader("X-Random", value);
    std::string msg = BuildOk(b);
    Message m = ParseClean(msg);
    EXPECT_EQ(FieldValue(m, "X-Random"), value);
    std::string header = HeaderSectionOf(msg);
    std::size_t start = header.find("X-Random:");
    ASSERT_NE(start, std::string::npos);
    std::size_t end = header.find("\r\nMIME-Version:", start);
    bool first = true;
    for (std::string_view line :
         CheckedLines(std::string_view(header).substr(start, end - start))) {
      EXPECT_FALSE(line.find_first_not_of(" \t") == std::string_view::npos)
          << "a line of blanks only";
      if (line.size() <= 78) {
        first = false;
        continue;
      }
      std::string_view word = line;
      if (first) word.remove_prefix(std::string_view("X-Random: ").size());
      word.remove_prefix(std::min(word.size(), word.find_first_not_of(" \t")));
      EXPECT_EQ(word.find_first_of(" \t"), std::string_view::npos)
          << "a long line that could have been folded: " << line;
      first = false;
    }
  }
}

TEST(BuilderTest, UnfoldableFieldOver998IsRefused) {
  MessageBuilder b = Minimal();
  b.AddRawHeader("X-Long", std::string(1200, 'a'));
  absl::StatusOr<std::string> out = b.Build(FixedContext());
  EXPECT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(out.status().message(), HasSubstr("998"));
  // A long run that still fits in 998 octets is written on its own line.
  MessageBuilder c = Minimal();
  std::string value = "short " + std::string(900, 'b') + " tail";
  c.AddRawHeader("X-Long", value);
  std::string msg = BuildOk(c);
  ExpectLinesAtMost(msg, 998);
  EXPECT_EQ(FieldValue(ParseClean(msg), "X-Long"), value);
}

TEST(BuilderTest, ExtraFieldsAreWrittenInOrder) {
  MessageBuilder b = Minimal();
  b.AddRawHeader("In-Reply-To", "<a@b>");
  b.AddRawHeader("References", "<x@y> <a@b>");
  b.AddHeader("X-Note", "Änderung");
  b.AddHeader("Comments", "plain");
  std::string msg = BuildOk(b);
  EXPECT_THAT(msg, HasSubstr("In-Reply-To: <a@b>\r\nReferences: <x@y> <a@b>"
                             "\r\nX-Note: =?"));
  Message m = ParseClean(msg);
  EXPECT_EQ(DecodeUnstructured(FieldValue(m, "X-Note")), "Änderung");
  EXPECT_EQ(FieldValue(m, "Comments"), "plain");
  EXPECT_THAT(msg, HasSubstr("\r\nMIME-Version: 1.0\r\n"));
}

TEST(BuilderTest, BccIsNotWrittenButIsARecipient) {
  MessageBuilder b = Minimal();
  b.AddCc(Mb("", "cc", "example.net"));
  b.AddBcc(Mb("Hidden", "secret", "example.com"));
  std::string msg = BuildOk(b);
  EXPECT_THAT(msg, Not(HasSubstr("secret")));
  EXPECT_THAT(msg, Not(HasSubstr("Bcc")));
  std::vector<Mailbox> r = b.Recipients();
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].Address(), "bo@example.net");
  EXPECT_EQ(r[1].Address(), "cc@example.net");
  EXPECT_EQ(r[2].Address(), "secret@example.com");
}

TEST(BuilderTest, DateAndMessageIdOverrides) {
  MessageBuilder b = Minimal();
  absl::Time date = absl::FromUnixSeconds(1'000'000'000);
  b.SetDate(date);
  b.SetMessageId("<fixed.1@example.org>");
  const std::string msg = BuildOk(b);
  Message m = ParseClean(msg);
  EXPECT_EQ(FieldValue(m, "Message-ID"), "<fixed.1@example.org>");
  EXPECT_EQ(ParseDate(FieldValue(m, "Date")), date);
}

TEST(BuilderTest, HostnameCannotInjectFields) {
  BuildContext ctx = FixedContext();
  ctx.hostname = "evil.example\r\nBcc: victim@example.com";
  std::string msg = BuildOk(Minimal(), ctx);
  CheckedLines(msg);
  Message m = ParseClean(msg);
  EXPECT_EQ(m.root().headers.Find("Bcc"), nullptr);
  EXPECT_THAT(msg, Not(HasSubstr("victim")));
}

// The sample of docs/builder.md, with designated initializers.
TEST(BuilderTest, DocumentationSample) {
  std::string pdf = RandomBytes(2000, 9);
  MessageBuilder b;
  b.SetFrom({.display_name = "Jürgen Müller", .local_part = "juergen",
             .domain = "example.de"});
  b.AddTo({.display_name = "Ana", .local_part = "ana",
           .domain = "example.org"});
  b.AddBcc({.display_name = "", .local_part = "archive",
            .domain = "example.de"});
  b.SetSubject("Grüße: der Bericht");
  b.AddRawHeader("In-Reply-To", "<previous.1@example.org>");
  b.SetText("Hallo Ana,\r\n\r\nanbei der Bericht.\r\n");
  b.SetHtml("<p>Hallo Ana,</p><p>anbei der Bericht.</p>\r\n");
  b.AddAttachment("Bericht Q3.pdf", "application/pdf",
                  BodySource::Borrowed(pdf));
  absl::StatusOr<std::string> mail =
      b.Build({.now = absl::FromUnixSeconds(1'700'000'000),
               .zone = absl::UTCTimeZone(),
               .random = 7,
               .hostname = "mx.example.de"});
  ASSERT_TRUE(mail.ok()) << mail.status();
  Message m = ParseClean(*mail);
  ASSERT_EQ(m.Leaves().size(), 3u);
  EXPECT_EQ(DecodeBodyToString(*m.Leaves()[2].second), pdf);
  EXPECT_EQ(m.Leaves()[2].second->Filename(), "Bericht Q3.pdf");
}

// --- Errors ----------------------------------------------------------------

void ExpectInvalid(const MessageBuilder& b, std::string_view fragment) {
  bool called = false;
  absl::Status st = b.Build(FixedContext(),
                            [&](std::string_view) { called = true; });
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << st;
  EXPECT_THAT(std::string(st.message()), HasSubstr(std::string(fragment)));
  EXPECT_FALSE(called) << "nothing may be written before an error";
}

TEST(BuilderErrorTest, EmptyFrom) {
  MessageBuilder b;
  b.AddTo(Mb("", "bo", "example.net"));
  ExpectInvalid(b, "From is empty");
}

TEST(BuilderErrorTest, SeveralFromNeedSender) {
  MessageBuilder b = Minimal();
  b.AddFrom(Mb("", "two", "example.org"));
  ExpectInvalid(b, "Sender");
  b.SetSender(Mb("", "sec", "example.org"));
  const std::string msg = BuildOk(b);
  Message m = ParseClean(msg);
  EXPECT_EQ(ParseAddressList(FieldValue(m, "From")).Mailboxes().size(), 2u);
  EXPECT_EQ(FieldValue(m, "Sender"), "sec@example.org");
}

TEST(BuilderErrorTest, HeaderInjectionIsRefused) {
  const std::string evil[] = {"x\r\nBcc: victim@example.com", "x\nBcc: v@e",
                              "x\rBcc: v@e", std::string("x\0y", 3)};
  for (const std::string& e : evil) {
    SCOPED_TRACE(e);
    {
      MessageBuilder b = Minimal();
      b.SetSubject(e);
      ExpectInvalid(b, "Subject");
    }
    {
      MessageBuilder b = Minimal();
      b.AddTo(Mb(e, "a", "example.org"));
      ExpectInvalid(b, "display name");
    }
    {
      MessageBuilder b = Minimal();
      b.AddCc(Mb("", e, "example.org"));
      ExpectInvalid(b, "CR, LF or NUL");
    }
    {
      MessageBuilder b = Minimal();
      b.AddTo(Mb("", "a", "example.org" + e));
      ExpectInvalid(b, "CR, LF or NUL");
    }
    {
      MessageBuilder b = Minimal();
      b.AddBcc(Mb("", "a" + e, "example.org"));
      ExpectInvalid(b, "Bcc");
    }
    {
      MessageBuilder b = Minimal();
      b.AddHeader("X-Test", e);
      ExpectInvalid(b, "X-Test");
    }
    {
      MessageBuilder b = Minimal();
      b.AddRawHeader("X-Test", e);
      ExpectInvalid(b, "X-Test");
    }
    {
      MessageBuilder b = Minimal();
      b.AddAttachment(e, "application/octet-stream", BodySource::Owned("x"));
      ExpectInvalid(b, "filename");
    }
    {
      MessageBuilder b = Minimal();
      b.SetBody(MimeEntity::Text("hi").SetParameter("format", e));
      ExpectInvalid(b, "format");
    }
    {
      MessageBuilder b = Minimal();
      b.SetBody(MimeEntity::Text("hi").AddHeader("Content-ID", e));
      ExpectInvalid(b, "Content-ID");
    }
  }
}

TEST(BuilderErrorTest, InvalidFieldNames) {
  for (std::string_view name : {"", "Bad Name", "X:Y", "Caf\xC3\xA9", "X\x01"}) {
    SCOPED_TRACE(name);
    MessageBuilder b = Minimal();
    b.AddHeader(name, "v");
    ExpectInvalid(b, "invalid header field name");
    MessageBuilder c = Minimal();
    c.SetBody(MimeEntity::Text("x").AddHeader(name, "v"));
    ExpectInvalid(c, "invalid header field name");
  }
}

TEST(BuilderErrorTest, FieldsTheBuilderWritesCannotBeAdded) {
  for (std::string_view name :
       {"Date", "from", "TO", "Cc", "Bcc", "Subject", "Message-Id",
        "MIME-Version", "Content-Type", "content-transfer-encoding",
        "Sender", "Reply-To"}) {
    SCOPED_TRACE(name);
    MessageBuilder b = Minimal();
    b.AddRawHeader(name, "x");
    ExpectInvalid(b, "written by the builder");
  }
  MessageBuilder b = Minimal();
  b.SetBody(MimeEntity::Text("x").AddHeader("Content-Type", "text/html"));
  ExpectInvalid(b, "written by the builder");
}

TEST(BuilderErrorTest, BadAddresses) {
  struct Case {
    Mailbox m;
    std::string_view fragment;
  } cases[] = {
      {Mb("", "", "example.org"), "empty local part"},
      {Mb("", "a", ""), "empty domain"},
      {Mb("", "a", "exa mple.org"), "domain"},
      {Mb("", "a", "example..org"), "domain"},
      {Mb("", "a", "example.org>, x@evil"), "domain"},
      {Mb("", "a\x01", "example.org"), "control"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.fragment);
    MessageBuilder b = Minimal();
    b.AddTo(c.m);
    ExpectInvalid(b, c.fragment);
  }
}

TEST(BuilderErrorTest, BadMessageId) {
  for (std::string_view id : {"no-brackets@x", "<no-at>", "<a b@c>", "<@c>"}) {
    MessageBuilder b = Minimal();
    b.SetMessageId(id);
    ExpectInvalid(b, "Message-ID");
  }
}

TEST(BuilderErrorTest, BadTrees) {
  {
    MessageBuilder b = Minimal();
    b.SetBody(MimeEntity::Multipart("mixed"));
    ExpectInvalid(b, "no parts");
  }
  {
    MessageBuilder b = Minimal();
    b.SetBody(MimeEntity::Text("x").AddChild(MimeEntity::Text("y")));
    ExpectInvalid(b, "not a multipart");
  }
  {
    MessageBuilder b = Minimal();
    b.SetBody(MimeEntity::Leaf("application", BodySource::Owned("x")));
    ExpectInvalid(b, "invalid MIME type");
  }
  {
    MessageBuilder b = Minimal();
    b.SetBody(MimeEntity::Leaf("text/pl ain", BodySource::Owned("x")));
    ExpectInvalid(b, "invalid MIME type");
  }
  {
    MessageBuilder b = Minimal();
    b.SetBody(MimeEntity::Multipart("mixed", {MimeEntity::Text("x")})
                  .SetParameter("boundary", "mine"));
    ExpectInvalid(b, "boundary");
  }
  {
    MessageBuilder b = Minimal();
    b.SetBody(MimeEntity::Text("Grüße").SetEncoding(TransferEncoding::k7Bit));
    ExpectInvalid(b, "7bit");
  }
  {
    MessageBuilder b = Minimal();
    b.SetBody(MimeEntity::Leaf("application/x", BodySource::Owned(std::string("a\0b", 3)))
                  .SetEncoding(TransferEncoding::k8Bit));
    ExpectInvalid(b, "8bit");
  }
  {
    MessageBuilder b = Minimal();
    b.SetBody(MimeEntity::Message(BodySource::Owned("Subject: x\r\n\r\n"))
                  .SetEncoding(TransferEncoding::kBase64));
    ExpectInvalid(b, "message/rfc822");
  }
  {
    MessageBuilder b = Minimal();
    b.SetBody(MimeEntity::Text("x").SetEncoding(TransferEncoding::kUnknown));
    ExpectInvalid(b, "unknown");
  }
  {
    MessageBuilder b = Minimal();
    b.SetBody(MimeEntity::Multipart("mixed", {MimeEntity::Text("x")})
                  .SetEncoding(TransferEncoding::kBase64));
    ExpectInvalid(b, "multipart");
  }
  {
    MessageBuilder b = Minimal();
    b.SetText("x");
    b.SetBody(MimeEntity::Text("y"));
    ExpectInvalid(b, "SetBody");
  }
  {
    // Readers cannot be checked for boundaries: never written as is.
    MessageBuilder b = Minimal();
    b.SetBody(MimeEntity::Message(BodySource::FromReader(
        []() -> absl::StatusOr<std::string_view> { return ""; })));
    ExpectInvalid(b, "reader");
  }
  {
    MimeEntity deep = MimeEntity::Text("leaf");
    for (std::size_t i = 0; i < kMaxBuildDepth; ++i) {
      deep = MimeEntity::Multipart("mixed", {std::move(deep)});
    }
    MessageBuilder b = Minimal();
    b.SetBody(std::move(deep));
    ExpectInvalid(b, "deeper");
  }
}

// --- Round trips through the parser ------------------------------------------

TEST(BuilderRoundTripTest, AddressesSubjectDateMessageId) {
  MessageBuilder b;
  Mailbox from = Mb("Jürgen Müller-Lüdenscheidt", "juergen", "example.de");
  b.SetFrom(from);
  std::vector<Mailbox> to = {
      Mb("", "plain", "example.org"),
      Mb("Smith, John", "john.smith", "example.com"),
      Mb("O'Brien \"the\" Boss", "ob", "[192.0.2.1]"),
      Mb("日本語の名前", "nihon", "example.jp"),
  };
  for (const Mailbox& m : to) b.AddTo(m);
  b.AddCc(Mb("", "john doe", "example.org"));    // quoted on output
  b.AddCc(Mb("", "\"a@b\"", "example.org"));     // already quoted
  b.AddReplyTo(Mb("Replies", "reply", "example.org"));
  std::string subject =
      "Ünïcödé subject that is long enough to need several encoded words, "
      "with emoji 📬 and 日本語 and a plain tail that goes on and on";
  b.SetSubject(subject);
  std::string msg = BuildOk(b);
  ExpectLinesAtMost(msg, 78);
  Message m = ParseClean(msg);

  EXPECT_EQ(DecodeUnstructured(FieldValue(m, "Subject")), subject);
  std::vector<Mailbox> got_from =
      ParseAddressList(FieldValue(m, "From")).Mailboxes();
  ASSERT_EQ(got_from.size(), 1u);
  EXPECT_EQ(got_from[0], from);
  std::vector<Mailbox> got_to =
      ParseAddressList(FieldValue(m, "To")).Mailboxes();
  EXPECT_EQ(got_to, to);
  std::vector<Mailbox> got_cc =
      ParseAddressList(FieldValue(m, "Cc")).Mailboxes();
  ASSERT_EQ(got_cc.size(), 2u);
  EXPECT_EQ(got_cc[0].local_part, "\"john doe\"");
  EXPECT_EQ(got_cc[1].local_part, "\"a@b\"");
  EXPECT_EQ(ParseAddressList(FieldValue(m, "Reply-To")).Mailboxes().at(0),
            Mb("Replies", "reply", "example.org"));

  int zone = 0;
  EXPECT_EQ(ParseDate(FieldValue(m, "Date"), &zone, nullptr),
            FixedContext().now);
  EXPECT_EQ(zone, 2 * 3600);
  EXPECT_EQ(FieldValue(m, "Message-ID"),
            MakeMessageId(FixedContext().now, FixedContext().random,
                          FixedContext().hostname));
  EXPECT_EQ(FieldValue(m, "MIME-Version"), "1.0");
}

TEST(BuilderRoundTripTest, ThousandRecipients) {
  std::vector<Mailbox> to;
  for (int i = 0; i < 1000; ++i) {
    to.push_back(Mb(i % 3 == 0 ? "Person Nümber " + std::to_string(i) : "",
                    "user" + std::to_string(i), "example.org"));
  }
  MessageBuilder c;
  c.SetFrom(Mb("", "ana", "example.org"));
  for (const Mailbox& m : to) c.AddTo(m);
  std::string msg = BuildOk(c);
  ExpectLinesAtMost(msg, 78);
  Message m = ParseClean(msg);
  EXPECT_EQ(ParseAddressList(FieldValue(m, "To")).Mailboxes(), to);
}

TEST(BuilderRoundTripTest, AlternativeWithAttachments) {
  MessageBuilder b = Minimal();
  std::string text = "Plain text.\r\n.dot line\r\nFrom here\r\nGrüße\r\n";
  std::string html = "<p>Gr&uuml;&szlig;e</p>\r\n";
  b.SetText(text);
  b.SetHtml(html);
  std::vector<std::string> blobs;
  for (std::size_t n : {0u, 1u, 2u, 3u, 57u, 58u, 1000u, 100'000u}) {
    blobs.push_back(RandomBytes(n, n + 1));
  }
  std::vector<std::string> names;
  for (std::size_t i = 0; i < blobs.size(); ++i) {
    names.push_back(i == 4 ? "a \"quoted\" and back\\slashed " +
                                 std::string(150, 'n') + " name.bin"
                    : i % 2 == 0
                        ? "file" + std::to_string(i) + ".bin"
                        : "Überweisung – Jänner Nr. " + std::to_string(i) +
                              " mit einem sehr langen Namen, der umbricht.pdf");
    b.AddAttachment(names.back(), "application/octet-stream",
                    BodySource::Borrowed(blobs[i]));
  }
  std::string msg = BuildOk(b);
  ExpectLinesAtMost(msg, 78);
  Message m = ParseClean(msg);

  const MimePart& root = m.root();
  EXPECT_TRUE(root.content_type.Is("multipart", "mixed"));
  ASSERT_EQ(root.children.size(), 1 + blobs.size());
  const MimePart& alt = root.children[0];
  EXPECT_TRUE(alt.content_type.Is("multipart", "alternative"));
  ASSERT_EQ(alt.children.size(), 2u);
  EXPECT_TRUE(alt.children[0].content_type.Is("text", "plain"));
  EXPECT_EQ(alt.children[0].Charset(), "utf-8");
  EXPECT_EQ(DecodeBodyToString(alt.children[0]), text);
  EXPECT_TRUE(alt.children[1].content_type.Is("text", "html"));
  EXPECT_EQ(alt.children[1].Charset(), "us-ascii");
  EXPECT_EQ(DecodeBodyToString(alt.children[1]), html);
  for (std::size_t i = 0; i < blobs.size(); ++i) {
    SCOPED_TRACE(i);
    const MimePart& part = root.children[1 + i];
    EXPECT_EQ(part.encoding, TransferEncoding::kBase64);
    ASSERT_TRUE(part.disposition.has_value());
    EXPECT_EQ(part.disposition->type, "attachment");
    EXPECT_EQ(part.Filename(), names[i]);
    EXPECT_EQ(DecodeBodyToString(part), blobs[i]);
  }
  std::vector<std::string> paths;
  for (const auto& [path, part] : m.Leaves()) paths.push_back(path);
  EXPECT_THAT(paths, ::testing::ElementsAre("1.1", "1.2", "2", "3", "4", "5",
                                            "6", "7", "8", "9"));
}

TEST(BuilderRoundTripTest, SingleLeaves) {
  {
    MessageBuilder b = Minimal();
    b.SetHtml("<b>only</b>");
    const std::string msg = BuildOk(b);
  Message m = ParseClean(msg);
    EXPECT_TRUE(m.root().content_type.Is("text", "html"));
    EXPECT_EQ(DecodeBodyToString(m.root()), "<b>only</b>");
  }
  {
    MessageBuilder b = Minimal();
    std::string data = RandomBytes(5000, 7);
    b.AddAttachment("a.bin", "application/octet-stream",
                    BodySource::Owned(data));
    const std::string msg = BuildOk(b);
  Message m = ParseClean(msg);
    EXPECT_TRUE(m.root().content_type.Is("multipart", "mixed"));
    ASSERT_EQ(m.root().children.size(), 1u);
    EXPECT_EQ(DecodeBodyToString(m.root().children[0]), data);
  }
  {
    // A text with a long line and trailing blanks: quoted-printable,
    // decoded exactly.
    MessageBuilder b = Minimal();
    std::string text = std::string(2000, 'z') + " \r\nend\t\r\nno newline ";
    b.SetText(text);
    std::string msg = BuildOk(b);
    ExpectLinesAtMost(msg, 78);
    Message m = ParseClean(msg);
    EXPECT_EQ(m.root().encoding, TransferEncoding::kQuotedPrintable);
    EXPECT_EQ(DecodeBodyToString(m.root()), text);
  }
}

TEST(BuilderRoundTripTest, Rfc822AndReport) {
  MessageBuilder inner = Minimal();
  inner.SetSubject("Inner");
  inner.SetText("Inner body\r\n");
  inner.AddAttachment("x.bin", "application/octet-stream",
                      BodySource::Owned(RandomBytes(300, 3)));
  std::string inner_msg = BuildOk(inner);

  MimeEntity report = MimeEntity::Multipart("report");
  report.SetParameter("report-type", "delivery-status");
  report.AddChild(MimeEntity::Text("Your message could not be delivered.\r\n"));
  report.AddChild(MimeEntity::Leaf(
      "message/delivery-status",
      BodySource::Owned("Reporting-MTA: dns; mx.example.org\r\n\r\n"
                        "Final-Recipient: rfc822; bo@example.net\r\n"
                        "Action: failed\r\nStatus: 5.1.1\r\n")));
  report.AddChild(MimeEntity::Message(BodySource::Borrowed(inner_msg)));
  MessageBuilder b = Minimal();
  b.SetBody(std::move(report));
  std::string msg = BuildOk(b);
  Message m = ParseClean(msg);

  const MimePart& root = m.root();
  EXPECT_TRUE(root.content_type.Is("multipart", "report"));
  ASSERT_NE(root.content_type.parameters.Find("report-type"), nullptr);
  EXPECT_EQ(*root.content_type.parameters.Find("report-type"),
            "delivery-status");
  ASSERT_EQ(root.children.size(), 3u);
  EXPECT_TRUE(root.children[1].content_type.Is("message", "delivery-status"));
  const MimePart& rfc822 = root.children[2];
  EXPECT_TRUE(rfc822.content_type.Is("message", "rfc822"));
  EXPECT_EQ(rfc822.body, inner_msg);
  ASSERT_EQ(rfc822.children.size(), 1u);
  const MimePart& enclosed = rfc822.children[0];
  EXPECT_TRUE(enclosed.content_type.Is("multipart", "mixed"));
  ASSERT_EQ(enclosed.children.size(), 2u);
  EXPECT_EQ(DecodeBodyToString(enclosed.children[1]), RandomBytes(300, 3));
  // The inner message has its own boundary, distinct from the outer one.
  EXPECT_NE(enclosed.content_type.parameters.Find("boundary"), nullptr);
  EXPECT_NE(*enclosed.content_type.parameters.Find("boundary"),
            *root.content_type.parameters.Find("boundary"));
}

TEST(BuilderRoundTripTest, EightBitMessageAttachment) {
  std::string inner = "Subject: x\nContent-Type: text/plain; charset=utf-8\n"
                      "\nGrüße\n";
  MessageBuilder b = Minimal();
  b.SetText("see attached\r\n");
  b.AddAttachment("fwd.eml", "message/rfc822", BodySource::Borrowed(inner));
  std::string msg = BuildOk(b);
  CheckedLines(msg);
  Message m = ParseClean(msg);
  const MimePart& part = m.root().children.at(1);
  EXPECT_EQ(part.encoding, TransferEncoding::k8Bit);
  EXPECT_EQ(part.body,
            "Subject: x\r\nContent-Type: text/plain; charset=utf-8\r\n"
            "\r\nGrüße\r\n");
}

// --- Boundaries --------------------------------------------------------------

std::string BoundaryOf(const Message& m) {
  const std::string* b = m.root().content_type.parameters.Find("boundary");
  return b == nullptr ? std::string() : *b;
}

TEST(BuilderBoundaryTest, CollisionWithABodyIsAvoided) {
  MessageBuilder b = Minimal();
  b.SetText("first\r\n");
  b.SetHtml("<p>first</p>");
  b.AddAttachment("a.txt", "text/plain", BodySource::Owned("data"));
  std::string first = BuildOk(b);
  Message m1 = ParseClean(first);
  std::string outer = BoundaryOf(m1);
  std::string inner = *m1.root().children[0].content_type.parameters.Find(
      "boundary");
  ASSERT_FALSE(outer.empty());
  ASSERT_NE(outer, inner);

  // Now the text holds both boundaries, at the start of a line and as a
  // closing delimiter: the builder must pick others.
  std::string hostile = "--" + outer + "\r\n--" + inner + "--\r\n" + inner +
                        outer + "\r\n";
  b.SetText(hostile);
  std::string second = BuildOk(b);
  Message m2 = ParseClean(second);
  std::string outer2 = BoundaryOf(m2);
  std::string inner2 = *m2.root().children[0].content_type.parameters.Find(
      "boundary");
  EXPECT_NE(outer2, outer);
  EXPECT_NE(outer2, inner);
  EXPECT_NE(inner2, outer);
  EXPECT_NE(inner2, inner);
  EXPECT_NE(inner2, outer2);
  EXPECT_EQ(hostile.find(outer2), std::string::npos);
  EXPECT_EQ(hostile.find(inner2), std::string::npos);
  ASSERT_EQ(m2.root().children.size(), 2u);
  EXPECT_EQ(DecodeBodyToString(m2.root().children[0].children[0]), hostile);
  // And deterministically so.
  EXPECT_EQ(BuildOk(b), second);
}

TEST(BuilderBoundaryTest, BoundariesDependOnRandomness) {
  MessageBuilder b = Minimal();
  b.SetText("t");
  b.SetHtml("h");
  BuildContext c1 = FixedContext(), c2 = FixedContext();
  c2.random += 1;
  std::string b1 = BoundaryOf(ParseClean(BuildOk(b, c1)));
  std::string b2 = BoundaryOf(ParseClean(BuildOk(b, c2)));
  EXPECT_FALSE(b1.empty());
  EXPECT_NE(b1, b2);
}

// --- Streaming ---------------------------------------------------------------

TEST(BuilderStreamTest, SinkPiecesMakeTheSameMessage) {
  MessageBuilder b = Minimal();
  b.SetText("hello\r\n");
  std::string big = RandomBytes(1'000'000, 11);
  b.AddAttachment("big.bin", "application/octet-stream",
                  BodySource::Borrowed(big));
  std::string joined;
  std::size_t pieces = 0, largest = 0;
  ASSERT_TRUE(b.Build(FixedContext(), [&](std::string_view p) {
                 joined.append(p);
                 ++pieces;
                 largest = std::max(largest, p.size());
               }).ok());
  EXPECT_EQ(joined, BuildOk(b));
  EXPECT_GT(pieces, 10u);
  EXPECT_LT(largest, 200'000u) << "the encoder works in bounded chunks";
}

TEST(BuilderStreamTest, BorrowedBodyWrittenAsIsIsNotCopied) {
  std::string inner = "Subject: big\r\n\r\n";
  while (inner.size() < 500'000) inner += std::string(900, 'a') + "\r\n";
  MessageBuilder b = Minimal();
  b.SetBody(MimeEntity::Message(BodySource::Borrowed(inner)));
  bool saw_original = false;
  ASSERT_TRUE(b.Build(FixedContext(), [&](std::string_view p) {
                 if (p.data() == inner.data()) saw_original = true;
               }).ok());
  EXPECT_TRUE(saw_original);
}

BodyReader ChunkReader(const std::string* data, std::size_t chunk) {
  auto pos = std::make_shared<std::size_t>(0);
  return [data, chunk, pos]() -> absl::StatusOr<std::string_view> {
    std::string_view rest = std::string_view(*data).substr(*pos);
    rest = rest.substr(0, chunk);
    *pos += rest.size();
    return rest;
  };
}

TEST(BuilderStreamTest, ReaderGivesTheSameOutputAsAString) {
  std::string data = RandomBytes(200'003, 5);
  std::string text = "Grüße, a text from a reader\r\nline two \r\n";
  for (std::size_t chunk : {1u, 2u, 3u, 7u, 57u, 4096u, 1'000'000u}) {
    SCOPED_TRACE(chunk);
    if (chunk == 1 && data.size() > 20'000) {
      // Byte by byte over a smaller body (the big one takes too long).
      std::string small = data.substr(0, 5000);
      MessageBuilder a = Minimal(), r = Minimal();
      a.AddAttachment("a", "application/x", BodySource::Borrowed(small));
      r.AddAttachment("a", "application/x",
                      BodySource::FromReader(ChunkReader(&small, 1)));
      EXPECT_EQ(BuildOk(r), BuildOk(a));
      continue;
    }
    MessageBuilder a = Minimal(), r = Minimal();
    a.AddAttachment("a", "application/x", BodySource::Borrowed(data));
    r.AddAttachment("a", "application/x",
                    BodySource::FromReader(ChunkReader(&data, chunk)));
    EXPECT_EQ(BuildOk(r), BuildOk(a));

    // A text part from a reader is quoted-printable, charset utf-8.
    MessageBuilder t = Minimal();
    t.SetBody(MimeEntity::Leaf("text/plain",
                               BodySource::FromReader(ChunkReader(&text,
                                                                  chunk))));
    std::string msg = BuildOk(t);
    Message m = ParseClean(msg);
    EXPECT_EQ(m.root().encoding, TransferEncoding::kQuotedPrintable);
    EXPECT_EQ(m.root().Charset(), "utf-8");
    EXPECT_EQ(DecodeBodyToString(m.root()), text);
  }
}

TEST(BuilderStreamTest, ReaderErrorStopsTheBuild) {
  MessageBuilder b = Minimal();
  int calls = 0;
  b.AddAttachment("a", "application/x",
                  BodySource::FromReader(
                      [&calls]() -> absl::StatusOr<std::string_view> {
                        if (++calls == 1) return std::string_view("abc");
                        return absl::DataLossError("disk on fire");
                      }));
  absl::StatusOr<std::string> out = b.Build(FixedContext());
  EXPECT_EQ(out.status().code(), absl::StatusCode::kDataLoss);
}

// --- Determinism and the golden file ----------------------------------------

MessageBuilder GoldenBuilder() {
  MessageBuilder b;
  b.SetFrom(Mb("Jürgen Müller", "juergen", "example.de"));
  b.AddTo(Mb("Ana Example", "ana", "example.org"));
  b.AddTo(Mb("", "john doe", "example.org"));
  b.AddCc(Mb("Smith, John", "js", "example.com"));
  b.SetSubject("Grüße aus Köln: der Bericht für das dritte Quartal ist fertig");
  b.AddRawHeader("In-Reply-To", "<previous.1@example.org>");
  b.AddHeader("X-Mailer", "posthorn builder test");
  b.SetText("Hallo Ana,\r\n\r\nanbei der Bericht.\r\n.\r\nFrom Jürgen\r\n");
  b.SetHtml("<p>Hallo Ana,</p>\r\n<p>anbei der Bericht.</p>\r\n");
  std::string data;
  for (int i = 0; i < 300; ++i) data.push_back(static_cast<char>(i * 7));
  b.AddAttachment("Bericht Q3 – Übersicht.pdf", "application/pdf",
                  BodySource::Owned(data));
  b.AddPart(MimeEntity::Text("plain attachment text\r\n")
                .SetDisposition("inline", "notes.txt")
                .AddHeader("Content-Description", "Notizen zum Bericht"));
  return b;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(BuilderGoldenTest, FixedContextGivesTheGoldenBytes) {
  std::string msg = BuildOk(GoldenBuilder());
  EXPECT_EQ(BuildOk(GoldenBuilder()), msg);
  ExpectLinesAtMost(msg, 78);
  ParseClean(msg);

  const char* dir = std::getenv("POSTHORN_TESTDATA");
  ASSERT_NE(dir, nullptr) << "POSTHORN_TESTDATA is not set";
  std::string path = std::string(dir) + "/builder/golden.eml";
  if (std::getenv("POSTHORN_UPDATE_GOLDEN") != nullptr) {
    std::ofstream(path, std::ios::binary) << msg;
  }
  std::string golden = ReadFile(path);
  ASSERT_FALSE(golden.empty()) << "missing " << path;
  EXPECT_EQ(msg, golden);
}

}  // namespace
}  // namespace posthorn::message
