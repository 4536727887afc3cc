// posthorn/message/header.h — the header section of an RFC 5322 message.
//
// STANDARDS
//   RFC 5322 section 2.2 (header fields), 2.2.3 (long header fields /
//   folding), 3.6 (field definitions), 4.5 (obsolete header fields: whitespace
//   before the colon).
//
//   field        = field-name ":" unstructured CRLF
//   field-name   = 1*ftext
//   ftext        = %d33-57 / %d59-126   ; printable US-ASCII except ":"
//   obs-optional = field-name *WSP ":" unstructured CRLF
//
// SECURITY
//   The input is hostile. Nothing here copies it: every name and value is a
//   std::string_view into the caller's buffer, which must outlive the
//   HeaderSection. Sizes are bounded by HeaderLimits; going over one is a
//   kResourceExhausted status naming the limit and the offset, never an
//   unbounded allocation.
//
// LENIENCY
//   Line ends may be CRLF, bare LF or bare CR (bare ones noted as defects).
//   A first line starting with "From " (an mbox separator) is skipped
//   silently. A line with a colon but characters outside ftext in its name is
//   recorded (kInvalidFieldName) and skipped; a continuation line before any
//   field is recorded (kContinuationWithoutField) and skipped. A line with no
//   colon at all cannot be a field: like mail readers do, it is taken as the
//   first line of the body and kMissingHeaderBodySeparator is recorded at it.
//   If the input ends inside the header section, everything is headers and
//   kMissingHeaderBodySeparator is recorded at the end. Folds that follow a
//   skipped line are skipped with it. A line of only WSP continues the field
//   (obs-FWS). NUL and 8-bit octets are kept in the values and recorded once
//   per line (kNulByte, kEightBitInHeader, at the first one); a line over 998
//   octets is kept and recorded (kLineTooLong); each bare CR or LF is
//   recorded (kBareCr, kBareLf).

#ifndef POSTHORN_MESSAGE_HEADER_H_
#define POSTHORN_MESSAGE_HEADER_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "posthorn/message/defect.h"

namespace posthorn::message {

struct HeaderLimits {
  // Fields in one header section. A message with more is refused.
  std::size_t max_fields = 10'000;
  // Bytes of one field, name and all continuation lines included.
  std::size_t max_field_bytes = 256 * 1024;
  // Bytes of the whole header section.
  std::size_t max_section_bytes = 16 * 1024 * 1024;
};

struct HeaderField {
  std::string_view name;       // as written; trailing WSP (obsolete) removed
  std::string_view raw_value;  // after ':' up to the end of its last line,
                               // line end excluded; folds kept as written
  std::size_t offset = 0;      // of `name` in the top-level buffer
  std::size_t value_offset = 0;  // of `raw_value` in the top-level buffer
  bool folded = false;         // raw_value contains a line break

  // The value with folding removed (each line break before WSP dropped, the
  // WSP kept, RFC 5322 2.2.3) and leading/trailing WSP trimmed. Returns a
  // view of raw_value when it is not folded (no copy), otherwise unfolds into
  // *scratch and returns a view of it.
  std::string_view Unfolded(std::string* scratch) const;

  // Same, always as an owned string.
  std::string Unfolded() const;

  // Case-insensitive comparison of the name (ASCII).
  bool NameIs(std::string_view other) const;
};

class HeaderSection {
 public:
  HeaderSection() = default;

  std::span<const HeaderField> fields() const { return fields_; }
  std::size_t size() const { return fields_.size(); }
  bool empty() const { return fields_.empty(); }

  // The first field of that name (ASCII case-insensitive), or nullptr.
  const HeaderField* Find(std::string_view name) const;
  // Every field of that name, in order.
  std::vector<const HeaderField*> FindAll(std::string_view name) const;
  std::size_t Count(std::string_view name) const;

  // Offset, in the top-level buffer, of the first byte after the header
  // section and its empty separator line: where the body starts. Equals the
  // end of the input when there is no body.
  std::size_t body_offset() const { return body_offset_; }
  // False when no empty line ended the section.
  bool has_separator() const { return has_separator_; }

 private:
  friend class HeaderSectionParser;

  // Sections with more fields than this get a hash index over the names, so
  // lookups stay O(1) on hostile input; smaller ones are scanned.
  static constexpr std::size_t kIndexThreshold = 48;
  void BuildNameIndex();

  std::vector<HeaderField> fields_;
  std::size_t body_offset_ = 0;
  bool has_separator_ = false;
  // Only for large sections. index_slots_: open-addressed table of
  // (first field index + 1), 0 = empty, one slot per distinct name.
  // next_same_[i]: index + 1 of the next field named like field i, or 0.
  std::vector<std::uint32_t> index_slots_;
  std::vector<std::uint32_t> next_same_;
};

// Parses the header section at the start of `input` (a whole message, or a
// MIME part). `base_offset` is the offset of `input` in the top-level buffer;
// all offsets stored or reported are in that buffer. Defects are appended to
// *defects. Errors: kResourceExhausted when a HeaderLimits bound is passed.
[[nodiscard]] absl::StatusOr<HeaderSection> ParseHeaderSection(
    std::string_view input, Defects* defects, const HeaderLimits& limits = {},
    std::size_t base_offset = 0);

// True when `name` is a valid field-name (1*ftext).
bool IsValidFieldName(std::string_view name);

}  // namespace posthorn::message

#endif  // POSTHORN_MESSAGE_HEADER_H_
