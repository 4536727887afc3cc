// Tests of wire::TopCut (posthorn/wire/top_cut.h): the RFC 1939 TOP cut,
// fed whole, byte by byte and in every other chunking.

#include "posthorn/wire/top_cut.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "chunking.h"
#include "gtest/gtest.h"

namespace posthorn::wire {
namespace {

// What the cut passes on for `message` fed in the chunks `cuts`; stops
// feeding once it says it is done.
std::string CutInChunks(std::string_view message,
                        std::optional<std::uint64_t> lines,
                        const chunking::Cuts& cuts) {
  TopCut cut;
  cut.Reset(lines);
  std::string out;
  std::size_t off = 0;
  for (std::size_t n : cuts) {
    if (cut.done()) break;
    out += cut.Filter(message.substr(off, n));
    off += n;
  }
  return out;
}

// The same result for every chunking; returns it.
std::string Cut(std::string_view message,
                std::optional<std::uint64_t> lines) {
  const std::string whole =
      CutInChunks(message, lines, chunking::Cuts{message.size()});
  for (const chunking::Cuts& cuts : chunking::AllChunkings(message.size())) {
    EXPECT_EQ(CutInChunks(message, lines, cuts), whole)
        << "lines " << lines.value_or(999) << ", " << cuts.size()
        << " chunks";
  }
  return whole;
}

constexpr std::string_view kMessage =
    "A: 1\r\nB: 2\r\n\r\nl1\r\nl2\nl3\r\n\r\nl5\r\n";

TEST(TopCut, HeaderBlankLineAndNBodyLines) {
  EXPECT_EQ(Cut(kMessage, 0), "A: 1\r\nB: 2\r\n\r\n");
  EXPECT_EQ(Cut(kMessage, 1), "A: 1\r\nB: 2\r\n\r\nl1\r\n");
  EXPECT_EQ(Cut(kMessage, 2), "A: 1\r\nB: 2\r\n\r\nl1\r\nl2\n");
  EXPECT_EQ(Cut(kMessage, 4), "A: 1\r\nB: 2\r\n\r\nl1\r\nl2\nl3\r\n\r\n");
  for (std::uint64_t n = 5; n < 8; ++n) EXPECT_EQ(Cut(kMessage, n), kMessage);
}

TEST(TopCut, WithoutALimitEverythingPasses) {
  EXPECT_EQ(Cut(kMessage, std::nullopt), kMessage);
  EXPECT_EQ(Cut("no header end\r\nat all", std::nullopt),
            "no header end\r\nat all");
}

TEST(TopCut, HeaderEndsAtTheFirstEmptyLineCrlfOrBareLf) {
  EXPECT_EQ(Cut("\r\nbody\r\nmore\r\n", 1), "\r\nbody\r\n");  // empty header
  EXPECT_EQ(Cut("A: 1\n\nb1\nb2\n", 1), "A: 1\n\nb1\n");
  EXPECT_EQ(Cut("A: 1\r\n\nb1\r\nb2\r\n", 0), "A: 1\r\n\n");
  // "\r" inside a line is not a line end; "\r\r\n" is not an empty line.
  EXPECT_EQ(Cut("A: x\ry\r\n\r\r\nB: 2\r\n\r\nb\r\n", 0),
            "A: x\ry\r\n\r\r\nB: 2\r\n\r\n");
}

TEST(TopCut, AMessageWithoutAnEmptyLineIsAllHeader) {
  EXPECT_EQ(Cut("A: 1\r\nB: 2\r\n", 0), "A: 1\r\nB: 2\r\n");
  EXPECT_EQ(Cut("A: 1\r\nno end of line", 3), "A: 1\r\nno end of line");
  EXPECT_EQ(Cut("", 0), "");
}

TEST(TopCut, OnceDoneNothingMorePassesUntilReset) {
  TopCut cut;
  cut.Reset(0);
  EXPECT_EQ(cut.Filter("A: 1\r\n\r\nbody\r\n"), "A: 1\r\n\r\n");
  EXPECT_TRUE(cut.done());
  EXPECT_EQ(cut.Filter("more\r\n"), "");
  cut.Reset(1);
  EXPECT_FALSE(cut.done());
  EXPECT_EQ(cut.Filter("\r\nb1\r\nb2\r\n"), "\r\nb1\r\n");
  cut.Reset(std::nullopt);
  EXPECT_EQ(cut.Filter("x\r\n\r\ny\r\n"), "x\r\n\r\ny\r\n");
  EXPECT_FALSE(cut.done());
}

}  // namespace
}  // namespace posthorn::wire
