// The streamed TOP cut; see posthorn/wire/top_cut.h.

#include "posthorn/wire/top_cut.h"

#include <cstring>

namespace posthorn::wire {

void TopCut::Reset(std::optional<std::uint64_t> body_lines) {
  body_lines_ = body_lines;
  left_ = body_lines.value_or(0);
  in_header_ = true;
  at_line_start_ = true;
  cr_at_line_start_ = false;
  done_ = false;
}

std::string_view TopCut::Filter(std::string_view chunk) {
  if (!body_lines_.has_value()) return chunk;
  if (done_) return {};
  for (std::size_t i = 0; i < chunk.size(); ++i) {
    const char c = chunk[i];
    if (in_header_) {
      if (c == '\n' && (at_line_start_ || cr_at_line_start_)) {
        // The blank line: the header (and this line end) is sent.
        in_header_ = false;
        if (left_ == 0) {
          done_ = true;
          return chunk.substr(0, i + 1);
        }
        continue;
      }
      cr_at_line_start_ = c == '\r' && at_line_start_;
      at_line_start_ = c == '\n';
      continue;
    }
    // Body: count line ends without looking at every byte twice.
    const void* lf = std::memchr(chunk.data() + i, '\n', chunk.size() - i);
    if (lf == nullptr) return chunk;
    i = static_cast<std::size_t>(static_cast<const char*>(lf) - chunk.data());
    if (--left_ == 0) {
      done_ = true;
      return chunk.substr(0, i + 1);
    }
  }
  return chunk;
}

}  // namespace posthorn::wire
