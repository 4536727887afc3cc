// store/mbox/mboxrd_decoder.h — stored mbox message bytes back to the
// wire form a POP session sends (the read direction).
//
// Input: a message's stored content (after its "From " line, without the
// separating empty line), in chunks. Output: LF -> CRLF, one '>' removed
// from each line matching /^>+From / (mboxrd), CRLF added after a last
// line that has none (a message cut off at the end of the file). With a
// TOP limit, output stops after the header section, its empty line and
// that many body lines (RFC 1939 TOP).
// The output buffer may be of any size, down to one byte: what does not
// fit is held as counters and a few bytes.

#ifndef POSTHORN_SRC_STORE_MBOX_MBOXRD_DECODER_H_
#define POSTHORN_SRC_STORE_MBOX_MBOXRD_DECODER_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "store/mbox/line_start.h"

namespace posthorn::store::mbox {

class MboxrdDecoder {
 public:
  // `top_body_lines`: nullopt for the whole message.
  explicit MboxrdDecoder(std::optional<std::uint64_t> top_body_lines)
      : top_body_lines_(top_body_lines) {}

  // Consumes from the front of *input and writes up to `out_size` bytes to
  // `out`; returns how many were written. `end_of_input`: no bytes follow
  // *input. Once done() it consumes nothing and writes nothing more.
  std::size_t Decode(std::string_view* input, bool end_of_input, char* out,
                     std::size_t out_size);

  // Every output byte has been produced.
  bool done() const { return done_ && pending_gt_ == 0 && pending_.empty(); }

 private:
  std::size_t DrainPending(char* out, std::size_t out_size);
  void EndLine();

  std::optional<std::uint64_t> top_body_lines_;
  LineStartClassifier classifier_;
  bool at_line_start_ = true;
  std::uint64_t line_length_ = 0;  // stored bytes of the current line
  bool in_header_ = true;
  std::uint64_t body_lines_ = 0;
  bool done_ = false;  // no more input is consumed
  // Output held back: pending_gt_ '>' then pending_ (at most 7 bytes).
  std::uint64_t pending_gt_ = 0;
  std::string pending_;
};

}  // namespace posthorn::store::mbox

#endif  // POSTHORN_SRC_STORE_MBOX_MBOXRD_DECODER_H_
