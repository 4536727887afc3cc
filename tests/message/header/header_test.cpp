// Tests of posthorn/message/header.h: the RFC 5322 Appendix A examples, the
// seed messages of tests/data/seed, and malformed input.
//
// Every input is parsed from a copy at the end of an exact-size heap buffer
// (as picohttpparser's tests do), so AddressSanitizer faults on any read past
// its end.

#include "posthorn/message/header.h"

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <ostream>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "posthorn/message/defect.h"

namespace posthorn::message {

void PrintTo(const Defect& d, std::ostream* os) {
  *os << DefectName(d.kind) << "@" << d.offset;
}

namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Pair;

// A copy of the input that ends exactly where its heap block ends.
class Guarded {
 public:
  explicit Guarded(std::string_view s)
      : data_(new char[s.size()]), size_(s.size()) {
    if (size_ != 0) std::memcpy(data_.get(), s.data(), size_);
  }
  std::string_view view() const { return {data_.get(), size_}; }

 private:
  std::unique_ptr<char[]> data_;
  std::size_t size_;
};

// "\n" -> "\r\n", so the examples can be written readably.
std::string Crlf(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '\n') out += '\r';
    out += c;
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> NamesAndValues(
    const HeaderSection& section) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const HeaderField& f : section.fields()) {
    out.emplace_back(std::string(f.name), f.Unfolded());
  }
  return out;
}

std::vector<DefectKind> Kinds(const Defects& defects) {
  std::vector<DefectKind> out;
  for (const Defect& d : defects) out.push_back(d.kind);
  return out;
}

std::string_view Body(std::string_view input, const HeaderSection& s) {
  return input.substr(s.body_offset());
}

// Parses a well-formed example and checks what every well-formed message
// shares: no defects, a separator, offsets that point at the name and value.
struct Parsed {
  explicit Parsed(std::string_view text) : in(text) {
    auto r = ParseHeaderSection(in.view(), &defects);
    EXPECT_TRUE(r.ok()) << r.status();
    if (r.ok()) section = *std::move(r);
    for (const HeaderField& f : section.fields()) {
      EXPECT_EQ(f.offset,
                static_cast<std::size_t>(f.name.data() - in.view().data()));
      EXPECT_EQ(f.value_offset, static_cast<std::size_t>(f.raw_value.data() -
                                                         in.view().data()));
    }
  }
  std::string_view body() const { return Body(in.view(), section); }

  Guarded in;
  Defects defects;
  HeaderSection section;
};

// ---------------------------------------------------------------------------
// RFC 5322 Appendix A

TEST(Rfc5322AppendixA, A1_1_SimpleAddressing) {
  Parsed p(
      Crlf("From: John Doe <jdoe@machine.example>\n"
           "To: Mary Smith <mary@example.net>\n"
           "Subject: Saying Hello\n"
           "Date: Fri, 21 Nov 1997 09:55:06 -0600\n"
           "Message-ID: <1234@local.machine.example>\n"
           "\n"
           "This is a message just to say hello.\n"
           "So, \"Hello\".\n"));
  EXPECT_THAT(NamesAndValues(p.section),
              ElementsAre(Pair("From", "John Doe <jdoe@machine.example>"),
                          Pair("To", "Mary Smith <mary@example.net>"),
                          Pair("Subject", "Saying Hello"),
                          Pair("Date", "Fri, 21 Nov 1997 09:55:06 -0600"),
                          Pair("Message-ID", "<1234@local.machine.example>")));
  EXPECT_THAT(p.defects, IsEmpty());
  EXPECT_TRUE(p.section.has_separator());
  EXPECT_EQ(p.body(), Crlf("This is a message just to say hello.\n"
                           "So, \"Hello\".\n"));
  // raw_value keeps the space after the colon; Unfolded trims it.
  EXPECT_EQ(p.section.fields()[0].raw_value,
            " John Doe <jdoe@machine.example>");
  EXPECT_FALSE(p.section.fields()[0].folded);
  EXPECT_EQ(p.section.fields()[0].offset, 0u);
  EXPECT_EQ(p.section.fields()[0].value_offset, 5u);
  EXPECT_EQ(p.section.fields()[1].offset, 39u);
}

TEST(Rfc5322AppendixA, A1_2_DifferentTypesOfMailboxes) {
  Parsed p(
      Crlf("From: \"Joe Q. Public\" <john.q.public@example.com>\n"
           "To: Mary Smith <mary@x.test>, jdoe@example.org, Who? <one@y.test>\n"
           "Cc: <boss@nil.test>, \"Giant; \\\"Big\\\" Box\" "
           "<sysservices@example.net>\n"
           "Date: Tue, 1 Jul 2003 10:52:37 +0200\n"
           "Message-ID: <5678.21-Nov-1997@example.com>\n"
           "\n"
           "Hi everyone.\n"));
  EXPECT_THAT(
      NamesAndValues(p.section),
      ElementsAre(
          Pair("From", "\"Joe Q. Public\" <john.q.public@example.com>"),
          Pair("To",
               "Mary Smith <mary@x.test>, jdoe@example.org, Who? <one@y.test>"),
          Pair("Cc",
               "<boss@nil.test>, \"Giant; \\\"Big\\\" Box\" "
               "<sysservices@example.net>"),
          Pair("Date", "Tue, 1 Jul 2003 10:52:37 +0200"),
          Pair("Message-ID", "<5678.21-Nov-1997@example.com>")));
  EXPECT_THAT(p.defects, IsEmpty());
  EXPECT_EQ(p.body(), "Hi everyone.\r\n");
}

TEST(Rfc5322AppendixA, A1_3_GroupAddresses) {
  Parsed p(Crlf(
      "From: Pete <pete@silly.example>\n"
      "To: A Group:Ed Jones <c@a.test>,joe@where.test,John <jdoe@one.test>;\n"
      "Cc: Undisclosed recipients:;\n"
      "Date: Thu, 13 Feb 1969 23:32:54 -0330\n"
      "Message-ID: <testabcd.1234@silly.example>\n"
      "\n"
      "Testing.\n"));
  EXPECT_THAT(
      NamesAndValues(p.section),
      ElementsAre(Pair("From", "Pete <pete@silly.example>"),
                  Pair("To",
                       "A Group:Ed Jones <c@a.test>,joe@where.test,John "
                       "<jdoe@one.test>;"),
                  Pair("Cc", "Undisclosed recipients:;"),
                  Pair("Date", "Thu, 13 Feb 1969 23:32:54 -0330"),
                  Pair("Message-ID", "<testabcd.1234@silly.example>")));
  EXPECT_THAT(p.defects, IsEmpty());
  EXPECT_EQ(p.body(), "Testing.\r\n");
}

TEST(Rfc5322AppendixA, A2_ReplyMessages) {
  Parsed reply(
      Crlf("From: Mary Smith <mary@example.net>\n"
           "To: John Doe <jdoe@machine.example>\n"
           "Reply-To: \"Mary Smith: Personal Account\" <smith@home.example>\n"
           "Subject: Re: Saying Hello\n"
           "Date: Fri, 21 Nov 1997 10:01:10 -0600\n"
           "Message-ID: <3456@example.net>\n"
           "In-Reply-To: <1234@local.machine.example>\n"
           "References: <1234@local.machine.example>\n"
           "\n"
           "This is a reply to your hello.\n"));
  EXPECT_THAT(
      NamesAndValues(reply.section),
      ElementsAre(Pair("From", "Mary Smith <mary@example.net>"),
                  Pair("To", "John Doe <jdoe@machine.example>"),
                  Pair("Reply-To",
                       "\"Mary Smith: Personal Account\" <smith@home.example>"),
                  Pair("Subject", "Re: Saying Hello"),
                  Pair("Date", "Fri, 21 Nov 1997 10:01:10 -0600"),
                  Pair("Message-ID", "<3456@example.net>"),
                  Pair("In-Reply-To", "<1234@local.machine.example>"),
                  Pair("References", "<1234@local.machine.example>")));
  EXPECT_THAT(reply.defects, IsEmpty());
  EXPECT_EQ(reply.body(), "This is a reply to your hello.\r\n");

  Parsed reply2(
      Crlf("To: \"Mary Smith: Personal Account\" <smith@home.example>\n"
           "From: John Doe <jdoe@machine.example>\n"
           "Subject: Re: Saying Hello\n"
           "Date: Fri, 21 Nov 1997 11:00:00 -0600\n"
           "Message-ID: <abcd.1234@local.machine.test>\n"
           "In-Reply-To: <3456@example.net>\n"
           "References: <1234@local.machine.example> <3456@example.net>\n"
           "\n"
           "This is a reply to your reply.\n"));
  ASSERT_EQ(reply2.section.size(), 7u);
  EXPECT_EQ(reply2.section.fields()[0].name, "To");
  ASSERT_NE(reply2.section.Find("references"), nullptr);
  EXPECT_EQ(reply2.section.Find("references")->Unfolded(),
            "<1234@local.machine.example> <3456@example.net>");
  EXPECT_EQ(reply2.section.Find("IN-REPLY-TO")->Unfolded(),
            "<3456@example.net>");
  EXPECT_THAT(reply2.defects, IsEmpty());
  EXPECT_EQ(reply2.body(), "This is a reply to your reply.\r\n");
}

TEST(Rfc5322AppendixA, A3_ResentMessages) {
  Parsed p(
      Crlf("Resent-From: Mary Smith <mary@example.net>\n"
           "Resent-To: Jane Brown <j-brown@other.example>\n"
           "Resent-Date: Mon, 24 Nov 1997 14:22:01 -0800\n"
           "Resent-Message-ID: <78910@example.net>\n"
           "From: John Doe <jdoe@machine.example>\n"
           "To: Mary Smith <mary@example.net>\n"
           "Subject: Saying Hello\n"
           "Date: Fri, 21 Nov 1997 09:55:06 -0600\n"
           "Message-ID: <1234@local.machine.example>\n"
           "\n"
           "This is a message just to say hello.\n"
           "So, \"Hello\".\n"));
  EXPECT_THAT(
      NamesAndValues(p.section),
      ElementsAre(Pair("Resent-From", "Mary Smith <mary@example.net>"),
                  Pair("Resent-To", "Jane Brown <j-brown@other.example>"),
                  Pair("Resent-Date", "Mon, 24 Nov 1997 14:22:01 -0800"),
                  Pair("Resent-Message-ID", "<78910@example.net>"),
                  Pair("From", "John Doe <jdoe@machine.example>"),
                  Pair("To", "Mary Smith <mary@example.net>"),
                  Pair("Subject", "Saying Hello"),
                  Pair("Date", "Fri, 21 Nov 1997 09:55:06 -0600"),
                  Pair("Message-ID", "<1234@local.machine.example>")));
  // "From" does not match "Resent-From", and vice versa.
  EXPECT_EQ(p.section.Find("from"), &p.section.fields()[4]);
  EXPECT_EQ(p.section.Find("resent-from"), &p.section.fields()[0]);
  EXPECT_EQ(p.section.Count("Message-ID"), 1u);
  EXPECT_THAT(p.defects, IsEmpty());
}

TEST(Rfc5322AppendixA, A4_MessagesWithTraceFields) {
  Parsed p(Crlf(
      "Received: from x.y.test\n"
      "   by example.net\n"
      "   via TCP\n"
      "   with ESMTP\n"
      "   id ABC12345\n"
      "   for <mary@example.net>;  21 Nov 1997 10:05:43 -0600\n"
      "Received: from node.example by x.y.test; 21 Nov 1997 10:01:22 -0600\n"
      "From: John Doe <jdoe@node.example>\n"
      "To: Mary Smith <mary@example.net>\n"
      "Subject: Saying Hello\n"
      "Date: Fri, 21 Nov 1997 09:55:06 -0600\n"
      "Message-ID: <1234@local.node.example>\n"
      "\n"
      "This is a message just to say hello.\n"
      "So, \"Hello\".\n"));
  ASSERT_EQ(p.section.size(), 7u);
  const HeaderField& first = p.section.fields()[0];
  EXPECT_TRUE(first.folded);
  EXPECT_EQ(first.raw_value,
            " from x.y.test\r\n   by example.net\r\n   via TCP\r\n"
            "   with ESMTP\r\n   id ABC12345\r\n"
            "   for <mary@example.net>;  21 Nov 1997 10:05:43 -0600");
  EXPECT_EQ(first.Unfolded(),
            "from x.y.test   by example.net   via TCP   with ESMTP   id "
            "ABC12345   for <mary@example.net>;  21 Nov 1997 10:05:43 -0600");
  std::string scratch;
  EXPECT_EQ(first.Unfolded(&scratch), first.Unfolded());

  const auto received = p.section.FindAll("received");
  ASSERT_EQ(received.size(), 2u);
  EXPECT_EQ(received[0], &p.section.fields()[0]);
  EXPECT_EQ(received[1], &p.section.fields()[1]);
  EXPECT_FALSE(received[1]->folded);
  EXPECT_EQ(received[1]->Unfolded(),
            "from node.example by x.y.test; 21 Nov 1997 10:01:22 -0600");
  EXPECT_EQ(p.section.Count("RECEIVED"), 2u);
  EXPECT_EQ(p.section.fields()[2].name, "From");
  EXPECT_THAT(p.defects, IsEmpty());
  EXPECT_EQ(p.body(), Crlf("This is a message just to say hello.\n"
                           "So, \"Hello\".\n"));
}

TEST(Rfc5322AppendixA, A5_WhiteSpaceCommentsAndOtherOddities) {
  Parsed p(Crlf(
      "From: Pete(A nice \\) chap) <pete(his account)@silly.test(his host)>\n"
      "To:A Group(Some people)\n"
      "     :Chris Jones <c@(Chris's host.)public.example>,\n"
      "         joe@example.org,\n"
      "  John <jdoe@one.test> (my dear friend); (the end of the group)\n"
      "Cc:(Empty list)(start)Hidden recipients  :(nobody(that I know))  ;\n"
      "Date: Thu,\n"
      "      13\n"
      "        Feb\n"
      "          1969\n"
      "      23:32\n"
      "               -0330 (Newfoundland Time)\n"
      "Message-ID:              <testabcd.1234@silly.test>\n"
      "\n"
      "Testing.\n"));
  EXPECT_THAT(
      NamesAndValues(p.section),
      ElementsAre(
          Pair("From",
               "Pete(A nice \\) chap) <pete(his account)@silly.test(his "
               "host)>"),
          Pair("To",
               "A Group(Some people)     :Chris Jones <c@(Chris's "
               "host.)public.example>,         joe@example.org,  John "
               "<jdoe@one.test> (my dear friend); (the end of the group)"),
          Pair("Cc",
               "(Empty list)(start)Hidden recipients  :(nobody(that I know)) "
               " ;"),
          Pair("Date",
               "Thu,      13        Feb          1969      23:32        "
               "       -0330 (Newfoundland Time)"),
          Pair("Message-ID", "<testabcd.1234@silly.test>")));
  EXPECT_TRUE(p.section.Find("To")->folded);
  EXPECT_TRUE(p.section.Find("Date")->folded);
  EXPECT_FALSE(p.section.Find("Cc")->folded);
  // No space after the colon: the value starts right after it.
  EXPECT_EQ(p.section.Find("Cc")->raw_value.substr(0, 12), "(Empty list)");
  EXPECT_THAT(p.defects, IsEmpty());
  EXPECT_EQ(p.body(), "Testing.\r\n");
}

TEST(Rfc5322AppendixA, A6_1_ObsoleteAddressing) {
  Parsed p(Crlf(
      "From: Joe Q. Public <john.q.public@example.com>\n"
      "To: Mary Smith <@node.test:mary@example.net>, , jdoe@test  . example\n"
      "Date: Tue, 1 Jul 2003 10:52:37 +0200\n"
      "Message-ID: <5678.21-Nov-1997@example.com>\n"
      "\n"
      "Hi everyone.\n"));
  EXPECT_THAT(
      NamesAndValues(p.section),
      ElementsAre(
          Pair("From", "Joe Q. Public <john.q.public@example.com>"),
          Pair("To",
               "Mary Smith <@node.test:mary@example.net>, , jdoe@test  . "
               "example"),
          Pair("Date", "Tue, 1 Jul 2003 10:52:37 +0200"),
          Pair("Message-ID", "<5678.21-Nov-1997@example.com>")));
  EXPECT_THAT(p.defects, IsEmpty());
  EXPECT_EQ(p.body(), "Hi everyone.\r\n");
}

TEST(Rfc5322AppendixA, A6_2_ObsoleteDates) {
  Parsed p(
      Crlf("From: John Doe <jdoe@machine.example>\n"
           "To: Mary Smith <mary@example.net>\n"
           "Subject: Saying Hello\n"
           "Date: 21 Nov 97 09:55:06 GMT\n"
           "Message-ID: <1234@local.machine.example>\n"
           "\n"
           "This is a message just to say hello.\n"
           "So, \"Hello\".\n"));
  ASSERT_EQ(p.section.size(), 5u);
  EXPECT_EQ(p.section.Find("date")->Unfolded(), "21 Nov 97 09:55:06 GMT");
  EXPECT_THAT(p.defects, IsEmpty());
}

TEST(Rfc5322AppendixA, A6_3_ObsoleteWhiteSpaceAndComments) {
  // The line after "To" holds two spaces only (obs-FWS); the RFC can only
  // show it as an empty-looking line.
  const std::string text = Crlf(
      "From  : John Doe <jdoe@machine(comment).  example>\n"
      "To    : Mary Smith\n"
      "  \n"
      "          <mary@example.net>\n"
      "Subject     : Saying Hello\n"
      "Date  : Fri, 21 Nov 1997 09(comment):   55  :  06 -0600\n"
      "Message-ID  : <1234   @   local(blah)  .machine .example>\n"
      "\n"
      "This is a message just to say hello.\n"
      "So, \"Hello\".\n");
  Guarded in(text);
  Defects defects;
  auto r = ParseHeaderSection(in.view(), &defects);
  ASSERT_TRUE(r.ok()) << r.status();
  // "From  :" is a field with WSP before the colon, not an mbox separator.
  EXPECT_THAT(
      NamesAndValues(*r),
      ElementsAre(
          Pair("From", "John Doe <jdoe@machine(comment).  example>"),
          Pair("To",
               "Mary Smith" + std::string(12, ' ') + "<mary@example.net>"),
          Pair("Subject", "Saying Hello"),
          Pair("Date", "Fri, 21 Nov 1997 09(comment):   55  :  06 -0600"),
          Pair("Message-ID", "<1234   @   local(blah)  .machine .example>")));
  const HeaderField& to = r->fields()[1];
  EXPECT_TRUE(to.folded);
  EXPECT_EQ(to.raw_value, " Mary Smith\r\n  \r\n          <mary@example.net>");
  // One kWhitespaceBeforeColon per field, at its first WSP.
  ASSERT_EQ(defects.size(), 5u);
  for (std::size_t i = 0; i < defects.size(); ++i) {
    const HeaderField& f = r->fields()[i];
    EXPECT_EQ(defects[i].kind, DefectKind::kWhitespaceBeforeColon);
    EXPECT_EQ(defects[i].offset, f.offset + f.name.size());
    EXPECT_EQ(text[defects[i].offset], ' ');
  }
  EXPECT_EQ(r->Find("message-id"), &r->fields()[4]);
  EXPECT_EQ(Body(in.view(), *r), Crlf("This is a message just to say hello.\n"
                                      "So, \"Hello\".\n"));
}

// ---------------------------------------------------------------------------
// Seed messages (tests/data/seed, taken from the guide).

std::string ReadSeed(const std::string& name) {
  const char* dir = std::getenv("POSTHORN_SEED");
  std::string path;
  if (dir != nullptr) {
    path = std::string(dir) + "/" + name;
  } else {
    const char* data = std::getenv("POSTHORN_TESTDATA");
    path = std::string(data != nullptr ? data : "tests/data") + "/seed/" + name;
  }
  std::ifstream f(path, std::ios::binary);
  EXPECT_TRUE(f.good()) << "cannot open " << path;
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

TEST(SeedMessages, HolaRoot) {
  Parsed p(ReadSeed("hola_root.eml"));
  EXPECT_THAT(NamesAndValues(p.section),
              ElementsAre(Pair("Date", "Sat, 22 May 98 04:22:28 GMT"),
                          Pair("From", "mbone@norba.indexado.com"),
                          Pair("To", "root@Arrakis.com"),
                          Pair("Subject", "Hola root")));
  EXPECT_THAT(p.defects, IsEmpty());
  EXPECT_TRUE(p.section.has_separator());
  EXPECT_EQ(p.body(), "Este es el mensaje\r\n");
}

void ExpectSendmailTest(const std::string& file, std::string_view received,
                        std::string_view message_id, std::string_view date,
                        std::string_view to, std::string_view subject,
                        std::string_view content_length,
                        std::string_view body) {
  SCOPED_TRACE(file);
  const std::string text = ReadSeed(file);
  Parsed p(text);
  EXPECT_THAT(
      NamesAndValues(p.section),
      ElementsAre(
          Pair("Received", std::string(received)),
          Pair("Sender", "gabriel@cybercursos.net"),
          Pair("Message-ID", std::string(message_id)),
          Pair("Date", std::string(date)),
          Pair("From", "Webmaster Cybercursos <gabriel@cybercursos.net>"),
          Pair("Reply-To", "gabriel@cybercursos.net"),
          Pair("X-Mailer", "Mozilla 4.04 [en] (X11; I; Linux 2.0.33 i586)"),
          Pair("MIME-Version", "1.0"), Pair("To", std::string(to)),
          Pair("Subject", std::string(subject)),
          Pair("Content-Type", "text/plain; charset=us-ascii"),
          Pair("Content-Transfer-Encoding", "7bit"), Pair("Status", "R"),
          Pair("X-Mozilla-Status", "0001"),
          Pair("Content-Length", std::string(content_length))));
  EXPECT_THAT(p.defects, IsEmpty());
  // The mbox separator line is skipped: the first field starts after it.
  const std::string mbox_line = "From - Tue May 19 15:22:05 1998\r\n";
  ASSERT_EQ(text.substr(0, mbox_line.size()), mbox_line);
  ASSERT_FALSE(p.section.empty());
  EXPECT_EQ(p.section.fields()[0].offset, mbox_line.size());
  EXPECT_TRUE(p.section.fields()[0].folded);
  EXPECT_EQ(p.section.Count("from"), 1u);
  EXPECT_EQ(p.body(), body);
}

TEST(SeedMessages, ProbandoSendmail1) {
  ExpectSendmailTest(
      "probando_sendmail_1.eml",
      "from cybercursos.net (64.66.177.193) by cybercursos.net        with "
      "ESMTMP (Apple Internet Mail Server 1.1); Fri, 15 May 1998 19:47:54 "
      "+0200",
      "<355C9B60.324F78E1@cybercursos.net>", "Fri, 15 May 1998 19:45:37 +0000",
      "comentarios@cybercursos.net", "probando sendmail 1", "45",
      "Primer mensaje enviado al sendmail de comentarios\r\n");
}

TEST(SeedMessages, Prueba2DelSendmail) {
  ExpectSendmailTest(
      "prueba_2_del_sendmail.eml",
      "from cybercursos.net (64.66.177.193) by cybercursos.net        with "
      "ESMTMP (Apple Internet Mail Server 1.1); Fri, 15 May 1998 19:51:46 "
      "+0200",
      "<355C9C49.53722DA@cybercursos.net>", "Fri, 15 May 1998 19:49:29 +0000",
      "gabriel@cybercursos.net", "prueba 2 del sendmail,", "59",
      "esta prueba debe de fallar al no tener aceptado este host\r\n");
  // Its Content-Length is right.
  EXPECT_EQ(std::string_view("esta prueba debe de fallar al no tener "
                             "aceptado este host\r\n")
                .size(),
            59u);
}

// ---------------------------------------------------------------------------
// Malformed input

struct Outcome {
  explicit Outcome(std::string_view text, const HeaderLimits& limits = {},
                   std::size_t base = 0)
      : in(text),
        result(ParseHeaderSection(in.view(), &defects, limits, base)) {}
  const HeaderSection& section() const { return *result; }

  Guarded in;
  Defects defects;
  absl::StatusOr<HeaderSection> result;
};

TEST(Malformed, EmptyInput) {
  Outcome o("");
  ASSERT_TRUE(o.result.ok());
  EXPECT_TRUE(o.section().empty());
  EXPECT_EQ(o.section().body_offset(), 0u);
  EXPECT_FALSE(o.section().has_separator());
  EXPECT_THAT(o.defects,
              ElementsAre(Defect{DefectKind::kMissingHeaderBodySeparator, 0}));
}

TEST(Malformed, OnlyCrlf) {
  Outcome o("\r\n");
  ASSERT_TRUE(o.result.ok());
  EXPECT_TRUE(o.section().empty());
  EXPECT_EQ(o.section().body_offset(), 2u);
  EXPECT_TRUE(o.section().has_separator());
  EXPECT_THAT(o.defects, IsEmpty());
}

TEST(Malformed, OnlyBareLfOrCr) {
  for (std::string_view text : {"\n", "\r", "\n\r\n", "\rbody"}) {
    SCOPED_TRACE(testing::PrintToString(text));
    Outcome o(text);
    ASSERT_TRUE(o.result.ok());
    EXPECT_TRUE(o.section().empty());
    EXPECT_EQ(o.section().body_offset(), 1u);
    EXPECT_TRUE(o.section().has_separator());
    ASSERT_EQ(o.defects.size(), 1u);
    EXPECT_EQ(o.defects[0].kind,
              text[0] == '\n' ? DefectKind::kBareLf : DefectKind::kBareCr);
    EXPECT_EQ(o.defects[0].offset, 0u);
  }
}

TEST(Malformed, NoSeparator) {
  const std::string text = Crlf("From: a@b.example\nTo: c@d.example\n");
  Outcome o(text);
  ASSERT_TRUE(o.result.ok());
  EXPECT_THAT(
      NamesAndValues(o.section()),
      ElementsAre(Pair("From", "a@b.example"), Pair("To", "c@d.example")));
  EXPECT_FALSE(o.section().has_separator());
  EXPECT_EQ(o.section().body_offset(), text.size());
  EXPECT_THAT(o.defects,
              ElementsAre(Defect{DefectKind::kMissingHeaderBodySeparator,
                                 text.size()}));
}

TEST(Malformed, NoSeparatorNoFinalLineEnd) {
  Outcome o("Subject: unterminated");
  ASSERT_TRUE(o.result.ok());
  EXPECT_THAT(NamesAndValues(o.section()),
              ElementsAre(Pair("Subject", "unterminated")));
  EXPECT_EQ(o.section().body_offset(), 21u);
  EXPECT_THAT(Kinds(o.defects),
              ElementsAre(DefectKind::kMissingHeaderBodySeparator));
}

TEST(Malformed, FoldAtEndOfInput) {
  Outcome o("Subject: a\r\n b\r\n ");
  ASSERT_TRUE(o.result.ok());
  ASSERT_EQ(o.section().size(), 1u);
  EXPECT_EQ(o.section().fields()[0].raw_value, " a\r\n b\r\n ");
  EXPECT_EQ(o.section().fields()[0].Unfolded(), "a b");
  EXPECT_THAT(Kinds(o.defects),
              ElementsAre(DefectKind::kMissingHeaderBodySeparator));
}

TEST(Malformed, LineWithoutColonStartsTheBody) {
  const std::string text =
      Crlf("From: a@b.example\nthis is not a header\nTo: c@d.example\n\nx\n");
  Outcome o(text);
  ASSERT_TRUE(o.result.ok());
  EXPECT_THAT(NamesAndValues(o.section()),
              ElementsAre(Pair("From", "a@b.example")));
  const std::size_t at = text.find("this");
  EXPECT_EQ(o.section().body_offset(), at);
  EXPECT_FALSE(o.section().has_separator());
  EXPECT_THAT(o.defects,
              ElementsAre(Defect{DefectKind::kMissingHeaderBodySeparator, at}));
  EXPECT_EQ(o.section().Find("To"), nullptr);
}

TEST(Malformed, ContinuationBeforeAnyField) {
  const std::string text = Crlf(" folded\n\tagain\nSubject: x\n\nbody");
  Outcome o(text);
  ASSERT_TRUE(o.result.ok());
  EXPECT_THAT(NamesAndValues(o.section()), ElementsAre(Pair("Subject", "x")));
  EXPECT_THAT(o.defects,
              ElementsAre(Defect{DefectKind::kContinuationWithoutField, 0},
                          Defect{DefectKind::kContinuationWithoutField, 9}));
  EXPECT_EQ(Body(o.in.view(), o.section()), "body");
}

TEST(Malformed, InvalidFieldNames) {
  const std::string text = Crlf(
      "Bad Name: skipped\n"
      " and its fold\n"
      "Good: yes\n"
      ":empty name\n"
      "Ctl\x01: x\n"
      "Fr\xe9: eight-bit\n"
      "Also-Good: y\n"
      "\n");
  Outcome o(text);
  ASSERT_TRUE(o.result.ok());
  EXPECT_THAT(NamesAndValues(o.section()),
              ElementsAre(Pair("Good", "yes"), Pair("Also-Good", "y")));
  // The fold of a skipped line is skipped with it, silently.
  EXPECT_THAT(
      o.defects,
      ElementsAre(Defect{DefectKind::kInvalidFieldName, 0},
                  Defect{DefectKind::kInvalidFieldName, text.find(":empty")},
                  Defect{DefectKind::kInvalidFieldName, text.find("Ctl")},
                  Defect{DefectKind::kInvalidFieldName, text.find("Fr\xe9")},
                  Defect{DefectKind::kEightBitInHeader, text.find('\xe9')}));
  EXPECT_TRUE(o.section().has_separator());
}

TEST(Malformed, NulBytes) {
  static constexpr char kText[] =
      "Subject: a\0b\0c\r\nX\0Y: z\r\nTo: t\r\n\r\nb\0dy";
  const std::string text(kText, sizeof(kText) - 1);
  Outcome o(text);
  ASSERT_TRUE(o.result.ok());
  ASSERT_EQ(o.section().size(), 2u);
  EXPECT_EQ(o.section().fields()[0].raw_value, std::string(" a\0b\0c", 6));
  EXPECT_EQ(o.section().fields()[1].name, "To");
  // One per line; the body is not looked at.
  EXPECT_THAT(o.defects, ElementsAre(Defect{DefectKind::kNulByte, 10},
                                     Defect{DefectKind::kInvalidFieldName, 16},
                                     Defect{DefectKind::kNulByte, 17}));
  EXPECT_EQ(Body(o.in.view(), o.section()), std::string("b\0dy", 4));
}

TEST(Malformed, EightBitBytes) {
  const std::string text = Crlf(
      "Subject: caf\xc3\xa9 \xc3\xa9t\xc3\xa9\n"
      " \xc3\xa0 la fold\n"
      "\n");
  Outcome o(text);
  ASSERT_TRUE(o.result.ok());
  ASSERT_EQ(o.section().size(), 1u);
  EXPECT_EQ(o.section().fields()[0].Unfolded(),
            "caf\xc3\xa9 \xc3\xa9t\xc3\xa9 \xc3\xa0 la fold");
  EXPECT_THAT(o.defects,
              ElementsAre(Defect{DefectKind::kEightBitInHeader, 12},
                          Defect{DefectKind::kEightBitInHeader, 23}));
}

// The fixtures of tests/data/malformed (see its README.md).
std::string ReadMalformed(const std::string& name) {
  const char* data = std::getenv("POSTHORN_TESTDATA");
  const std::string path =
      std::string(data != nullptr ? data : "tests/data") + "/malformed/" + name;
  std::ifstream f(path, std::ios::binary);
  EXPECT_TRUE(f.good()) << "cannot open " << path;
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

TEST(Malformed, FixtureFiles) {
  using K = DefectKind;
  struct Row {
    const char* file;
    std::vector<std::string> names;
    std::vector<DefectKind> defects;
    bool separator;
    std::string body;
  };
  const Row rows[] = {
      {"empty.eml", {}, {K::kMissingHeaderBodySeparator}, false, ""},
      {"only_crlf.eml", {}, {}, true, ""},
      {"no_separator.eml",
       {"From", "To", "Subject"},
       {K::kMissingHeaderBodySeparator},
       false,
       ""},
      {"lf_only.eml",
       {"From", "To", "Subject"},
       {K::kBareLf, K::kBareLf, K::kBareLf, K::kBareLf},
       true,
       "body\n"},
      {"cr_only.eml",
       {"From", "To", "Subject"},
       {K::kBareCr, K::kBareCr, K::kBareCr, K::kBareCr},
       true,
       "body\r"},
      {"mixed_line_ends.eml",
       {"From", "To", "Subject"},
       {K::kBareLf, K::kBareCr, K::kBareLf},
       true,
       "body\r\n"},
      {"nul_bytes.eml",
       {"From", "Subject"},
       {K::kNulByte},
       true,
       std::string("bo\0dy\r\n", 7)},
      {"eight_bit_headers.eml",
       {"From", "Subject"},
       {K::kEightBitInHeader, K::kEightBitInHeader},
       true,
       "body\r\n"},
      {"continuation_first.eml",
       {"From", "To", "Subject"},
       {K::kContinuationWithoutField},
       true,
       "body\r\n"},
      {"no_colon_line.eml",
       {"From"},
       {K::kMissingHeaderBodySeparator},
       false,
       "this line has no colon\r\nTo: c@d.example\r\n\r\nbody\r\n"},
      {"invalid_field_names.eml",
       {"From", "To"},
       {K::kInvalidFieldName, K::kInvalidFieldName},
       true,
       "body\r\n"},
      {"whitespace_before_colon.eml",
       {"From", "Subject"},
       {K::kWhitespaceBeforeColon, K::kWhitespaceBeforeColon},
       true,
       "body\r\n"},
      {"long_line.eml",
       {"From", "X-Long"},
       {K::kLineTooLong},
       true,
       "body\r\n"},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.file);
    Outcome o(ReadMalformed(row.file));
    ASSERT_TRUE(o.result.ok()) << o.result.status();
    std::vector<std::string> names;
    for (const HeaderField& f : o.section().fields()) {
      names.emplace_back(f.name);
    }
    EXPECT_EQ(names, row.names);
    EXPECT_EQ(Kinds(o.defects), row.defects);
    EXPECT_EQ(o.section().has_separator(), row.separator);
    EXPECT_EQ(Body(o.in.view(), o.section()), row.body);
  }
}

// Every line-end style gives the same fields and the same body.
TEST(Malformed, LineEndStylesParseAlike) {
  const std::string lf =
      "Received: from a\n\tby b\nSubject: line ends\nX-Empty:\n\nbody\n";
  std::string cr = lf;
  for (char& c : cr) {
    if (c == '\n') c = '\r';
  }
  std::string mixed =
      "Received: from a\r\tby b\nSubject: line ends\r\nX-Empty:\r\rbody\n";
  const std::string crlf = Crlf(lf);

  Outcome reference(crlf);
  ASSERT_TRUE(reference.result.ok());
  EXPECT_THAT(NamesAndValues(reference.section()),
              ElementsAre(Pair("Received", "from a\tby b"),
                          Pair("Subject", "line ends"), Pair("X-Empty", "")));
  EXPECT_THAT(reference.defects, IsEmpty());

  struct Case {
    const std::string* text;
    std::size_t bare_lf, bare_cr;
  };
  for (const Case& c : {Case{&lf, 5, 0}, Case{&cr, 0, 5}, Case{&mixed, 1, 3}}) {
    SCOPED_TRACE(testing::PrintToString(*c.text));
    Outcome o(*c.text);
    ASSERT_TRUE(o.result.ok());
    EXPECT_EQ(NamesAndValues(o.section()), NamesAndValues(reference.section()));
    EXPECT_TRUE(o.section().has_separator());
    EXPECT_EQ(Body(o.in.view(), o.section()).substr(0, 4), "body");
    std::size_t n_lf = 0, n_cr = 0;
    for (const Defect& d : o.defects) {
      if (d.kind == DefectKind::kBareLf) {
        ++n_lf;
        EXPECT_EQ((*c.text)[d.offset], '\n');
      } else if (d.kind == DefectKind::kBareCr) {
        ++n_cr;
        EXPECT_EQ((*c.text)[d.offset], '\r');
      } else {
        ADD_FAILURE() << DefectName(d.kind);
      }
    }
    EXPECT_EQ(n_lf, c.bare_lf);
    EXPECT_EQ(n_cr, c.bare_cr);
  }
}

TEST(Malformed, EmptyValuesAndObsoleteFoldsOfWhiteSpace) {
  Outcome o(Crlf("Subject:\nX-Space: \nX-Obs: a\n \n\t\n b\n\n"));
  ASSERT_TRUE(o.result.ok());
  EXPECT_THAT(NamesAndValues(o.section()),
              ElementsAre(Pair("Subject", ""), Pair("X-Space", ""),
                          Pair("X-Obs", "a \t b")));
  EXPECT_EQ(o.section().fields()[0].raw_value, "");
  EXPECT_EQ(o.section().fields()[1].raw_value, " ");
  EXPECT_THAT(o.defects, IsEmpty());
}

TEST(Malformed, HundredThousandFields) {
  std::string text;
  for (int i = 0; i < 100'000; ++i) text += "X: y\r\n";
  text += "\r\nbody";
  {
    Outcome o(text);
    ASSERT_FALSE(o.result.ok());
    EXPECT_EQ(o.result.status().code(), absl::StatusCode::kResourceExhausted);
    EXPECT_EQ(o.result.status().message(),
              "header section has more than 10000 fields (at offset 60000)");
  }
  {
    HeaderLimits limits;
    limits.max_fields = 100'000;
    Outcome o(text, limits);
    ASSERT_TRUE(o.result.ok()) << o.result.status();
    EXPECT_EQ(o.section().size(), 100'000u);
    EXPECT_EQ(o.section().Count("x"), 100'000u);
    EXPECT_EQ(o.section().FindAll("X").size(), 100'000u);
    EXPECT_EQ(o.section().Find("x"), &o.section().fields()[0]);
    EXPECT_EQ(o.section().Find("y"), nullptr);
    EXPECT_EQ(Body(o.in.view(), o.section()), "body");
    EXPECT_THAT(o.defects, IsEmpty());
  }
  {
    // One more field than allowed is refused; exactly the limit is fine.
    HeaderLimits limits;
    limits.max_fields = 100'000 - 1;
    EXPECT_FALSE(Outcome(text, limits).result.ok());
  }
}

TEST(Malformed, MegabyteLine) {
  const std::string value(1 << 20, 'a');
  const std::string text = "X-Long: " + value + "\r\n\r\n";
  {
    Outcome o(text);
    ASSERT_FALSE(o.result.ok());
    EXPECT_EQ(o.result.status().code(), absl::StatusCode::kResourceExhausted);
    EXPECT_EQ(o.result.status().message(),
              "header field is longer than 262144 bytes (at offset 0)");
  }
  {
    HeaderLimits limits;
    limits.max_field_bytes = 2 << 20;
    Outcome o(text, limits, 100);
    ASSERT_TRUE(o.result.ok()) << o.result.status();
    ASSERT_EQ(o.section().size(), 1u);
    EXPECT_EQ(o.section().fields()[0].Unfolded(), value);
    EXPECT_THAT(o.defects, ElementsAre(Defect{DefectKind::kLineTooLong, 100}));
    EXPECT_EQ(o.section().body_offset(), 100 + text.size());
  }
}

TEST(Malformed, LineLengthBoundary) {
  // 998 octets before the CRLF are allowed; 999 are not.
  const std::string ok = "X: " + std::string(995, 'a') + "\r\n" + " " +
                         std::string(997, 'b') + "\r\n\r\n";
  Outcome o1(ok);
  ASSERT_TRUE(o1.result.ok());
  EXPECT_THAT(o1.defects, IsEmpty());
  const std::string bad = "X: " + std::string(995, 'a') + "\r\n" + " " +
                          std::string(998, 'b') + "\r\n\r\n";
  Outcome o2(bad);
  ASSERT_TRUE(o2.result.ok());
  EXPECT_THAT(o2.defects, ElementsAre(Defect{DefectKind::kLineTooLong, 1000}));
}

TEST(Malformed, FieldLimitCountsFolds) {
  HeaderLimits limits;
  limits.max_field_bytes = 20;
  Outcome ok("Subject: 0123456789\r\n\r\n", limits);  // 19 bytes
  EXPECT_TRUE(ok.result.ok());
  Outcome bad("To: a\r\nSubject: 01234\r\n 6789\r\n\r\n", limits);
  ASSERT_FALSE(bad.result.ok());
  EXPECT_EQ(bad.result.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(bad.result.status().message(),
            "header field is longer than 20 bytes (at offset 7)");
}

TEST(Malformed, SectionLimit) {
  HeaderLimits limits;
  limits.max_section_bytes = 16;
  Outcome ok("A: 1\r\nB: 2\r\n\r\nlong body ....................", limits);
  EXPECT_TRUE(ok.result.ok());
  Outcome bad("A: 1\r\nB: 2\r\nC: 3\r\n\r\n", limits, 5);
  ASSERT_FALSE(bad.result.ok());
  EXPECT_EQ(bad.result.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(bad.result.status().message(),
            "header section is longer than 16 bytes (at offset 17)");
}

TEST(Malformed, BaseOffsetShiftsEverything) {
  const std::string text = "A : 1\nB\xff: 2\n\n";
  Outcome o(text, {}, 1000);
  ASSERT_TRUE(o.result.ok());
  ASSERT_EQ(o.section().size(), 1u);
  EXPECT_EQ(o.section().fields()[0].offset, 1000u);
  EXPECT_EQ(o.section().fields()[0].value_offset, 1003u);
  EXPECT_EQ(o.section().body_offset(), 1000u + text.size());
  EXPECT_THAT(o.defects,
              ElementsAre(Defect{DefectKind::kWhitespaceBeforeColon, 1001},
                          Defect{DefectKind::kBareLf, 1005},
                          Defect{DefectKind::kInvalidFieldName, 1006},
                          Defect{DefectKind::kEightBitInHeader, 1007},
                          Defect{DefectKind::kBareLf, 1011},
                          Defect{DefectKind::kBareLf, 1012}));
}

TEST(Malformed, NullDefectsPointerIsAllowed) {
  Guarded in("\x01: x\nA: b");
  auto r = ParseHeaderSection(in.view(), nullptr);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->size(), 1u);
}

TEST(Mbox, FromLineSkippedOnlyAtTheStart) {
  {
    Outcome o("From alice@example.org Sat May 22 04:22:28 1998\nTo: b\n\n");
    ASSERT_TRUE(o.result.ok());
    EXPECT_THAT(NamesAndValues(o.section()), ElementsAre(Pair("To", "b")));
    EXPECT_THAT(Kinds(o.defects),
                ElementsAre(DefectKind::kBareLf, DefectKind::kBareLf));
  }
  {
    // Not first: a line without colon, so the body starts there.
    Outcome o("To: b\r\nFrom alice Sat May 22\r\n\r\n");
    ASSERT_TRUE(o.result.ok());
    EXPECT_EQ(o.section().size(), 1u);
    EXPECT_EQ(o.section().body_offset(), 7u);
  }
  {
    Outcome o("From \t: obsolete\r\n\r\n");
    ASSERT_TRUE(o.result.ok());
    EXPECT_THAT(NamesAndValues(o.section()),
                ElementsAre(Pair("From", "obsolete")));
  }
  for (std::string_view text : {"From ", "From x", "From x\r\n"}) {
    Outcome o(text);
    ASSERT_TRUE(o.result.ok());
    EXPECT_TRUE(o.section().empty());
    EXPECT_EQ(o.section().body_offset(), text.size());
  }
}

// ---------------------------------------------------------------------------
// Lookups and helpers

TEST(HeaderField, NameIsIgnoresAsciiCaseOnly) {
  HeaderField f;
  f.name = "Content-Type";
  EXPECT_TRUE(f.NameIs("content-type"));
  EXPECT_TRUE(f.NameIs("CONTENT-TYPE"));
  EXPECT_FALSE(f.NameIs("Content-Typ"));
  EXPECT_FALSE(f.NameIs("Content_Type"));
  EXPECT_FALSE(f.NameIs("Content-Type "));
  f.name = "X-\xc9";
  EXPECT_FALSE(f.NameIs("x-\xe9"));  // no case folding outside ASCII
  // '@' and '`' differ by 0x20 but are not letters.
  f.name = "@";
  EXPECT_FALSE(f.NameIs("`"));
}

TEST(HeaderField, UnfoldedWithoutFoldIsAViewOfRawValue) {
  Guarded in("Subject: \t plain value \t\r\n\r\n");
  Defects defects;
  auto r = ParseHeaderSection(in.view(), &defects);
  ASSERT_TRUE(r.ok());
  const HeaderField& f = r->fields()[0];
  std::string scratch = "untouched";
  const std::string_view v = f.Unfolded(&scratch);
  EXPECT_EQ(v, "plain value");
  EXPECT_GE(v.data(), f.raw_value.data());
  EXPECT_LE(v.data() + v.size(), f.raw_value.data() + f.raw_value.size());
  EXPECT_EQ(scratch, "untouched");
}

TEST(HeaderField, UnfoldedWithFoldUsesScratch) {
  Guarded in("Subject: one\r\n two\r\n\tthree \r\n\r\n");
  Defects defects;
  auto r = ParseHeaderSection(in.view(), &defects);
  ASSERT_TRUE(r.ok());
  const HeaderField& f = r->fields()[0];
  std::string scratch = "old contents";
  const std::string_view v = f.Unfolded(&scratch);
  EXPECT_EQ(v, "one two\tthree");
  EXPECT_GE(v.data(), scratch.data());
  EXPECT_LE(v.data() + v.size(), scratch.data() + scratch.size());
  EXPECT_EQ(f.Unfolded(), "one two\tthree");
}

TEST(HeaderSection, FindFindAllCount) {
  Outcome o(Crlf("Received: 1\nSubject: s\nreceived: 2\nRECEIVED: 3\n\n"));
  ASSERT_TRUE(o.result.ok());
  const HeaderSection& s = o.section();
  EXPECT_EQ(s.Find("Received")->Unfolded(), "1");
  EXPECT_EQ(s.Find("sUbJeCt")->Unfolded(), "s");
  EXPECT_EQ(s.Find("Subjec"), nullptr);
  EXPECT_EQ(s.Find(""), nullptr);
  const auto all = s.FindAll("received");
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0]->Unfolded(), "1");
  EXPECT_EQ(all[1]->Unfolded(), "2");
  EXPECT_EQ(all[2]->Unfolded(), "3");
  EXPECT_EQ(s.Count("Received"), 3u);
  EXPECT_EQ(s.Count("To"), 0u);
  EXPECT_THAT(s.FindAll("To"), IsEmpty());

  const HeaderSection empty;
  EXPECT_EQ(empty.Find("To"), nullptr);
  EXPECT_EQ(empty.Count("To"), 0u);
  EXPECT_EQ(empty.body_offset(), 0u);
}

// Large sections use the hash index; it must agree with a plain scan, and
// copies of the section must keep working.
TEST(HeaderSection, IndexedLookupsAgreeWithScan) {
  std::string text;
  constexpr int kNames = 1000;
  for (int i = 0; i < 10'000; ++i) {
    const int n = (i * 7919) % kNames;
    text += (i % 2 ? "x-Name-" : "X-NAME-") + std::to_string(n) + ": " +
            std::to_string(i) + "\r\n";
  }
  text += "\r\n";
  Outcome o(text);
  ASSERT_TRUE(o.result.ok()) << o.result.status();
  const HeaderSection copy = o.section();
  for (const HeaderSection* s : {&o.section(), &copy}) {
    const auto fields = s->fields();
    ASSERT_EQ(fields.size(), 10'000u);
    for (int n = 0; n < kNames; ++n) {
      const std::string name = "x-name-" + std::to_string(n);
      std::vector<const HeaderField*> expected;
      for (const HeaderField& f : fields) {
        if (f.NameIs(name)) expected.push_back(&f);
      }
      ASSERT_FALSE(expected.empty());
      EXPECT_EQ(s->Find(name), expected[0]) << name;
      EXPECT_EQ(s->FindAll(name), expected) << name;
      EXPECT_EQ(s->Count(name), expected.size()) << name;
    }
    EXPECT_EQ(s->Find("x-name-1000"), nullptr);
    EXPECT_EQ(s->Count("x-name"), 0u);
  }
  // Per-field lookups over the whole section stay cheap (this would be
  // 10^8 name comparisons without the index).
  std::size_t total = 0;
  for (const HeaderField& f : o.section().fields()) {
    total += o.section().Count(f.name);
  }
  EXPECT_GT(total, 10'000u);
}

TEST(IsValidFieldName, Ftext) {
  EXPECT_TRUE(IsValidFieldName("Subject"));
  EXPECT_TRUE(IsValidFieldName("X-Mozilla-Status"));
  EXPECT_TRUE(IsValidFieldName("!#$%&'*+-.^_`{|}~09;<=>?@[]\\\"(),/"));
  EXPECT_FALSE(IsValidFieldName(""));
  EXPECT_FALSE(IsValidFieldName("Bad Name"));
  EXPECT_FALSE(IsValidFieldName("a:b"));
  EXPECT_FALSE(IsValidFieldName("tab\t"));
  EXPECT_FALSE(IsValidFieldName("\x7f"));
  EXPECT_FALSE(IsValidFieldName("caf\xc3\xa9"));
  EXPECT_FALSE(IsValidFieldName(std::string_view("a\0b", 3)));
  for (int c = 0; c < 256; ++c) {
    const char ch = static_cast<char>(c);
    EXPECT_EQ(IsValidFieldName(std::string_view(&ch, 1)),
              c >= 33 && c <= 126 && c != ':')
        << c;
  }
}

// ---------------------------------------------------------------------------
// Differential test: the fast parser against a slow, line-by-line reading of
// the rules in header.h, on random inputs built from the bytes that matter.

struct RefResult {
  struct Field {
    std::size_t offset, name_len, value_offset, value_len;
    bool folded;
  };
  std::vector<Field> fields;
  std::size_t body_offset = 0;
  bool has_separator = false;
  Defects defects;
};

bool RefFtext(unsigned char c) { return c >= 33 && c <= 126 && c != ':'; }
bool RefWsp(char c) { return c == ' ' || c == '\t'; }

RefResult ReferenceParse(std::string_view s) {
  RefResult r;
  // [content_end, next) of the line at `pos`, with its line-end defect.
  auto line_end = [&](std::size_t pos, std::size_t* next,
                      std::vector<Defect>* ends) {
    std::size_t e = pos;
    while (e < s.size() && s[e] != '\r' && s[e] != '\n') ++e;
    if (e == s.size()) {
      *next = e;
    } else if (s[e] == '\r' && e + 1 < s.size() && s[e + 1] == '\n') {
      *next = e + 2;
    } else {
      ends->push_back(
          {s[e] == '\r' ? DefectKind::kBareCr : DefectKind::kBareLf, e});
      *next = e + 1;
    }
    return e;
  };
  std::size_t pos = 0;
  if (s.substr(0, 5) == "From ") {
    std::size_t k = 5;
    while (k < s.size() && RefWsp(s[k])) ++k;
    if (k == s.size() || s[k] != ':') {
      std::vector<Defect> ignored;
      line_end(0, &pos, &ignored);
    }
  }
  enum { kNone, kField, kSkipped } open = kNone;
  while (true) {
    if (pos == s.size()) {
      r.defects.push_back({DefectKind::kMissingHeaderBodySeparator, pos});
      r.body_offset = pos;
      return r;
    }
    std::size_t next;
    std::vector<Defect> ends;
    const std::size_t e = line_end(pos, &next, &ends);
    if (e == pos) {
      r.defects.insert(r.defects.end(), ends.begin(), ends.end());
      r.body_offset = next;
      r.has_separator = true;
      return r;
    }
    const std::string_view line = s.substr(pos, e - pos);
    if (RefWsp(line[0])) {
      if (open == kField) {
        auto& f = r.fields.back();
        f.value_len = e - f.value_offset;
        f.folded = true;
      } else if (open == kNone) {
        r.defects.push_back({DefectKind::kContinuationWithoutField, pos});
      }
    } else {
      const std::size_t colon = line.find(':');
      if (colon == std::string_view::npos) {
        r.defects.push_back({DefectKind::kMissingHeaderBodySeparator, pos});
        r.body_offset = pos;
        return r;
      }
      std::size_t name_len = colon;
      while (name_len > 0 && RefWsp(line[name_len - 1])) --name_len;
      bool valid = name_len > 0;
      for (std::size_t i = 0; i < name_len; ++i) {
        valid = valid && RefFtext(static_cast<unsigned char>(line[i]));
      }
      if (valid) {
        if (name_len < colon) {
          r.defects.push_back(
              {DefectKind::kWhitespaceBeforeColon, pos + name_len});
        }
        r.fields.push_back(
            {pos, name_len, pos + colon + 1, e - (pos + colon + 1), false});
        open = kField;
      } else {
        r.defects.push_back({DefectKind::kInvalidFieldName, pos});
        open = kSkipped;
      }
    }
    const std::size_t nul = line.find('\0');
    if (nul != std::string_view::npos) {
      r.defects.push_back({DefectKind::kNulByte, pos + nul});
    }
    for (std::size_t i = 0; i < line.size(); ++i) {
      if (static_cast<unsigned char>(line[i]) >= 0x80) {
        r.defects.push_back({DefectKind::kEightBitInHeader, pos + i});
        break;
      }
    }
    if (line.size() > 998) r.defects.push_back({DefectKind::kLineTooLong, pos});
    r.defects.insert(r.defects.end(), ends.begin(), ends.end());
    pos = next;
  }
}

TEST(Differential, RandomInputsMatchTheReference) {
  std::mt19937 rng(5322);
  // Bytes weighted toward what changes the parse.
  const std::string alphabet =
      std::string("aaaaaXy-Z::::    \t\r\r\n\n\n\x80\xff") +
      std::string(1, '\0') + "\x01";
  const std::string prefixes[] = {"", "", "From ", "From :", "A: "};
  std::size_t checked_fields = 0;
  for (int iter = 0; iter < 30'000; ++iter) {
    std::string text = prefixes[rng() % 5];
    const std::size_t len = rng() % 120;
    for (std::size_t i = 0; i < len; ++i) {
      // Runs of plain letters, so the 16-byte scan takes full blocks.
      if (rng() % 3 == 0) {
        text.append(rng() % 40, 'q');
      } else {
        text += alphabet[rng() % alphabet.size()];
      }
    }
    SCOPED_TRACE(testing::PrintToString(text));
    const RefResult want = ReferenceParse(text);
    Outcome got(text, {}, 3);
    ASSERT_TRUE(got.result.ok());
    const HeaderSection& s = got.section();
    ASSERT_EQ(s.size(), want.fields.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
      const HeaderField& f = s.fields()[i];
      const auto& w = want.fields[i];
      EXPECT_EQ(f.offset, w.offset + 3);
      EXPECT_EQ(f.name, std::string_view(text).substr(w.offset, w.name_len));
      EXPECT_EQ(f.value_offset, w.value_offset + 3);
      EXPECT_EQ(f.raw_value,
                std::string_view(text).substr(w.value_offset, w.value_len));
      EXPECT_EQ(f.folded, w.folded);
      ++checked_fields;
    }
    EXPECT_EQ(s.body_offset(), want.body_offset + 3);
    EXPECT_EQ(s.has_separator(), want.has_separator);
    Defects want_defects = want.defects;
    for (Defect& d : want_defects) d.offset += 3;
    ASSERT_EQ(got.defects, want_defects);
  }
  EXPECT_GT(checked_fields, 10'000u);
}

}  // namespace
}  // namespace posthorn::message
