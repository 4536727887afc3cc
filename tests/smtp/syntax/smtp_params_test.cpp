// Tests of the ESMTP parameters of MAIL and RCPT (SIZE, BODY, RET, ENVID,
// AUTH, SMTPUTF8, NOTIFY, ORCPT) and of xtext.

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "gtest/gtest.h"
#include "posthorn/smtp/command.h"
#include "smtp/syntax/parse_helpers.h"

namespace posthorn::smtp {
namespace {

using testing::Parse;
using testing::Refuse;

constexpr std::string_view kMail = "MAIL FROM:<a@b.example>";
constexpr std::string_view kRcpt = "RCPT TO:<c@d.example>";

std::string M(std::string_view params) {
  return std::string(kMail) + " " + std::string(params);
}
std::string R(std::string_view params) {
  return std::string(kRcpt) + " " + std::string(params);
}

TEST(MailParamsTest, NoneByDefault) {
  auto p = Parse(kMail);
  ASSERT_TRUE(p.ok);
  const MailParams& m = p.command.mail;
  EXPECT_FALSE(m.size.has_value());
  EXPECT_EQ(m.body, BodyType::kNone);
  EXPECT_EQ(m.ret, DsnRet::kNone);
  EXPECT_TRUE(m.envid.empty());
  EXPECT_TRUE(m.auth.empty());
  EXPECT_FALSE(m.smtputf8);
}

TEST(MailParamsTest, AllTogether) {
  auto p =
      Parse(M("SIZE=12345 BODY=8BITMIME RET=HDRS ENVID=QQ314159 "
              "AUTH=e+3Dmc2@example.com SMTPUTF8"));
  ASSERT_TRUE(p.ok);
  const MailParams& m = p.command.mail;
  EXPECT_EQ(m.size, 12345u);
  EXPECT_EQ(m.body, BodyType::k8BitMime);
  EXPECT_EQ(m.ret, DsnRet::kHeaders);
  EXPECT_EQ(m.envid, "QQ314159");
  EXPECT_EQ(m.auth, "e+3Dmc2@example.com");
  EXPECT_TRUE(m.smtputf8);
}

TEST(MailParamsTest, KeywordsAndValuesAreCaseInsensitive) {
  auto p = Parse(M("size=1 body=7bit ret=full smtputf8"));
  ASSERT_TRUE(p.ok);
  EXPECT_EQ(p.command.mail.size, 1u);
  EXPECT_EQ(p.command.mail.body, BodyType::k7Bit);
  EXPECT_EQ(p.command.mail.ret, DsnRet::kFull);
  EXPECT_EQ(Parse(M("Body=BinaryMIME")).command.mail.body,
            BodyType::kBinaryMime);
}

TEST(MailParamsTest, ExtraAndTrailingSpaces) {
  auto p = Parse(std::string(kMail) + "  SIZE=5   BODY=7BIT   ");
  ASSERT_TRUE(p.ok);
  EXPECT_EQ(p.command.mail.size, 5u);
  EXPECT_EQ(p.command.mail.body, BodyType::k7Bit);
}

TEST(MailParamsTest, Size) {
  EXPECT_EQ(Parse(M("SIZE=0")).command.mail.size, 0u);
  EXPECT_EQ(Parse(M("SIZE=18446744073709551615")).command.mail.size,
            std::numeric_limits<std::uint64_t>::max());
  // Larger values saturate: the session answers 552, not a syntax error.
  EXPECT_EQ(Parse(M("SIZE=18446744073709551616")).command.mail.size,
            std::numeric_limits<std::uint64_t>::max());
  EXPECT_EQ(Parse(M("SIZE=" + std::string(300, '9'))).command.mail.size,
            std::numeric_limits<std::uint64_t>::max());
  for (std::string_view bad : {"SIZE=", "SIZE", "SIZE=-1", "SIZE=1k",
                               "SIZE=0x10", "SIZE=+5", "SIZE=1 SIZE=2"}) {
    const CommandError e = Refuse(M(bad));
    EXPECT_EQ(e.code, 501) << bad;
    EXPECT_EQ(e.enhanced, "5.5.4") << bad;
  }
  EXPECT_EQ(Refuse(M("SIZE=1k")).message, "Invalid parameter value: SIZE");
  EXPECT_EQ(Refuse(M("SIZE")).message, "Parameter needs a value: SIZE");
  EXPECT_EQ(Refuse(M("SIZE=")).message, "Empty parameter value: SIZE");
}

TEST(MailParamsTest, BodyAndRetValues) {
  for (std::string_view bad : {"BODY=8BIT", "BODY=", "BODY", "BODY=7BITX",
                               "RET=ALL", "RET", "RET=FULLY"}) {
    EXPECT_EQ(Refuse(M(bad)).code, 501) << bad;
  }
}

TEST(MailParamsTest, Envid) {
  const std::string envid100(100, 'e');
  EXPECT_EQ(Parse(M("ENVID=" + envid100)).command.mail.envid, envid100);
  EXPECT_EQ(Refuse(M("ENVID=" + envid100 + "e")).code, 501);
  EXPECT_EQ(Parse(M("ENVID=a+2Bb+20c")).command.mail.envid, "a+2Bb+20c");
  for (std::string_view bad :
       {"ENVID=a+2", "ENVID=a+ZZ", "ENVID=a+", "ENVID"}) {
    EXPECT_EQ(Refuse(M(bad)).code, 501) << bad;
  }
}

TEST(MailParamsTest, AuthParameter) {
  EXPECT_EQ(Parse(M("AUTH=<>")).command.mail.auth, "<>");
  EXPECT_EQ(Parse(M("AUTH=user+40example.com")).command.mail.auth,
            "user+40example.com");
  EXPECT_EQ(Refuse(M("AUTH=a+4")).code, 501);
  EXPECT_EQ(Refuse(M("AUTH=+zz")).code, 501);
}

TEST(MailParamsTest, SmtpUtf8TakesNoValue) {
  EXPECT_TRUE(Parse(M("SMTPUTF8")).command.mail.smtputf8);
  const CommandError e = Refuse(M("SMTPUTF8=yes"));
  EXPECT_EQ(e.code, 501);
  EXPECT_EQ(e.message, "Parameter takes no value: SMTPUTF8");
}

TEST(MailParamsTest, DuplicatesAre501) {
  for (std::string_view dup :
       {"BODY=7BIT BODY=7BIT", "RET=FULL ret=HDRS", "ENVID=a ENVID=b",
        "AUTH=<> AUTH=<>", "SMTPUTF8 SMTPUTF8", "size=1 SIZE=1"}) {
    const CommandError e = Refuse(M(dup));
    EXPECT_EQ(e.code, 501) << dup;
    EXPECT_EQ(e.message.rfind("Duplicate parameter: ", 0), 0u) << e.message;
  }
}

TEST(MailParamsTest, UnknownAndMisplacedAre555) {
  const CommandError unknown = Refuse(M("XFOO=1"));
  EXPECT_EQ(unknown.code, 555);
  EXPECT_EQ(unknown.enhanced, "5.5.4");
  EXPECT_EQ(unknown.message, "Unsupported parameter: XFOO");
  EXPECT_EQ(Refuse(M("X-ANY")).code, 555);
  const CommandError notify = Refuse(M("NOTIFY=NEVER"));
  EXPECT_EQ(notify.code, 555);
  EXPECT_EQ(notify.message, "Parameter not allowed on MAIL: NOTIFY");
  EXPECT_EQ(Refuse(M("ORCPT=rfc822;a@b")).code, 555);
  // Long keywords are cut in the reply.
  const CommandError longer = Refuse(M(std::string(200, 'K')));
  EXPECT_EQ(longer.code, 555);
  EXPECT_LT(longer.message.size(), 80u);
}

TEST(MailParamsTest, MalformedParameterSyntax) {
  for (std::string_view bad : {"=5", "-SIZE=5", "SIZE==5", "SIZE=5=6",
                               "SI/ZE=5", "SIZE=\xc3\xa9", "BODY=7BIT,"}) {
    const CommandError e = Refuse(M(bad));
    EXPECT_EQ(e.code, 501) << bad;
  }
  // No space between the path and the first parameter.
  const CommandError glued = Refuse(std::string(kMail) + "SIZE=5");
  EXPECT_EQ(glued.code, 501);
  EXPECT_EQ(glued.enhanced, "5.1.7");
  EXPECT_EQ(glued.message, "Bad sender address syntax: 'S' not allowed here");
}

TEST(RcptParamsTest, Notify) {
  auto never = Parse(R("NOTIFY=NEVER"));
  ASSERT_TRUE(never.ok);
  EXPECT_TRUE(never.command.rcpt.notify.present);
  EXPECT_TRUE(never.command.rcpt.notify.never);
  EXPECT_FALSE(never.command.rcpt.notify.success);
  auto list = Parse(R("NOTIFY=success,Failure,DELAY"));
  ASSERT_TRUE(list.ok);
  const DsnNotify& n = list.command.rcpt.notify;
  EXPECT_TRUE(n.present);
  EXPECT_FALSE(n.never);
  EXPECT_TRUE(n.success);
  EXPECT_TRUE(n.failure);
  EXPECT_TRUE(n.delay);
  auto one = Parse(R("NOTIFY=FAILURE"));
  EXPECT_TRUE(one.command.rcpt.notify.failure);
  EXPECT_FALSE(one.command.rcpt.notify.delay);
  EXPECT_FALSE(Parse(kRcpt).command.rcpt.notify.present);
  for (std::string_view bad :
       {"NOTIFY=NEVER,SUCCESS", "NOTIFY=SUCCESS,NEVER", "NOTIFY=", "NOTIFY",
        "NOTIFY=SUCCESS,", "NOTIFY=,DELAY", "NOTIFY=ALWAYS",
        "NOTIFY=SUCCESS,,DELAY"}) {
    const CommandError e = Refuse(R(bad));
    EXPECT_EQ(e.code, 501) << bad;
    EXPECT_EQ(e.enhanced, "5.5.4") << bad;
  }
}

TEST(RcptParamsTest, Orcpt) {
  auto p = Parse(R("ORCPT=rfc822;c+2Bx@d.example"));
  ASSERT_TRUE(p.ok);
  EXPECT_EQ(p.command.rcpt.orcpt, "rfc822;c+2Bx@d.example");
  auto both = Parse(R("NOTIFY=DELAY ORCPT=RFC822;a@b"));
  EXPECT_TRUE(both.command.rcpt.notify.delay);
  EXPECT_EQ(both.command.rcpt.orcpt, "RFC822;a@b");
  for (std::string_view bad : {"ORCPT=a@b", "ORCPT=;a@b", "ORCPT=rfc822;",
                               "ORCPT=rfc822;a+4", "ORCPT=rf(c;a@b"}) {
    EXPECT_EQ(Refuse(R(bad)).code, 501) << bad;
  }
  const std::string value500 = "rfc822;" + std::string(493, 'x');
  EXPECT_TRUE(Parse(R("ORCPT=" + value500)).ok);
  EXPECT_EQ(Refuse(R("ORCPT=" + value500 + "x")).code, 501);
}

TEST(RcptParamsTest, DuplicateUnknownAndMisplaced) {
  EXPECT_EQ(Refuse(R("NOTIFY=NEVER NOTIFY=NEVER")).code, 501);
  EXPECT_EQ(Refuse(R("ORCPT=a;b orcpt=a;b")).code, 501);
  EXPECT_EQ(Refuse(R("XFOO")).code, 555);
  for (std::string_view mail_only :
       {"SIZE=1", "BODY=7BIT", "RET=FULL", "ENVID=x", "AUTH=<>", "SMTPUTF8"}) {
    const CommandError e = Refuse(R(mail_only));
    EXPECT_EQ(e.code, 555) << mail_only;
    EXPECT_EQ(e.message.rfind("Parameter not allowed on RCPT: ", 0), 0u);
  }
}

TEST(XtextTest, Decode) {
  EXPECT_EQ(DecodeXtext(""), "");
  EXPECT_EQ(DecodeXtext("abc"), "abc");
  EXPECT_EQ(DecodeXtext("a+2Bb+3Dc"), "a+b=c");
  EXPECT_EQ(DecodeXtext("+20+7E"), " ~");
  EXPECT_EQ(DecodeXtext("+00"), std::string(1, '\0'));
  EXPECT_EQ(DecodeXtext("+e9"), "\xe9");  // lower-case hex tolerated
  for (std::string_view bad :
       {"+", "+2", "a+G0", "a b", "a=b", "\x7f", "\xc3\xa9", "+2+"}) {
    EXPECT_FALSE(DecodeXtext(bad).has_value()) << bad;
  }
}

TEST(XtextTest, EncodeRoundTrip) {
  EXPECT_EQ(EncodeXtext("a+b=c d"), "a+2Bb+3Dc+20d");
  EXPECT_EQ(EncodeXtext("\r\n"), "+0D+0A");
  std::string all;
  for (int c = 0; c < 256; ++c) all.push_back(static_cast<char>(c));
  const std::string encoded = EncodeXtext(all);
  EXPECT_EQ(DecodeXtext(encoded), all);
  EXPECT_EQ(encoded.find_first_of(" =\x7f"), std::string::npos);
}

}  // namespace
}  // namespace posthorn::smtp
