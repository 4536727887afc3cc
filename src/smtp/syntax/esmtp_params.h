// src/smtp/syntax/esmtp_params.h — the ESMTP parameters of MAIL and RCPT
// (internal; not installed). Nothing here allocates.

#ifndef POSTHORN_SRC_SMTP_SYNTAX_ESMTP_PARAMS_H_
#define POSTHORN_SRC_SMTP_SYNTAX_ESMTP_PARAMS_H_

#include <cstddef>
#include <string_view>

#include "posthorn/smtp/command.h"

namespace posthorn::smtp::syntax_internal {

// RFC 3461 4.4: "The ENVID esmtp-value MUST be no more than 100 characters".
inline constexpr std::size_t kMaxEnvid = 100;
// RFC 3461 4.2: ORCPT "MUST be no more than 500 characters in length".
inline constexpr std::size_t kMaxOrcpt = 500;

struct ParamError {
  int code = 501;  // 501 bad syntax / value, 555 unknown / misplaced
  const char* enhanced = "5.5.4";
  const char* text = "";     // static reason
  std::string_view keyword;  // the parameter concerned, a view of the line
};

// Parses the text after a MAIL or RCPT path: empty, or SP-separated
// esmtp-params (extra spaces tolerated).
//   Mail-parameters  = esmtp-param *(SP esmtp-param)
//   Rcpt-parameters  = esmtp-param *(SP esmtp-param)
//   esmtp-param    = esmtp-keyword ["=" esmtp-value]
//   esmtp-keyword  = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-")
//   esmtp-value    = 1*(%d33-60 / %d62-126)
bool ParseMailParams(std::string_view text, MailParams* params,
                     ParamError* error);
bool ParseRcptParams(std::string_view text, RcptParams* params,
                     ParamError* error);

// RFC 3461 4: xtext = *( xchar / hexchar ). Hex digits of either case are
// accepted (the RFC says upper case; Postfix accepts both).
bool IsXtext(std::string_view text);

}  // namespace posthorn::smtp::syntax_internal

#endif  // POSTHORN_SRC_SMTP_SYNTAX_ESMTP_PARAMS_H_
