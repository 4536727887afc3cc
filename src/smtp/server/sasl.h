// src/smtp/server/sasl.h — the small pieces of RFC 4954 SASL the server
// session needs: strict base64 decoding and the PLAIN message split.
//
// STANDARDS
//   RFC 4648 section 4 (base64, padded, no whitespace), RFC 4954 section 4
//   ("=" is an empty initial response, "*" cancels), RFC 4616 section 2
//   (PLAIN: [authzid] NUL authcid NUL passwd).
//
// SECURITY
//   The decoder is strict: characters outside the alphabet, missing or
//   misplaced padding, and non-zero pad bits are refused, so one credential
//   has exactly one encoding. Output is written into a caller-owned string
//   that is reused between exchanges (no allocation once it has grown).

#ifndef POSTHORN_SRC_SMTP_SERVER_SASL_H_
#define POSTHORN_SRC_SMTP_SERVER_SASL_H_

#include <string>
#include <string_view>

namespace posthorn::smtp::server_internal {

// Decodes padded base64 into *out (replacing its content). False when
// `text` is not canonical base64; *out is unspecified then.
bool DecodeBase64(std::string_view text, std::string* out);

// RFC 4616:  message = [authzid] UTF8NUL authcid UTF8NUL passwd
// False unless there are exactly two NULs and authcid is not empty.
struct PlainCredentials {
  std::string_view authzid;
  std::string_view authcid;
  std::string_view password;
};
bool SplitPlain(std::string_view message, PlainCredentials* out);

}  // namespace posthorn::smtp::server_internal

#endif  // POSTHORN_SRC_SMTP_SERVER_SASL_H_
