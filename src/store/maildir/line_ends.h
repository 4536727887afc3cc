// store/maildir/line_ends.h — the line-end rules the Maildir and memory
// stores share: LF on disk (or in memory), CRLF towards POP.
//
// STORED FORM
//   Deliver() input may use CRLF or LF. Every CRLF becomes LF; a bare CR
//   or a bare LF is kept as it is; a message whose last byte is not LF gets
//   one. This is the byte form local mail programs expect in a Maildir.
//
// POP FORM
//   Reading turns every LF that does not follow a CR into CRLF. A stored
//   "\r\n" (written by a program that keeps CRLF on disk, or a bare CR that
//   came before a line end) is therefore sent once, not as "\r\r\n"; the
//   CRLF size (MessageInfo::size, the W= field) is counted by the same rule,
//   so a size always equals the bytes a reader yields.
//
// LIMITS
//   Both converters are streaming: they keep one byte of state, never a
//   line, so a 1 MB line costs nothing extra.

#ifndef POSTHORN_SRC_STORE_MAILDIR_LINE_ENDS_H_
#define POSTHORN_SRC_STORE_MAILDIR_LINE_ENDS_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace posthorn::store::maildir {

// Counts the POP (CRLF) size of stored bytes fed in order.
class CrlfSizeCounter {
 public:
  void Feed(std::string_view stored);
  std::uint64_t crlf_size() const { return crlf_size_; }

 private:
  std::uint64_t crlf_size_ = 0;
  bool previous_was_cr_ = false;
};

// Turns delivery input (CRLF or LF) into the stored form, chunk by chunk.
class LfNormalizer {
 public:
  // Appends the stored form of `input` to `out`. A CR at the end of
  // `input` is held back until the next byte shows whether a LF follows.
  void Feed(std::string_view input, std::string& out);
  // Appends what is held back and the final LF when missing.
  void Finish(std::string& out);

  std::uint64_t stored_size() const { return stored_size_; }
  std::uint64_t crlf_size() const { return counter_.crlf_size(); }

 private:
  void Emit(std::string_view stored, std::string& out);

  bool holding_cr_ = false;
  char last_emitted_ = '\0';
  std::uint64_t stored_size_ = 0;
  CrlfSizeCounter counter_;
};

// The CRLF size of a whole stored message held in memory.
std::uint64_t CrlfSizeOf(std::string_view stored);

}  // namespace posthorn::store::maildir

#endif  // POSTHORN_SRC_STORE_MAILDIR_LINE_ENDS_H_
