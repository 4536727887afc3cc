// store/mbox/mboxrd_encoder.cpp — see mboxrd_encoder.h.

#include "store/mbox/mboxrd_encoder.h"

namespace posthorn::store::mbox {

void MboxrdEncoder::Emit(std::string_view bytes, std::string* out) {
  out->append(bytes);
  stored_size_ += bytes.size();
}

void MboxrdEncoder::Process(char c, std::string* out) {
  if (at_line_start_) {
    using Result = LineStartClassifier::Result;
    Result result = classifier_.Feed(c);
    if (result == Result::kUndecided) return;
    std::uint64_t gt = classifier_.gt_count();
    if (result == Result::kFromLine || result == Result::kQuotedFrom) {
      // ">" * gt + "From " gets one more '>' in front.
      out->append(gt + 1, '>');
      stored_size_ += gt + 1;
      Emit(kFromPrefix, out);
      ++quoted_lines_;
      at_line_start_ = false;
      return;
    }
    // kPlain: give back what the classifier held, then `c` as content.
    out->append(gt, '>');
    stored_size_ += gt;
    Emit(kFromPrefix.substr(0, classifier_.from_matched()), out);
    at_line_start_ = false;
  }
  out->push_back(c);
  ++stored_size_;
  if (c == '\n') {
    ++line_count_;
    at_line_start_ = true;
    classifier_.Reset();
  }
}

void MboxrdEncoder::Feed(std::string_view input, std::string* out) {
  std::size_t i = 0;
  while (i < input.size()) {
    char c = input[i];
    if (pending_cr_) {
      pending_cr_ = false;
      if (c != '\n') Process('\r', out);  // a lone CR is content
      Process(c, out);
      ++i;
      continue;
    }
    if (c == '\r') {
      pending_cr_ = true;
      ++i;
      continue;
    }
    if (!at_line_start_) {
      // Fast path: copy the rest of the line up to the next CR or LF.
      std::size_t j = i;
      while (j < input.size() && input[j] != '\r' && input[j] != '\n') ++j;
      Emit(input.substr(i, j - i), out);
      i = j;
      if (i < input.size() && input[i] == '\n') {
        Process('\n', out);
        ++i;
      }
      continue;
    }
    Process(c, out);
    ++i;
  }
}

void MboxrdEncoder::Finish(std::string* out) {
  if (pending_cr_) {
    pending_cr_ = false;
    Process('\r', out);
  }
  if (at_line_start_ && classifier_.started()) {
    out->append(classifier_.gt_count(), '>');
    stored_size_ += classifier_.gt_count();
    Emit(kFromPrefix.substr(0, classifier_.from_matched()), out);
    at_line_start_ = false;
  }
  if (!at_line_start_) Process('\n', out);
}

}  // namespace posthorn::store::mbox
