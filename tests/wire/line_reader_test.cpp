// Tests for posthorn/wire/line_reader.h.

#include "posthorn/wire/line_reader.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "wire/chunking.h"

namespace posthorn::wire {
namespace {

using chunking::AllChunkings;
using chunking::Chunk;
using chunking::Cuts;
using chunking::Describe;

// One event as text: "L crlf 0 'HELO a'" or "T crlf 12 len=600".
std::string Format(const LineReader& reader, LineReader::Event event) {
  if (event == LineReader::Event::kLine) {
    const Line& l = reader.line();
    return "L " + std::string(LineEndingName(l.ending)) + " " +
           std::to_string(l.offset) + " '" + std::string(l.text) + "'";
  }
  const OverlongLine& o = reader.overlong();
  return "T " + std::string(LineEndingName(o.ending)) + " " +
         std::to_string(o.offset) + " len=" + std::to_string(o.length);
}

// Feeds `input` in the given chunks (then Finish) and logs every event.
std::vector<std::string> Feed(std::string_view input, std::size_t limit,
                             const Cuts& cuts) {
  LineReader reader(limit);
  std::vector<std::string> log;
  std::size_t pos = 0;
  for (std::size_t size : cuts) {
    Chunk chunk(input.substr(pos, size));
    pos += size;
    std::string_view rest = chunk.view();
    for (;;) {
      const LineReader::Event event = reader.Next(&rest);
      if (event == LineReader::Event::kNeedMoreData) {
        EXPECT_TRUE(rest.empty());
        break;
      }
      EXPECT_NE(event, LineReader::Event::kEndOfStream);
      if (event == LineReader::Event::kEndOfStream) return log;
      log.push_back(Format(reader, event));
    }
    EXPECT_EQ(reader.offset(), pos);
  }
  for (;;) {
    const LineReader::Event event = reader.Finish();
    if (event == LineReader::Event::kEndOfStream) break;
    log.push_back(Format(reader, event));
  }
  return log;
}

// Runs every chunking and checks they all give `expected`.
void ExpectEvents(std::string_view input, std::size_t limit,
                  const std::vector<std::string>& expected) {
  for (const Cuts& cuts : AllChunkings(input.size())) {
    EXPECT_EQ(Feed(input, limit, cuts), expected) << Describe(cuts);
  }
}

// The reference: the line rules applied to the whole input at once.
std::vector<std::string> Reference(std::string_view in, std::size_t limit) {
  std::vector<std::string> log;
  const std::size_t max_content = limit - 2;
  std::size_t i = 0;
  while (i < in.size()) {
    std::size_t j = i;
    while (j < in.size() && in[j] != '\r' && in[j] != '\n') ++j;
    LineEnding ending = LineEnding::kNone;
    std::size_t next = j;
    if (j < in.size()) {
      if (in[j] == '\n') {
        ending = LineEnding::kLf;
        next = j + 1;
      } else if (j + 1 < in.size() && in[j + 1] == '\n') {
        ending = LineEnding::kCrLf;
        next = j + 2;
      } else {
        ending = LineEnding::kCr;
        next = j + 1;
      }
    }
    const std::string name(LineEndingName(ending));
    if (j - i > max_content) {
      log.push_back("T " + name + " " + std::to_string(i) +
                    " len=" + std::to_string(j - i));
    } else {
      log.push_back("L " + name + " " + std::to_string(i) + " '" +
                    std::string(in.substr(i, j - i)) + "'");
    }
    i = next;
  }
  return log;
}

TEST(LineReaderTest, CrlfLines) {
  ExpectEvents("HELO a\r\nMAIL FROM:<x>\r\n", 512,
               {"L crlf 0 'HELO a'", "L crlf 8 'MAIL FROM:<x>'"});
}

TEST(LineReaderTest, EmptyInputAndEmptyLines) {
  ExpectEvents("", 512, {});
  ExpectEvents("\r\n\r\n", 512, {"L crlf 0 ''", "L crlf 2 ''"});
  ExpectEvents("\n\n", 512, {"L lf 0 ''", "L lf 1 ''"});
}

TEST(LineReaderTest, EndingsAreReportedDistinctly) {
  ExpectEvents("a\nb\rc\r\nd", 512,
               {"L lf 0 'a'", "L cr 2 'b'", "L crlf 4 'c'", "L none 7 'd'"});
}

TEST(LineReaderTest, CrBeforeCrlfIsBare) {
  ExpectEvents("a\r\r\n", 512, {"L cr 0 'a'", "L crlf 2 ''"});
  ExpectEvents("\r\r\r", 512, {"L cr 0 ''", "L cr 1 ''", "L cr 2 ''"});
  ExpectEvents("\n\r", 512, {"L lf 0 ''", "L cr 1 ''"});
}

TEST(LineReaderTest, CrAtEndOfStreamIsBare) {
  ExpectEvents("QUIT\r", 512, {"L cr 0 'QUIT'"});
  ExpectEvents("\r", 512, {"L cr 0 ''"});
}

TEST(LineReaderTest, LimitCountsTheEndAsTwoOctets) {
  // Limit 10: at most 8 content octets, whatever the ending.
  ExpectEvents("12345678\r\n", 10, {"L crlf 0 '12345678'"});
  ExpectEvents("12345678\n", 10, {"L lf 0 '12345678'"});
  ExpectEvents("12345678\r", 10, {"L cr 0 '12345678'"});
  ExpectEvents("12345678", 10, {"L none 0 '12345678'"});
  ExpectEvents("123456789\r\n", 10, {"T crlf 0 len=9"});
  ExpectEvents("123456789\n", 10, {"T lf 0 len=9"});
  ExpectEvents("123456789\rX\r\n", 10, {"T cr 0 len=9", "L crlf 10 'X'"});
  ExpectEvents("123456789", 10, {"T none 0 len=9"});
  ExpectEvents("123456789\r", 10, {"T cr 0 len=9"});
}

TEST(LineReaderTest, OverlongLineIsReportedOnceAndReadingResumes) {
  const std::string input = "NOOP\r\n" + std::string(40, 'x') +
                            "\r\nQUIT\r\n" + std::string(11, 'y') + "\nZ";
  ExpectEvents(input, 12,
               {"L crlf 0 'NOOP'", "T crlf 6 len=40", "L crlf 48 'QUIT'",
                "T lf 54 len=11", "L none 66 'Z'"});
}

TEST(LineReaderTest, SmallestLimitAcceptsOnlyEmptyLines) {
  ExpectEvents("\r\na\r\n\n", 2, {"L crlf 0 ''", "T crlf 2 len=1",
                                  "L lf 5 ''"});
  ExpectEvents("\r\n", 0, {"L crlf 0 ''"});  // raised to the minimum
}

TEST(LineReaderTest, DroppedCountsTheWholeLine) {
  LineReader reader(8);
  std::string_view in = "0123456789\r\nok\r\n";
  ASSERT_EQ(reader.Next(&in), LineReader::Event::kLineTooLong);
  EXPECT_EQ(reader.overlong().dropped(), 12u);
  EXPECT_EQ(in, "ok\r\n");
  ASSERT_EQ(reader.Next(&in), LineReader::Event::kLine);
  EXPECT_EQ(reader.line().text, "ok");
  EXPECT_EQ(reader.Next(&in), LineReader::Event::kNeedMoreData);
}

TEST(LineReaderTest, ZeroCopyInsideAChunkCopiedAcrossChunks) {
  LineReader reader(512);
  const std::string first = "HELO a\r\nMAIL FR";
  const std::string second = "OM:<x>\r\n";
  std::string_view in = first;
  ASSERT_EQ(reader.Next(&in), LineReader::Event::kLine);
  EXPECT_EQ(reader.line().text.data(), first.data());
  ASSERT_EQ(reader.Next(&in), LineReader::Event::kNeedMoreData);
  EXPECT_TRUE(reader.has_partial_line());
  in = second;
  ASSERT_EQ(reader.Next(&in), LineReader::Event::kLine);
  EXPECT_EQ(reader.line().text, "MAIL FROM:<x>");
  EXPECT_EQ(reader.line().offset, 8u);
  const char* text = reader.line().text.data();
  EXPECT_FALSE(text >= second.data() && text < second.data() + second.size());
  EXPECT_FALSE(reader.has_partial_line());
}

TEST(LineReaderTest, NeedMoreDataOnlyWhenInputIsEmpty) {
  LineReader reader(512);
  std::string_view in;
  EXPECT_EQ(reader.Next(&in), LineReader::Event::kNeedMoreData);
  in = "a\r\nb";
  EXPECT_EQ(reader.Next(&in), LineReader::Event::kLine);
  EXPECT_EQ(in, "b");
  EXPECT_EQ(reader.Next(&in), LineReader::Event::kNeedMoreData);
  EXPECT_TRUE(in.empty());
}

TEST(LineReaderTest, FinishThenEndOfStreamUntilReset) {
  LineReader reader(512);
  std::string_view in = "abc";
  ASSERT_EQ(reader.Next(&in), LineReader::Event::kNeedMoreData);
  ASSERT_EQ(reader.Finish(), LineReader::Event::kLine);
  EXPECT_EQ(reader.line().text, "abc");
  EXPECT_EQ(reader.line().ending, LineEnding::kNone);
  EXPECT_EQ(reader.Finish(), LineReader::Event::kEndOfStream);
  in = "x\r\n";
  EXPECT_EQ(reader.Next(&in), LineReader::Event::kEndOfStream);
  reader.Reset();
  ASSERT_EQ(reader.Next(&in), LineReader::Event::kLine);
  EXPECT_EQ(reader.line().text, "x");
  EXPECT_EQ(reader.line().offset, 3u);  // the stream offset survives Reset
}

TEST(LineReaderTest, ResetDiscardsThePartialLine) {
  // STARTTLS: whatever was buffered before the handshake is dropped.
  LineReader reader(512);
  std::string_view in = "STARTTLS\r\nMAIL FROM:<inj";
  ASSERT_EQ(reader.Next(&in), LineReader::Event::kLine);
  ASSERT_EQ(reader.Next(&in), LineReader::Event::kNeedMoreData);
  EXPECT_TRUE(reader.has_partial_line());
  reader.Reset();
  EXPECT_FALSE(reader.has_partial_line());
  in = "EHLO b\r\n";
  ASSERT_EQ(reader.Next(&in), LineReader::Event::kLine);
  EXPECT_EQ(reader.line().text, "EHLO b");
}

TEST(LineReaderTest, ChangingTheLimitOnlyBetweenLines) {
  LineReader reader(10);
  std::string_view in = "abc";
  ASSERT_EQ(reader.Next(&in), LineReader::Event::kNeedMoreData);
  EXPECT_EQ(reader.set_max_line_length(100).code(),
            absl::StatusCode::kFailedPrecondition);
  in = "\r\n";
  ASSERT_EQ(reader.Next(&in), LineReader::Event::kLine);
  EXPECT_TRUE(reader.set_max_line_length(100).ok());
  EXPECT_EQ(reader.max_line_length(), 100u);
  const std::string longer = std::string(50, 'z') + "\r\n";
  in = longer;
  ASSERT_EQ(reader.Next(&in), LineReader::Event::kLine);
  EXPECT_EQ(reader.line().text.size(), 50u);
}

TEST(LineReaderTest, SmtpLimits) {
  const std::string ok = std::string(510, 'a') + "\r\n";
  const std::string too_long = std::string(511, 'a') + "\r\n";
  EXPECT_EQ(Feed(ok, kSmtpCommandLineMax, {ok.size()}),
            std::vector<std::string>{
                "L crlf 0 '" + std::string(510, 'a') + "'"});
  EXPECT_EQ(Feed(too_long, kSmtpCommandLineMax, {too_long.size()}),
            std::vector<std::string>{"T crlf 0 len=511"});
  EXPECT_EQ(Feed(too_long, kSmtpCommandLineMax, Cuts(too_long.size(), 1)),
            std::vector<std::string>{"T crlf 0 len=511"});
}

TEST(LineReaderTest, HugeLineInHugeChunkIsBoundedAndOnce) {
  std::string input(4 << 20, 'x');
  input += "\r\nQUIT\r\n";
  const std::vector<std::string> expected = {
      "T crlf 0 len=" + std::to_string(4 << 20),
      "L crlf " + std::to_string((4 << 20) + 2) + " 'QUIT'"};
  EXPECT_EQ(Feed(input, kSmtpCommandLineMax, {input.size()}), expected);
  EXPECT_EQ(Feed(input, kSmtpCommandLineMax, {1000, input.size() - 1000}),
            expected);
  Cuts kib;
  for (std::size_t left = input.size(); left > 0;) {
    kib.push_back(std::min<std::size_t>(left, 4093));
    left -= kib.back();
  }
  EXPECT_EQ(Feed(input, kSmtpCommandLineMax, kib), expected);
}

TEST(LineReaderTest, ManyCrsAreLinear) {
  // A megabyte of bare CRs in one chunk: a million lines, no rescans.
  const std::string input(1 << 20, '\r');
  LineReader reader(kSmtpCommandLineMax);
  std::string_view in = input;
  std::size_t lines = 0;
  while (reader.Next(&in) == LineReader::Event::kLine) ++lines;
  EXPECT_EQ(reader.Finish(), LineReader::Event::kLine);
  EXPECT_EQ(lines + 1, input.size());
}

TEST(LineReaderTest, MatchesReferenceOnRandomInput) {
  std::mt19937 rng(42);
  const char alphabet[] = {'a', 'b', '\r', '\n', '.', ' '};
  for (int round = 0; round < 300; ++round) {
    std::string input;
    const std::size_t size = rng() % 40;
    for (std::size_t i = 0; i < size; ++i) input += alphabet[rng() % 6];
    const std::size_t limit = 2 + rng() % 8;
    const std::vector<std::string> expected = Reference(input, limit);
    for (const Cuts& cuts : AllChunkings(input.size(), round)) {
      ASSERT_EQ(Feed(input, limit, cuts), expected)
          << "limit " << limit << " " << Describe(cuts);
    }
  }
}

TEST(LineReaderTest, LineEndingNamesAndSizes) {
  EXPECT_EQ(LineEndingName(LineEnding::kCrLf), "crlf");
  EXPECT_EQ(LineEndingName(LineEnding::kLf), "lf");
  EXPECT_EQ(LineEndingName(LineEnding::kCr), "cr");
  EXPECT_EQ(LineEndingName(LineEnding::kNone), "none");
  EXPECT_EQ(LineEndingSize(LineEnding::kCrLf), 2u);
  EXPECT_EQ(LineEndingSize(LineEnding::kLf), 1u);
  EXPECT_EQ(LineEndingSize(LineEnding::kCr), 1u);
  EXPECT_EQ(LineEndingSize(LineEnding::kNone), 0u);
}

}  // namespace
}  // namespace posthorn::wire
