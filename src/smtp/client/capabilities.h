// src/smtp/client/capabilities.h — reads the EHLO reply into
// ServerCapabilities (internal; not installed).
//
// RFC 5321 4.1.1.1:
//   ehlo-ok-rsp  = ( "250" SP Domain [ SP ehlo-greet ] CRLF )
//                / ( "250-" Domain [ SP ehlo-greet ] CRLF
//                    *( "250-" ehlo-line CRLF )
//                    "250" SP ehlo-line CRLF )
//   ehlo-line    = ehlo-keyword *( SP ehlo-param )
//   ehlo-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-")
//   ehlo-param   = 1*(%d33-126)
//
// LENIENCY
//   Keywords are compared case-insensitively (RFC 5321 2.4). The obsolete
//   "AUTH=PLAIN LOGIN" form (pre-RFC 2554 drafts, still sent by old
//   servers beside "AUTH PLAIN LOGIN") is understood. An enhanced status
//   code in front of a keyword ("250-2.0.0 PIPELINING") is skipped. A
//   SIZE value that is not a number (or overflows) is read as 0, "no
//   announced limit". Unknown keywords are ignored.

#ifndef POSTHORN_SRC_SMTP_CLIENT_CAPABILITIES_H_
#define POSTHORN_SRC_SMTP_CLIENT_CAPABILITIES_H_

#include "posthorn/smtp/client_session.h"
#include "posthorn/smtp/reply.h"

namespace posthorn::smtp::client_internal {

// `reply` is a positive EHLO reply; its first line (the server's domain
// and greeting) carries no keyword.
ServerCapabilities ParseEhloReply(const Reply& reply);

}  // namespace posthorn::smtp::client_internal

#endif  // POSTHORN_SRC_SMTP_CLIENT_CAPABILITIES_H_
