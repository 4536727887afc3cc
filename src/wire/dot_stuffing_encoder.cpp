// Dot-stuffing encoder; see posthorn/wire/dot_stuffing.h.
//
// RFC 5321 section 4.5.2:
//   Before sending a line of mail text, the SMTP client checks the first
//   character of the line. If it is a period, one additional period is
//   inserted at the beginning of the line.
//
// Bytes are copied in runs between line ends; only a leading "." and a line
// end that is not already CRLF interrupt a run.

#include <string>

#include "posthorn/wire/dot_stuffing.h"
#include "wire/internal/newline_scan.h"

namespace posthorn::wire {
namespace {

// Appends [from, to). (std::string::append(first, last) may build a
// temporary string; pointer + length never does.)
void AppendRange(std::string* out, const char* from, const char* to) {
  if (to > from) out->append(from, static_cast<std::size_t>(to - from));
}

}  // namespace

void DotStuffingEncoder::Update(std::string_view chunk, std::string* out) {
  const char* p = chunk.data();
  const char* const end = p + chunk.size();
  const char* run = p;  // start of bytes still to copy verbatim
  while (p < end) {
    if (skip_lf_) {
      // The previous chunk ended in a CR that was already sent as CRLF.
      skip_lf_ = false;
      if (*p == '\n') {
        run = ++p;
        continue;
      }
      ++stray_newlines_;  // that CR was bare
    }
    if (at_line_start_) {
      at_line_start_ = false;
      if (*p == '.') {
        AppendRange(out, run, p);
        out->push_back('.');
        run = p;  // the line's own "." follows in the run
      }
    }
    const char* q = internal::FindCrOrLf(p, end);
    if (q == end) break;
    at_line_start_ = true;
    if (*q == '\r') {
      if (q + 1 < end && q[1] == '\n') {  // CRLF: stays in the run
        p = q + 2;
        continue;
      }
      AppendRange(out, run, q);
      out->append("\r\n", 2);
      if (q + 1 == end) {
        skip_lf_ = true;  // the next chunk may start with its LF
      } else {
        ++stray_newlines_;
      }
      run = p = q + 1;
      continue;
    }
    // A bare LF.
    AppendRange(out, run, q);
    out->append("\r\n", 2);
    if (input_ == EncoderInput::kCrlf) ++stray_newlines_;
    run = p = q + 1;
  }
  AppendRange(out, run, end);
}

void DotStuffingEncoder::Finish(std::string* out) {
  if (skip_lf_) {
    skip_lf_ = false;
    ++stray_newlines_;  // the content ended in a bare CR, already sent CRLF
  } else if (!at_line_start_) {
    out->append("\r\n", 2);
  }
  out->append(".\r\n", 3);
  at_line_start_ = true;
}

void DotStuffingEncoder::Reset() {
  at_line_start_ = true;
  skip_lf_ = false;
  stray_newlines_ = 0;
}

std::string DotStuff(std::string_view content, EncoderInput input) {
  std::string out;
  out.reserve(content.size() + content.size() / 64 + 8);
  DotStuffingEncoder encoder(input);
  encoder.Update(content, &out);
  encoder.Finish(&out);
  return out;
}

}  // namespace posthorn::wire
