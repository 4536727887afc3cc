// mta::detail::StdinLines — the line discipline of sendmail's standard input.
//
// PURPOSE
//   Turns bytes as a program writes them to `sendmail` into message bytes:
//   LF becomes CRLF (a CRLF is kept, a bare CR stays data and is never
//   doubled), and without -i/-oi a line holding only "." ends the input
//   (also when it is the last line and has no line end). A line ".." stays
//   ".." — the command line does no dot-stuffing. Any split of the input
//   gives the same output; the state between calls is a few flags.

#ifndef POSTHORN_SRC_MTA_SUBMIT_STDIN_LINES_H_
#define POSTHORN_SRC_MTA_SUBMIT_STDIN_LINES_H_

#include <string>
#include <string_view>

namespace posthorn::mta::detail {

class StdinLines {
 public:
  explicit StdinLines(bool ignore_dots) : ignore_dots_(ignore_dots) {}

  // Appends the converted bytes of `in` to *out. After the ending "." line
  // the rest is dropped and ended() is true.
  void Convert(std::string_view in, std::string* out);
  // End of input: a line end for an unended last line (none when the input
  // was empty or ended with the "." line).
  void Finish(std::string* out);
  bool ended() const { return ended_; }

 private:
  // A line started with "." (kDot) or "." CR (kDotCr): held until we know
  // whether the line is only the dot.
  enum class Dot { kNone, kDot, kDotCr };
  bool ignore_dots_;
  bool ended_ = false;
  bool line_start_ = true;
  bool prev_cr_ = false;  // the last byte written was a CR
  bool any_ = false;      // something was written
  Dot dot_ = Dot::kNone;
};

}  // namespace posthorn::mta::detail

#endif  // POSTHORN_SRC_MTA_SUBMIT_STDIN_LINES_H_
