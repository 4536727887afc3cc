// Replays every transcript in tests/data/pop3/server/ (format:
// tests/data/pop3/README.md) whole, split in two at every byte offset, and
// byte by byte; the server bytes and the event log must be the same each
// time.

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "pop3/server/transcript.h"

namespace posthorn::pop3::transcript {
namespace {

std::filesystem::path Dir() {
  const char* root = std::getenv("POSTHORN_TESTDATA");
  return std::filesystem::path(root ? root : "tests/data") / "pop3" / "server";
}

std::vector<std::string> Files() {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(Dir(), ec)) {
    if (entry.path().extension() == ".txt") {
      names.push_back(entry.path().stem().string());
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::string Read(const std::string& name) {
  std::ifstream in(Dir() / (name + ".txt"), std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(TranscriptFiles, ThereAreEnough) { EXPECT_GE(Files().size(), 25u); }

class TranscriptTest : public ::testing::TestWithParam<std::string> {};

TEST_P(TranscriptTest, ReplaysWholeSplitAndBytewise) {
  Transcript t;
  const std::string text = Read(GetParam());
  ASSERT_FALSE(text.empty()) << "cannot read " << GetParam();
  const std::string parse_error = Parse(text, &t);
  ASSERT_EQ(parse_error, "");
  std::size_t total = 0;
  for (const Step& s : t.steps) total += s.bytes.size();

  // Splitting at every offset costs O(size^2). Up to kEveryOffsetBytes of
  // client bytes (every transcript but the few with 12-80 KiB bodies made
  // by a repeat) that is what happens; past it, every offset of the first
  // and last kEdgeBytes and every kStride-th one in between (a prime, so
  // the cuts fall at every position of the repeated lines), which keeps
  // the sanitizer build within its time budget.
  constexpr std::size_t kEveryOffsetBytes = 8192;
  constexpr std::size_t kEdgeBytes = 2048;
  constexpr std::size_t kStride = 97;
  std::vector<Cut> cuts;
  cuts.push_back({Cut::Mode::kWhole, 0});
  for (std::size_t k = 1; k < total; ++k) {
    const bool edge = k < kEdgeBytes || total - k < kEdgeBytes;
    if (total <= kEveryOffsetBytes || edge || k % kStride == 0) {
      cuts.push_back({Cut::Mode::kSplitAt, k});
    }
  }
  cuts.push_back({Cut::Mode::kBytewise, 0});
  for (const Cut& cut : cuts) {
    Replayer r(t);
    const std::string err = r.Run(cut);
    ASSERT_EQ(err, "") << GetParam() << " (" << cut.Describe() << ")";
  }
}

INSTANTIATE_TEST_SUITE_P(
    Server, TranscriptTest, ::testing::ValuesIn(Files()),
    [](const ::testing::TestParamInfo<std::string>& info) {
      std::string n = info.param;
      for (char& c : n) {
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
      }
      return n;
    });

}  // namespace
}  // namespace posthorn::pop3::transcript
