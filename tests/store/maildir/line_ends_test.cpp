// tests/store/maildir/line_ends_test.cpp — the stored-form and CRLF-size
// rules (store/maildir/line_ends.h), fed whole and split at every offset.

#include "store/maildir/line_ends.h"

#include <string>

#include "gtest/gtest.h"

namespace posthorn::store::maildir {
namespace {

struct Normalized {
  std::string stored;
  std::uint64_t crlf_size;
};

Normalized NormalizeSplitAt(const std::string& input, std::size_t split) {
  LfNormalizer normalizer;
  std::string out;
  normalizer.Feed(input.substr(0, split), out);
  normalizer.Feed(input.substr(split), out);
  normalizer.Finish(out);
  EXPECT_EQ(normalizer.stored_size(), out.size());
  return {out, normalizer.crlf_size()};
}

void ExpectStored(const std::string& input, const std::string& stored) {
  for (std::size_t split = 0; split <= input.size(); ++split) {
    Normalized got = NormalizeSplitAt(input, split);
    EXPECT_EQ(got.stored, stored) << "split at " << split;
    EXPECT_EQ(got.crlf_size, CrlfSizeOf(stored));
  }
}

TEST(LfNormalizerTest, CrlfBecomesLf) {
  ExpectStored("a\r\nb\r\n", "a\nb\n");
  ExpectStored("a\nb\n", "a\nb\n");
  ExpectStored("a\r\n\r\nb\n", "a\n\nb\n");
}

TEST(LfNormalizerTest, FinalLineEndIsAdded) {
  ExpectStored("a\nb", "a\nb\n");
  ExpectStored("x", "x\n");
  ExpectStored("a\r", "a\r\n");
}

TEST(LfNormalizerTest, BareCrIsKept) {
  ExpectStored("a\rb\n", "a\rb\n");
  ExpectStored("a\r\r\nb\n", "a\r\nb\n");
  ExpectStored("\r\r", "\r\r\n");
}

TEST(LfNormalizerTest, EmptyInputStaysEmpty) {
  ExpectStored("", "");
}

TEST(CrlfSizeTest, CountsOneExtraOctetPerLfWithoutCr) {
  EXPECT_EQ(CrlfSizeOf(""), 0u);
  EXPECT_EQ(CrlfSizeOf("a\n"), 3u);
  EXPECT_EQ(CrlfSizeOf("a\r\n"), 3u);  // already CRLF on disk
  EXPECT_EQ(CrlfSizeOf("\n\n"), 4u);
  CrlfSizeCounter split;
  split.Feed("a\r");
  split.Feed("\nb\n");
  EXPECT_EQ(split.crlf_size(), 6u);
}

}  // namespace
}  // namespace posthorn::store::maildir
