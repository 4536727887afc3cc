// store/mbox/message_stream.cpp — see message_stream.h.

#include "store/mbox/message_stream.h"

#include "fmt/format.h"

namespace posthorn::store::mbox {
namespace {

constexpr std::size_t kChunkSize = 64 * 1024;

}  // namespace

MboxMessageReader::MboxMessageReader(
    std::shared_ptr<const fs::UniqueFd> fd, std::string path,
    std::uint64_t offset, std::uint64_t length,
    std::optional<std::uint64_t> top_body_lines)
    : fd_(std::move(fd)),
      path_(std::move(path)),
      next_(offset),
      end_(offset + length),
      decoder_(top_body_lines) {}

absl::StatusOr<std::size_t> MboxMessageReader::Read(std::span<char> buffer) {
  std::size_t written = 0;
  while (written < buffer.size() && !decoder_.done()) {
    if (unread_.empty() && next_ < end_) {
      if (chunk_.empty()) chunk_.resize(kChunkSize);
      std::size_t want = static_cast<std::size_t>(
          std::min<std::uint64_t>(end_ - next_, chunk_.size()));
      auto got = fs::PReadSome(fd_->get(), chunk_.data(), want, next_, path_);
      if (!got.ok()) return got.status();
      if (*got == 0) {
        return absl::DataLossError(fmt::format(
            "{}: ends at {}, inside a message (truncated by another "
            "program?)",
            path_, next_));
      }
      unread_ = std::string_view(chunk_.data(), *got);
      next_ += *got;
    }
    written += decoder_.Decode(&unread_, next_ == end_,
                               buffer.data() + written,
                               buffer.size() - written);
  }
  return written;
}

}  // namespace posthorn::store::mbox
