// store/mbox/mboxrd_decoder.cpp — see mboxrd_decoder.h.

#include "store/mbox/mboxrd_decoder.h"

#include <algorithm>
#include <cstring>

namespace posthorn::store::mbox {

std::size_t MboxrdDecoder::DrainPending(char* out, std::size_t out_size) {
  std::size_t written = 0;
  if (pending_gt_ > 0) {
    std::size_t n = static_cast<std::size_t>(
        std::min<std::uint64_t>(pending_gt_, out_size));
    std::memset(out, '>', n);
    pending_gt_ -= n;
    written += n;
  }
  if (pending_gt_ == 0 && !pending_.empty()) {
    std::size_t n = std::min(pending_.size(), out_size - written);
    std::memcpy(out + written, pending_.data(), n);
    pending_.erase(0, n);
    written += n;
  }
  return written;
}

void MboxrdDecoder::EndLine() {
  if (top_body_lines_.has_value()) {
    if (in_header_) {
      if (line_length_ == 0) {  // the empty line that ends the header
        in_header_ = false;
        if (*top_body_lines_ == 0) done_ = true;
      }
    } else if (++body_lines_ >= *top_body_lines_) {
      done_ = true;
    }
  }
  at_line_start_ = true;
  classifier_.Reset();
  line_length_ = 0;
}

std::size_t MboxrdDecoder::Decode(std::string_view* input, bool end_of_input,
                                  char* out, std::size_t out_size) {
  using Result = LineStartClassifier::Result;
  std::size_t written = DrainPending(out, out_size);
  while (written < out_size && !done_ && pending_gt_ == 0 &&
         pending_.empty()) {
    if (input->empty()) {
      if (!end_of_input) break;
      // The end: flush a held line start, close an unterminated line.
      if (at_line_start_ && classifier_.started()) {
        pending_gt_ = classifier_.gt_count();
        pending_.assign(kFromPrefix.substr(0, classifier_.from_matched()));
        at_line_start_ = false;
      }
      if (!at_line_start_) pending_.append("\r\n");
      done_ = true;
      written += DrainPending(out + written, out_size - written);
      break;
    }
    if (at_line_start_) {
      Result result = classifier_.Feed(input->front());
      if (result == Result::kUndecided) {
        input->remove_prefix(1);
        ++line_length_;
        continue;
      }
      std::uint64_t gt = classifier_.gt_count();
      if (result == Result::kPlain) {
        pending_gt_ = gt;
        pending_.assign(kFromPrefix.substr(0, classifier_.from_matched()));
      } else {
        input->remove_prefix(1);
        ++line_length_;
        // ">From " -> "From " (mboxrd); a bare "From " cannot occur inside
        // a message (it would start the next one) and is passed through.
        pending_gt_ = result == Result::kQuotedFrom ? gt - 1 : 0;
        pending_.assign(kFromPrefix);
      }
      at_line_start_ = false;
      written += DrainPending(out + written, out_size - written);
      continue;
    }
    const char* begin = input->data();
    const void* lf = std::memchr(begin, '\n', input->size());
    std::size_t line_bytes =
        lf ? static_cast<std::size_t>(static_cast<const char*>(lf) - begin)
           : input->size();
    std::size_t n = std::min(line_bytes, out_size - written);
    std::memcpy(out + written, begin, n);
    written += n;
    line_length_ += n;
    input->remove_prefix(n);
    if (n == line_bytes && lf != nullptr) {
      input->remove_prefix(1);
      pending_.assign("\r\n");
      EndLine();
      written += DrainPending(out + written, out_size - written);
    }
  }
  return written;
}

}  // namespace posthorn::store::mbox
