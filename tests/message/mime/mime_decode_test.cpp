// Tests of posthorn/message/mime.h: DecodeBody, DecodeBodyToString,
// DecodeTextToUtf8.

#include <cstdint>
#include <string>
#include <string_view>

#include "gtest/gtest.h"
#include "message/mime/mime_test_util.h"
#include "posthorn/message/base64.h"
#include "posthorn/message/mime.h"

namespace posthorn::message {
namespace {

using testing::Crlf;
using testing::GuardedBuffer;
using testing::HasDefect;
using testing::ReadFile;
using testing::TestData;

// 64-bit FNV-1a, streamed.
struct Fnv {
  std::uint64_t h = 1469598103934665603ull;
  void Update(std::string_view s) {
    for (unsigned char c : s) {
      h ^= c;
      h *= 1099511628211ull;
    }
  }
};

// xorshift64*: deterministic bytes.
struct Prng {
  std::uint64_t s = 0x9E3779B97F4A7C15ull;
  std::uint64_t Next() {
    s ^= s >> 12;
    s ^= s << 25;
    s ^= s >> 27;
    return s * 2685821657736338717ull;
  }
};

// Decodes with every chunk size from 1 to 40 and a large one: same bytes,
// every chunk within the bound.
void ExpectChunkedEqualsWhole(const MimePart& part, std::string_view expect) {
  EXPECT_EQ(DecodeBodyToString(part), expect);
  for (std::size_t chunk : {1, 2, 3, 4, 5, 7, 16, 39, 40, 1 << 20}) {
    std::string got;
    DecodeBody(
        part,
        [&](std::string_view c) {
          EXPECT_LE(c.size(), chunk);
          EXPECT_FALSE(c.empty());
          got.append(c);
        },
        nullptr, chunk);
    EXPECT_EQ(got, expect) << "chunk " << chunk;
  }
}

Message MustParse(std::string_view input) {
  absl::StatusOr<Message> msg = ParseMessage(input);
  EXPECT_TRUE(msg.ok()) << msg.status();
  return msg.ok() ? *std::move(msg) : Message();
}

TEST(MimeDecodeTest, Base64) {
  GuardedBuffer in(Crlf("Content-Transfer-Encoding: BASE64\n\n"
                        "SGVsbG8sIHdv\ncmxkIQ==\n"));
  Message msg = MustParse(in.view());
  ExpectChunkedEqualsWhole(msg.root(), "Hello, world!");
}

TEST(MimeDecodeTest, QuotedPrintable) {
  GuardedBuffer in(Crlf("Content-Transfer-Encoding: quoted-printable\n\n"
                        "caf=C3=A9 soft=\nbreak\nline two\n"));
  Message msg = MustParse(in.view());
  ExpectChunkedEqualsWhole(msg.root(),
                           "caf\xc3\xa9 softbreak\r\nline two\r\n");
}

TEST(MimeDecodeTest, IdentityIsTheRawBody) {
  for (const char* cte : {"7bit", "8bit", "binary", "x-unknown"}) {
    GuardedBuffer in(Crlf(std::string("Content-Transfer-Encoding: ") + cte +
                          "\n\nline=3D one\nline two\n"));
    Message msg = MustParse(in.view());
    ExpectChunkedEqualsWhole(msg.root(), "line=3D one\r\nline two\r\n");
  }
}

TEST(MimeDecodeTest, IdentityChunksAreViewsOfTheInput) {
  GuardedBuffer in(Crlf("\nabcdefghij"));
  Message msg = MustParse(in.view());
  DecodeBody(
      msg.root(),
      [&](std::string_view c) {
        EXPECT_GE(c.data(), in.view().data());
        EXPECT_LE(c.data() + c.size(), in.view().data() + in.view().size());
      },
      nullptr, 3);
}

TEST(MimeDecodeTest, InvalidBase64IsADefect) {
  GuardedBuffer in(Crlf("Content-Transfer-Encoding: base64\n\nSGVs*bG8=\n"));
  Message msg = MustParse(in.view());
  Defects defects;
  std::string out;
  DecodeBody(msg.root(), [&](std::string_view c) { out.append(c); }, &defects);
  EXPECT_TRUE(HasDefect(defects, DefectKind::kInvalidBase64));
  EXPECT_EQ(out, "Hello");
  Defects whole;
  EXPECT_EQ(DecodeBodyToString(msg.root(), &whole), "Hello");
  EXPECT_TRUE(HasDefect(whole, DefectKind::kInvalidBase64));
}

TEST(MimeDecodeTest, InvalidQuotedPrintableIsADefect) {
  GuardedBuffer in(
      Crlf("Content-Transfer-Encoding: quoted-printable\n\na=ZZb\n"));
  Message msg = MustParse(in.view());
  Defects defects;
  EXPECT_EQ(DecodeBodyToString(msg.root(), &defects), "a=ZZb\r\n");
  EXPECT_TRUE(HasDefect(defects, DefectKind::kInvalidQuotedPrintable));
}

TEST(MimeDecodeTest, TextToUtf8) {
  const std::string text = ReadFile(TestData("mime/qp_latin1.eml"));
  GuardedBuffer in(text);
  Message msg = MustParse(in.view());
  EXPECT_EQ(msg.root().Charset(), "iso-8859-1");
  Defects defects;
  EXPECT_EQ(DecodeTextToUtf8(msg.root(), &defects),
            "Voil\xc3\xa0 un \xc3\xa9t\xc3\xa9 tr\xc3\xa8s long, avec une "
            "ligne coup\xc3\xa9"
            "e en deux.\r\n");
  EXPECT_TRUE(defects.empty());
}

TEST(MimeDecodeTest, TextToUtf8UnknownCharset) {
  GuardedBuffer in(Crlf("Content-Type: text/plain; charset=x-nonesuch\n\n"
                        "ok \xff\n"));
  Message msg = MustParse(in.view());
  Defects defects;
  EXPECT_EQ(DecodeTextToUtf8(msg.root(), &defects), "ok \xef\xbf\xbd\r\n");
  EXPECT_TRUE(HasDefect(defects, DefectKind::kUnknownCharset));
}

// A 100 MiB base64 attachment decodes with bounded memory: every chunk is
// at most chunk_size, and the bytes are the generated ones.
TEST(MimeDecodeTest, HundredMebibyteAttachmentStreams) {
  constexpr std::size_t kSize = 100u << 20;
  constexpr std::size_t kChunk = 64 * 1024;
  std::string message =
      "Content-Type: multipart/mixed; boundary=big\r\n\r\n--big\r\n"
      "Content-Type: text/plain\r\n\r\nsee attached\r\n--big\r\n"
      "Content-Type: application/octet-stream\r\n"
      "Content-Transfer-Encoding: base64\r\n\r\n";
  Fnv expect;
  {
    Prng prng;
    Base64Encoder encoder(76);
    std::string raw;
    message.reserve(kSize / 3 * 4 + kSize / 57 * 2 + 1024);
    for (std::size_t done = 0; done < kSize;) {
      raw.clear();
      for (int i = 0; i < 8192 && done < kSize; ++i, done += 8) {
        const std::uint64_t v = prng.Next();
        raw.append(reinterpret_cast<const char*>(&v), 8);
      }
      expect.Update(raw);
      encoder.Update(raw, &message);
    }
    encoder.Finish(&message);
  }
  message += "\r\n--big--\r\n";

  absl::StatusOr<Message> msg = ParseMessage(message);
  ASSERT_TRUE(msg.ok()) << msg.status();
  ASSERT_EQ(msg->Leaves().size(), 2u);
  const MimePart& big = *msg->Leaves()[1].second;
  EXPECT_EQ(big.encoding, TransferEncoding::kBase64);

  Fnv got;
  std::size_t total = 0;
  std::size_t largest = 0;
  std::size_t calls = 0;
  Defects defects;
  DecodeBody(
      big,
      [&](std::string_view chunk) {
        largest = std::max(largest, chunk.size());
        total += chunk.size();
        ++calls;
        got.Update(chunk);
      },
      &defects, kChunk);
  EXPECT_LE(largest, kChunk);
  EXPECT_EQ(total, kSize);
  EXPECT_EQ(got.h, expect.h);
  EXPECT_EQ(calls, kSize / kChunk);
  EXPECT_TRUE(defects.empty());
}

}  // namespace
}  // namespace posthorn::message
