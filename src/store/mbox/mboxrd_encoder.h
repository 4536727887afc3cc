// store/mbox/mboxrd_encoder.h — a message's bytes as they are stored in an
// mbox (the append direction).
//
// Input: message bytes with CRLF or LF line ends, in chunks of any size.
// Output: LF line ends (a CR directly before LF is dropped; a lone CR is
// kept), every line matching /^>*From / quoted with one more '>' (mboxrd),
// and a final "\n" when the last line had none. Tracks the stored size and
// the wire size (CRLF octets after unquoting) that a reader will produce.
// State is a few counters: no input size limit, no buffering of lines.

#ifndef POSTHORN_SRC_STORE_MBOX_MBOXRD_ENCODER_H_
#define POSTHORN_SRC_STORE_MBOX_MBOXRD_ENCODER_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "store/mbox/line_start.h"

namespace posthorn::store::mbox {

class MboxrdEncoder {
 public:
  // Appends the stored form of `input` to *out.
  void Feed(std::string_view input, std::string* out);
  // Flushes held bytes and the final newline; call once at the end.
  void Finish(std::string* out);

  std::uint64_t stored_size() const { return stored_size_; }
  // Octets a MboxrdDecoder produces from the stored bytes.
  std::uint64_t wire_size() const {
    return stored_size_ + line_count_ - quoted_lines_;
  }

 private:
  void Process(char c, std::string* out);
  void Emit(std::string_view bytes, std::string* out);

  LineStartClassifier classifier_;
  bool at_line_start_ = true;
  bool pending_cr_ = false;
  std::uint64_t stored_size_ = 0;
  std::uint64_t line_count_ = 0;    // LFs written
  std::uint64_t quoted_lines_ = 0;  // '>' added
};

}  // namespace posthorn::store::mbox

#endif  // POSTHORN_SRC_STORE_MBOX_MBOXRD_ENCODER_H_
