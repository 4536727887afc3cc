// posthorn/message/quoted_printable.h — streaming quoted-printable
// (RFC 2045 section 6.7).
//
// The decoder takes chunks split anywhere (inside "=XX", inside a soft line
// break "=\r\n", inside trailing whitespace) and keeps only the few bytes
// whose meaning depends on what follows. Line ends in the output are CRLF.
// Trailing whitespace on a line is removed (rule 3); a "=" not followed by
// two hex digits or a line end is kept literally and counted as invalid.
// Lower-case hex digits are accepted; a bare LF ends a line like CRLF ("="
// LF is a soft break too); blanks between "=" and the line end are allowed;
// a "=" at the very end of the stream is a soft break (a body that does not
// end with a line break is encoded that way). A bare CR is kept as it is.
// LIMITS: the decoder holds at most a few bytes between calls, except a run
// of blanks at the end of a chunk (kept to learn whether it is trailing),
// which is bounded by 256 bytes; a longer run is passed through.
//
// The encoder writes "." at a line start and "From " as they are: escaping
// them is the transport's job (dot-stuffing, mbox quoting).

#ifndef POSTHORN_MESSAGE_QUOTED_PRINTABLE_H_
#define POSTHORN_MESSAGE_QUOTED_PRINTABLE_H_

#include <cstddef>
#include <string>
#include <string_view>

namespace posthorn::message {

class QuotedPrintableDecoder {
 public:
  void Update(std::string_view chunk, std::string* out);
  void Finish(std::string* out);
  bool saw_invalid() const { return invalid_ != 0; }
  std::size_t invalid_count() const { return invalid_; }
  // Bytes held back between calls (a few; a run of blanks at most 256).
  std::size_t held_bytes() const { return held_.size(); }

 private:
  std::string held_;  // an incomplete "=X", "=\r" or run of trailing WSP
  std::size_t invalid_ = 0;
};

// Encodes text or binary data (line ends CRLF or LF in the input are kept as
// hard CRLF breaks when `binary` is false), lines at most 76 characters with
// soft breaks.
class QuotedPrintableEncoder {
 public:
  explicit QuotedPrintableEncoder(bool binary = false) : binary_(binary) {}
  void Update(std::string_view chunk, std::string* out);
  void Finish(std::string* out);

 private:
  bool binary_;
  std::size_t column_ = 0;
  std::string held_;
};

std::string QuotedPrintableDecode(std::string_view in, bool* invalid = nullptr);
std::string QuotedPrintableEncode(std::string_view in, bool binary = false);

}  // namespace posthorn::message

#endif  // POSTHORN_MESSAGE_QUOTED_PRINTABLE_H_
