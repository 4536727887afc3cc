// Internal: inspecting and writing leaf bodies for the builder.
//
// RFC 2045 2.7 (7bit data): lines of at most 998 octets ended by CRLF, no
// octets over 127, no NUL, CR and LF only as CRLF. 2.8 (8bit data): the
// same with octets over 127 allowed. 2.9 (binary data): anything.

#ifndef POSTHORN_SRC_MESSAGE_BUILDER_BODY_WRITER_H_
#define POSTHORN_SRC_MESSAGE_BUILDER_BODY_WRITER_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "posthorn/message/builder.h"
#include "posthorn/message/content_type.h"

namespace posthorn::message::builder_internal {

// Input bytes encoded per call to an encoder when streaming (a multiple of
// 3 and of 57, so base64 lines are whole between calls): 57 * 1024.
inline constexpr std::size_t kEncodeChunk = 57 * 1024;

struct BodyShape {
  bool eight_bit = false;     // an octet over 127
  bool nul = false;           // a NUL octet
  bool bare_line_end = false; // a CR not before LF, or an LF not after CR
  std::size_t longest_line = 0;  // octets, CRLF excluded
};

BodyShape InspectBody(std::string_view data);

// True when `shape` qualifies for `encoding` written as is (7bit / 8bit /
// binary; always true for binary).
bool Qualifies(const BodyShape& shape, TransferEncoding encoding);

// True when some CR or LF of `data` is not part of a CRLF.
bool HasBareLineEnd(std::string_view data);

// `data` with every bare CR, bare LF (and CRLF) written as CRLF.
std::string NormalizeLineEnds(std::string_view data);

// Writes `data` to `sink` in `encoding`: base64 with 76-character lines,
// quoted-printable (`qp_binary`: CR and LF are data, encoded; otherwise
// line ends are hard breaks), or as is. The output ends with CRLF unless it
// is written as is. `scratch` is reused between parts.
void WriteEncoded(std::string_view data, TransferEncoding encoding,
                  bool qp_binary,
                  absl::FunctionRef<void(std::string_view)> sink,
                  std::string* scratch);

// Same for a reader body (base64 or quoted-printable only).
[[nodiscard]] absl::Status WriteEncodedFromReader(
    const BodyReader& reader, TransferEncoding encoding, bool qp_binary,
    absl::FunctionRef<void(std::string_view)> sink, std::string* scratch);

}  // namespace posthorn::message::builder_internal

#endif  // POSTHORN_SRC_MESSAGE_BUILDER_BODY_WRITER_H_
