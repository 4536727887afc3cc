// Tests of posthorn/smtp/command.h: verbs and their arguments, and the
// refusals of bad bytes. Paths: smtp_path_test.cpp; ESMTP parameters:
// smtp_params_test.cpp.

#include <string>
#include <string_view>
#include <variant>

#include "gtest/gtest.h"
#include "posthorn/smtp/command.h"
#include "smtp/syntax/parse_helpers.h"

namespace posthorn::smtp {
namespace {

using testing::Parse;
using testing::Refuse;

TEST(VerbTest, EveryVerbIsRecognizedInAnyCase) {
  struct Case {
    std::string_view line;
    Verb verb;
  };
  const Case cases[] = {
      {"HELO example.com", Verb::kHelo},
      {"EHLO example.com", Verb::kEhlo},
      {"MAIL FROM:<a@b.c>", Verb::kMail},
      {"RCPT TO:<a@b.c>", Verb::kRcpt},
      {"DATA", Verb::kData},
      {"BDAT 10", Verb::kBdat},
      {"RSET", Verb::kRset},
      {"NOOP", Verb::kNoop},
      {"QUIT", Verb::kQuit},
      {"VRFY smith", Verb::kVrfy},
      {"EXPN staff", Verb::kExpn},
      {"HELP", Verb::kHelp},
      {"ETRN example.com", Verb::kEtrn},
      {"STARTTLS", Verb::kStartTls},
      {"AUTH PLAIN", Verb::kAuth},
  };
  for (const Case& c : cases) {
    auto p = Parse(c.line);
    ASSERT_TRUE(p.ok) << c.line;
    EXPECT_EQ(p.command.verb, c.verb) << c.line;
    // Lower and mixed case.
    std::string lower(c.line);
    for (char& ch : lower) {
      if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch + 32);
    }
    auto q = Parse(lower);
    ASSERT_TRUE(q.ok) << lower;
    EXPECT_EQ(q.command.verb, c.verb);
    std::string mixed(c.line);
    mixed[1] = static_cast<char>(mixed[1] | 0x20);
    auto r = Parse(mixed);
    ASSERT_TRUE(r.ok) << mixed;
    EXPECT_EQ(r.command.verb, c.verb);
  }
}

TEST(VerbTest, VerbNames) {
  EXPECT_EQ(VerbName(Verb::kEhlo), "EHLO");
  EXPECT_EQ(VerbName(Verb::kStartTls), "STARTTLS");
  EXPECT_EQ(VerbName(Verb::kAuth), "AUTH");
  EXPECT_EQ(VerbName(Verb::kBdat), "BDAT");
}

TEST(VerbTest, UnknownVerbs) {
  for (std::string_view line :
       {"XYZZY", "MAILFROM:<a@b>", "HEL", "EHLOO x", "STARTTLSX", "TURN",
        "1234", "DA-A", "STARTTL"}) {
    const CommandError e = Refuse(line);
    EXPECT_EQ(e.code, 500) << line;
    EXPECT_EQ(e.enhanced, "5.5.2") << line;
    EXPECT_EQ(e.message, "Error: command not recognized") << line;
  }
}

TEST(VerbTest, EmptyLineAndLeadingSpace) {
  EXPECT_EQ(Refuse("").code, 500);
  EXPECT_EQ(Refuse(" NOOP").code, 500);
  EXPECT_EQ(Refuse("   ").code, 500);
}

TEST(VerbTest, NulControlAndEightBitInVerbAre500) {
  using namespace std::string_view_literals;
  const CommandError nul = Refuse("NO\0P"sv);
  EXPECT_EQ(nul.code, 500);
  EXPECT_EQ(nul.enhanced, "5.5.2");
  EXPECT_NE(nul.message.find("NUL"), std::string::npos);
  const CommandError ctl = Refuse("DATA\t");
  EXPECT_EQ(ctl.code, 500);
  EXPECT_NE(ctl.message.find("control"), std::string::npos);
  EXPECT_EQ(Refuse("QUIT\r").code, 500);
  EXPECT_EQ(Refuse("\x7fQUIT").code, 500);
  const CommandError high = Refuse("D\xc3\xa4TA");
  EXPECT_EQ(high.code, 500);
  EXPECT_NE(high.message.find("8-bit"), std::string::npos);
}

TEST(VerbTest, NulControlAndEightBitInArgumentsAre501) {
  using namespace std::string_view_literals;
  const CommandError nul = Refuse("HELO a\0b"sv);
  EXPECT_EQ(nul.code, 501);
  EXPECT_EQ(nul.enhanced, "5.5.4");
  EXPECT_NE(nul.message.find("NUL"), std::string::npos);
  EXPECT_EQ(Refuse("MAIL FROM:<a@b>\0"sv).code, 501);
  EXPECT_EQ(Refuse("RCPT TO:<a\0@b>"sv).code, 501);
  const CommandError ctl = Refuse("NOOP a\x01");
  EXPECT_EQ(ctl.code, 501);
  EXPECT_NE(ctl.message.find("Control"), std::string::npos);
  EXPECT_EQ(Refuse("NOOP a\rb").code, 501);
  EXPECT_EQ(Refuse("NOOP a\nb").code, 501);
  EXPECT_EQ(Refuse("VRFY \tx").code, 501);
  const CommandError high = Refuse("VRFY j\xc3\xbcrgen");
  EXPECT_EQ(high.code, 501);
  EXPECT_EQ(high.enhanced, "5.5.4");
  EXPECT_NE(high.message.find("8-bit"), std::string::npos);
  EXPECT_EQ(Refuse("HELO h\xff").code, 501);
}

TEST(HeloTest, DomainOrAddressLiteral) {
  auto p = Parse("EHLO mail.example.com");
  ASSERT_TRUE(p.ok);
  EXPECT_EQ(p.command.argument, "mail.example.com");
  EXPECT_EQ(Parse("HELO [192.0.2.1]").command.argument, "[192.0.2.1]");
  EXPECT_EQ(Parse("EHLO [IPv6:2001:db8::1]").command.argument,
            "[IPv6:2001:db8::1]");
  EXPECT_EQ(Parse("EHLO localhost   ").command.argument, "localhost");
  EXPECT_EQ(Parse("EHLO  localhost").command.argument, "localhost");
}

TEST(HeloTest, RefusesMissingOrInvalidName) {
  const CommandError missing = Refuse("EHLO");
  EXPECT_EQ(missing.code, 501);
  EXPECT_EQ(missing.message, "Syntax: EHLO hostname");
  EXPECT_EQ(Refuse("HELO ").message, "Syntax: HELO hostname");
  for (std::string_view line :
       {"EHLO bad_name", "EHLO -a.com", "EHLO a-.com", "EHLO a..b",
        "EHLO two words", "EHLO [300.1.1.1]", "EHLO a;b", "EHLO a.b."}) {
    const CommandError e = Refuse(line);
    EXPECT_EQ(e.code, 501) << line;
    EXPECT_EQ(e.enhanced, "5.5.4") << line;
  }
}

TEST(HeloTest, LenientOptionTakesAnyPrintableArgument) {
  CommandOptions options;
  options.lenient_helo = true;
  auto p = Parse("EHLO my_host (windows)", options);
  ASSERT_TRUE(p.ok);
  EXPECT_EQ(p.command.argument, "my_host (windows)");
  EXPECT_EQ(Refuse("EHLO", options).code, 501);
  EXPECT_EQ(Refuse("EHLO a\x01", options).code, 501);
}

TEST(SimpleVerbTest, NoArgumentVerbs) {
  for (std::string_view verb : {"DATA", "RSET", "QUIT", "STARTTLS"}) {
    auto p = Parse(std::string(verb) + "  ");
    ASSERT_TRUE(p.ok) << verb;
    EXPECT_TRUE(p.command.argument.empty());
    const CommandError e = Refuse(std::string(verb) + " now");
    EXPECT_EQ(e.code, 501) << verb;
    EXPECT_EQ(e.enhanced, "5.5.4") << verb;
    EXPECT_NE(e.message.find(verb), std::string::npos) << e.message;
  }
}

TEST(SimpleVerbTest, NoopAndHelpTakeOptionalText) {
  EXPECT_EQ(Parse("NOOP").command.argument, "");
  EXPECT_EQ(Parse("NOOP hello there ").command.argument, "hello there");
  EXPECT_EQ(Parse("HELP").command.argument, "");
  EXPECT_EQ(Parse("HELP MAIL").command.argument, "MAIL");
}

TEST(SimpleVerbTest, VrfyAndExpnNeedAnArgument) {
  EXPECT_EQ(Parse("VRFY Smith").command.argument, "Smith");
  EXPECT_EQ(Parse("VRFY <smith@example.com>").command.argument,
            "<smith@example.com>");
  EXPECT_EQ(Parse("EXPN Example-People").command.argument, "Example-People");
  EXPECT_EQ(Refuse("VRFY").message, "Syntax: VRFY address");
  EXPECT_EQ(Refuse("EXPN  ").code, 501);
}

TEST(EtrnTest, DomainsAndQueues) {
  EXPECT_EQ(Parse("ETRN example.com").command.argument, "example.com");
  EXPECT_EQ(Parse("ETRN @example.com").command.argument, "@example.com");
  EXPECT_EQ(Parse("ETRN #queue1").command.argument, "#queue1");
  for (std::string_view line :
       {"ETRN", "ETRN #", "ETRN @", "ETRN a b", "ETRN bad_domain"}) {
    const CommandError e = Refuse(line);
    EXPECT_EQ(e.code, 501) << line;
    EXPECT_EQ(e.message, "Syntax: ETRN domain") << line;
  }
}

TEST(AuthTest, MechanismAndInitialResponse) {
  auto p = Parse("AUTH PLAIN AGZyZWQAc2VjcmV0");
  ASSERT_TRUE(p.ok);
  EXPECT_EQ(p.command.argument, "PLAIN");
  EXPECT_EQ(p.command.auth_initial_response, "AGZyZWQAc2VjcmV0");
  auto login = Parse("auth login");
  EXPECT_EQ(login.command.argument, "login");
  EXPECT_TRUE(login.command.auth_initial_response.empty());
  EXPECT_EQ(Parse("AUTH PLAIN =").command.auth_initial_response, "=");
  EXPECT_EQ(Parse("AUTH CRAM-MD5").command.argument, "CRAM-MD5");
  EXPECT_EQ(Parse("AUTH SCRAM-SHA-256-PLUS").command.argument,
            "SCRAM-SHA-256-PLUS");
}

TEST(AuthTest, Refusals) {
  EXPECT_EQ(Refuse("AUTH").code, 501);
  EXPECT_EQ(Refuse("AUTH PL@IN").code, 501);
  EXPECT_EQ(Refuse("AUTH ABCDEFGHIJKLMNOPQRSTU").code, 501);  // 21 chars
  EXPECT_TRUE(Parse("AUTH ABCDEFGHIJKLMNOPQRST").ok);         // 20 chars
  const CommandError b64 = Refuse("AUTH PLAIN AGZy*ZWQ");
  EXPECT_EQ(b64.code, 501);
  EXPECT_EQ(b64.enhanced, "5.5.2");
  EXPECT_EQ(Refuse("AUTH PLAIN abc def").code, 501);
}

TEST(BdatTest, SizeAndLast) {
  auto p = Parse("BDAT 1000");
  ASSERT_TRUE(p.ok);
  EXPECT_EQ(p.command.bdat_size, 1000u);
  EXPECT_FALSE(p.command.bdat_last);
  auto q = Parse("BDAT 0 LAST");
  ASSERT_TRUE(q.ok);
  EXPECT_EQ(q.command.bdat_size, 0u);
  EXPECT_TRUE(q.command.bdat_last);
  EXPECT_TRUE(Parse("bdat 5 last").command.bdat_last);
  EXPECT_EQ(Parse("BDAT 9223372036854775808").command.bdat_size,
            9223372036854775808u);  // 2^63 exactly
}

TEST(BdatTest, OverflowAndSyntax) {
  for (std::string_view line :
       {"BDAT", "BDAT x", "BDAT 10 FIRST", "BDAT -1", "BDAT 10LAST",
        "BDAT 9223372036854775809", "BDAT 18446744073709551616",
        "BDAT 99999999999999999999999999999", "BDAT 000000000000000000001",
        "BDAT 1 LAST x"}) {
    const CommandError e = Refuse(line);
    EXPECT_EQ(e.code, 501) << line;
    EXPECT_EQ(e.enhanced, "5.5.4") << line;
  }
}

// RFC 5321 appendix D.1, the client side of a typical transaction.
TEST(Rfc5321ExampleTest, AppendixD1) {
  auto ehlo = Parse("EHLO bar.com");
  EXPECT_EQ(ehlo.command.argument, "bar.com");
  auto mail = Parse("MAIL FROM:<Smith@bar.com>");
  EXPECT_EQ(mail.command.path.mailbox, "Smith@bar.com");
  EXPECT_EQ(mail.command.path.local_part, "Smith");
  EXPECT_EQ(mail.command.path.domain, "bar.com");
  EXPECT_EQ(Parse("RCPT TO:<Jones@foo.com>").command.path.mailbox,
            "Jones@foo.com");
  EXPECT_EQ(Parse("RCPT TO:<Green@foo.com>").command.path.local_part, "Green");
  EXPECT_TRUE(Parse("DATA").ok);
  EXPECT_TRUE(Parse("QUIT").ok);
}

TEST(ErrorRangeTest, EveryRefusalIsBetween500And555) {
  using namespace std::string_view_literals;
  for (std::string_view line :
       {""sv, "X"sv, "MAIL"sv, "MAIL FROM:"sv, "MAIL FROM:<;sleep 66;>"sv,
        "RCPT TO:<>"sv, "MAIL FROM:<a@b> FOO=1"sv, "RCPT TO:<a@b> SIZE=1"sv,
        "\0"sv, "BDAT 99999999999999999999"sv}) {
    const CommandError e = Refuse(line);
    EXPECT_GE(e.code, 500) << line;
    EXPECT_LE(e.code, 555) << line;
    EXPECT_EQ(e.enhanced.size(), 5u) << line;
    EXPECT_FALSE(e.message.empty()) << line;
  }
}

// Lines as real clients send them.
TEST(RealClientTest, Lines) {
  // Python smtplib: lower-case verbs, "size=" in lower case.
  auto py = Parse("mail FROM:<alice@example.com> size=2345");
  EXPECT_EQ(py.command.mail.size, 2345u);
  EXPECT_EQ(Parse("rcpt TO:<bob@example.com>").command.path.mailbox,
            "bob@example.com");
  // Postfix smtp client with DSN.
  auto pf = Parse(
      "MAIL FROM:<owner-list@example.org> SIZE=10240 BODY=8BITMIME "
      "ENVID=abc+2Bdef RET=HDRS");
  EXPECT_EQ(pf.command.mail.ret, DsnRet::kHeaders);
  auto rcpt = Parse(
      "RCPT TO:<carol@example.net> NOTIFY=FAILURE,DELAY "
      "ORCPT=rfc822;carol@example.net");
  EXPECT_TRUE(rcpt.command.rcpt.notify.failure);
  EXPECT_EQ(rcpt.command.rcpt.orcpt, "rfc822;carol@example.net");
  // swaks / curl.
  EXPECT_TRUE(Parse("EHLO localhost.localdomain").ok);
  EXPECT_TRUE(Parse("EHLO [127.0.0.1]").ok);
  EXPECT_TRUE(Parse("MAIL FROM:<sender@127.0.0.1>").ok);
  // Thunderbird with SMTPUTF8.
  CommandOptions utf8;
  utf8.smtputf8 = true;
  EXPECT_TRUE(Parse("MAIL FROM:<ren\xc3\xa9@example.fr> BODY=8BITMIME "
                    "SMTPUTF8 SIZE=100")
                  .command.path.utf8);
}

// One line for every code and enhanced code the parser can answer.
TEST(ErrorTableTest, CodesAndEnhancedCodes) {
  using namespace std::string_view_literals;
  struct Case {
    std::string_view line;
    int code;
    std::string_view enhanced;
  };
  const std::string long_mail = "MAIL FROM:<" + std::string(65, 'a') + "@b>";
  const std::string long_rcpt = "RCPT TO:<" + std::string(65, 'a') + "@b>";
  const Case cases[] = {
      {""sv, 500, "5.5.2"},
      {"FOO"sv, 500, "5.5.2"},
      {"MA\0L"sv, 500, "5.5.2"},
      {"NOOP \x01"sv, 501, "5.5.4"},
      {"EHLO"sv, 501, "5.5.4"},
      {"MAIL FROM:<;sleep 66;>"sv, 501, "5.1.7"},
      {"RCPT TO:<a;b@c>"sv, 501, "5.1.3"},
      {long_mail, 553, "5.1.7"},
      {long_rcpt, 553, "5.1.3"},
      {"MAIL FROM:<a@b> SIZE=x"sv, 501, "5.5.4"},
      {"MAIL FROM:<a@b> SIZE=1 SIZE=1"sv, 501, "5.5.4"},
      {"MAIL FROM:<a@b> FOO"sv, 555, "5.5.4"},
      {"MAIL FROM:<a@b> NOTIFY=NEVER"sv, 555, "5.5.4"},
      {"RCPT TO:<a@b> BODY=7BIT"sv, 555, "5.5.4"},
      {"AUTH PLAIN !!"sv, 501, "5.5.2"},
      {"BDAT 99999999999999999999"sv, 501, "5.5.4"},
  };
  for (const Case& c : cases) {
    const CommandError e = Refuse(c.line);
    EXPECT_EQ(e.code, c.code) << c.line;
    EXPECT_EQ(e.enhanced, c.enhanced) << c.line;
  }
}

}  // namespace
}  // namespace posthorn::smtp
