// posthorn/message/defect.h — typed problems found while parsing a message.
//
// Bad mail is normal mail: the message parsers never throw and never give up
// on input they can make some sense of. What they had to repair or skip is
// recorded as a Defect: a kind and the byte offset in the parsed input where
// it was seen. absl::Status is kept for limits, misuse and I/O.
//
// Offsets are relative to the buffer handed to the top-level parse call
// (ParseHeaderSection, ParseMessage). Parsers of a single field value take a
// `base_offset` (the value's offset in that buffer) so their defects point
// into the same buffer.

#ifndef POSTHORN_MESSAGE_DEFECT_H_
#define POSTHORN_MESSAGE_DEFECT_H_

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace posthorn::message {

enum class DefectKind : std::uint8_t {
  // Header section (RFC 5322 section 2.2, 3.6, 4).
  kMissingHeaderBodySeparator,  // input ended inside the header section
  kInvalidFieldName,            // a line with no colon or bad name characters
  kWhitespaceBeforeColon,       // obsolete "Name : value" (RFC 5322 4.5)
  kContinuationWithoutField,    // folded line before the first field
  kLineTooLong,                 // a line over 998 octets (RFC 5322 2.1.1)
  kNulByte,                     // NUL anywhere in header or body
  kBareLf,                      // LF not preceded by CR
  kBareCr,                      // CR not followed by LF
  kEightBitInHeader,            // raw non-ASCII octets in a header field
  kDuplicateField,              // a field that may appear once appeared again

  // Structured field syntax (RFC 5322 section 3).
  kUnterminatedQuotedString,
  kUnterminatedComment,
  kUnterminatedDomainLiteral,
  kUnterminatedAngleAddress,
  kInvalidAddress,              // could not make a mailbox of it
  kObsoleteAddressSyntax,       // route, obs-local-part, obs-domain
  kEmptyAddressListElement,     // obs-addr-list's empty elements ", ,"
  kInvalidDate,
  kObsoleteDateSyntax,          // two-digit year, obs-zone, missing seconds
  kInvalidMessageId,

  // RFC 2047 / RFC 2231.
  kInvalidEncodedWord,          // bad syntax, bad base64/qp payload
  kUnknownCharset,              // charset iconv does not know: kept raw
  kInvalidCharsetData,          // bytes invalid in their declared charset
  kEncodedWordTooLong,          // over 75 octets (RFC 2047 section 2)
  kRfc2231MissingSection,       // name*0, name*2 with no name*1
  kRfc2231OutOfOrder,           // sections out of order (accepted, sorted)
  kDuplicateParameter,          // the same parameter twice
  kConflictingParameter,        // name= and name*= that disagree
  kInvalidParameter,            // parameter without '=' or a bad value

  // MIME structure (RFC 2045, 2046).
  kInvalidContentType,
  kMissingBoundary,             // multipart/* without boundary=
  kBoundaryNeverClosed,         // no --boundary-- before the end
  kBoundaryClosesOuter,         // an outer boundary ended an inner part
  kNoPartsInMultipart,
  kNestingTooDeep,              // the rest is kept as an opaque leaf
  kInvalidContentTransferEncoding,
  kInvalidBase64,               // characters outside the alphabet, bad padding
  kInvalidQuotedPrintable,      // "=" not followed by two hex digits
};

// The stable, snake_case name of a kind ("boundary_never_closed").
std::string_view DefectName(DefectKind kind);

struct Defect {
  DefectKind kind;
  std::size_t offset;  // in the buffer of the top-level parse

  friend bool operator==(const Defect&, const Defect&) = default;
};

using Defects = std::vector<Defect>;

}  // namespace posthorn::message

#endif  // POSTHORN_MESSAGE_DEFECT_H_
