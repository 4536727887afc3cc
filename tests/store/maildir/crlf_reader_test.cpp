// tests/store/maildir/crlf_reader_test.cpp — LF -> CRLF reading and TOP
// (store/maildir/crlf_reader.h) with sources that deliver 1..n bytes at a
// time and callers with buffers of 1..n bytes.

#include "store/maildir/crlf_reader.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "gtest/gtest.h"
#include "store/maildir/line_ends.h"

namespace posthorn::store::maildir {
namespace {

// Yields at most `step` bytes per call.
class SteppedSource final : public RawSource {
 public:
  SteppedSource(std::string bytes, std::size_t step)
      : bytes_(std::move(bytes)), step_(step) {}
  absl::StatusOr<std::size_t> ReadRaw(std::span<char> buffer) override {
    std::size_t n =
        std::min({buffer.size(), step_, bytes_.size() - offset_});
    std::memcpy(buffer.data(), bytes_.data() + offset_, n);
    offset_ += n;
    return n;
  }

 private:
  std::string bytes_;
  std::size_t step_;
  std::size_t offset_ = 0;
};

class FailingSource final : public RawSource {
 public:
  absl::StatusOr<std::size_t> ReadRaw(std::span<char>) override {
    return absl::UnavailableError("disk on fire");
  }
};

std::string ReadThrough(const std::string& stored,
                        std::optional<std::uint64_t> top, std::size_t step,
                        std::size_t buffer_size) {
  CrlfReader reader(std::make_unique<SteppedSource>(stored, step), top);
  std::string out, buffer(buffer_size, '\0');
  for (;;) {
    auto n = reader.Read(std::span<char>(buffer.data(), buffer.size()));
    EXPECT_TRUE(n.ok());
    if (!n.ok() || *n == 0) break;
    out.append(buffer.data(), *n);
  }
  return out;
}

void ExpectRead(const std::string& stored, std::optional<std::uint64_t> top,
                const std::string& expected) {
  for (std::size_t step : {1u, 2u, 3u, 7u, 100000u}) {
    for (std::size_t buffer : {1u, 2u, 5u, 16384u}) {
      EXPECT_EQ(ReadThrough(stored, top, step, buffer), expected)
          << "step " << step << " buffer " << buffer;
    }
  }
}

TEST(CrlfReaderTest, WholeMessageGetsCrlf) {
  const std::string stored = "A: 1\nB: 2\n\nbody\n\nmore\n";
  ExpectRead(stored, std::nullopt, "A: 1\r\nB: 2\r\n\r\nbody\r\n\r\nmore\r\n");
  EXPECT_EQ(CrlfSizeOf(stored),
            std::string("A: 1\r\nB: 2\r\n\r\nbody\r\n\r\nmore\r\n").size());
}

TEST(CrlfReaderTest, StoredCrlfIsNotDoubled) {
  ExpectRead("A: 1\r\n\r\nx\r\ny\n", std::nullopt, "A: 1\r\n\r\nx\r\ny\r\n");
}

TEST(CrlfReaderTest, TopCutsAfterBodyLines) {
  const std::string stored = "A: 1\nB: 2\n\none\ntwo\nthree\n";
  ExpectRead(stored, 0, "A: 1\r\nB: 2\r\n\r\n");
  ExpectRead(stored, 1, "A: 1\r\nB: 2\r\n\r\none\r\n");
  ExpectRead(stored, 3, "A: 1\r\nB: 2\r\n\r\none\r\ntwo\r\nthree\r\n");
  ExpectRead(stored, 99, "A: 1\r\nB: 2\r\n\r\none\r\ntwo\r\nthree\r\n");
}

TEST(CrlfReaderTest, TopRecognisesStoredCrlfBlankLine) {
  ExpectRead("A: 1\r\n\r\none\r\ntwo\r\n", 1, "A: 1\r\n\r\none\r\n");
}

TEST(CrlfReaderTest, TopOfMessageWithoutBlankLineIsWhole) {
  ExpectRead("A: 1\nB: 2\n", 0, "A: 1\r\nB: 2\r\n");
}

TEST(CrlfReaderTest, TopOfMessageStartingWithBlankLine) {
  ExpectRead("\nbody\nmore\n", 1, "\r\nbody\r\n");
}

TEST(CrlfReaderTest, SourceErrorsPassThrough) {
  CrlfReader reader(std::make_unique<FailingSource>(), std::nullopt);
  char buffer[8];
  EXPECT_EQ(reader.Read(buffer).status().code(),
            absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace posthorn::store::maildir
