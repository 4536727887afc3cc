// store/maildir/crlf_reader.cpp — see crlf_reader.h.

#include "store/maildir/crlf_reader.h"

#include <algorithm>
#include <cstring>
#include <utility>

namespace posthorn::store::maildir {

CrlfReader::CrlfReader(std::unique_ptr<RawSource> source,
                       std::optional<std::uint64_t> top_body_lines)
    : source_(std::move(source)), top_body_lines_(top_body_lines) {}

void CrlfReader::Convert(std::string_view raw) {
  std::size_t run = 0;  // first byte of `raw` not yet copied to out_
  for (std::size_t i = 0; i < raw.size(); ++i) {
    char c = raw[i];
    if (c != '\n') {
      previous_was_cr_ = (c == '\r');
      ++line_bytes_;
      continue;
    }
    // A line ends here. Copy up to the LF, adding the CR when missing.
    out_.append(raw.substr(run, i - run));
    out_.append(previous_was_cr_ ? "\n" : "\r\n");
    run = i + 1;
    bool empty_line = line_bytes_ == 0 || (line_bytes_ == 1 && previous_was_cr_);
    previous_was_cr_ = false;
    line_bytes_ = 0;
    if (!top_body_lines_.has_value()) continue;
    if (in_header_) {
      if (empty_line) in_header_ = false;
    } else {
      ++body_lines_sent_;
    }
    if (!in_header_ && body_lines_sent_ >= *top_body_lines_) {
      top_complete_ = true;
      return;
    }
  }
  out_.append(raw.substr(run));
}

absl::StatusOr<std::size_t> CrlfReader::Read(std::span<char> buffer) {
  if (buffer.empty()) return 0;
  while (out_offset_ == out_.size()) {
    out_.clear();
    out_offset_ = 0;
    if (source_ended_ || top_complete_) return 0;
    raw_.resize(kRawChunk);
    auto n = source_->ReadRaw(std::span<char>(raw_.data(), raw_.size()));
    if (!n.ok()) return n.status();
    if (*n == 0) {
      source_ended_ = true;
      return 0;
    }
    Convert(std::string_view(raw_.data(), *n));
  }
  std::size_t count = std::min(buffer.size(), out_.size() - out_offset_);
  std::memcpy(buffer.data(), out_.data() + out_offset_, count);
  out_offset_ += count;
  return count;
}

}  // namespace posthorn::store::maildir
