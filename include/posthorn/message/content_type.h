// posthorn/message/content_type.h — Content-Type, Content-Disposition,
// Content-Transfer-Encoding and their parameters.
//
// STANDARDS
//   RFC 2045 section 5 (Content-Type), 6 (Content-Transfer-Encoding);
//   RFC 2183 (Content-Disposition); RFC 2231 (parameter value continuations,
//   charsets and languages); RFC 2046 section 5.1.1 (boundary).
//
//   content  := "Content-Type" ":" type "/" subtype *(";" parameter)
//   parameter := attribute "=" value
//   value := token / quoted-string
//   RFC 2231:  name*0="a" name*1*=utf-8''%E2%82 name*2*=%AC
//
// LENIENCY
//   Comments and whitespace are allowed anywhere; a missing "/" or an
//   unparsable type yields text/plain with kInvalidContentType; values that
//   contain tspecials unquoted are accepted up to ";"; RFC 2231 sections out of
//   order are sorted, missing ones recorded; a parameter given twice keeps the
//   first (kDuplicateParameter); when both name= and name*= are given and
//   disagree, the RFC 2231 one wins (kConflictingParameter).

#ifndef POSTHORN_MESSAGE_CONTENT_TYPE_H_
#define POSTHORN_MESSAGE_CONTENT_TYPE_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "posthorn/message/defect.h"

namespace posthorn::message {

struct MimeParameter {
  std::string name;   // lowercase
  std::string value;  // unquoted; RFC 2231 sections joined and converted
                      // to UTF-8; RFC 2047 words in it decoded (common abuse)
};

class MimeParameters {
 public:
  // The value of parameter `name` (case-insensitive), or nullptr.
  const std::string* Find(std::string_view name) const;
  const std::vector<MimeParameter>& items() const { return items_; }
  std::vector<MimeParameter>& mutable_items() { return items_; }

 private:
  std::vector<MimeParameter> items_;
};

struct ContentType {
  std::string type = "text";     // lowercase
  std::string subtype = "plain";  // lowercase
  MimeParameters parameters;

  bool Is(std::string_view type, std::string_view subtype) const;
  bool IsMultipart() const { return type == "multipart"; }
  // message/rfc822 and message/global: the body is a whole message.
  bool IsEncapsulatedMessage() const;
  // "type/subtype"
  std::string MimeType() const;
};

struct ContentDisposition {
  std::string type;  // lowercase: "inline", "attachment", ... (empty if none)
  MimeParameters parameters;
};

enum class TransferEncoding {
  k7Bit,
  k8Bit,
  kBinary,
  kQuotedPrintable,
  kBase64,
  kUnknown,  // an x-token or garbage: the body is left as it is
};

// Parses a Content-Type value (unfolded). `base_offset` is the value's
// offset in the top-level buffer, for defects.
ContentType ParseContentType(std::string_view value, Defects* defects = nullptr,
                             std::size_t base_offset = 0);

ContentDisposition ParseContentDisposition(std::string_view value,
                                           Defects* defects = nullptr,
                                           std::size_t base_offset = 0);

// Parses the parameter list that follows the first ";" of a MIME field.
// Parameters keep the order of their first appearance. Defects:
// kInvalidParameter (no "=", no name, junk after a quoted value, a bad
// RFC 2231 name or %XX), kDuplicateParameter, kConflictingParameter,
// kRfc2231OutOfOrder, kRfc2231MissingSection, kUnknownCharset,
// kInvalidCharsetData, kUnterminatedQuotedString, kUnterminatedComment and
// those of DecodeUnstructured for RFC 2047 words in values.
MimeParameters ParseMimeParameters(std::string_view text,
                                   Defects* defects = nullptr,
                                   std::size_t base_offset = 0);

// Case-insensitive, comments allowed. Anything else is kUnknown with
// kInvalidContentTransferEncoding; an empty value is 7bit (the RFC 2045
// default) with the same defect.
TransferEncoding ParseTransferEncoding(std::string_view value,
                                       Defects* defects = nullptr,
                                       std::size_t base_offset = 0);

// "7bit", "8bit", "binary", "quoted-printable", "base64", "unknown".
std::string_view TransferEncodingName(TransferEncoding encoding);

// Formats `name=value` for a header, quoting as needed, or with RFC 2231
// encoding (name*=utf-8''...) split into continuations when the value is not
// ASCII or too long. Used by the builder.
//
// The result is meant to start its own folded line (" name=value;"): a value
// that does not fit in 78 octets there is split into sections name*0,
// name*1, ... joined by ";" CRLF SP, each line at most 78 octets with its
// leading SP and trailing ";". A "boundary" is never split (many readers do
// not join sections). Values with control characters, non-ASCII text or
// "=?" (which readers would take for RFC 2047 words) are percent-encoded;
// invalid UTF-8 becomes U+FFFD. `name` must be a valid RFC 2045 token.
std::string FormatMimeParameter(std::string_view name, std::string_view value);

}  // namespace posthorn::message

#endif  // POSTHORN_MESSAGE_CONTENT_TYPE_H_
