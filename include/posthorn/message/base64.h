// posthorn/message/base64.h — streaming base64 (RFC 2045 section 6.8).
//
// The decoder takes chunks split anywhere (inside a quantum, inside a CRLF)
// and keeps at most one partial quantum between calls, so a 100 MiB
// attachment decodes with a few bytes of state. CR, LF, space and tab are
// ignored as RFC 2045 requires; any other character outside the alphabet is
// skipped and counted as invalid; data after the padding is decoded leniently
// (as mail readers do) and counted as invalid.

#ifndef POSTHORN_MESSAGE_BASE64_H_
#define POSTHORN_MESSAGE_BASE64_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace posthorn::message {

class Base64Decoder {
 public:
  // Decodes `chunk`, appending the bytes to *out.
  void Update(std::string_view chunk, std::string* out);
  // Ends the stream: a partial final quantum is decoded as far as it goes
  // (and counted as invalid when it is not a whole number of bytes).
  void Finish(std::string* out);
  // True when anything outside the alphabet, bad padding or a truncated
  // quantum was seen.
  bool saw_invalid() const { return invalid_ != 0; }
  std::size_t invalid_count() const { return invalid_; }

 private:
  std::uint32_t quantum_ = 0;
  int sextets_ = 0;
  int padding_ = 0;
  std::size_t invalid_ = 0;
};

// Encodes as lines of at most `line_length` characters (76 for MIME bodies)
// ended by CRLF; line_length 0 gives one unbroken line without CRLF.
class Base64Encoder {
 public:
  explicit Base64Encoder(std::size_t line_length = 76)
      : line_length_(line_length) {}
  void Update(std::string_view chunk, std::string* out);
  void Finish(std::string* out);

 private:
  std::size_t line_length_;
  std::size_t column_ = 0;
  unsigned char pending_[3] = {};
  int pending_size_ = 0;
};

// Whole-buffer helpers.
std::string Base64Decode(std::string_view in, bool* invalid = nullptr);
std::string Base64Encode(std::string_view in, std::size_t line_length = 0);

}  // namespace posthorn::message

#endif  // POSTHORN_MESSAGE_BASE64_H_
