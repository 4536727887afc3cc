// src/wire/internal/sasl.h — the SASL pieces the SMTP and POP3 sessions
// share: strict base64 and the PLAIN message.
//
// STANDARDS
//   RFC 4648 section 4 (padded base64, no whitespace), RFC 4616 section 2
//   (PLAIN: [authzid] NUL authcid NUL passwd), RFC 4954 section 4 / RFC 5034 section 4 ("="
//   is an empty initial response, "*" cancels).
//
// SECURITY
//   Strict: characters outside the alphabet, missing or misplaced padding
//   and non-zero pad bits are refused, so a credential has one encoding.
//   Output goes into a caller-owned string that is reused.

#ifndef POSTHORN_SRC_WIRE_INTERNAL_SASL_H_
#define POSTHORN_SRC_WIRE_INTERNAL_SASL_H_

#include <string>
#include <string_view>

namespace posthorn::wire::internal {

// Decodes padded base64 into *out (replacing it); false when `text` is not
// canonical base64.
bool DecodeBase64Strict(std::string_view text, std::string* out);
// Appends the padded base64 of `data` to *out.
void EncodeBase64(std::string_view data, std::string* out);

struct PlainMessage {
  std::string_view authzid;
  std::string_view authcid;
  std::string_view password;
};
// False unless there are exactly two NULs and authcid is not empty.
bool SplitPlain(std::string_view message, PlainMessage* out);

}  // namespace posthorn::wire::internal

#endif  // POSTHORN_SRC_WIRE_INTERNAL_SASL_H_
