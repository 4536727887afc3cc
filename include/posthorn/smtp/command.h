// posthorn/smtp/command.h — SMTP command lines: verbs, paths, ESMTP
// parameters.
//
// PURPOSE
//   ParseCommand() turns one command line (without its CRLF) into a Command
//   whose string_views point into that line, or into a CommandError carrying
//   the reply a server sends for it (500 unknown / too long, 501 syntax,
//   555 unknown parameter). Paths and parameters are data: they are checked
//   against the RFC grammar and never interpreted further here.
//
// STANDARDS
//   RFC 5321 section 4.1.1 (commands), 4.1.2 (ABNF of paths, domains,
//   address literals, quoted local parts), 4.1.3 (IPv4 / IPv6 literals),
//   4.1.4 (order), 3.6 / 4.1.1.3 (source routes: accepted and ignored);
//   RFC 1869 / 5321 4.1.2 (esmtp-param); RFC 1870 SIZE; RFC 6152 BODY=8BITMIME;
//   RFC 3461 DSN (RET, ENVID, NOTIFY, ORCPT, xtext); RFC 4954 AUTH= on MAIL;
//   RFC 6531 SMTPUTF8 (UTF-8 in paths only with SMTPUTF8); RFC 3030 BDAT
//   (parsed only); RFC 1985 ETRN; RFC 3207 STARTTLS.
//
// SECURITY
//   - "MAIL FROM:<;sleep 66;>" (CVE-2020-7247 style): ';' is not allowed
//     unquoted in a dot-string, so the path is refused with 501 5.1.7 and
//     never reaches a caller. A quoted local part keeps any printable ASCII
//     and is carried inert as a view; nothing downstream may pass a path to
//     a shell.
//   - NUL, other control bytes, and 8-bit bytes outside SMTPUTF8 paths give
//     500 5.5.2 (in the verb) or 501 5.5.4 (in the arguments).
//   - BDAT sizes are parsed with overflow checks (more than 20 digits or a
//     value over 2^63 is 501).
//
// LENIENCY
//   Verbs are case-insensitive. "MAIL FROM: <a@b>" (a space after the colon)
//   is accepted, as nearly every server does. A path without angle
//   brackets is refused (RFC 5321 requires them). Trailing spaces after the
//   path or parameters are accepted, and so are runs of spaces between the
//   verb and its arguments and between parameters. xtext accepts lower-case
//   hex digits. HELO/EHLO take only a Domain or address-literal unless
//   CommandOptions::lenient_helo is set.
//   Strictness beyond RFC 4291: "[IPv6:...]" follows the RFC 5321 ABNF, so
//   "::" must stand for at least two groups ("1:2:3:4:5:6:7::" is refused).
//   ASCII domain labels are limited to 63 octets (RFC 1035).
//
// REPLY CODES (CommandError)
//   500 5.5.2  empty line, unknown verb, NUL / control / 8-bit in the verb
//   501 5.5.4  bad arguments; NUL / control / 8-bit in the arguments; a
//              non-ASCII path without SMTPUTF8; bad or duplicate parameter
//   501 5.5.2  AUTH initial response outside the base64 alphabet
//   501 5.1.7  bad reverse path (MAIL), 501 5.1.3 bad forward path (RCPT),
//              including a path over 256 octets (RFC 5321 4.5.3.1.10
//              "501 Path too long")
//   553 5.1.7 / 553 5.1.3  local part over 64 or domain over 255 octets
//   555 5.5.4  unknown parameter, or a parameter of the other verb
//   The text names the reason: "Bad sender address syntax: ';' not allowed
//   here". It never contains CR or LF and echoes at most a 32-octet
//   parameter keyword of the line.
//
// LIMITS
//   local part 64, domain 255, path 256 octets (RFC 5321 4.5.3.1); ENVID
//   100 (RFC 3461 4.4), ORCPT 500 (RFC 3461 4.2); SASL mechanism 20 (RFC
//   4954). SIZE values over 2^64-1 saturate (the session then answers 552,
//   not a syntax error). ParseCommand allocates nothing when it succeeds.

#ifndef POSTHORN_SMTP_COMMAND_H_
#define POSTHORN_SMTP_COMMAND_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace posthorn::smtp {

enum class Verb : std::uint8_t {
  kHelo, kEhlo, kMail, kRcpt, kData, kBdat, kRset, kNoop, kQuit, kVrfy,
  kExpn, kHelp, kEtrn, kStartTls, kAuth,
};
std::string_view VerbName(Verb verb);  // "EHLO"

// RFC 5321 Mailbox = Local-part "@" ( Domain / address-literal ); a path is
// "<" [ A-d-l ":" ] Mailbox ">" or the null path "<>" (reverse path only),
// or "<Postmaster>" (forward path only, RFC 5321 4.1.1.3).
struct Path {
  bool null = false;        // "<>"
  bool postmaster = false;  // "<Postmaster>" without a domain
  // Exactly as written: a quoted local part keeps its quotes and escapes.
  std::string_view local_part;
  std::string_view domain;  // a domain, or "[1.2.3.4]" / "[IPv6:...]"
  bool address_literal = false;
  bool utf8 = false;  // has non-ASCII octets (legal only with SMTPUTF8)
  // The mailbox as written, "local@domain" (empty for the null path).
  std::string_view mailbox;
};

enum class BodyType : std::uint8_t { kNone, k7Bit, k8BitMime, kBinaryMime };
enum class DsnRet : std::uint8_t { kNone, kFull, kHeaders };
// RFC 3461 NOTIFY: NEVER or any of SUCCESS, FAILURE, DELAY.
struct DsnNotify {
  bool present = false;
  bool never = false;
  bool success = false;
  bool failure = false;
  bool delay = false;
};

// ESMTP parameters of MAIL and RCPT. Values are views into the line, still
// in xtext form (ENVID, ORCPT, AUTH) — see DecodeXtext().
struct MailParams {
  std::optional<std::uint64_t> size;  // SIZE=
  BodyType body = BodyType::kNone;    // BODY=
  DsnRet ret = DsnRet::kNone;         // RET=
  std::string_view envid;             // ENVID= (xtext)
  std::string_view auth;              // AUTH= (xtext; "<>" allowed)
  bool smtputf8 = false;              // SMTPUTF8
};
struct RcptParams {
  DsnNotify notify;          // NOTIFY=
  std::string_view orcpt;    // ORCPT= whole value "rfc822;x" (xtext part)
};

struct Command {
  Verb verb;
  // HELO/EHLO domain or address literal; VRFY/EXPN/HELP/ETRN argument;
  // AUTH mechanism; empty otherwise.
  std::string_view argument;
  // AUTH initial response (may be "=" for an empty one); empty if absent.
  std::string_view auth_initial_response;
  Path path;  // MAIL (reverse path) / RCPT (forward path)
  MailParams mail;
  RcptParams rcpt;
  // BDAT chunk size and LAST flag.
  std::uint64_t bdat_size = 0;
  bool bdat_last = false;
};

// What the server answers to an unparsable line.
struct CommandError {
  int code;                  // 500, 501, 553, 555 (see REPLY CODES)
  std::string_view enhanced; // "5.5.2"
  std::string message;       // human text naming the reason
};

struct CommandOptions {
  // Non-ASCII octets in paths are allowed only when the client asked for
  // SMTPUTF8 on this MAIL (the parser checks the MAIL line itself; RCPT
  // lines need this flag from the session).
  bool smtputf8 = false;
  // LENIENCY: accept any printable argument to HELO/EHLO (as Postfix does
  // by default) instead of only an RFC 5321 Domain or address-literal.
  // Off by default; the argument is carried as data either way.
  bool lenient_helo = false;
};

// Parses one command line, without its CRLF. The Command's views point
// into `line`.
std::variant<Command, CommandError> ParseCommand(
    std::string_view line, const CommandOptions& options = {});

// RFC 3461 4: xtext. Decodes "+XX" escapes; nullopt when malformed.
std::optional<std::string> DecodeXtext(std::string_view xtext);
std::string EncodeXtext(std::string_view text);

// Checks an RFC 5321 Domain or address-literal (used by HELO/EHLO and the
// client). Accepts "[IPv6:...]" with a valid IPv6 text form.
bool IsValidDomain(std::string_view domain);
bool IsValidAddressLiteral(std::string_view literal);

}  // namespace posthorn::smtp

#endif  // POSTHORN_SMTP_COMMAND_H_
