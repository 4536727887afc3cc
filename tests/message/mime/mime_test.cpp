// Tests of posthorn/message/mime.h: the shape of the MIME tree.

#include "posthorn/message/mime.h"

#include <string>
#include <string_view>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "message/mime/mime_test_util.h"

namespace posthorn::message {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;
using testing::Crlf;
using testing::ExpectTreeInvariants;
using testing::GuardedBuffer;
using testing::HasDefect;
using testing::ReadFile;
using testing::TestData;

std::vector<std::string> Paths(const Message& msg) {
  std::vector<std::string> out;
  for (const auto& [path, part] : msg.Leaves()) out.push_back(path);
  return out;
}

Message MustParse(std::string_view input, const ParseOptions& options = {}) {
  absl::StatusOr<Message> msg = ParseMessage(input, options);
  EXPECT_TRUE(msg.ok()) << msg.status();
  if (!msg.ok()) return Message();
  ExpectTreeInvariants(*msg, input, options.max_depth);
  return *std::move(msg);
}

TEST(MimeTest, SinglePartMessage) {
  GuardedBuffer in(Crlf("Subject: hi\nContent-Type: text/plain; "
                        "charset=\"UTF-8\"\n\nhello\nworld\n"));
  Message msg = MustParse(in.view());
  const MimePart& root = msg.root();
  EXPECT_TRUE(root.IsLeaf());
  EXPECT_TRUE(root.has_content_type);
  EXPECT_EQ(root.content_type.MimeType(), "text/plain");
  EXPECT_EQ(root.Charset(), "utf-8");  // lowercased
  EXPECT_EQ(root.body, "hello\r\nworld\r\n");
  EXPECT_EQ(root.raw, in.view());
  EXPECT_EQ(root.offset, 0u);
  EXPECT_THAT(Paths(msg), ElementsAre("1"));
  EXPECT_TRUE(msg.defects().empty());
}

TEST(MimeTest, DefaultContentTypeIsTextPlain) {
  GuardedBuffer in(Crlf("Subject: hi\n\nbody\n"));
  Message msg = MustParse(in.view());
  EXPECT_FALSE(msg.root().has_content_type);
  EXPECT_EQ(msg.root().content_type.MimeType(), "text/plain");
  EXPECT_EQ(msg.root().Charset(), "");
  EXPECT_EQ(msg.root().encoding, TransferEncoding::k7Bit);
}

// RFC 2046 section 5.1.1, the example with preamble and epilogue.
TEST(MimeTest, Rfc2046Example) {
  const std::string text = ReadFile(TestData("mime/rfc2046_example.eml"));
  GuardedBuffer in(text);
  Message msg = MustParse(in.view());
  const MimePart& root = msg.root();
  EXPECT_EQ(root.content_type.MimeType(), "multipart/mixed");
  ASSERT_EQ(root.children.size(), 2u);
  EXPECT_EQ(root.preamble,
            "This is the preamble.  It is to be ignored, though it\r\n"
            "is a handy place for composition agents to include an\r\n"
            "explanatory note to non-MIME conformant readers.\r\n");
  EXPECT_EQ(root.epilogue,
            "\r\nThis is the epilogue.  It is also to be ignored.\r\n");
  const MimePart& p1 = root.children[0];
  EXPECT_FALSE(p1.has_content_type);
  EXPECT_EQ(p1.body,
            "This is implicitly typed plain US-ASCII text.\r\n"
            "It does NOT end with a linebreak.");
  EXPECT_EQ(p1.raw, "\r\n" + std::string(p1.body));
  const MimePart& p2 = root.children[1];
  EXPECT_TRUE(p2.has_content_type);
  EXPECT_EQ(p2.Charset(), "us-ascii");
  EXPECT_EQ(p2.body,
            "This is explicitly typed plain US-ASCII text.\r\n"
            "It DOES end with a linebreak.\r\n");
  EXPECT_THAT(Paths(msg), ElementsAre("1", "2"));
  EXPECT_TRUE(msg.defects().empty());
}

TEST(MimeTest, Alternative) {
  const std::string text = ReadFile(TestData("mime/alternative.eml"));
  GuardedBuffer in(text);
  Message msg = MustParse(in.view());
  const MimePart& root = msg.root();
  ASSERT_EQ(root.children.size(), 2u);
  EXPECT_EQ(root.preamble, "");
  EXPECT_EQ(root.epilogue, "");
  EXPECT_EQ(root.children[0].content_type.MimeType(), "text/plain");
  EXPECT_EQ(root.children[0].encoding, TransferEncoding::kQuotedPrintable);
  EXPECT_EQ(root.children[0].body,
            "Caf=C3=A9 menu: soup, bread.\r\nSecond line.");
  EXPECT_EQ(root.children[1].content_type.MimeType(), "text/html");
  EXPECT_EQ(root.children[1].encoding, TransferEncoding::k8Bit);
  EXPECT_EQ(root.children[1].body, "<p>Caf\xc3\xa9 menu</p>");
  EXPECT_EQ(DecodeBodyToString(root.children[0]),
            "Caf\xc3\xa9 menu: soup, bread.\r\nSecond line.");
}

TEST(MimeTest, MixedWithAttachments) {
  const std::string text = ReadFile(TestData("mime/mixed_attachments.eml"));
  GuardedBuffer in(text);
  Message msg = MustParse(in.view());
  auto leaves = msg.Leaves();
  ASSERT_EQ(leaves.size(), 3u);
  EXPECT_EQ(leaves[0].second->Filename(), "");
  EXPECT_EQ(leaves[1].second->Filename(), "dot.png");  // Content-Type name
  EXPECT_EQ(leaves[2].second->Filename(), "r\xc3\xa9sum\xc3\xa9.pdf");
  ASSERT_TRUE(leaves[2].second->disposition.has_value());
  EXPECT_EQ(leaves[2].second->disposition->type, "attachment");

  std::string png;
  for (int i = 0; i < 700; ++i) png += static_cast<char>((i * 37 + 11) % 256);
  Defects defects;
  EXPECT_EQ(DecodeBodyToString(*leaves[1].second, &defects), png);
  const std::string pdf = DecodeBodyToString(*leaves[2].second, &defects);
  EXPECT_EQ(pdf.size(), 2009u);
  EXPECT_EQ(pdf.substr(0, 9), "%PDF-1.4\n");
  EXPECT_TRUE(defects.empty());
}

TEST(MimeTest, NestedMultipartAndPrefixBoundaries) {
  const std::string text = ReadFile(TestData("mime/nested.eml"));
  GuardedBuffer in(text);
  Message msg = MustParse(in.view());
  const MimePart& root = msg.root();
  EXPECT_EQ(root.preamble, "preamble");
  EXPECT_EQ(root.epilogue, "outer epilogue\r\n");
  ASSERT_EQ(root.children.size(), 2u);
  const MimePart& alt = root.children[0];
  EXPECT_EQ(alt.content_type.MimeType(), "multipart/alternative");
  ASSERT_EQ(alt.children.size(), 2u);
  EXPECT_EQ(alt.children[0].body,
            "plain text\r\n--abcd is not a delimiter of abc, and --abc- "
            "neither");
  EXPECT_EQ(alt.children[1].body, "<b>html</b>");
  EXPECT_EQ(alt.epilogue, "inner epilogue");
  EXPECT_EQ(DecodeBodyToString(root.children[1]),
            std::string("\x00\x01\x02\x03\x04\x05", 6));
  EXPECT_THAT(Paths(msg), ElementsAre("1.1", "1.2", "2"));
  EXPECT_TRUE(msg.defects().empty());
}

TEST(MimeTest, EncapsulatedMessages) {
  const std::string text = ReadFile(TestData("mime/rfc822_inside.eml"));
  GuardedBuffer in(text);
  Message msg = MustParse(in.view());
  const MimePart& root = msg.root();
  ASSERT_EQ(root.children.size(), 3u);
  const MimePart& fwd = root.children[1];
  EXPECT_TRUE(fwd.content_type.IsEncapsulatedMessage());
  ASSERT_EQ(fwd.children.size(), 1u);
  const MimePart& inner = fwd.children[0];
  EXPECT_EQ(inner.depth, 2u);
  ASSERT_NE(inner.headers.Find("Subject"), nullptr);
  EXPECT_EQ(inner.headers.Find("Subject")->raw_value, " hello");
  ASSERT_EQ(inner.children.size(), 2u);
  EXPECT_EQ(inner.children[0].body, "hi");
  EXPECT_EQ(inner.raw, fwd.body);
  const MimePart& single = root.children[2];
  ASSERT_EQ(single.children.size(), 1u);
  EXPECT_EQ(single.children[0].body, "just text");
  EXPECT_THAT(Paths(msg), ElementsAre("1", "2.1", "2.2", "3.1"));
  EXPECT_TRUE(msg.defects().empty());
}

TEST(MimeTest, EncapsulatedMessageNotParsedWhenDisabled) {
  const std::string text = ReadFile(TestData("mime/rfc822_inside.eml"));
  GuardedBuffer in(text);
  ParseOptions options;
  options.parse_encapsulated = false;
  Message msg = MustParse(in.view(), options);
  EXPECT_THAT(Paths(msg), ElementsAre("1", "2", "3"));
  EXPECT_TRUE(msg.root().children[1].IsLeaf());
}

TEST(MimeTest, Base64EncodedMessageRfc822IsALeaf) {
  GuardedBuffer in(Crlf(
      "Content-Type: message/rfc822\nContent-Transfer-Encoding: base64\n\n"
      "U3ViamVjdDogeAoKYm9keQo=\n"));
  Message msg = MustParse(in.view());
  EXPECT_TRUE(msg.root().IsLeaf());
  EXPECT_EQ(DecodeBodyToString(msg.root()), "Subject: x\n\nbody\n");
}

TEST(MimeTest, DigestDefaultsToMessageRfc822) {
  const std::string text = ReadFile(TestData("mime/digest.eml"));
  GuardedBuffer in(text);
  Message msg = MustParse(in.view());
  const MimePart& root = msg.root();
  ASSERT_EQ(root.children.size(), 3u);
  for (int i = 0; i < 2; ++i) {
    const MimePart& p = root.children[i];
    EXPECT_FALSE(p.has_content_type);
    EXPECT_EQ(p.content_type.MimeType(), "message/rfc822");
    ASSERT_EQ(p.children.size(), 1u);
  }
  EXPECT_EQ(root.children[0].children[0].body, "First message.");
  EXPECT_EQ(root.children[1].children[0].headers.Find("Subject")->raw_value,
            " second");
  EXPECT_EQ(root.children[2].content_type.MimeType(), "text/plain");
  EXPECT_THAT(Paths(msg), ElementsAre("1.1", "2.1", "3"));
}

TEST(MimeTest, TransportPaddingAndCloseDelimiter) {
  GuardedBuffer in(Crlf(
      "Content-Type: multipart/mixed; boundary=b\n\n"
      "--b \t\nContent-Type: text/plain\n\none\n--b\t\n\ntwo\n--b--  \n"));
  Message msg = MustParse(in.view());
  ASSERT_EQ(msg.root().children.size(), 2u);
  EXPECT_EQ(msg.root().children[0].body, "one");
  EXPECT_EQ(msg.root().children[1].body, "two");
  EXPECT_EQ(msg.root().epilogue, "");
  EXPECT_TRUE(msg.defects().empty());
}

TEST(MimeTest, LineThatOnlyStartsWithTheBoundaryIsNotADelimiter) {
  GuardedBuffer in(Crlf(
      "Content-Type: multipart/mixed; boundary=b\n\n"
      "--b\n\n--bb\n--b-\n--b--x\n -- b\n--b--\n"));
  Message msg = MustParse(in.view());
  ASSERT_EQ(msg.root().children.size(), 1u);
  EXPECT_EQ(msg.root().children[0].body, "--bb\r\n--b-\r\n--b--x\r\n -- b");
}

TEST(MimeTest, LineEndStyles) {
  const std::string lf =
      "Content-Type: multipart/mixed; boundary=b\n\npre\n--b\n"
      "Content-Type: text/plain\n\none\nline\n--b\n\ntwo\n--b--\nepi\n";
  std::string crlf = Crlf(lf);
  std::string cr = lf;
  for (char& c : cr) {
    if (c == '\n') c = '\r';
  }
  // Mixed: CRLF in the headers, LF and CR in the body.
  std::string mixed =
      "Content-Type: multipart/mixed; boundary=b\r\n\r\npre\n--b\r\n"
      "Content-Type: text/plain\n\none\rline\r\n--b\r\rtwo\n--b--\repi\n";
  for (const std::string& text : {lf, crlf, cr, mixed}) {
    SCOPED_TRACE(text);
    GuardedBuffer in(text);
    Message msg = MustParse(in.view());
    const MimePart& root = msg.root();
    ASSERT_EQ(root.children.size(), 2u);
    EXPECT_EQ(root.preamble, "pre");
    EXPECT_EQ(root.children[0].content_type.MimeType(), "text/plain");
    EXPECT_EQ(root.children[0].body.substr(0, 3), "one");
    EXPECT_EQ(root.children[0].body.size(), text == crlf ? 9u : 8u);
    EXPECT_EQ(root.children[1].body, "two");
    EXPECT_EQ(root.epilogue.substr(0, 3), "epi");
  }
}

TEST(MimeTest, FirstDelimiterRightAfterTheHeaders) {
  GuardedBuffer in(Crlf(
      "Content-Type: multipart/mixed; boundary=b\n\n--b\n\nx\n--b--"));
  Message msg = MustParse(in.view());
  EXPECT_EQ(msg.root().preamble, "");
  ASSERT_EQ(msg.root().children.size(), 1u);
  EXPECT_EQ(msg.root().children[0].body, "x");
  EXPECT_EQ(msg.root().epilogue, "");
  EXPECT_TRUE(msg.defects().empty());
}

TEST(MimeTest, EmptyPartsBetweenDelimiters) {
  GuardedBuffer in(Crlf(
      "Content-Type: multipart/mixed; boundary=b\n\n--b\n--b\n\n--b--\n"));
  Message msg = MustParse(in.view());
  ASSERT_EQ(msg.root().children.size(), 2u);
  EXPECT_EQ(msg.root().children[0].raw, "");
  EXPECT_EQ(msg.root().children[1].raw, "");
  EXPECT_EQ(msg.root().children[1].body, "");
}

TEST(MimeTest, OffsetsPointIntoTheTopLevelBuffer) {
  const std::string text = ReadFile(TestData("mime/rfc822_inside.eml"));
  GuardedBuffer in(text);
  Message msg = MustParse(in.view());
  for (const auto& [path, part] : msg.Leaves()) {
    EXPECT_EQ(in.view().substr(part->offset, part->raw.size()), part->raw);
    for (const HeaderField& f : part->headers.fields()) {
      EXPECT_EQ(in.view().substr(f.offset, f.name.size()), f.name);
    }
  }
}

TEST(MimeTest, SeedMessagesAreSingleTextParts) {
  for (const char* name : {"hola_root.eml", "probando_sendmail_1.eml",
                           "prueba_2_del_sendmail.eml"}) {
    SCOPED_TRACE(name);
    const std::string text = ReadFile(TestData(std::string("seed/") + name));
    ASSERT_FALSE(text.empty());
    GuardedBuffer in(text);
    Message msg = MustParse(in.view());
    EXPECT_THAT(Paths(msg), ElementsAre("1"));
    EXPECT_EQ(msg.root().content_type.MimeType(), "text/plain");
    EXPECT_NE(msg.root().headers.Find("From"), nullptr);
    EXPECT_NE(msg.root().headers.Find("Subject"), nullptr);
    EXPECT_TRUE(msg.root().headers.has_separator());
    EXPECT_FALSE(msg.root().body.empty());
    EXPECT_EQ(DecodeTextToUtf8(msg.root()), msg.root().body);
  }
}

TEST(MimeTest, MaxPartsIsAStatus) {
  std::string text = "Content-Type: multipart/mixed; boundary=b\r\n\r\n";
  for (int i = 0; i < 20; ++i) text += "--b\r\n\r\nx\r\n";
  text += "--b--\r\n";
  GuardedBuffer in(text);
  ParseOptions options;
  options.max_parts = 10;
  absl::StatusOr<Message> msg = ParseMessage(in.view(), options);
  EXPECT_EQ(msg.status().code(), absl::StatusCode::kResourceExhausted);
  options.max_parts = 21;
  EXPECT_TRUE(ParseMessage(in.view(), options).ok());
}

TEST(MimeTest, LeavesOfAMessageRfc822AtTheTop) {
  GuardedBuffer in(Crlf(
      "Content-Type: message/rfc822\n\nSubject: inner\n\nbody\n"));
  Message msg = MustParse(in.view());
  ASSERT_EQ(msg.root().children.size(), 1u);
  EXPECT_THAT(Paths(msg), ElementsAre("1.1"));
  EXPECT_EQ(msg.Leaves()[0].second->body, "body\r\n");
}

}  // namespace
}  // namespace posthorn::message
