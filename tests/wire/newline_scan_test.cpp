// Tests for the internal scan helper src/wire/internal/newline_scan.h.

#include "wire/internal/newline_scan.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace posthorn::wire::internal {
namespace {

// Every length 0..70, a CR or LF at every position (or none), placed at the
// end of an exactly-sized heap block so an over-read faults under ASan.
TEST(NewlineScanTest, FindsTheFirstCrOrLfAndNeverOverReads) {
  for (std::size_t size = 0; size <= 70; ++size) {
    for (std::size_t at = 0; at <= size; ++at) {
      for (char c : {'\r', '\n'}) {
        std::unique_ptr<char[]> block(new char[size + 1]);
        char* data = block.get() + 1;  // odd alignment
        for (std::size_t i = 0; i < size; ++i) {
          data[i] = static_cast<char>(i % 2 ? 0x8d : 0x0b);  // near misses
        }
        if (at < size) data[at] = c;
        if (at + 3 < size) data[at + 3] = c == '\r' ? '\n' : '\r';
        const char* end = data + size;
        EXPECT_EQ(FindCrOrLf(data, end), data + at) << size << " " << at;
        EXPECT_EQ(FindCrOrLfPortable(data, end), data + at)
            << size << " " << at;
      }
    }
  }
}

TEST(NewlineScanTest, AllByteValues) {
  for (int b = 0; b < 256; ++b) {
    const std::string s(33, static_cast<char>(b));
    const bool hit = b == '\r' || b == '\n';
    const char* expect = hit ? s.data() : s.data() + s.size();
    EXPECT_EQ(FindCrOrLf(s.data(), s.data() + s.size()), expect) << b;
    EXPECT_EQ(FindCrOrLfPortable(s.data(), s.data() + s.size()), expect) << b;
  }
}

}  // namespace
}  // namespace posthorn::wire::internal
