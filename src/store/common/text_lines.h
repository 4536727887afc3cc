// store/common/text_lines.h — what a line is in the plain-text files the
// store and the MTA read whole (aliases, :include: lists, the transport
// map): the bytes up to an LF, with one CR before it dropped, the last
// line needing no LF.

#ifndef POSTHORN_SRC_STORE_COMMON_TEXT_LINES_H_
#define POSTHORN_SRC_STORE_COMMON_TEXT_LINES_H_

#include <cstddef>
#include <string_view>

namespace posthorn::store {

// Takes the first line off the front of *text and returns it without its
// LF and without a CR before that LF. "a\r\nb" gives "a" and leaves "b";
// "b" gives "b" and leaves "". Call only while !text->empty().
inline std::string_view TakeLine(std::string_view* text) {
  const std::size_t end = text->find('\n');
  std::string_view line = text->substr(0, end);
  text->remove_prefix(end == std::string_view::npos ? text->size() : end + 1);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

}  // namespace posthorn::store

#endif  // POSTHORN_SRC_STORE_COMMON_TEXT_LINES_H_
