// Tests of posthorn/message/quoted_printable.h.

#include "posthorn/message/quoted_printable.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace posthorn::message {
namespace {

struct Decoded {
  std::string bytes;
  std::size_t invalid = 0;
};

Decoded DecodePieces(const std::vector<std::string_view>& pieces) {
  QuotedPrintableDecoder d;
  Decoded r;
  for (std::string_view p : pieces) {
    d.Update(p, &r.bytes);
    EXPECT_LE(d.held_bytes(), 8u) << "held too much";
  }
  d.Finish(&r.bytes);
  EXPECT_EQ(d.held_bytes(), 0u);
  r.invalid = d.invalid_count();
  return r;
}

// Whole, split at every offset, byte by byte: all the same.
Decoded DecodeEveryWay(std::string_view in) {
  const Decoded whole = DecodePieces({in});
  for (std::size_t cut = 0; cut <= in.size(); ++cut) {
    const Decoded split = DecodePieces({in.substr(0, cut), in.substr(cut)});
    EXPECT_EQ(split.bytes, whole.bytes) << "cut at " << cut << " of " << in;
    EXPECT_EQ(split.invalid, whole.invalid) << "cut at " << cut;
  }
  std::vector<std::string_view> bytes;
  for (std::size_t i = 0; i < in.size(); ++i) bytes.push_back(in.substr(i, 1));
  const Decoded one = DecodePieces(bytes);
  EXPECT_EQ(one.bytes, whole.bytes) << "byte by byte: " << in;
  EXPECT_EQ(one.invalid, whole.invalid) << "byte by byte: " << in;
  return whole;
}

std::string Decode(std::string_view in) { return DecodeEveryWay(in).bytes; }

TEST(QuotedPrintableTest, HexOctetsUpperAndLowerCase) {
  EXPECT_EQ(Decode("a=3Db"), "a=b");
  EXPECT_EQ(Decode("a=3db"), "a=b");
  EXPECT_EQ(Decode("=C3=A9t=c3=a9"), "\xC3\xA9t\xC3\xA9");
  EXPECT_EQ(Decode("=00=FF"), std::string("\0\xFF", 2));
  EXPECT_EQ(DecodeEveryWay("=3D=3d").invalid, 0u);
}

TEST(QuotedPrintableTest, SoftLineBreaks) {
  EXPECT_EQ(Decode("abc=\r\ndef"), "abcdef");
  EXPECT_EQ(Decode("abc=\ndef"), "abcdef");
  EXPECT_EQ(Decode("abc= \t\r\ndef"), "abcdef");  // padding after "="
  EXPECT_EQ(Decode("abc= \ndef"), "abcdef");
  EXPECT_EQ(Decode("=\r\n=\r\n=\r\nx"), "x");
  EXPECT_EQ(Decode("end="), "end");  // soft break at the end of the body
  EXPECT_EQ(Decode("end=  "), "end");
  EXPECT_EQ(Decode("end=\r"), "end");
  EXPECT_EQ(DecodeEveryWay("abc=\r\ndef=\nx=").invalid, 0u);
}

TEST(QuotedPrintableTest, TrailingWhitespaceIsRemoved) {
  EXPECT_EQ(Decode("abc  \r\ndef"), "abc\r\ndef");
  EXPECT_EQ(Decode("abc \t \ndef"), "abc\r\ndef");
  EXPECT_EQ(Decode("abc \t"), "abc");
  EXPECT_EQ(Decode("a b\tc"), "a b\tc");
  EXPECT_EQ(Decode("a  \rb"), "a  \rb");  // a bare CR is no line end
  EXPECT_EQ(Decode("a=20\r\n"), "a \r\n");  // encoded blanks stay
}

TEST(QuotedPrintableTest, LineEndsBecomeCrlf) {
  EXPECT_EQ(Decode("a\nb\r\nc\n"), "a\r\nb\r\nc\r\n");
  EXPECT_EQ(Decode("a\rb"), "a\rb");
  EXPECT_EQ(Decode("a\r"), "a\r");
}

TEST(QuotedPrintableTest, JunkAfterEqualsIsKeptAndCounted) {
  Decoded d = DecodeEveryWay("a=ZZb");
  EXPECT_EQ(d.bytes, "a=ZZb");
  EXPECT_EQ(d.invalid, 1u);
  d = DecodeEveryWay("a=4");
  EXPECT_EQ(d.bytes, "a=4");
  EXPECT_EQ(d.invalid, 1u);
  d = DecodeEveryWay("a=4g=");
  EXPECT_EQ(d.bytes, "a=4g");
  EXPECT_EQ(d.invalid, 1u);
  d = DecodeEveryWay("1+1=2 =\rx");
  EXPECT_EQ(d.bytes, "1+1=2 =\rx");
  EXPECT_EQ(d.invalid, 2u);
  d = DecodeEveryWay("= x");
  EXPECT_EQ(d.bytes, "= x");
  EXPECT_EQ(d.invalid, 1u);
  d = DecodeEveryWay("==41");
  EXPECT_EQ(d.bytes, "=A");
  EXPECT_EQ(d.invalid, 1u);
}

TEST(QuotedPrintableTest, LongBlankRunsAreNotHeldForever) {
  QuotedPrintableDecoder d;
  std::string out;
  const std::string blanks(10000, ' ');
  d.Update(blanks, &out);
  EXPECT_LE(d.held_bytes(), 300u);
  d.Update("x", &out);
  d.Finish(&out);
  EXPECT_EQ(out, blanks + "x");
}

TEST(QuotedPrintableTest, EncoderBasics) {
  EXPECT_EQ(QuotedPrintableEncode("hello"), "hello");
  EXPECT_EQ(QuotedPrintableEncode("a=b"), "a=3Db");
  EXPECT_EQ(QuotedPrintableEncode("caf\xC3\xA9"), "caf=C3=A9");
  EXPECT_EQ(QuotedPrintableEncode("a \r\nb"), "a=20\r\nb");
  EXPECT_EQ(QuotedPrintableEncode("a\t\nb"), "a=09\r\nb");
  EXPECT_EQ(QuotedPrintableEncode("a b "), "a b=20");
  EXPECT_EQ(QuotedPrintableEncode("a\nb"), "a\r\nb");
  EXPECT_EQ(QuotedPrintableEncode("a\rb"), "a=0Db");
  // "." at a line start and "From " are the transport's job.
  EXPECT_EQ(QuotedPrintableEncode(".\r\nFrom me"), ".\r\nFrom me");
  EXPECT_EQ(QuotedPrintableEncode("a\r\nb", /*binary=*/true), "a=0D=0Ab");
  EXPECT_EQ(QuotedPrintableEncode("a \r\n", /*binary=*/true), "a =0D=0A");
}

void ExpectLinesAtMost76(const std::string& enc) {
  std::size_t pos = 0;
  while (pos <= enc.size()) {
    std::size_t eol = enc.find("\r\n", pos);
    if (eol == std::string::npos) eol = enc.size();
    EXPECT_LE(eol - pos, 76u) << enc.substr(pos, eol - pos);
    const std::string_view line(enc.data() + pos, eol - pos);
    if (!line.empty()) {
      EXPECT_NE(line.back(), ' ');
      EXPECT_NE(line.back(), '\t');
    }
    pos = eol + 2;
  }
}

TEST(QuotedPrintableTest, EncoderSoftBreaks) {
  const std::string longline(200, 'x');
  const std::string enc = QuotedPrintableEncode(longline);
  ExpectLinesAtMost76(enc);
  EXPECT_EQ(QuotedPrintableDecode(enc), longline);
  std::string encoded_chars;
  for (int i = 0; i < 100; ++i) encoded_chars += "\xC3\xA9 ";
  const std::string enc2 = QuotedPrintableEncode(encoded_chars);
  ExpectLinesAtMost76(enc2);
  EXPECT_EQ(QuotedPrintableDecode(enc2), encoded_chars);
}

std::string RandomText(std::mt19937* rng, std::size_t n, bool binary) {
  static const char kPool[] = "aZ09 \t=.\r\n\xC3\xA9~!";
  std::string s;
  while (s.size() < n) {
    if (binary) {
      s.push_back(static_cast<char>((*rng)() & 0xFF));
      continue;
    }
    const char c = kPool[(*rng)() % (sizeof(kPool) - 1)];
    if (c == '\r' || c == '\n') {
      s += "\r\n";  // text: line ends are CRLF
    } else {
      s.push_back(c);
    }
  }
  return s;
}

TEST(QuotedPrintableTest, RandomRoundTrips) {
  std::mt19937 rng(5);
  for (int iter = 0; iter < 300; ++iter) {
    const bool binary = iter % 2 == 1;
    const std::string data = RandomText(&rng, rng() % 400, binary);
    const std::string enc = QuotedPrintableEncode(data, binary);
    ExpectLinesAtMost76(enc);
    bool invalid = true;
    EXPECT_EQ(QuotedPrintableDecode(enc, &invalid), data);
    EXPECT_FALSE(invalid);
    // The encoder fed in pieces gives the same.
    QuotedPrintableEncoder e(binary);
    std::string pieces;
    std::size_t pos = 0;
    while (pos < data.size()) {
      const std::size_t n =
          std::min<std::size_t>(rng() % 7 + 1, data.size() - pos);
      e.Update(std::string_view(data).substr(pos, n), &pieces);
      pos += n;
    }
    e.Finish(&pieces);
    EXPECT_EQ(pieces, enc);
  }
}

TEST(QuotedPrintableTest, EncodedTextDecodedSplitEverywhere) {
  const std::string text = "caf\xC3\xA9 = ok \r\nnext line \t\r\n" +
                           std::string(90, 'y') + " end ";
  const std::string enc = QuotedPrintableEncode(text);
  const Decoded d = DecodeEveryWay(enc);
  EXPECT_EQ(d.bytes, text);
  EXPECT_EQ(d.invalid, 0u);
}

TEST(QuotedPrintableTest, HundredMebibyteStreamWithBoundedState) {
  constexpr std::size_t kTotal = 100u << 20;
  constexpr std::size_t kChunk = 64u << 10;
  std::mt19937_64 rng(6);
  std::string block(kChunk, '\0');
  QuotedPrintableEncoder encoder(/*binary=*/true);
  QuotedPrintableDecoder decoder;
  std::string encoded, decoded;
  std::uint64_t sum_in = 0, sum_out = 0;
  auto mix = [](std::uint64_t h, std::string_view s) {
    for (unsigned char c : s) h = (h ^ c) * 0x100000001B3ULL;
    return h;
  };
  std::size_t max_held = 0;
  auto drain = [&](bool all) {
    while (encoded.size() >= kChunk || (all && !encoded.empty())) {
      const std::size_t n = std::min(kChunk, encoded.size());
      decoded.clear();
      decoder.Update(std::string_view(encoded).substr(0, n), &decoded);
      max_held = std::max(max_held, decoder.held_bytes());
      sum_out = mix(sum_out, decoded);
      encoded.erase(0, n);
    }
  };
  for (std::size_t done = 0; done < kTotal; done += kChunk) {
    // Mostly text-like bytes so lines have literal runs, blanks and escapes.
    for (std::size_t i = 0; i < kChunk; i += 8) {
      std::uint64_t v = rng();
      for (int k = 0; k < 8; ++k, v >>= 8) {
        const unsigned char b = static_cast<unsigned char>(v);
        block[i + k] = (b & 0xC0) ? static_cast<char>(' ' + (b % 95))
                                  : static_cast<char>(b);
      }
    }
    sum_in = mix(sum_in, block);
    encoder.Update(block, &encoded);
    drain(false);
  }
  encoder.Finish(&encoded);
  drain(true);
  decoded.clear();
  decoder.Finish(&decoded);
  sum_out = mix(sum_out, decoded);
  EXPECT_EQ(sum_out, sum_in);
  EXPECT_LE(max_held, 8u);
  EXPECT_FALSE(decoder.saw_invalid());
}

}  // namespace
}  // namespace posthorn::message
