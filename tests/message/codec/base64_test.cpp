// Tests of posthorn/message/base64.h.

#include "posthorn/message/base64.h"

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
  bool invalid = false;
};

Decoded DecodePieces(const std::vector<std::string_view>& pieces) {
  Base64Decoder d;
  Decoded r;
  for (std::string_view p : pieces) d.Update(p, &r.bytes);
  d.Finish(&r.bytes);
  r.invalid = d.saw_invalid();
  return r;
}

// Decodes `in` whole, split at every offset, and byte by byte; every way
// must give the same result, which is returned.
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

std::string EncodePieces(std::string_view in, std::size_t line,
                         const std::vector<std::size_t>& cuts) {
  Base64Encoder e(line);
  std::string out;
  std::size_t pos = 0;
  for (std::size_t c : cuts) {
    e.Update(in.substr(pos, c - pos), &out);
    pos = c;
  }
  e.Update(in.substr(pos), &out);
  e.Finish(&out);
  return out;
}

std::string RandomBytes(std::mt19937* rng, std::size_t n) {
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>((*rng)() & 0xFF);
  return s;
}

TEST(Base64Test, Rfc4648Vectors) {
  const std::pair<std::string_view, std::string_view> kVectors[] = {
      {"", ""},         {"f", "Zg=="},         {"fo", "Zm8="},
      {"foo", "Zm9v"},  {"foob", "Zm9vYg=="},  {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"},
  };
  for (const auto& [plain, encoded] : kVectors) {
    EXPECT_EQ(Base64Encode(plain), encoded);
    const Decoded d = DecodeEveryWay(encoded);
    EXPECT_EQ(d.bytes, plain);
    EXPECT_FALSE(d.invalid) << encoded;
    bool invalid = true;
    EXPECT_EQ(Base64Decode(encoded, &invalid), plain);
    EXPECT_FALSE(invalid);
  }
}

TEST(Base64Test, WhitespaceAndLineBreaksAreIgnored) {
  const Decoded d = DecodeEveryWay("Zm9v\r\nYm\r\nFy \t\nZg=\r\n=\r\n");
  EXPECT_EQ(d.bytes, "foobarf");
  EXPECT_FALSE(d.invalid);
  const Decoded bare = DecodeEveryWay("Zm\n9vYmFy\n");
  EXPECT_EQ(bare.bytes, "foobar");
  EXPECT_FALSE(bare.invalid);
}

TEST(Base64Test, JunkIsSkippedAndCounted) {
  Decoded d = DecodeEveryWay("Zm9v!YmFy");
  EXPECT_EQ(d.bytes, "foobar");
  EXPECT_TRUE(d.invalid);
  d = DecodeEveryWay("Z\x80m9v\xff" "YmFy-_.");
  EXPECT_EQ(d.bytes, "foobar");
  EXPECT_TRUE(d.invalid);
  Base64Decoder decoder;
  std::string out;
  decoder.Update("Zm9v!Ym*Fy", &out);
  decoder.Finish(&out);
  EXPECT_EQ(decoder.invalid_count(), 2u);
}

TEST(Base64Test, BadPadding) {
  Decoded d = DecodeEveryWay("Zg=");  // one "=" short
  EXPECT_EQ(d.bytes, "f");
  EXPECT_TRUE(d.invalid);
  d = DecodeEveryWay("Z===");  // padding after a single sextet
  EXPECT_EQ(d.bytes, "");
  EXPECT_TRUE(d.invalid);
  d = DecodeEveryWay("Zm9v=");  // padding where no quantum is open
  EXPECT_EQ(d.bytes, "foo");
  EXPECT_TRUE(d.invalid);
  d = DecodeEveryWay("Zm8==");  // one "=" too many
  EXPECT_EQ(d.bytes, "fo");
  EXPECT_TRUE(d.invalid);
  d = DecodeEveryWay("=Zm9v");
  EXPECT_EQ(d.bytes, "foo");
  EXPECT_TRUE(d.invalid);
}

TEST(Base64Test, DataAfterPaddingIsDecodedAndCounted) {
  Decoded d = DecodeEveryWay("Zg==Zm8=");
  EXPECT_EQ(d.bytes, "ffo");
  EXPECT_TRUE(d.invalid);
  d = DecodeEveryWay("Zm8=\r\nZm9v");
  EXPECT_EQ(d.bytes, "fofoo");
  EXPECT_TRUE(d.invalid);
}

TEST(Base64Test, TruncatedQuanta) {
  Decoded d = DecodeEveryWay("Zm9vY");  // six bits: no byte
  EXPECT_EQ(d.bytes, "foo");
  EXPECT_TRUE(d.invalid);
  d = DecodeEveryWay("Zm9vYg");
  EXPECT_EQ(d.bytes, "foob");
  EXPECT_TRUE(d.invalid);
  d = DecodeEveryWay("Zm9vYmE");
  EXPECT_EQ(d.bytes, "fooba");
  EXPECT_TRUE(d.invalid);
}

TEST(Base64Test, FinishResetsForReuse) {
  Base64Decoder d;
  std::string out;
  d.Update("Zm9vYg", &out);
  d.Finish(&out);
  d.Update("Zm9v", &out);
  d.Finish(&out);
  EXPECT_EQ(out, "foobfoo");
}

TEST(Base64Test, EncoderLineLengths) {
  std::mt19937 rng(1);
  for (std::size_t line : {0u, 4u, 5u, 64u, 76u, 77u}) {
    for (std::size_t n : {0u, 1u, 2u, 3u, 56u, 57u, 58u, 1000u}) {
      const std::string data = RandomBytes(&rng, n);
      const std::string enc = Base64Encode(data, line);
      if (line == 0) {
        EXPECT_EQ(enc.find('\n'), std::string::npos);
        EXPECT_EQ(enc.size(), (n + 2) / 3 * 4);
      } else {
        // Lines of at most `line` characters, each ended by CRLF; all but
        // the last exactly `line`.
        std::size_t pos = 0;
        while (pos < enc.size()) {
          const std::size_t eol = enc.find("\r\n", pos);
          ASSERT_NE(eol, std::string::npos) << "unterminated last line";
          EXPECT_LE(eol - pos, line);
          EXPECT_GT(eol - pos, 0u);
          if (eol + 2 < enc.size()) {
            EXPECT_EQ(eol - pos, line);
          }
          pos = eol + 2;
        }
      }
      bool invalid = true;
      EXPECT_EQ(Base64Decode(enc, &invalid), data);
      EXPECT_FALSE(invalid);
    }
  }
  EXPECT_EQ(Base64Encode("foobar", 4), "Zm9v\r\nYmFy\r\n");
}

TEST(Base64Test, EncoderSplitAnywhereMatchesWhole) {
  std::mt19937 rng(2);
  const std::string data = RandomBytes(&rng, 200);
  for (std::size_t line : {0u, 76u, 10u}) {
    const std::string whole = EncodePieces(data, line, {});
    for (std::size_t cut = 0; cut <= data.size(); ++cut) {
      EXPECT_EQ(EncodePieces(data, line, {cut}), whole) << cut;
    }
    std::vector<std::size_t> every;
    for (std::size_t i = 1; i < data.size(); ++i) every.push_back(i);
    EXPECT_EQ(EncodePieces(data, line, every), whole);
  }
}

TEST(Base64Test, RandomRoundTripsInRandomChunks) {
  std::mt19937 rng(3);
  for (int iter = 0; iter < 200; ++iter) {
    const std::string data = RandomBytes(&rng, rng() % 3000);
    const std::string enc = Base64Encode(data, 76);
    Base64Decoder d;
    std::string out;
    std::size_t pos = 0;
    while (pos < enc.size()) {
      const std::size_t n = std::min<std::size_t>(rng() % 97 + 1,
                                                  enc.size() - pos);
      d.Update(std::string_view(enc).substr(pos, n), &out);
      pos += n;
    }
    d.Finish(&out);
    EXPECT_EQ(out, data);
    EXPECT_FALSE(d.saw_invalid());
  }
}

TEST(Base64Test, HundredMebibyteStreamWithBoundedState) {
  // 100 MiB of data, encoded and decoded as streams in 64 KiB chunks; the
  // output is dropped after each chunk and compared by a running checksum.
  constexpr std::size_t kTotal = 100u << 20;
  constexpr std::size_t kChunk = 64u << 10;
  static_assert(sizeof(Base64Decoder) <= 32, "decoder state is a few words");
  std::mt19937_64 rng(4);
  std::string block(kChunk, '\0');
  Base64Encoder encoder(76);
  Base64Decoder decoder;
  std::string encoded, decoded;
  std::uint64_t sum_in = 0, sum_out = 0;
  std::size_t produced = 0, consumed = 0;
  auto mix = [](std::uint64_t h, std::string_view s) {
    for (unsigned char c : s) h = (h ^ c) * 0x100000001B3ULL;
    return h;
  };
  auto drain = [&](bool all) {
    while (encoded.size() >= kChunk || (all && !encoded.empty())) {
      const std::size_t n = std::min(kChunk, encoded.size());
      decoded.clear();
      decoder.Update(std::string_view(encoded).substr(0, n), &decoded);
      ASSERT_LE(decoded.size(), n / 4 * 3 + 3);
      sum_out = mix(sum_out, decoded);
      consumed += decoded.size();
      encoded.erase(0, n);
    }
  };
  for (std::size_t done = 0; done < kTotal; done += kChunk) {
    for (std::size_t i = 0; i < kChunk; i += 8) {
      const std::uint64_t v = rng();
      std::memcpy(block.data() + i, &v, 8);
    }
    sum_in = mix(sum_in, block);
    produced += block.size();
    encoder.Update(block, &encoded);
    drain(false);
  }
  encoder.Finish(&encoded);
  drain(true);
  decoded.clear();
  decoder.Finish(&decoded);
  EXPECT_TRUE(decoded.empty());
  EXPECT_EQ(consumed, produced);
  EXPECT_EQ(sum_out, sum_in);
  EXPECT_FALSE(decoder.saw_invalid());
}

}  // namespace
}  // namespace posthorn::message
