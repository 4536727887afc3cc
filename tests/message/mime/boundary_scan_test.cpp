// Tests of src/message/mime/boundary_scan.h (internal): the SIMD scan must
// agree with the obvious definition at every offset, alignment and length.

#include "message/mime/boundary_scan.h"

#include <cstdint>
#include <string>
#include <string_view>

#include "gtest/gtest.h"
#include "message/mime/mime_test_util.h"

namespace posthorn::message::mime_internal {
namespace {

using testing::GuardedBuffer;

std::size_t Reference(std::string_view d, std::size_t from) {
  for (std::size_t p = from; p + 1 < d.size(); ++p) {
    if (d[p] == '-' && d[p + 1] == '-' &&
        (p == 0 || d[p - 1] == '\n' || d[p - 1] == '\r')) {
      return p;
    }
  }
  return kNpos;
}

TEST(BoundaryScanTest, AgreesWithReferenceOnRandomInputs) {
  std::uint64_t s = 12345;
  const char alphabet[] = {'-', '-', '\n', '\r', 'a', '-', 'b', '\n'};
  for (int round = 0; round < 300; ++round) {
    std::string text;
    const std::size_t n = round % 70;
    for (std::size_t i = 0; i < n; ++i) {
      s = s * 6364136223846793005ull + 1442695040888963407ull;
      text += alphabet[(s >> 33) % 8];
    }
    GuardedBuffer in(text);
    for (std::size_t from = 0; from <= n + 1; ++from) {
      ASSERT_EQ(FindDashDashLine(in.view(), from), Reference(in.view(), from))
          << "text '" << text << "' from " << from;
    }
  }
}

TEST(BoundaryScanTest, FindsEveryCandidateInALongBody) {
  std::string text(1000, 'A');
  for (std::size_t p : {0u, 17u, 31u, 32u, 33u, 500u, 998u}) {
    text[p] = '-';
    if (p + 1 < text.size()) text[p + 1] = '-';
    if (p > 0) text[p - 1] = (p % 2) ? '\n' : '\r';
  }
  GuardedBuffer in(text);
  for (std::size_t from = 0; from <= text.size(); ++from) {
    ASSERT_EQ(FindDashDashLine(in.view(), from), Reference(in.view(), from));
  }
}

TEST(BoundaryScanTest, MatchDelimiter) {
  DelimiterMatch m;
  auto match = [&](std::string_view line, std::string_view b) {
    GuardedBuffer in(line);
    return MatchDelimiter(in.view(), 0, b, &m);
  };
  EXPECT_TRUE(match("--abc\r\nx", "abc"));
  EXPECT_FALSE(m.is_close);
  EXPECT_EQ(m.line_end, 7u);
  EXPECT_TRUE(match("--abc--", "abc"));
  EXPECT_TRUE(m.is_close);
  EXPECT_EQ(m.line_end, 7u);
  EXPECT_TRUE(match("--abc-- \t\n", "abc"));
  EXPECT_TRUE(m.is_close);
  EXPECT_EQ(m.line_end, 10u);
  EXPECT_TRUE(match("--abc \rz", "abc"));
  EXPECT_EQ(m.line_end, 7u);
  EXPECT_TRUE(match("--abc", "abc"));
  EXPECT_EQ(m.line_end, 5u);
  EXPECT_FALSE(match("--abcd\r\n", "abc"));
  EXPECT_FALSE(match("--abc-\r\n", "abc"));
  EXPECT_FALSE(match("--abc---\r\n", "abc"));
  EXPECT_FALSE(match("--abc x\r\n", "abc"));
  EXPECT_FALSE(match("--ab", "abc"));
  EXPECT_FALSE(match("--ABC\r\n", "abc"));  // boundaries are case-sensitive
  EXPECT_FALSE(match("--\r\n", ""));
}

TEST(BoundaryScanTest, LineEndBefore) {
  const std::string_view d = "ab\r\n--x\n--y\r--z";
  EXPECT_EQ(LineEndBefore(d, 4, 0), 2u);
  EXPECT_EQ(LineEndBefore(d, 4, 3), 3u);
  EXPECT_EQ(LineEndBefore(d, 4, 4), 4u);
  EXPECT_EQ(LineEndBefore(d, 8, 0), 7u);
  EXPECT_EQ(LineEndBefore(d, 12, 0), 11u);
  EXPECT_EQ(LineEndBefore(d, 0, 0), 0u);
}

}  // namespace
}  // namespace posthorn::message::mime_internal
