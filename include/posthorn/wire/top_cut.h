// posthorn/wire/top_cut.h — the cut of RFC 1939 TOP, streamed.
//
// PURPOSE
//   "TOP msg n" sends the header section, the blank line after it and the
//   first n lines of the body. TopCut is fed the whole message in chunks
//   split anywhere (also inside the "\r\n\r\n" that ends the header), passes
//   on the prefix TOP wants and then says it is done, so the reader can stop
//   reading. The POP3 server session cuts what it sends with it, and
//   store::TopReader cuts a stored message with it.
//
//     wire::TopCut cut;
//     cut.Reset(n);                       // std::nullopt: pass everything
//     while (!cut.done() && (chunk = Next()).size() > 0) {
//       Send(cut.Filter(chunk));
//     }
//
// RULES
//   The header ends at the first empty line ("\r\n" or a bare "\n" at the
//   start of a line); a message with no empty line is all header. A body
//   line ends with "\n" (CRLF or bare LF). With n larger than the body, the
//   whole message passes. Without a limit (RETR) everything passes. A few
//   bytes of state; nothing is buffered.

#ifndef POSTHORN_WIRE_TOP_CUT_H_
#define POSTHORN_WIRE_TOP_CUT_H_

#include <cstdint>
#include <optional>
#include <string_view>

namespace posthorn::wire {

class TopCut {
 public:
  // Starts a message; `body_lines` nullopt passes everything (RETR).
  void Reset(std::optional<std::uint64_t> body_lines);
  // The prefix of `chunk` to pass on (a view into `chunk`); done() once
  // the cut is reached, after which every chunk yields nothing.
  std::string_view Filter(std::string_view chunk);
  bool done() const { return done_; }

 private:
  std::optional<std::uint64_t> body_lines_;
  std::uint64_t left_ = 0;
  bool in_header_ = true;
  bool at_line_start_ = true;
  bool cr_at_line_start_ = false;  // "\r" began the line: maybe the blank one
  bool done_ = false;
};

}  // namespace posthorn::wire

#endif  // POSTHORN_WIRE_TOP_CUT_H_
