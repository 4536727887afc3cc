// src/smtp/client/command_writer.h — the client's command lines: MAIL and
// RCPT with their ESMTP parameters, AUTH responses, and the envelope checks
// done before anything is sent (internal; not installed).
//
// SECURITY
//   Addresses come from the caller and may come from a hostile message
//   (sendmail -t). Each is checked against the RFC 5321 grammar by building
//   the command line and running it through ParseCommand() before it is
//   written, so a CR, LF or ">" smuggled into an address can never start a
//   second command. ENVID and ORCPT are sent as xtext (RFC 3461 4), which
//   escapes every byte outside "!".."~" as well as "+" and "=".

#ifndef POSTHORN_SRC_SMTP_CLIENT_COMMAND_WRITER_H_
#define POSTHORN_SRC_SMTP_CLIENT_COMMAND_WRITER_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "posthorn/smtp/client_session.h"

namespace posthorn::smtp::client_internal {

// RFC 5321 4.5.3.1.3: a path is at most 256 octets, brackets included.
inline constexpr std::size_t kMaxPathOctets = 256;
// RFC 3461 4.4: ENVID at most 100 characters (before xtext encoding).
inline constexpr std::size_t kMaxEnvidOctets = 100;
// RFC 3461 4.2: ORCPT at most 500 characters (encoded).
inline constexpr std::size_t kMaxOrcptOctets = 500;

// InvalidArgument when the envelope cannot be sent as given: no recipient,
// an address the RFC 5321 grammar refuses (or 8-bit without smtputf8), an
// over-long ENVID / ORCPT, BODY=BINARYMIME (needs BDAT, not sent here).
[[nodiscard]] absl::Status ValidateEnvelope(const ClientEnvelope& envelope);

// RFC 5321 4.1.1.2 / RFC 1869:
//   mail = "MAIL FROM:" Reverse-path [SP Mail-parameters] CRLF
// Parameters only for extensions the server offered: SIZE= (RFC 1870),
// BODY= (RFC 6152), SMTPUTF8 (RFC 6531), RET= and ENVID= (RFC 3461).
void AppendMailFrom(const ClientEnvelope& envelope,
                    const ServerCapabilities& caps, std::string* out);

// RFC 5321 4.1.1.3:
//   rcpt = "RCPT TO:" ( "<Postmaster@" Domain ">" / "<Postmaster>" /
//          Forward-path ) [SP Rcpt-parameters] CRLF
// NOTIFY= and ORCPT= (RFC 3461 4.1, 4.2) only when the server offers DSN.
void AppendRcptTo(const ClientRecipient& recipient,
                  const ServerCapabilities& caps, std::string* out);

// RFC 4616: message = [authzid] UTF8NUL authcid UTF8NUL passwd, base64
// (RFC 4954 4: the initial response). InvalidArgument when a part holds a
// NUL, which the mechanism cannot carry.
[[nodiscard]] absl::Status CheckPlainCredentials(
    const ClientCredentials& credentials);
std::string PlainInitialResponse(const ClientCredentials& credentials);

// One base64 line (LOGIN's user name or password).
std::string Base64Line(std::string_view text);

}  // namespace posthorn::smtp::client_internal

#endif  // POSTHORN_SRC_SMTP_CLIENT_COMMAND_WRITER_H_
