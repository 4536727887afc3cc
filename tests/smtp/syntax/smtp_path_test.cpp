// Tests of RFC 5321 4.1.2 paths in MAIL and RCPT, address literals, the
// domain validators, and the length limits of RFC 5321 4.5.3.1.

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

std::string Mail(std::string_view path) {
  return "MAIL FROM:" + std::string(path);
}
std::string Rcpt(std::string_view path) {
  return "RCPT TO:" + std::string(path);
}

TEST(PathTest, PlainMailbox) {
  auto p = Parse("MAIL FROM:<user.name+tag@example.co.uk>");
  ASSERT_TRUE(p.ok);
  const Path& path = p.command.path;
  EXPECT_FALSE(path.null);
  EXPECT_FALSE(path.postmaster);
  EXPECT_FALSE(path.address_literal);
  EXPECT_FALSE(path.utf8);
  EXPECT_EQ(path.local_part, "user.name+tag");
  EXPECT_EQ(path.domain, "example.co.uk");
  EXPECT_EQ(path.mailbox, "user.name+tag@example.co.uk");
}

TEST(PathTest, EveryAtextCharacter) {
  auto p = Parse(Rcpt("<!#$%&'*+-/=?^_`{|}~09AZaz@x.y>"));
  ASSERT_TRUE(p.ok);
  EXPECT_EQ(p.command.path.local_part, "!#$%&'*+-/=?^_`{|}~09AZaz");
}

TEST(PathTest, CaseInsensitiveKeywordsAndSpaceAfterColon) {
  EXPECT_EQ(Parse("mail from:<a@b.c>").command.path.mailbox, "a@b.c");
  EXPECT_EQ(Parse("MAIL From: <a@b.c>").command.path.mailbox, "a@b.c");
  EXPECT_EQ(Parse("RCPT to:<a@b.c>   ").command.path.mailbox, "a@b.c");
  EXPECT_EQ(Parse("MAIL  FROM:<a@b.c>").command.path.mailbox, "a@b.c");
}

TEST(PathTest, MissingKeywordOrBrackets) {
  EXPECT_EQ(Refuse("MAIL").message, "Syntax: MAIL FROM:<address>");
  EXPECT_EQ(Refuse("MAIL TO:<a@b>").message, "Syntax: MAIL FROM:<address>");
  EXPECT_EQ(Refuse("MAIL FROM:").message, "Syntax: MAIL FROM:<address>");
  EXPECT_EQ(Refuse("RCPT FROM:<a@b>").message, "Syntax: RCPT TO:<address>");
  EXPECT_EQ(Refuse("RCPT TO").code, 501);
  const CommandError bare = Refuse("MAIL FROM:user@example.com");
  EXPECT_EQ(bare.code, 501);
  EXPECT_EQ(bare.enhanced, "5.1.7");
  EXPECT_EQ(bare.message,
            "Bad sender address syntax: address must be in angle brackets");
  const CommandError open = Refuse("RCPT TO:<user@example.com");
  EXPECT_EQ(open.enhanced, "5.1.3");
  EXPECT_EQ(open.message, "Bad recipient address syntax: missing '>'");
}

TEST(PathTest, NullPathOnlyOnMail) {
  auto p = Parse("MAIL FROM:<>");
  ASSERT_TRUE(p.ok);
  EXPECT_TRUE(p.command.path.null);
  EXPECT_TRUE(p.command.path.mailbox.empty());
  EXPECT_TRUE(Parse("MAIL FROM:<> SIZE=10").command.path.null);
  const CommandError e = Refuse("RCPT TO:<>");
  EXPECT_EQ(e.code, 501);
  EXPECT_EQ(e.enhanced, "5.1.3");
  EXPECT_EQ(e.message,
            "Bad recipient address syntax: null address not allowed here");
}

TEST(PathTest, PostmasterOnlyOnRcpt) {
  for (std::string_view line : {"RCPT TO:<Postmaster>", "RCPT TO:<postmaster>",
                                "RCPT TO:<POSTMASTER>"}) {
    auto p = Parse(line);
    ASSERT_TRUE(p.ok) << line;
    EXPECT_TRUE(p.command.path.postmaster);
    EXPECT_TRUE(p.command.path.domain.empty());
  }
  auto with_domain = Parse("RCPT TO:<Postmaster@example.com>");
  EXPECT_FALSE(with_domain.command.path.postmaster);
  EXPECT_EQ(with_domain.command.path.domain, "example.com");
  const CommandError e = Refuse("MAIL FROM:<Postmaster>");
  EXPECT_EQ(e.enhanced, "5.1.7");
  EXPECT_EQ(e.message, "Bad sender address syntax: missing '@domain'");
  EXPECT_EQ(Refuse("RCPT TO:<webmaster>").code, 501);
  EXPECT_EQ(Refuse("RCPT TO:<@a.com:Postmaster>").code, 501);
}

TEST(PathTest, SourceRoutesAreAcceptedAndIgnored) {
  auto p = Parse("RCPT TO:<@hosta.int,@jkl.org:userc@d.bar.org>");
  ASSERT_TRUE(p.ok);
  EXPECT_EQ(p.command.path.mailbox, "userc@d.bar.org");
  EXPECT_EQ(p.command.path.local_part, "userc");
  EXPECT_EQ(p.command.path.domain, "d.bar.org");
  auto one = Parse("MAIL FROM:<@a.example:joe@b.example>");
  EXPECT_EQ(one.command.path.mailbox, "joe@b.example");
  for (std::string_view path :
       {"<@a.com>", "<@a.com,b.com:u@c.com>", "<@:u@c.com>",
        "<@a.com,@:u@c.com>", "<@a_b.com:u@c.com>", "<@a.com;u@c.com>",
        "<@a.com,@b.com,u@c.com>"}) {
    const CommandError e = Refuse(Rcpt(path));
    EXPECT_EQ(e.code, 501) << path;
    EXPECT_EQ(e.enhanced, "5.1.3") << path;
  }
}

TEST(PathTest, QuotedLocalParts) {
  auto p = Parse(R"(MAIL FROM:<"john smith"@example.com>)");
  ASSERT_TRUE(p.ok);
  EXPECT_EQ(p.command.path.local_part, R"("john smith")");
  EXPECT_EQ(p.command.path.mailbox, R"("john smith"@example.com)");
  // Quoted pairs keep their backslashes in the view.
  auto esc = Parse(R"(RCPT TO:<"a\"b\\c\ d"@example.com>)");
  ASSERT_TRUE(esc.ok);
  EXPECT_EQ(esc.command.path.local_part, R"("a\"b\\c\ d")");
  EXPECT_TRUE(Parse(R"(RCPT TO:<""@example.com>)").ok);
  // Specials are carried inert inside quotes (CVE-2020-7247 cannot apply).
  auto shell = Parse(R"(MAIL FROM:<";sleep 66;"@example.com>)");
  ASSERT_TRUE(shell.ok);
  EXPECT_EQ(shell.command.path.local_part, R"(";sleep 66;")");
  EXPECT_TRUE(Parse(R"(RCPT TO:<"<>()[]:,;@"@x.y>)").ok);
}

TEST(PathTest, BadQuotedLocalParts) {
  for (std::string_view path : {R"(<"abc@x.y>)", R"(<"abc\>)", R"(<"a"b@x.y>)",
                                R"(<"a"."b"@x.y>)", R"(<a"b"@x.y>)"}) {
    EXPECT_EQ(Refuse(Rcpt(path)).code, 501) << path;
  }
  EXPECT_EQ(Refuse("RCPT TO:<\"ab\\").message,
            "Bad recipient address syntax: unterminated quoted string");
}

TEST(PathTest, DotStringRules) {
  for (std::string_view path :
       {"<.a@x.y>", "<a.@x.y>", "<a..b@x.y>", "<@x.y>", "<a b@x.y>",
        "<a(b)@x.y>", "<a,b@x.y>", "<a[b]@x.y>", "<a\\b@x.y>", "<a@b@x.y>"}) {
    const CommandError e = Refuse(Mail(path));
    EXPECT_EQ(e.code, 501) << path;
    EXPECT_EQ(e.enhanced, "5.1.7") << path;
  }
  EXPECT_EQ(Refuse("MAIL FROM:<.a@x.y>").message,
            "Bad sender address syntax: misplaced '.'");
  EXPECT_EQ(Refuse("MAIL FROM:<a b@x.y>").message,
            "Bad sender address syntax: ' ' not allowed here");
}

TEST(PathTest, DomainRules) {
  EXPECT_TRUE(Parse("RCPT TO:<a@x>").ok);
  EXPECT_TRUE(Parse("RCPT TO:<a@123.example>").ok);
  EXPECT_TRUE(Parse("RCPT TO:<a@x-y.z9>").ok);
  EXPECT_TRUE(Parse("RCPT TO:<a@1.2.3.4>").ok);  // a Domain by the ABNF
  for (std::string_view path :
       {"<a@>", "<a@-x.y>", "<a@x-.y>", "<a@x..y>", "<a@.x>", "<a@x.>",
        "<a@x_y.z>", "<a@x y>", "<a@x;y>", "<a>", "<a@x>>"}) {
    const CommandError e = Refuse(Rcpt(path));
    EXPECT_EQ(e.code, 501) << path;
    EXPECT_EQ(e.enhanced, "5.1.3") << path;
  }
  EXPECT_EQ(
      Refuse("RCPT TO:<a@-x.y>").message,
      "Bad recipient address syntax: domain label starts or ends with '-'");
  EXPECT_EQ(Refuse("RCPT TO:<a@>").message,
            "Bad recipient address syntax: missing domain");
  EXPECT_EQ(Refuse("RCPT TO:<a@x>>").message,
            "Bad recipient address syntax: '>' not allowed here");
}

// CVE-2020-7247 (OpenSMTPD): a sender whose local part is shell syntax.
TEST(PathTest, Cve20207247StringsAreRefused) {
  for (std::string_view line :
       {"MAIL FROM:<;sleep 66;>", "MAIL FROM:<;sleep 66;@example.com>",
        "MAIL FROM:<;ping -c 3 127.0.0.1;>",
        "MAIL FROM:<;for i in 0 1 2 3 4 5 6 7 8 9 a b c d;do read "
        "r;done;sh;exit 0;>",
        "MAIL FROM:<`id`@example.com>x", "MAIL FROM:<$(id)@example.com>",
        "RCPT TO:<root;id@example.com>", "MAIL FROM:<a|b@c>d"}) {
    const CommandError e = Refuse(line);
    EXPECT_EQ(e.code, 501) << line;
  }
  const CommandError e = Refuse("MAIL FROM:<;sleep 66;>");
  EXPECT_EQ(e.enhanced, "5.1.7");
  EXPECT_EQ(e.message, "Bad sender address syntax: ';' not allowed here");
}

TEST(AddressLiteralTest, Ipv4) {
  auto p = Parse("RCPT TO:<user@[192.0.2.1]>");
  ASSERT_TRUE(p.ok);
  EXPECT_TRUE(p.command.path.address_literal);
  EXPECT_EQ(p.command.path.domain, "[192.0.2.1]");
  EXPECT_TRUE(IsValidAddressLiteral("[0.0.0.0]"));
  EXPECT_TRUE(IsValidAddressLiteral("[255.255.255.255]"));
  EXPECT_TRUE(IsValidAddressLiteral("[001.02.3.004]"));
  for (std::string_view bad :
       {"[256.1.1.1]", "[1.2.3]", "[1.2.3.4.5]", "[1..2.3]", "[1.2.3.4 ]",
        "[1234.1.1.1]", "[]", "[a.b.c.d]", "1.2.3.4", "[1.2.3.4", "[-1.2.3.4]",
        "[1.2.3.]"}) {
    EXPECT_FALSE(IsValidAddressLiteral(bad)) << bad;
  }
  EXPECT_EQ(Refuse("RCPT TO:<a@[1.2.3.256]>").message,
            "Bad recipient address syntax: invalid address literal");
  EXPECT_EQ(Refuse("RCPT TO:<a@[1.2.3.4>").code, 501);
}

TEST(AddressLiteralTest, Ipv6ValidForms) {
  for (std::string_view good : {
           "[IPv6:2001:db8:0:0:0:0:0:1]",  // IPv6-full
           "[IPv6:2001:DB8::1]",           // IPv6-comp
           "[IPv6:::1]",                   // leading ::
           "[IPv6:::]",                    // the unspecified address
           "[IPv6:fe80::]",                // trailing ::
           "[IPv6:1:2:3::4:5:6]",          // six groups + ::
           "[IPv6:1:2:3:4:5:6::]",
           "[IPv6:::1:2:3:4:5:6]",
           "[IPv6:0:0:0:0:0:ffff:192.0.2.1]",  // IPv6v4-full
           "[IPv6:::ffff:192.0.2.1]",          // IPv6v4-comp
           "[IPv6:::192.0.2.1]",
           "[IPv6:1:2:3:4::192.0.2.1]",
           "[IPv6:1::2:3:4:192.0.2.1]",
           "[ipv6:abcd:ef01:2345:6789:abcd:ef01:2345:6789]",
           "[IPV6:ABCD::]",
       }) {
    EXPECT_TRUE(IsValidAddressLiteral(good)) << good;
    auto p = Parse(Rcpt("<u@" + std::string(good) + ">"));
    EXPECT_TRUE(p.command.path.address_literal) << good;
  }
}

TEST(AddressLiteralTest, Ipv6InvalidForms) {
  for (std::string_view bad : {
           "[IPv6:]",
           "[IPv6:1:2:3:4:5:6:7]",      // seven groups, no ::
           "[IPv6:1:2:3:4:5:6:7:8:9]",  // nine groups
           "[IPv6:1:2:3:4:5:6:7::]",    // :: for a single group
           "[IPv6:1::2:3:4:5:6:7]",
           "[IPv6:1::2::3]",  // two ::
           "[IPv6::::]",
           "[IPv6:::::1]",
           "[IPv6:12345::1]",  // five hex digits
           "[IPv6:g::1]",
           "[IPv6::1]",                   // single leading colon
           "[IPv6:1:]",                   // single trailing colon
           "[IPv6:1:2:3:4:5:192.0.2.1]",  // v4 after five groups
           "[IPv6:1:2:3:4:5:6:7:192.0.2.1]",
           "[IPv6:1:2:3:4:5::192.0.2.1]",  // five groups + :: + v4
           "[IPv6:::1.2.3]",
           "[IPv6:::256.1.1.1]",
           "[IPv6:::1.2.3.4:1]",  // v4 must end the address
           "[IPv6:1.2.3.4]",
           "[IPv6:2001:db8::1%eth0]",  // zone ids are not SMTP
           "[IPv6 :1::]",
           "[IPv6:1::2 ]",
       }) {
    EXPECT_FALSE(IsValidAddressLiteral(bad)) << bad;
    EXPECT_EQ(Refuse(Rcpt("<u@" + std::string(bad) + ">")).code, 501) << bad;
  }
}

TEST(AddressLiteralTest, GeneralAddressLiteral) {
  EXPECT_TRUE(IsValidAddressLiteral("[x-tag:some.content]"));
  EXPECT_TRUE(IsValidAddressLiteral("[Tag9:~!@#]"));
  EXPECT_TRUE(
      Parse("RCPT TO:<u@[x400:c=us;a=att]>").command.path.address_literal);
  EXPECT_FALSE(
      IsValidAddressLiteral("[tag-:x]"));  // Ldh-str ends with a Let-dig
  EXPECT_FALSE(IsValidAddressLiteral("[:x]"));
  EXPECT_FALSE(IsValidAddressLiteral("[tag:]"));
  EXPECT_FALSE(IsValidAddressLiteral("[t_g:x]"));
  EXPECT_FALSE(IsValidAddressLiteral("[tag:a\\b]"));  // '\' is not dcontent
  EXPECT_FALSE(IsValidAddressLiteral("[tag:a b]"));
  EXPECT_FALSE(IsValidAddressLiteral("[tag:a[b]"));
}

TEST(DomainValidatorTest, IsValidDomain) {
  EXPECT_TRUE(IsValidDomain("example.com"));
  EXPECT_TRUE(IsValidDomain("a"));
  EXPECT_TRUE(IsValidDomain("xn--bcher-kva.example"));
  EXPECT_TRUE(IsValidDomain("[127.0.0.1]"));
  EXPECT_TRUE(IsValidDomain("[IPv6:::1]"));
  for (std::string_view bad :
       {"", ".", "a.", ".a", "a..b", "-a", "a-", "a_b", "a b", "[1.2.3]",
        "b\xc3\xbc"
        "cher.example",
        "a.b\n"}) {
    EXPECT_FALSE(IsValidDomain(bad)) << bad;
  }
  const std::string label63(63, 'a');
  EXPECT_TRUE(IsValidDomain(label63 + ".com"));
  EXPECT_FALSE(IsValidDomain(label63 + "a.com"));
}

TEST(DomainValidatorTest, DomainLengthLimit) {
  // 4 labels of 63 + 3 dots = 255 octets: exactly the limit.
  const std::string label(63, 'a');
  const std::string d255 = label + "." + label + "." + label + "." + label;
  ASSERT_EQ(d255.size(), 255u);
  EXPECT_TRUE(IsValidDomain(d255));
  const std::string d257 = d255 + ".b";
  EXPECT_FALSE(IsValidDomain(d257));
}

// RFC 5321 4.5.3.1.1: local part at most 64 octets.
TEST(LengthLimitTest, LocalPart) {
  const std::string l64(64, 'x');
  auto p = Parse(Mail("<" + l64 + "@example.com>"));
  ASSERT_TRUE(p.ok);
  EXPECT_EQ(p.command.path.local_part.size(), 64u);
  const CommandError e = Refuse(Mail("<" + l64 + "x@example.com>"));
  EXPECT_EQ(e.code, 553);
  EXPECT_EQ(e.enhanced, "5.1.7");
  EXPECT_EQ(e.message,
            "Bad sender address syntax: local part longer than 64 octets");
  const CommandError r = Refuse(Rcpt("<" + l64 + "x@example.com>"));
  EXPECT_EQ(r.code, 553);
  EXPECT_EQ(r.enhanced, "5.1.3");
  // A quoted local part counts its quotes.
  EXPECT_TRUE(Parse(Rcpt("<\"" + std::string(62, 'q') + "\"@x.y>")).ok);
  EXPECT_EQ(Refuse(Rcpt("<\"" + std::string(63, 'q') + "\"@x.y>")).code, 553);
}

// RFC 5321 4.5.3.1.3: path at most 256 octets including "<" and ">";
// RFC 5321 4.5.3.1.2: domain at most 255 octets.
TEST(LengthLimitTest, PathAndDomain) {
  const std::string label(63, 'd');
  // "<" + 63 + "@" + domain + ">" = 256 -> domain of 190 octets.
  const std::string domain190 =
      label + "." + label + "." + std::string(62, 'd');
  ASSERT_EQ(domain190.size(), 190u);
  const std::string local(63, 'l');
  const std::string path256 = "<" + local + "@" + domain190 + ">";
  ASSERT_EQ(path256.size(), 256u);
  EXPECT_TRUE(Parse(Rcpt(path256)).ok);
  const std::string path257 = "<" + local + "l@" + domain190 + ">";
  ASSERT_EQ(path257.size(), 257u);
  const CommandError e = Refuse(Rcpt(path257));
  EXPECT_EQ(e.code, 501);
  EXPECT_EQ(e.message,
            "Bad recipient address syntax: path longer than 256 octets");

  const std::string d255 = label + "." + label + "." + label + "." + label;
  const CommandError big = Refuse(Rcpt("<a@" + d255 + ".x>"));
  EXPECT_EQ(big.code, 553);
  EXPECT_NE(big.message.find("domain longer than 255"), std::string::npos);
  // 255 octets of domain fits the domain limit but not the path limit.
  EXPECT_EQ(Refuse(Rcpt("<a@" + d255 + ">")).code, 501);
  // Source routes count toward the path length as written.
  const std::string route = "<@" + domain190 + ":" + local + "@a.b>";
  ASSERT_GT(route.size(), 256u);
  EXPECT_EQ(Refuse(Rcpt(route)).code, 501);
}

TEST(Utf8PathTest, NeedsSmtpUtf8OnMail) {
  const std::string line =
      "MAIL FROM:<j\xc3\xbcrgen@b\xc3\xbc"
      "cher.example>";
  const CommandError e = Refuse(line);
  EXPECT_EQ(e.code, 501);
  EXPECT_EQ(e.enhanced, "5.5.4");
  EXPECT_NE(e.message.find("SMTPUTF8"), std::string::npos);
  auto p = Parse(line + " SMTPUTF8");
  ASSERT_TRUE(p.ok);
  EXPECT_TRUE(p.command.path.utf8);
  EXPECT_TRUE(p.command.mail.smtputf8);
  EXPECT_EQ(p.command.path.domain,
            "b\xc3\xbc"
            "cher.example");
  // The session's option does not stand in for the MAIL parameter.
  CommandOptions options;
  options.smtputf8 = true;
  EXPECT_EQ(Refuse(line, options).code, 501);
}

TEST(Utf8PathTest, RcptNeedsTheSessionOption) {
  const std::string line = "RCPT TO:<\xe7\x94\xa8\xe6\x88\xb7@example.com>";
  EXPECT_EQ(Refuse(line).code, 501);
  CommandOptions options;
  options.smtputf8 = true;
  auto p = Parse(line, options);
  ASSERT_TRUE(p.ok);
  EXPECT_TRUE(p.command.path.utf8);
  auto quoted = Parse("RCPT TO:<\"\xc3\xa9 t\xc3\xa9\"@x.y>", options);
  EXPECT_TRUE(quoted.command.path.utf8);
  auto ascii = Parse("RCPT TO:<a@b.c>", options);
  EXPECT_FALSE(ascii.command.path.utf8);
}

TEST(Utf8PathTest, InvalidUtf8IsRefusedEvenWithSmtpUtf8) {
  CommandOptions options;
  options.smtputf8 = true;
  for (std::string_view bad : {
           "RCPT TO:<\xc3@x.y>",              // truncated
           "RCPT TO:<\xc0\xaf@x.y>",          // overlong
           "RCPT TO:<\xed\xa0\x80@x.y>",      // surrogate
           "RCPT TO:<\xf4\x90\x80\x80@x.y>",  // over U+10FFFF
           "RCPT TO:<\xff@x.y>",
           "RCPT TO:<\x80@x.y>",  // lone continuation
           "RCPT TO:<a@x\xc3>",
       }) {
    const CommandError e = Refuse(bad, options);
    EXPECT_EQ(e.code, 501) << bad;
  }
  EXPECT_EQ(Refuse("RCPT TO:<\xc3@x.y>", options).message,
            "Bad recipient address syntax: invalid UTF-8");
  // No UTF-8 in address literals or source routes.
  EXPECT_EQ(Refuse("RCPT TO:<a@[\xc3\xa9]>", options).code, 501);
  EXPECT_EQ(Refuse("RCPT TO:<@\xc3\xa9.x:a@x.y>", options).code, 501);
}

TEST(PathTest, SourceRouteDomainsMustBeDomains) {
  EXPECT_EQ(Refuse("RCPT TO:<@[1.2.3.4]:u@x.y>").code, 501);
  EXPECT_EQ(Refuse("RCPT TO:<@-a.b:u@x.y>").code, 501);
  EXPECT_TRUE(Parse("RCPT TO:<@a,@b,@c:u@x.y>").ok);
}

TEST(PathTest, PostmasterWithParameters) {
  auto p = Parse("RCPT TO:<Postmaster> NOTIFY=NEVER");
  ASSERT_TRUE(p.ok);
  EXPECT_TRUE(p.command.path.postmaster);
  EXPECT_TRUE(p.command.rcpt.notify.never);
}

TEST(PathTest, ViewsPointIntoTheLine) {
  const std::string line = "RCPT TO:<@r.x:\"q\"@[IPv6:::1]> ORCPT=rfc822;a";
  auto result = ParseCommand(line);
  ASSERT_TRUE(std::holds_alternative<Command>(result));
  const Command& c = std::get<Command>(result);
  EXPECT_EQ(c.path.mailbox.data(), line.data() + line.find('"'));
  EXPECT_EQ(c.path.domain.data(), line.data() + line.find('['));
  EXPECT_EQ(c.rcpt.orcpt.data(), line.data() + line.find("rfc822"));
}

}  // namespace
}  // namespace posthorn::smtp
