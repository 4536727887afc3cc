// mta::detail::StdinLines: LF to CRLF and the lone "." line (see the header).
#include "mta/submit/stdin_lines.h"

namespace posthorn::mta::detail {

void StdinLines::Convert(std::string_view in, std::string* out) {
  out->reserve(out->size() + in.size() + in.size() / 32);
  for (std::size_t i = 0; i < in.size() && !ended_; ++i) {
    const char c = in[i];
    if (dot_ == Dot::kDot) {
      if (c == '\n') {
        ended_ = true;
        break;
      }
      if (c == '\r') {
        dot_ = Dot::kDotCr;
        continue;
      }
      out->push_back('.');  // a line starting with a dot: data after all
      dot_ = Dot::kNone;
      prev_cr_ = false;
      any_ = true;
    } else if (dot_ == Dot::kDotCr) {
      if (c == '\n') {
        ended_ = true;
        break;
      }
      out->append(".\r");
      dot_ = Dot::kNone;
      prev_cr_ = true;
      any_ = true;
    }
    if (line_start_ && c == '.' && !ignore_dots_) {
      dot_ = Dot::kDot;
      line_start_ = false;
      continue;
    }
    if (c == '\n') {
      if (!prev_cr_) out->push_back('\r');
      out->push_back('\n');
      line_start_ = true;
      prev_cr_ = false;
    } else {
      out->push_back(c);
      line_start_ = false;
      prev_cr_ = c == '\r';
    }
    any_ = true;
  }
}

void StdinLines::Finish(std::string* out) {
  if (ended_) return;
  ended_ = true;
  // A last line holding only "." (or "." CR) is the end marker, unended.
  if (dot_ != Dot::kNone || !any_ || line_start_) return;
  out->append(prev_cr_ ? "\n" : "\r\n");
}

}  // namespace posthorn::mta::detail
