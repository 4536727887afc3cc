// src/pop3/server/top_filter.h — the cut of RFC 1939 TOP, streamed.
//
// PURPOSE
//   "TOP msg n": the server sends the headers, the blank line after them
//   and the first n lines of the body. The driver streams the whole message
//   as stored; TopFilter passes on the prefix TOP wants and then says it is
//   done, so the driver can stop reading. Chunks may split anywhere, also
//   inside the "\r\n\r\n" that ends the header.
//
// RULES
//   The header ends at the first empty line ("\r\n" or a bare "\n" at the
//   start of a line); a message with no empty line is all header. A body
//   line ends with "\n" (CRLF or bare LF). With n larger than the body, the
//   whole message passes. Without a limit (RETR) everything passes.

#ifndef POSTHORN_SRC_POP3_SERVER_TOP_FILTER_H_
#define POSTHORN_SRC_POP3_SERVER_TOP_FILTER_H_

#include <cstdint>
#include <optional>
#include <string_view>

namespace posthorn::pop3::internal {

class TopFilter {
 public:
  // nullopt: pass everything (RETR).
  void Reset(std::optional<std::uint64_t> body_lines);
  // The prefix of `chunk` to send; done() once the cut is reached.
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

}  // namespace posthorn::pop3::internal

#endif  // POSTHORN_SRC_POP3_SERVER_TOP_FILTER_H_
