// Tests of posthorn/smtp/reply.h: formatting, enhanced codes, and the
// streaming ReplyParser fed whole, split at every byte and byte by byte.

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "gtest/gtest.h"
#include "posthorn/smtp/reply.h"

namespace posthorn::smtp {
namespace {

TEST(ReplyFormatTest, SingleLine) {
  std::string out;
  AppendReply(250, "2.1.0", "Ok", &out);
  EXPECT_EQ(out, "250 2.1.0 Ok\r\n");
  AppendReply(354, "", "End data with <CR><LF>.<CR><LF>", &out);
  EXPECT_EQ(out, "250 2.1.0 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n");
}

TEST(ReplyFormatTest, EmptyTextAndEnhancedOnly) {
  std::string out;
  AppendReply(250, "", "", &out);
  EXPECT_EQ(out, "250\r\n");
  out.clear();
  AppendReply(250, "2.0.0", "", &out);
  EXPECT_EQ(out, "250 2.0.0\r\n");
}

TEST(ReplyFormatTest, MultiLineWithEnhancedCodeOnEveryLine) {
  Reply r;
  r.code = 550;
  r.enhanced = "5.7.1";
  r.lines = {"Refused:", "see policy", "bye"};
  EXPECT_EQ(FormatReply(r),
            "550-5.7.1 Refused:\r\n550-5.7.1 see policy\r\n550 5.7.1 bye\r\n");
}

TEST(ReplyFormatTest, EhloStyleAndMakeReply) {
  const Reply r = MakeReply(250, "", "mx.example\nPIPELINING\r\nSIZE 10240000");
  ASSERT_EQ(r.lines.size(), 3u);
  EXPECT_EQ(r.lines[1], "PIPELINING");
  EXPECT_EQ(FormatReply(r),
            "250-mx.example\r\n250-PIPELINING\r\n250 SIZE 10240000\r\n");
  const Reply ok = MakeReply(250, "2.1.0", "Ok");
  EXPECT_EQ(ok.code, 250);
  EXPECT_EQ(ok.enhanced, "2.1.0");
  ASSERT_EQ(ok.lines.size(), 1u);
  EXPECT_EQ(ok.lines[0], "Ok");
  EXPECT_EQ(MakeReply(221, "", "").lines.size(), 1u);
  Reply empty;
  empty.code = 250;
  EXPECT_EQ(FormatReply(empty), "250\r\n");
}

TEST(ReplyFormatTest, TextJoinsLines) {
  EXPECT_EQ(MakeReply(250, "", "a\nb\nc").text(), "a\nb\nc");
  EXPECT_EQ(MakeReply(250, "", "one").text(), "one");
}

TEST(ReplyFormatTest, Classes) {
  EXPECT_TRUE(MakeReply(250, "", "").positive());
  EXPECT_TRUE(MakeReply(354, "", "").intermediate());
  EXPECT_TRUE(MakeReply(421, "", "").transient());
  EXPECT_TRUE(MakeReply(554, "", "").permanent());
  EXPECT_EQ(MakeReply(451, "", "").reply_class(), ReplyClass::kTransient);
  EXPECT_FALSE(MakeReply(550, "", "").transient());
}

TEST(EnhancedStatusCodeTest, Forms) {
  for (std::string_view good :
       {"2.0.0", "4.7.1", "5.5.4", "5.123.456", "2.1.10", "4.999.0"}) {
    EXPECT_TRUE(IsEnhancedStatusCode(good)) << good;
  }
  for (std::string_view bad :
       {"", "3.0.0", "1.0.0", "2.0", "2..0", "2.0.", "2.1234.0", "2.0.1234",
        "2.0.0.", "20.0", "2.a.0", "2-0-0", " 2.0.0", "2.0.0 "}) {
    EXPECT_FALSE(IsEnhancedStatusCode(bad)) << bad;
  }
}

// Feeds `wire` in the given chunk boundaries and collects every reply.
struct Collected {
  std::vector<Reply> replies;
  bool error = false;
  absl::Status status;
};

Collected Feed(std::string_view wire, const std::vector<std::size_t>& cuts,
               bool enhanced) {
  Collected c;
  ReplyParser parser(enhanced);
  std::size_t prev = 0;
  std::vector<std::size_t> bounds = cuts;
  bounds.push_back(wire.size());
  for (std::size_t cut : bounds) {
    const std::string chunk(wire.substr(prev, cut - prev));  // owned copy
    std::string_view in(chunk);
    prev = cut;
    for (;;) {
      const auto ev = parser.Next(&in);
      if (ev == ReplyParser::Event::kReply) {
        c.replies.push_back(parser.TakeReply());
        continue;
      }
      if (ev == ReplyParser::Event::kError) {
        c.error = true;
        c.status = parser.status();
        return c;
      }
      EXPECT_TRUE(in.empty());
      break;
    }
  }
  return c;
}

void ExpectSame(const std::vector<Reply>& a, const std::vector<Reply>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].code, b[i].code);
    EXPECT_EQ(a[i].enhanced, b[i].enhanced);
    EXPECT_EQ(a[i].lines, b[i].lines);
  }
}

// Whole, at every single split, and byte by byte give the same replies.
Collected FeedEveryWay(std::string_view wire, bool enhanced) {
  const Collected whole = Feed(wire, {}, enhanced);
  for (std::size_t cut = 0; cut <= wire.size(); ++cut) {
    const Collected split = Feed(wire, {cut}, enhanced);
    EXPECT_EQ(split.error, whole.error) << "cut at " << cut;
    ExpectSame(split.replies, whole.replies);
  }
  std::vector<std::size_t> every;
  for (std::size_t i = 1; i < wire.size(); ++i) every.push_back(i);
  const Collected bytes = Feed(wire, every, enhanced);
  EXPECT_EQ(bytes.error, whole.error);
  ExpectSame(bytes.replies, whole.replies);
  return whole;
}

TEST(ReplyParserTest, SessionTranscript) {
  const std::string wire =
      "220 mx.example ESMTP ready\r\n"
      "250-mx.example\r\n"
      "250-PIPELINING\r\n"
      "250-SIZE 10240000\r\n"
      "250-ENHANCEDSTATUSCODES\r\n"
      "250 8BITMIME\r\n"
      "250 2.1.0 Ok\r\n"
      "550 5.1.1 <x@y>: Recipient address rejected\r\n"
      "354 End data with <CR><LF>.<CR><LF>\r\n"
      "250 2.0.0 Ok: queued as 12345\r\n"
      "221 2.0.0 Bye\r\n";
  const Collected c = FeedEveryWay(wire, /*enhanced=*/true);
  ASSERT_FALSE(c.error);
  ASSERT_EQ(c.replies.size(), 7u);
  EXPECT_EQ(c.replies[0].code, 220);
  EXPECT_EQ(c.replies[0].lines[0], "mx.example ESMTP ready");
  EXPECT_EQ(c.replies[1].lines.size(), 5u);
  EXPECT_EQ(c.replies[1].lines[4], "8BITMIME");
  EXPECT_EQ(c.replies[1].enhanced, "");
  EXPECT_EQ(c.replies[2].enhanced, "2.1.0");
  EXPECT_EQ(c.replies[2].lines[0], "Ok");
  EXPECT_EQ(c.replies[3].code, 550);
  EXPECT_EQ(c.replies[3].enhanced, "5.1.1");
  EXPECT_TRUE(c.replies[3].permanent());
  EXPECT_EQ(c.replies[4].code, 354);
  EXPECT_EQ(c.replies[4].enhanced, "");
  EXPECT_EQ(c.replies[6].lines[0], "Bye");
}

TEST(ReplyParserTest, EnhancedCodesOnEveryLineAreStripped) {
  const Collected c = FeedEveryWay(
      "550-5.7.1 Message refused\r\n550-5.7.1 see https://x/\r\n"
      "550 5.7.1 bye\r\n",
      true);
  ASSERT_EQ(c.replies.size(), 1u);
  EXPECT_EQ(c.replies[0].enhanced, "5.7.1");
  EXPECT_EQ(
      c.replies[0].lines,
      (std::vector<std::string>{"Message refused", "see https://x/", "bye"}));
  // The round trip through FormatReply is exact.
  EXPECT_EQ(FormatReply(c.replies[0]),
            "550-5.7.1 Message refused\r\n550-5.7.1 see https://x/\r\n"
            "550 5.7.1 bye\r\n");
}

TEST(ReplyParserTest, EnhancedCodesLeftInTextWhenNotExpected) {
  const Collected c = FeedEveryWay("250 2.1.0 Ok\r\n", false);
  ASSERT_EQ(c.replies.size(), 1u);
  EXPECT_EQ(c.replies[0].enhanced, "");
  EXPECT_EQ(c.replies[0].lines[0], "2.1.0 Ok");
}

TEST(ReplyParserTest, EnhancedCodeOfAnotherClassIsText) {
  auto r = ParseReply("250 5.0.0 odd\r\n");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->enhanced, "");
  EXPECT_EQ(r->lines[0], "5.0.0 odd");
  auto only = ParseReply("250 2.0.0\r\n");
  ASSERT_TRUE(only.ok());
  EXPECT_EQ(only->enhanced, "2.0.0");
  EXPECT_EQ(only->lines[0], "");
  auto version = ParseReply("220 2.0.0.1 not a code\r\n");
  ASSERT_TRUE(version.ok());
  EXPECT_EQ(version->enhanced, "");
}

TEST(ReplyParserTest, LenientForms) {
  auto bare = ParseReply("250\r\n");
  ASSERT_TRUE(bare.ok());
  EXPECT_EQ(bare->code, 250);
  ASSERT_EQ(bare->lines.size(), 1u);
  EXPECT_EQ(bare->lines[0], "");
  auto dash = ParseReply("250-\r\n250 x\r\n");
  ASSERT_TRUE(dash.ok());
  EXPECT_EQ(dash->lines.size(), 2u);
  // Bare LF line ends are counted, not fatal.
  ReplyParser parser;
  std::string_view in = "250-a\n250 b\r\n";
  ASSERT_EQ(parser.Next(&in), ReplyParser::Event::kReply);
  EXPECT_EQ(parser.reply().lines.size(), 2u);
  EXPECT_EQ(parser.bare_lf_lines(), 1u);
  // A continuation with another code keeps the first.
  auto mixed = ParseReply("250-a\r\n251 b\r\n");
  ASSERT_TRUE(mixed.ok());
  EXPECT_EQ(mixed->code, 250);
}

TEST(ReplyParserTest, LeavesTheRestInInput) {
  ReplyParser parser(true);
  std::string_view in = "220 2.0.0 Ready to start TLS\r\nINJECTED";
  ASSERT_EQ(parser.Next(&in), ReplyParser::Event::kReply);
  EXPECT_EQ(in, "INJECTED");
  EXPECT_EQ(parser.reply().code, 220);
  // The caller discards the rest and resets (STARTTLS).
  parser.Reset();
  std::string_view partial = "250-half";
  EXPECT_EQ(parser.Next(&partial), ReplyParser::Event::kNeedMoreData);
  parser.Reset();
  std::string_view next = "250 ok\r\n";
  ASSERT_EQ(parser.Next(&next), ReplyParser::Event::kReply);
  EXPECT_EQ(parser.reply().lines[0], "ok");
}

TEST(ReplyParserTest, Malformed) {
  for (std::string_view bad :
       {"hello\r\n", "25\r\n", "2x0 ok\r\n", "150 ok\r\n", "650 no\r\n",
        "050 x\r\n", "250_ok\r\n", "250x\r\n", "\r\n", " 250 ok\r\n",
        "250-a\r\nxyz\r\n", "250-ok\r\n25\r\n", "250 a\rb\r\n",
        "250 ok\r\r\n"}) {
    const Collected c = FeedEveryWay(bad, false);
    EXPECT_TRUE(c.error) << bad;
    EXPECT_EQ(c.status.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_FALSE(ParseReply(bad).ok()) << bad;
  }
}

TEST(ReplyParserTest, ErrorIsSticky) {
  ReplyParser parser;
  std::string_view bad = "xyz\r\n";
  ASSERT_EQ(parser.Next(&bad), ReplyParser::Event::kError);
  std::string_view good = "250 ok\r\n";
  EXPECT_EQ(parser.Next(&good), ReplyParser::Event::kError);
  parser.Reset();
  EXPECT_EQ(parser.Next(&good), ReplyParser::Event::kReply);
}

TEST(ReplyParserTest, LineLengthLimit) {
  // 512 octets with CRLF: accepted; 513: refused, also before its LF comes.
  const std::string ok = "250 " + std::string(506, 'x') + "\r\n";
  ASSERT_EQ(ok.size(), kSmtpReplyLineMax);
  EXPECT_FALSE(FeedEveryWay(ok, false).error);
  const std::string over = "250 " + std::string(507, 'x') + "\r\n";
  const Collected c = FeedEveryWay(over, false);
  EXPECT_TRUE(c.error);
  EXPECT_EQ(c.status.code(), absl::StatusCode::kResourceExhausted);
  ReplyParser parser;
  std::string endless(600, 'x');
  std::string_view in = endless;
  EXPECT_EQ(parser.Next(&in), ReplyParser::Event::kError);
  // A bare-LF line may hold one more octet of text.
  const std::string lf = "250 " + std::string(507, 'x') + "\n";
  EXPECT_FALSE(Feed(lf, {}, false).error);
}

TEST(ReplyParserTest, LineCountLimit) {
  std::string wire;
  for (std::size_t i = 0; i + 1 < kMaxReplyLines; ++i) wire += "250-x\r\n";
  const std::string exactly = wire + "250 x\r\n";
  const Collected c = Feed(exactly, {}, false);
  ASSERT_FALSE(c.error);
  EXPECT_EQ(c.replies[0].lines.size(), kMaxReplyLines);
  const std::string over = wire + "250-x\r\n250 x\r\n";
  const Collected d = Feed(over, {}, false);
  EXPECT_TRUE(d.error);
  EXPECT_EQ(d.status.code(), absl::StatusCode::kResourceExhausted);
}

TEST(ParseReplyTest, IncompleteIsAnError) {
  EXPECT_FALSE(ParseReply("").ok());
  EXPECT_FALSE(ParseReply("250 ok").ok());
  EXPECT_FALSE(ParseReply("250-ok\r\n").ok());
  auto r = ParseReply("250 ok\r\n250 next\r\n");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->lines[0], "ok");
}

TEST(ReplyRoundTripTest, FormatThenParse) {
  for (const Reply& r :
       {MakeReply(250, "2.1.5", "Ok"), MakeReply(421, "4.4.2", "timeout\nbye"),
        MakeReply(334, "", "VXNlcm5hbWU6"), MakeReply(220, "", "")}) {
    const std::string wire = FormatReply(r);
    const Collected c = FeedEveryWay(wire, true);
    ASSERT_EQ(c.replies.size(), 1u) << wire;
    EXPECT_EQ(c.replies[0].code, r.code);
    EXPECT_EQ(c.replies[0].enhanced, r.enhanced);
    EXPECT_EQ(c.replies[0].lines, r.lines);
  }
}

}  // namespace
}  // namespace posthorn::smtp

namespace posthorn::smtp {
namespace {

TEST(ReplyParserTest, PipelinedRepliesInOneChunk) {
  ReplyParser parser(true);
  std::string_view in = "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n554 5.5.1 No\r\n";
  ASSERT_EQ(parser.Next(&in), ReplyParser::Event::kReply);
  EXPECT_EQ(parser.TakeReply().enhanced, "2.1.0");
  ASSERT_EQ(parser.Next(&in), ReplyParser::Event::kReply);
  EXPECT_EQ(parser.reply().enhanced, "2.1.5");
  ASSERT_EQ(parser.Next(&in), ReplyParser::Event::kReply);
  EXPECT_EQ(parser.reply().code, 554);
  EXPECT_TRUE(in.empty());
  EXPECT_EQ(parser.Next(&in), ReplyParser::Event::kNeedMoreData);
}

TEST(ReplyParserTest, FirstLineDecidesAboutEnhancedCodes) {
  auto r = ParseReply("250-mx.example\r\n250 2.0.0 text\r\n");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->enhanced, "");
  EXPECT_EQ(r->lines[1], "2.0.0 text");
  auto s = ParseReply("250-2.0.0 a\r\n250 b\r\n");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->enhanced, "2.0.0");
  EXPECT_EQ(s->lines, (std::vector<std::string>{"a", "b"}));
}

}  // namespace
}  // namespace posthorn::smtp
