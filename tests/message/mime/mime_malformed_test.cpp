// Tests of posthorn/message/mime.h: malformed and hostile messages.

#include <chrono>
#include <iostream>
#include <string>
#include <string_view>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "message/mime/mime_test_util.h"
#include "posthorn/message/mime.h"

namespace posthorn::message {
namespace {

using testing::Crlf;
using testing::ExpectTreeInvariants;
using testing::GuardedBuffer;
using testing::HasDefect;
using testing::ReadFile;
using testing::TestData;

Message MustParse(std::string_view input, const ParseOptions& options = {}) {
  absl::StatusOr<Message> msg = ParseMessage(input, options);
  EXPECT_TRUE(msg.ok()) << msg.status();
  if (!msg.ok()) return Message();
  ExpectTreeInvariants(*msg, input, options.max_depth);
  return *std::move(msg);
}

std::size_t DefectOffset(const Message& msg, DefectKind kind) {
  for (const Defect& d : msg.defects()) {
    if (d.kind == kind) return d.offset;
  }
  ADD_FAILURE() << "no defect " << DefectName(kind);
  return 0;
}

TEST(MimeMalformedTest, BoundaryNeverClosed) {
  const std::string text = ReadFile(TestData("mime/never_closed.eml"));
  GuardedBuffer in(text);
  Message msg = MustParse(in.view());
  ASSERT_EQ(msg.root().children.size(), 2u);
  EXPECT_EQ(msg.root().children[0].body, "one");
  EXPECT_EQ(msg.root().children[1].body, "two runs to the end\r\n");
  EXPECT_EQ(DefectOffset(msg, DefectKind::kBoundaryNeverClosed), text.size());
  EXPECT_EQ(msg.root().raw.size(), text.size());
}

TEST(MimeMalformedTest, OuterBoundaryClosesInner) {
  const std::string text = ReadFile(TestData("mime/closes_outer.eml"));
  GuardedBuffer in(text);
  Message msg = MustParse(in.view());
  const MimePart& root = msg.root();
  ASSERT_EQ(root.children.size(), 2u);
  const MimePart& inner = root.children[0];
  EXPECT_EQ(inner.content_type.MimeType(), "multipart/alternative");
  ASSERT_EQ(inner.children.size(), 1u);
  EXPECT_EQ(inner.children[0].body, "inner one");
  EXPECT_EQ(root.children[1].body, "outer two");
  EXPECT_EQ(DefectOffset(msg, DefectKind::kBoundaryClosesOuter),
            text.find("--outer\r\nContent-Type: text/plain"));
  EXPECT_FALSE(HasDefect(msg.defects(), DefectKind::kBoundaryNeverClosed));
}

TEST(MimeMalformedTest, OuterBoundaryClosesEncapsulatedMessage) {
  GuardedBuffer in(Crlf(
      "Content-Type: multipart/mixed; boundary=o\n\n--o\n"
      "Content-Type: message/rfc822\n\nSubject: in\n"
      "Content-Type: multipart/mixed; boundary=i\n\n--i\n\ndeep\n"
      "--o\n\nafter\n--o--\n"));
  Message msg = MustParse(in.view());
  const MimePart& root = msg.root();
  ASSERT_EQ(root.children.size(), 2u);
  const MimePart& inner_msg = root.children[0].children.at(0);
  ASSERT_EQ(inner_msg.children.size(), 1u);
  EXPECT_EQ(inner_msg.children[0].body, "deep");
  EXPECT_EQ(root.children[1].body, "after");
  EXPECT_TRUE(HasDefect(msg.defects(), DefectKind::kBoundaryClosesOuter));
}

TEST(MimeMalformedTest, MissingBoundaryIsALeaf) {
  const std::string text = ReadFile(TestData("mime/missing_boundary.eml"));
  GuardedBuffer in(text);
  Message msg = MustParse(in.view());
  EXPECT_TRUE(msg.root().IsLeaf());
  EXPECT_EQ(msg.root().content_type.MimeType(), "multipart/mixed");
  EXPECT_EQ(msg.root().body, "--x\r\nContent-Type: text/plain\r\n\r\nbody\r\n"
                             "--x--\r\n");
  EXPECT_TRUE(HasDefect(msg.defects(), DefectKind::kMissingBoundary));
  EXPECT_EQ(msg.Leaves().size(), 1u);
}

TEST(MimeMalformedTest, MultipartWithoutParts) {
  for (std::string body : {"no delimiter here\n", "pre\n--b--\nepi\n", ""}) {
    SCOPED_TRACE(body);
    GuardedBuffer in(
        Crlf("Content-Type: multipart/mixed; boundary=b\n\n" + body));
    Message msg = MustParse(in.view());
    EXPECT_TRUE(msg.root().IsLeaf());
    EXPECT_TRUE(HasDefect(msg.defects(), DefectKind::kNoPartsInMultipart));
    EXPECT_EQ(msg.Leaves().size(), 1u);
  }
}

// 10,000 nested multiparts must neither overflow the stack nor take
// quadratic time: the parse stops descending at max_depth.
std::string DeepMultipart(int levels, bool same_boundary) {
  std::string text;
  auto boundary = [&](int i) {
    return same_boundary ? std::string("b") : "b" + std::to_string(i);
  };
  for (int i = 0; i < levels; ++i) {
    text += "Content-Type: multipart/mixed; boundary=" + boundary(i) +
            "\r\n\r\n--" + boundary(i) + "\r\n";
  }
  text += "\r\ncore\r\n";
  for (int i = levels; i-- > 0;) text += "--" + boundary(i) + "--\r\n";
  return text;
}

TEST(MimeMalformedTest, TenThousandNestedMultiparts) {
  for (bool same : {false, true}) {
    SCOPED_TRACE(same);
    const std::string text = DeepMultipart(10'000, same);
    GuardedBuffer in(text);
    ParseOptions options;
    // With one boundary everywhere, each level's delimiter line starts one
    // more sibling of the deepest container: 10,000 parts.
    if (same) {
      EXPECT_EQ(ParseMessage(in.view()).status().code(),
                absl::StatusCode::kResourceExhausted);
      options.max_parts = 20'000;
    }
    const auto start = std::chrono::steady_clock::now();
    Message msg = MustParse(in.view(), options);
    const auto elapsed = std::chrono::steady_clock::now() - start;
    EXPECT_TRUE(HasDefect(msg.defects(), DefectKind::kNestingTooDeep));
    // Walk down: 32 levels of containers, then the opaque leaf.
    const MimePart* p = &msg.root();
    std::size_t depth = 0;
    while (!p->IsLeaf()) {
      p = &p->children.front();
      ++depth;
    }
    EXPECT_EQ(depth, 32u);
    EXPECT_EQ(p->content_type.MimeType(), "multipart/mixed");
    // With distinct boundaries, the opaque leaf holds the rest down to the
    // core; with one boundary everywhere, its delimiters cut it short.
    if (!same) {
      EXPECT_NE(p->body.find("core"), std::string_view::npos);
    }
    // Generous: linear work on 600 KB takes milliseconds, quadratic minutes.
    EXPECT_LT(elapsed, std::chrono::seconds(10));
    std::cerr << "nested parse took "
              << std::chrono::duration_cast<std::chrono::microseconds>(elapsed)
                     .count()
              << " us\n";
  }
}

TEST(MimeMalformedTest, DeepNestingHonoursMaxDepthOption) {
  const std::string text = DeepMultipart(50, false);
  GuardedBuffer in(text);
  ParseOptions options;
  options.max_depth = 3;
  Message msg = MustParse(in.view(), options);
  EXPECT_TRUE(HasDefect(msg.defects(), DefectKind::kNestingTooDeep));
  options.max_depth = 100;
  Message full = MustParse(in.view(), options);
  EXPECT_FALSE(HasDefect(full.defects(), DefectKind::kNestingTooDeep));
  ASSERT_EQ(full.Leaves().size(), 1u);
  // One part per level: "1.1.1...", 50 numbers.
  std::string path = "1";
  for (int i = 1; i < 50; ++i) path += ".1";
  EXPECT_EQ(full.Leaves()[0].first, path);
}

TEST(MimeMalformedTest, TenThousandNestedMessages) {
  std::string text;
  for (int i = 0; i < 10'000; ++i) text += "Content-Type: message/rfc822\r\n\r\n";
  text += "Subject: core\r\n\r\nbody\r\n";
  GuardedBuffer in(text);
  Message msg = MustParse(in.view());
  EXPECT_TRUE(HasDefect(msg.defects(), DefectKind::kNestingTooDeep));
  ASSERT_EQ(msg.Leaves().size(), 1u);
  EXPECT_EQ(msg.Leaves()[0].second->depth, 32u);
}

TEST(MimeMalformedTest, NulBytesAreKept) {
  const std::string text = ReadFile(TestData("mime/nul_bytes.eml"));
  GuardedBuffer in(text);
  Message msg = MustParse(in.view());
  EXPECT_EQ(msg.root().body, std::string("ab\0cd\0\r\n", 8));
  EXPECT_EQ(DecodeBodyToString(msg.root()), std::string("ab\0cd\0\r\n", 8));

  static constexpr char kMulti[] =
      "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\n\0x\0\r\n"
      "--b--\r\n";
  GuardedBuffer multi(std::string_view(kMulti, sizeof(kMulti) - 1));
  Message m = MustParse(multi.view());
  ASSERT_EQ(m.root().children.size(), 1u);
  EXPECT_EQ(m.root().children[0].body, std::string("\0x\0", 3));
}

TEST(MimeMalformedTest, NoHeaderBodySeparator) {
  const std::string text = ReadFile(TestData("mime/no_separator.eml"));
  GuardedBuffer in(text);
  Message msg = MustParse(in.view());
  EXPECT_EQ(msg.root().headers.size(), 3u);
  EXPECT_FALSE(msg.root().headers.has_separator());
  EXPECT_EQ(msg.root().body, "");
  EXPECT_TRUE(
      HasDefect(msg.defects(), DefectKind::kMissingHeaderBodySeparator));
}

TEST(MimeMalformedTest, HugeHeaderLineIsAStatus) {
  std::string text = "Subject: " + std::string(1 << 20, 'x') + "\r\n\r\nb\r\n";
  GuardedBuffer in(text);
  EXPECT_EQ(ParseMessage(in.view()).status().code(),
            absl::StatusCode::kResourceExhausted);
}

TEST(MimeMalformedTest, HundredThousandHeadersIsAStatus) {
  std::string text;
  for (int i = 0; i < 100'000; ++i) text += "X-H: v\r\n";
  text += "\r\nbody\r\n";
  GuardedBuffer in(text);
  EXPECT_EQ(ParseMessage(in.view()).status().code(),
            absl::StatusCode::kResourceExhausted);
}

TEST(MimeMalformedTest, HugeHeaderInsideAPartIsAStatus) {
  std::string text = "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
                     "X-Big: " + std::string(1 << 20, 'y') + "\r\n\r\nx\r\n"
                     "--b--\r\n";
  GuardedBuffer in(text);
  EXPECT_EQ(ParseMessage(in.view()).status().code(),
            absl::StatusCode::kResourceExhausted);
}

TEST(MimeMalformedTest, HeaderSectionDoesNotSwallowADelimiter) {
  // A boundary with a colon makes the delimiter line look like a field.
  GuardedBuffer in(Crlf(
      "Content-Type: multipart/mixed; boundary=\"a:b\"\n\n--a:b\n"
      "X-One: 1\n--a:b\nX-Two: 2\n\nbody\n--a:b--\n"));
  Message msg = MustParse(in.view());
  ASSERT_EQ(msg.root().children.size(), 2u);
  EXPECT_EQ(msg.root().children[0].headers.size(), 1u);
  EXPECT_EQ(msg.root().children[0].body, "");
  EXPECT_EQ(msg.root().children[1].body, "body");
}

TEST(MimeMalformedTest, EmptyAndTinyInputs) {
  for (std::string_view text :
       {std::string_view(""), std::string_view("\r\n"), std::string_view("-"),
        std::string_view("--"), std::string_view("\n--"),
        std::string_view("a")}) {
    GuardedBuffer in(text);
    absl::StatusOr<Message> msg = ParseMessage(in.view());
    ASSERT_TRUE(msg.ok());
    ExpectTreeInvariants(*msg, in.view());
    EXPECT_EQ(msg->Leaves().size(), 1u);
  }
}

// Every prefix of a message with every feature: no crash, no over-read
// (ASan), invariants hold. The tree parser is not a stream parser; cutting
// the input at every offset is its equivalent of split feeding.
TEST(MimeMalformedTest, EveryPrefixOfAComplexMessage) {
  std::string text = ReadFile(TestData("mime/rfc822_inside.eml")) +
                     ReadFile(TestData("mime/nested.eml"));
  text = "Content-Type: multipart/mixed; boundary=fwd\r\n\r\n--fwd\r\n" + text +
         "\r\n--fwd--\r\n";
  for (std::size_t n = 0; n <= text.size(); ++n) {
    GuardedBuffer in(std::string_view(text).substr(0, n));
    absl::StatusOr<Message> msg = ParseMessage(in.view());
    ASSERT_TRUE(msg.ok()) << n;
    ExpectTreeInvariants(*msg, in.view());
    for (const auto& [path, part] : msg->Leaves()) {
      Defects defects;
      DecodeBody(*part, [](std::string_view) {}, &defects, 7);
    }
  }
}

}  // namespace
}  // namespace posthorn::message
