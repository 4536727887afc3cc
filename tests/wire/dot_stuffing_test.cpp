// Tests for posthorn/wire/dot_stuffing.h.

#include "posthorn/wire/dot_stuffing.h"

#include <gtest/gtest.h>

#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "posthorn/wire/line_reader.h"
#include "wire/chunking.h"

namespace posthorn::wire {
namespace {

using chunking::AllChunkings;
using chunking::Chunk;
using chunking::Cuts;
using chunking::Describe;

// ---------------------------------------------------------------------------
// Helpers.

struct Encoded {
  std::string out;
  std::uint64_t stray = 0;
};

Encoded Encode(std::string_view content, EncoderInput mode, const Cuts& cuts) {
  DotStuffingEncoder encoder(mode);
  Encoded result;
  std::size_t pos = 0;
  for (std::size_t size : cuts) {
    Chunk chunk(content.substr(pos, size));
    pos += size;
    encoder.Update(chunk.view(), &result.out);
  }
  encoder.Finish(&result.out);
  result.stray = encoder.stray_newlines();
  return result;
}

// Everything a decode run can tell.
struct Decoded {
  std::string out;
  bool done = false;
  std::uint64_t consumed = 0;  // stream bytes consumed
  std::string rest;            // bytes left over in the chunk that ended it
  std::uint64_t content_bytes = 0;
  bool size_exceeded = false;
  std::optional<std::uint64_t> bare_lf, bare_cr, long_line;

  friend bool operator==(const Decoded&, const Decoded&) = default;
};

std::ostream& operator<<(std::ostream& os, const Decoded& d) {
  auto opt = [](const std::optional<std::uint64_t>& v) {
    return v ? std::to_string(*v) : std::string("-");
  };
  return os << "{out=" << ::testing::PrintToString(d.out)
            << " done=" << d.done << " consumed=" << d.consumed
            << " rest=" << ::testing::PrintToString(d.rest)
            << " content=" << d.content_bytes << " exceeded="
            << d.size_exceeded << " lf=" << opt(d.bare_lf)
            << " cr=" << opt(d.bare_cr) << " long=" << opt(d.long_line)
            << "}";
}

Decoded Decode(std::string_view input, const DotDecoderOptions& options,
               const Cuts& cuts) {
  DotStuffingDecoder decoder(options);
  Decoded d;
  std::size_t pos = 0;
  for (std::size_t size : cuts) {
    Chunk chunk(input.substr(pos, size));
    pos += size;
    const std::size_t before = d.out.size();
    const DotDecodeResult r = decoder.Update(chunk.view(), &d.out);
    EXPECT_LE(r.consumed, size);
    if (d.done) {  // after the end nothing more is taken or produced
      EXPECT_EQ(r.consumed, 0u);
      EXPECT_TRUE(r.done);
      EXPECT_EQ(d.out.size(), before);
      d.rest += chunk.view();
      continue;
    }
    d.consumed += r.consumed;
    if (r.done) {
      d.done = true;
      d.rest = std::string(chunk.view().substr(r.consumed));
    } else {
      EXPECT_EQ(r.consumed, size);
    }
  }
  EXPECT_EQ(decoder.done(), d.done);
  EXPECT_EQ(decoder.input_bytes(), d.consumed);
  d.content_bytes = decoder.content_bytes();
  d.size_exceeded = decoder.size_exceeded();
  d.bare_lf = decoder.first_bare_lf();
  d.bare_cr = decoder.first_bare_cr();
  d.long_line = decoder.first_long_line();
  return d;
}

DotDecoderOptions Options(BareNewlinePolicy policy = BareNewlinePolicy::kReject,
                          std::size_t max_line = 0, std::uint64_t budget = 0) {
  DotDecoderOptions options;
  options.bare_newline = policy;
  options.max_line_length = max_line;
  options.max_content_bytes = budget;
  return options;
}

// The decoding rules applied to the whole input at once, line by line.
Decoded ReferenceDecode(std::string_view in, const DotDecoderOptions& opt) {
  const bool normalize = opt.bare_newline == BareNewlinePolicy::kNormalize;
  Decoded d;
  bool after_crlf = true;
  std::size_t i = 0;
  while (i < in.size()) {
    std::size_t j = i;
    while (j < in.size() && in[j] != '\r' && in[j] != '\n') ++j;
    const std::string_view content = in.substr(i, j - i);
    if (opt.max_line_length != 0 && !d.long_line &&
        content.size() + 2 > opt.max_line_length) {
      d.long_line = i;
    }
    // The unterminated tail: what a stream decoder can already pass on.
    if (j == in.size() || (in[j] == '\r' && j + 1 == in.size())) {
      if (content == ".") break;  // held back: may be the end
      std::string_view text = content;
      if (!text.empty() && text[0] == '.') text.remove_prefix(1);
      d.out += text;
      if (j < in.size()) d.out += '\r';  // a CR not yet decided
      i = in.size();
      break;
    }
    std::string ending;
    std::size_t next;
    if (in[j] == '\n') {
      if (!d.bare_lf) d.bare_lf = j;
      ending = normalize ? "\r\n" : "\n";
      next = j + 1;
    } else if (in[j + 1] == '\n') {
      ending = "\r\n";
      next = j + 2;
    } else {
      if (!d.bare_cr) d.bare_cr = j;
      ending = normalize ? "\r\n" : "\r";
      next = j + 1;
    }
    if (content == "." && after_crlf && ending == "\r\n" && next == j + 2) {
      d.done = true;
      i = next;
      break;
    }
    std::string_view text = content;
    if (text.size() > 1 && text[0] == '.') text.remove_prefix(1);
    d.out += text;
    d.out += ending;
    after_crlf = next == j + 2;
    i = next;
  }
  d.consumed = d.done ? i : in.size();
  d.rest = std::string(in.substr(d.consumed));
  d.content_bytes = d.out.size();
  if (opt.max_content_bytes != 0 && d.out.size() > opt.max_content_bytes) {
    d.size_exceeded = true;
    d.out.resize(opt.max_content_bytes);
  }
  return d;
}

// Decodes `input` with every chunking and checks each against `expected`.
void ExpectDecoded(std::string_view input, const DotDecoderOptions& options,
                   const Decoded& expected) {
  for (const Cuts& cuts : AllChunkings(input.size())) {
    EXPECT_EQ(Decode(input, options, cuts), expected) << Describe(cuts);
  }
}

// The canonical form of any content: every line end CRLF, a last CRLF added.
std::string Canonical(std::string_view in) {
  std::string out;
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '\r') {
      out += "\r\n";
      if (i + 1 < in.size() && in[i + 1] == '\n') ++i;
    } else if (in[i] == '\n') {
      out += "\r\n";
    } else {
      out += in[i];
    }
  }
  if (!out.empty() && !out.ends_with("\r\n")) out += "\r\n";
  return out;
}

// ---------------------------------------------------------------------------
// Encoder.

void ExpectEncoded(std::string_view content, EncoderInput mode,
                   std::string_view expected, std::uint64_t stray = 0) {
  for (const Cuts& cuts : AllChunkings(content.size())) {
    const Encoded e = Encode(content, mode, cuts);
    EXPECT_EQ(e.out, expected) << Describe(cuts);
    EXPECT_EQ(e.stray, stray) << Describe(cuts);
  }
}

TEST(DotStuffingEncoderTest, Terminator) {
  ExpectEncoded("", EncoderInput::kCrlf, ".\r\n");
  ExpectEncoded("abc", EncoderInput::kCrlf, "abc\r\n.\r\n");
  ExpectEncoded("abc\r\n", EncoderInput::kCrlf, "abc\r\n.\r\n");
  ExpectEncoded("\r\n", EncoderInput::kCrlf, "\r\n.\r\n");
}

TEST(DotStuffingEncoderTest, LeadingDotsAreDoubled) {
  ExpectEncoded(".\r\n", EncoderInput::kCrlf, "..\r\n.\r\n");
  ExpectEncoded("..\r\n", EncoderInput::kCrlf, "...\r\n.\r\n");
  ExpectEncoded(".x\r\na.b\r\n.", EncoderInput::kCrlf,
                "..x\r\na.b\r\n..\r\n.\r\n");
  ExpectEncoded("a\r\n.\r\n.\r\n", EncoderInput::kCrlf,
                "a\r\n..\r\n..\r\n.\r\n");
}

TEST(DotStuffingEncoderTest, LfInputBecomesCrlf) {
  ExpectEncoded("a\n.b\n\n.", EncoderInput::kLfToCrlf,
                "a\r\n..b\r\n\r\n..\r\n.\r\n");
  ExpectEncoded("a\r\nb\n", EncoderInput::kLfToCrlf, "a\r\nb\r\n.\r\n");
  ExpectEncoded("x\ry\n", EncoderInput::kLfToCrlf, "x\r\ny\r\n.\r\n", 1);
}

TEST(DotStuffingEncoderTest, StrayNewlinesNeverReachTheWire) {
  // A bare LF or CR followed by "." must not leave as "\n." (smuggling).
  ExpectEncoded("a\n.\nb", EncoderInput::kCrlf,
                "a\r\n..\r\nb\r\n.\r\n", 2);
  ExpectEncoded("a\r.\rb", EncoderInput::kCrlf,
                "a\r\n..\r\nb\r\n.\r\n", 2);
  ExpectEncoded("a\r", EncoderInput::kCrlf, "a\r\n.\r\n", 1);
  ExpectEncoded("\r\r\n", EncoderInput::kCrlf, "\r\n\r\n.\r\n", 1);
}

TEST(DotStuffingEncoderTest, ResetAndWholeBufferHelper) {
  DotStuffingEncoder encoder;
  std::string out;
  encoder.Update("x\n", &out);
  encoder.Finish(&out);
  EXPECT_EQ(encoder.stray_newlines(), 1u);
  encoder.Reset();
  EXPECT_EQ(encoder.stray_newlines(), 0u);
  out.clear();
  encoder.Update(".", &out);
  encoder.Finish(&out);
  EXPECT_EQ(out, "..\r\n.\r\n");
  EXPECT_EQ(DotStuff(".a\r\nb"), "..a\r\nb\r\n.\r\n");
  EXPECT_EQ(DotStuff(".a\nb", EncoderInput::kLfToCrlf),
            "..a\r\nb\r\n.\r\n");
}

// ---------------------------------------------------------------------------
// Decoder.

Decoded Expect(std::string out, bool done, std::uint64_t consumed,
               std::string rest = "") {
  Decoded d;
  d.content_bytes = out.size();
  d.out = std::move(out);
  d.done = done;
  d.consumed = consumed;
  d.rest = std::move(rest);
  return d;
}

TEST(DotStuffingDecoderTest, EmptyContent) {
  ExpectDecoded(".\r\n", Options(), Expect("", true, 3));
  ExpectDecoded("\r\n.\r\n", Options(), Expect("\r\n", true, 5));
}

TEST(DotStuffingDecoderTest, Unstuffing) {
  ExpectDecoded("abc\r\n.\r\n", Options(), Expect("abc\r\n", true, 8));
  ExpectDecoded("..\r\n...\r\n..x\r\n.\r\n", Options(),
                Expect(".\r\n..\r\n.x\r\n", true, 17));
  // A lone "." that the client forgot to stuff is dropped as stuffing.
  ExpectDecoded(".x\r\n.\r\n", Options(), Expect("x\r\n", true, 7));
  ExpectDecoded("a.\r\n.b.\r\n.\r\n", Options(),
                Expect("a.\r\nb.\r\n", true, 12));
}

TEST(DotStuffingDecoderTest, NotYetDone) {
  ExpectDecoded("abc\r\n.", Options(), Expect("abc\r\n", false, 6));
  ExpectDecoded("abc\r\n.\r", Options(), Expect("abc\r\n", false, 7));
  ExpectDecoded("abc\r", Options(), Expect("abc\r", false, 4));
  ExpectDecoded("..", Options(), Expect(".", false, 2));
}

TEST(DotStuffingDecoderTest, PipelinedCommandsAreLeftToTheCaller) {
  const std::string input = "Subject: x\r\n\r\nhi\r\n.\r\nMAIL FROM:<a>\r\n";
  ExpectDecoded(input, Options(),
                Expect("Subject: x\r\n\r\nhi\r\n", true, 21,
                       "MAIL FROM:<a>\r\n"));
  ExpectDecoded(".\r\nQUIT\r\n", Options(), Expect("", true, 3, "QUIT\r\n"));
  // Another end marker right behind belongs to the next command, too.
  ExpectDecoded("a\r\n.\r\n.\r\n", Options(),
                Expect("a\r\n", true, 6, ".\r\n"));
}

TEST(DotStuffingDecoderTest, UpdateAfterDoneConsumesNothingUntilReset) {
  DotStuffingDecoder decoder;
  std::string out;
  DotDecodeResult r = decoder.Update("x\r\n.\r\nRSET\r\n", &out);
  EXPECT_TRUE(r.done);
  EXPECT_EQ(r.consumed, 6u);
  r = decoder.Update("more", &out);
  EXPECT_TRUE(r.done);
  EXPECT_EQ(r.consumed, 0u);
  EXPECT_EQ(out, "x\r\n");
  decoder.Reset();
  EXPECT_FALSE(decoder.done());
  EXPECT_EQ(decoder.input_bytes(), 0u);
  out.clear();
  r = decoder.Update("y\r\n.\r\n", &out);
  EXPECT_TRUE(r.done);
  EXPECT_EQ(out, "y\r\n");
}

// The hostile sequences of the 2023 SMTP smuggling research. None of them
// ends the data under either policy; each input ends with the real marker.
struct HostileCase {
  std::string input;
  std::string rejected_out;    // kReject: bytes pass through
  std::string normalized_out;  // kNormalize
  std::optional<std::uint64_t> bare_lf, bare_cr;
};

std::vector<HostileCase> HostileCases() {
  const std::string tail = "b\r\n.\r\nNEXT";
  const std::string norm = "a\r\n.\r\nb\r\n";
  return {
      {"a\n.\n" + tail, "a\n.\nb\r\n", norm, 1, std::nullopt},
      {"a\n.\r\n" + tail, "a\n.\r\nb\r\n", norm, 1, std::nullopt},
      {"a\r.\r" + tail, "a\r.\rb\r\n", norm, std::nullopt, 1},
      {"a\r\n.\n" + tail, "a\r\n.\nb\r\n", norm, 4, std::nullopt},
      {"a\r.\n" + tail, "a\r.\nb\r\n", norm, 3, 1},
      {"a\r.\r\n" + tail, "a\r.\r\nb\r\n", norm, std::nullopt, 1},
      {"a\r\n.\r" + tail, "a\r\n.\rb\r\n", norm, std::nullopt, 4},
      {"a\n\r\n.\r\n" + tail, "a\n\r\n", "a\r\n\r\n", 1, std::nullopt},
  };
}

TEST(DotStuffingDecoderTest, HostileSequencesNeverEndTheData) {
  for (const HostileCase& c : HostileCases()) {
    SCOPED_TRACE(::testing::PrintToString(c.input));
    const bool ends_early = c.input.starts_with("a\n\r\n.\r\n");
    const std::uint64_t consumed = c.input.size() - 4;  // "NEXT" is left
    Decoded rejected = Expect(c.rejected_out, true,
                              ends_early ? 7 : consumed,
                              ends_early ? c.input.substr(7) : "NEXT");
    rejected.bare_lf = c.bare_lf;
    rejected.bare_cr = c.bare_cr;
    ExpectDecoded(c.input, Options(BareNewlinePolicy::kReject), rejected);
    Decoded normalized = rejected;
    normalized.out = c.normalized_out;
    normalized.content_bytes = c.normalized_out.size();
    ExpectDecoded(c.input, Options(BareNewlinePolicy::kNormalize), normalized);
  }
}

TEST(DotStuffingDecoderTest, NoSmuggledMessageAtAnySplit) {
  // The attack: the first message "ends" at <LF>.<LF>, then a complete
  // forged transaction follows, and only then the real end.
  const std::string smuggled =
      "MAIL FROM:<ceo@bank.example>\r\nRCPT TO:<victim@example>\r\n"
      "DATA\r\nFrom: ceo@bank.example\r\n\r\nPay now\r\n";
  for (std::string_view fake_end :
       {"\n.\n", "\n.\r\n", "\r.\r", "\r\n.\n", "\r.\n", "\r.\r\n"}) {
    const std::string input =
        "From: a@example\r\n\r\nbody" + std::string(fake_end) + smuggled + ".\r\nQUIT\r\n";
    const std::size_t real_end = input.size() - 6;
    for (BareNewlinePolicy policy :
         {BareNewlinePolicy::kReject, BareNewlinePolicy::kNormalize}) {
      for (const Cuts& cuts : AllChunkings(input.size())) {
        const Decoded d = Decode(input, Options(policy), cuts);
        ASSERT_TRUE(d.done) << Describe(cuts);
        ASSERT_EQ(d.consumed, real_end) << Describe(cuts);
        ASSERT_EQ(d.rest, "QUIT\r\n") << Describe(cuts);
        // The forged transaction is inside the data, not a command.
        ASSERT_NE(d.out.find(smuggled), std::string::npos) << Describe(cuts);
        ASSERT_TRUE(d.bare_lf || d.bare_cr);
      }
      DotStuffingDecoder decoder(Options(policy));
      std::string out;
      (void)decoder.Update(input, &out);
      if (policy == BareNewlinePolicy::kReject) {
        EXPECT_EQ(decoder.status().code(), absl::StatusCode::kInvalidArgument)
            << decoder.status();
      } else {
        EXPECT_TRUE(decoder.status().ok());
      }
    }
  }
}

TEST(DotStuffingDecoderTest, LineLengthIsReportedAndDecodingGoesOn) {
  // Limit 10: 8 octets of content (the stuffing "." counts: it is sent).
  Decoded ok = Expect("12345678\r\n.234567\r\n", true, 23);
  ExpectDecoded("12345678\r\n..234567\r\n.\r\n", Options({}, 10), ok);
  Decoded too_long = Expect("ok\r\n123456789\r\nmore\r\n", true, 24);
  too_long.long_line = 4;
  ExpectDecoded("ok\r\n123456789\r\nmore\r\n.\r\n", Options({}, 10),
                too_long);
  DotStuffingDecoder decoder(Options({}, 10));
  std::string out;
  (void)decoder.Update("ok\r\n123456789\r\n.\r\n", &out);
  EXPECT_EQ(decoder.status().code(), absl::StatusCode::kResourceExhausted);
}

TEST(DotStuffingDecoderTest, SizeBudgetStopsOutputNotInput) {
  const std::string input = "0123456789\r\n0123456789\r\n.\r\nQUIT\r\n";
  Decoded d = Expect("0123456789\r\n012", true, 27, "QUIT\r\n");
  d.content_bytes = 24;
  d.size_exceeded = true;
  ExpectDecoded(input, Options({}, 0, 15), d);
  // Exactly at the budget is not over it.
  Decoded exact = Expect("0123456789\r\n0123456789\r\n", true, 27, "QUIT\r\n");
  ExpectDecoded(input, Options({}, 0, 24), exact);
  DotStuffingDecoder decoder(Options({}, 0, 15));
  std::string out;
  (void)decoder.Update(input, &out);
  EXPECT_EQ(decoder.status().code(), absl::StatusCode::kResourceExhausted);
}

TEST(DotStuffingDecoderTest, StatusOrder) {
  DotStuffingDecoder decoder;
  std::string out;
  (void)decoder.Update("a\rb\nc\r\n.\r\n", &out);
  EXPECT_EQ(decoder.status().message(), "bare CR in data at offset 1");
  decoder.Reset();
  EXPECT_TRUE(decoder.status().ok());
  (void)decoder.Update("a\nb\rc\r\n.\r\n", &out);
  EXPECT_EQ(decoder.status().message(), "bare LF in data at offset 1");
}

TEST(DotStuffingDecoderTest, MatchesReferenceOnRandomInput) {
  std::mt19937 rng(7);
  const char alphabet[] = {'a', '.', '.', '\r', '\n', '\r', '\n'};
  for (int round = 0; round < 400; ++round) {
    std::string input;
    const std::size_t size = rng() % 32;
    for (std::size_t i = 0; i < size; ++i) input += alphabet[rng() % 7];
    const DotDecoderOptions options =
        Options(round % 2 ? BareNewlinePolicy::kNormalize
                          : BareNewlinePolicy::kReject,
                rng() % 6, rng() % 3 == 0 ? 1 + rng() % 10 : 0);
    const Decoded expected = ReferenceDecode(input, options);
    // The end is exactly the first <CRLF>.<CRLF> (with the DATA command's
    // CRLF in front), whatever came before it.
    const std::size_t marker = ("\r\n" + input).find("\r\n.\r\n");
    ASSERT_EQ(expected.done, marker != std::string::npos);
    if (expected.done) {
      ASSERT_EQ(expected.consumed, marker + 3);
    }
    for (const Cuts& cuts : AllChunkings(input.size(), round)) {
      ASSERT_EQ(Decode(input, options, cuts), expected)
          << ::testing::PrintToString(input) << " " << Describe(cuts);
    }
  }
}

// The SMTP server's hand-off: commands through a LineReader, after "DATA"
// the rest of the same chunk to the decoder, and what the decoder leaves
// back to the reader. Pipelined input at every split gives the same log.
TEST(DotStuffingDecoderTest, HandOffBetweenLineReaderAndDecoder) {
  const std::string input =
      "MAIL FROM:<a>\r\nDATA\r\n..dot\r\nbody\r\n.\r\nQUIT\r\n";
  const std::vector<std::string> expected = {"cmd MAIL FROM:<a>", "cmd DATA",
                                             "data .dot\r\nbody\r\n",
                                             "cmd QUIT"};
  for (const Cuts& cuts : AllChunkings(input.size())) {
    LineReader reader(kSmtpCommandLineMax);
    DotStuffingDecoder decoder;
    bool in_data = false;
    std::string data;
    std::vector<std::string> log;
    std::size_t pos = 0;
    for (std::size_t size : cuts) {
      Chunk chunk(std::string_view(input).substr(pos, size));
      pos += size;
      std::string_view rest = chunk.view();
      while (!rest.empty()) {
        if (in_data) {
          const DotDecodeResult r = decoder.Update(rest, &data);
          rest.remove_prefix(r.consumed);
          if (r.done) {
            log.push_back("data " + data);
            in_data = false;
          }
          continue;
        }
        const LineReader::Event e = reader.Next(&rest);
        if (e == LineReader::Event::kNeedMoreData) break;
        ASSERT_EQ(e, LineReader::Event::kLine);
        log.push_back("cmd " + std::string(reader.line().text));
        if (reader.line().text == "DATA") {
          ASSERT_FALSE(reader.has_partial_line());
          in_data = true;  // ("354" would be sent here)
        }
      }
    }
    EXPECT_EQ(log, expected) << Describe(cuts);
  }
}

// ---------------------------------------------------------------------------
// Round trips.

TEST(DotStuffingRoundTripTest, CrlfTextSurvivesExactly) {
  const std::vector<std::string> contents = {
      "",
      "\r\n",
      ".\r\n",
      "..\r\n",
      "...\r\n",
      ".a\r\n..b\r\n",
      "a\r\n.\r\nb\r\n",
      "x\r\n.\r\n.\r\n",
      "Subject: t\r\n\r\n.\r\n..\r\n.x\r\n",
      "\r\n.\r\n\r\n",
  };
  for (const std::string& content : contents) {
    for (const Cuts& enc_cuts : AllChunkings(content.size())) {
      const Encoded e = Encode(content, EncoderInput::kCrlf, enc_cuts);
      ASSERT_EQ(e.stray, 0u);
      for (const Cuts& dec_cuts : AllChunkings(e.out.size())) {
        const Decoded d = Decode(e.out, Options(), dec_cuts);
        ASSERT_TRUE(d.done);
        ASSERT_EQ(d.consumed, e.out.size());
        ASSERT_EQ(d.out, content) << Describe(dec_cuts);
        ASSERT_FALSE(d.bare_lf || d.bare_cr);
      }
    }
  }
}

TEST(DotStuffingRoundTripTest, ContentWithoutFinalCrlfGainsOne) {
  for (std::string_view content : {"a", ".", "..", "a\r\n.", "a\r\nb"}) {
    const Decoded d = Decode(DotStuff(content), Options(), {1000});
    EXPECT_TRUE(d.done);
    EXPECT_EQ(d.out, std::string(content) + "\r\n");
  }
}

TEST(DotStuffingRoundTripTest, AnyContentComesBackCanonical) {
  std::mt19937 rng(11);
  const char alphabet[] = {'a', '.', '\r', '\n'};
  for (int round = 0; round < 500; ++round) {
    std::string content;
    const std::size_t size = rng() % 24;
    for (std::size_t i = 0; i < size; ++i) content += alphabet[rng() % 4];
    for (EncoderInput mode : {EncoderInput::kCrlf, EncoderInput::kLfToCrlf}) {
      const Cuts cuts = AllChunkings(size, round)[rng() % (size + 2)];
      const Encoded e = Encode(content, mode, cuts);
      ASSERT_EQ(e.out.find("\r\n.\r\n"),
                e.out.size() >= 5 ? e.out.size() - 5 : std::string::npos)
          << ::testing::PrintToString(e.out);
      const Decoded d = Decode(e.out, Options(), {e.out.size()});
      ASSERT_TRUE(d.done);
      ASSERT_EQ(d.consumed, e.out.size());
      ASSERT_FALSE(d.bare_lf || d.bare_cr);
      ASSERT_EQ(d.out, Canonical(content)) << ::testing::PrintToString(content);
    }
  }
}

TEST(DotStuffingRoundTripTest, LargeMessageInOddChunks) {
  std::string content;
  for (int i = 0; i < 20000; ++i) {
    content += (i % 7 == 0) ? "." : "";
    content += "line " + std::to_string(i) + " of the message\r\n";
  }
  const std::string stuffed = DotStuff(content);
  DotStuffingDecoder decoder(Options({}, 1000));
  std::string out;
  std::size_t pos = 0;
  bool done = false;
  while (!done) {
    const std::size_t n = std::min<std::size_t>(stuffed.size() - pos, 4093);
    const DotDecodeResult r = decoder.Update({stuffed.data() + pos, n}, &out);
    pos += r.consumed;
    done = r.done;
    ASSERT_TRUE(done || r.consumed == n);
  }
  EXPECT_EQ(pos, stuffed.size());
  EXPECT_EQ(out, content);
  EXPECT_EQ(decoder.content_bytes(), content.size());
  EXPECT_TRUE(decoder.status().ok());
}

}  // namespace
}  // namespace posthorn::wire
