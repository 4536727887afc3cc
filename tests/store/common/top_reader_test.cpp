// Tests of store::TopReader and MaildropSession::ReadTop's default
// (posthorn/store/message_reader.h, mailstore.h).

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "gtest/gtest.h"
#include "posthorn/store/mailstore.h"
#include "posthorn/store/message_reader.h"

namespace posthorn::store {
namespace {

// Yields `text` at most `step` bytes per Read and counts what it yielded,
// to show how far the TopReader read.
class SteppedReader final : public MessageReader {
 public:
  SteppedReader(std::string text, std::size_t step, std::size_t* yielded)
      : text_(std::move(text)), step_(step), yielded_(yielded) {}
  absl::StatusOr<std::size_t> Read(std::span<char> buffer) override {
    const std::size_t n =
        std::min({buffer.size(), step_, text_.size() - *yielded_});
    text_.copy(buffer.data(), n, *yielded_);
    *yielded_ += n;
    return n;
  }

 private:
  std::string text_;
  std::size_t step_;
  std::size_t* yielded_;
};

constexpr std::string_view kMessage =
    "Subject: hi\r\nFrom: a@b\r\n\r\nline 1\r\nline 2\r\nline 3\r\n";

std::string Top(std::uint64_t lines, std::size_t step,
                std::size_t* yielded) {
  TopReader top(std::make_unique<SteppedReader>(std::string(kMessage), step,
                                                yielded),
                lines);
  absl::StatusOr<std::string> text = ReadAll(top);
  EXPECT_TRUE(text.ok()) << text.status();
  return text.value_or("");
}

TEST(TopReader, CutsAfterTheHeaderAndNLinesInEveryStep) {
  const std::string header = "Subject: hi\r\nFrom: a@b\r\n\r\n";
  for (std::size_t step = 1; step <= kMessage.size(); ++step) {
    SCOPED_TRACE(step);
    std::size_t yielded = 0;
    EXPECT_EQ(Top(0, step, &yielded), header);
    yielded = 0;
    EXPECT_EQ(Top(2, step, &yielded), header + "line 1\r\nline 2\r\n");
    yielded = 0;
    EXPECT_EQ(Top(9, step, &yielded), kMessage);
  }
}

TEST(TopReader, StopsReadingAtTheCut) {
  std::size_t yielded = 0;
  Top(1, 1, &yielded);
  EXPECT_EQ(yielded, std::string_view(kMessage).find("line 2"));
}

TEST(TopReader, PassesErrorsOnAndEndsOnAnEmptyBuffer) {
  class Failing final : public MessageReader {
   public:
    absl::StatusOr<std::size_t> Read(std::span<char>) override {
      return absl::DataLossError("chunk 3 is missing");
    }
  };
  TopReader top(std::make_unique<Failing>(), 1);
  char buffer[8];
  EXPECT_EQ(top.Read(buffer).status().code(), absl::StatusCode::kDataLoss);
  std::size_t yielded = 0;
  TopReader idle(std::make_unique<SteppedReader>("A: 1\r\n", 4, &yielded), 0);
  EXPECT_EQ(*idle.Read(std::span<char>()), 0u);
}

// A session that implements Read only: TOP comes from the default.
class ReadOnlySession final : public MaildropSession {
 public:
  std::span<const MessageInfo> messages() const override { return infos_; }
  absl::StatusOr<std::unique_ptr<MessageReader>> Read(
      std::size_t index) override {
    if (index > 0) return absl::NotFoundError("no such message");
    return std::unique_ptr<MessageReader>(
        std::make_unique<StringReader>(kMessage));
  }
  absl::Status Commit(std::span<const std::size_t>) override {
    return absl::OkStatus();
  }

 private:
  std::vector<MessageInfo> infos_ = {{kMessage.size(), "uid-1"}};
};

TEST(MaildropSessionDefault, ReadTopCutsWhatReadGives) {
  ReadOnlySession session;
  absl::StatusOr<std::unique_ptr<MessageReader>> top = session.ReadTop(0, 1);
  ASSERT_TRUE(top.ok()) << top.status();
  EXPECT_EQ(*ReadAll(**top),
            "Subject: hi\r\nFrom: a@b\r\n\r\nline 1\r\n");
  EXPECT_EQ(session.ReadTop(1, 1).status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace posthorn::store
