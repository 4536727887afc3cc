// store/maildir/line_ends.cpp — see line_ends.h.

#include "store/maildir/line_ends.h"

namespace posthorn::store::maildir {

void CrlfSizeCounter::Feed(std::string_view stored) {
  crlf_size_ += stored.size();
  for (char c : stored) {
    if (c == '\n' && !previous_was_cr_) ++crlf_size_;  // LF -> CRLF
    previous_was_cr_ = (c == '\r');
  }
}

void LfNormalizer::Emit(std::string_view stored, std::string& out) {
  if (stored.empty()) return;
  out.append(stored);
  stored_size_ += stored.size();
  counter_.Feed(stored);
  last_emitted_ = stored.back();
}

void LfNormalizer::Feed(std::string_view input, std::string& out) {
  std::size_t run = 0;  // first byte of `input` not yet emitted
  for (std::size_t i = 0; i < input.size(); ++i) {
    if (holding_cr_) {
      holding_cr_ = false;
      // CRLF -> LF: the held CR is dropped; anything else keeps it.
      if (input[i] != '\n') Emit("\r", out);
    }
    if (input[i] == '\r') {
      Emit(input.substr(run, i - run), out);
      holding_cr_ = true;
      run = i + 1;
    }
  }
  Emit(input.substr(run), out);
}

void LfNormalizer::Finish(std::string& out) {
  if (holding_cr_) {
    holding_cr_ = false;
    Emit("\r", out);
  }
  if (stored_size_ > 0 && last_emitted_ != '\n') Emit("\n", out);
}

std::uint64_t CrlfSizeOf(std::string_view stored) {
  CrlfSizeCounter counter;
  counter.Feed(stored);
  return counter.crlf_size();
}

}  // namespace posthorn::store::maildir
