// src/smtp/syntax/path_syntax.h — RFC 5321 4.1.2 path, domain and address
// literal scanners shared by the command parser and the public validators
// (internal; not installed). Nothing here allocates.

#ifndef POSTHORN_SRC_SMTP_SYNTAX_PATH_SYNTAX_H_
#define POSTHORN_SRC_SMTP_SYNTAX_PATH_SYNTAX_H_

#include <cstddef>
#include <string_view>

#include "posthorn/smtp/command.h"

namespace posthorn::smtp::syntax_internal {

// RFC 5321 4.5.3.1.1 / 4.5.3.1.2 / 4.5.3.1.3.
inline constexpr std::size_t kMaxLocalPart = 64;
inline constexpr std::size_t kMaxDomain = 255;
inline constexpr std::size_t kMaxPath = 256;  // with "<" and ">"
// RFC 1035 2.3.4: a DNS label (checked for ASCII labels only).
inline constexpr std::size_t kMaxLabel = 63;

// Why a path was refused. `text` is a static string; when `has_char` is
// set, the reply names the offending byte ("';' not allowed here").
struct PathError {
  const char* text = "";
  char ch = 0;
  bool has_char = false;
  // 501 for syntax, 553 for a local part or domain over its limit
  // (RFC 5321 4.5.3.1.10 gives "501 Path too long" for the whole path).
  int code = 501;
};

enum class PathKind { kReverse, kForward };

// Parses a Path starting at line[*pos], which must be '<'. On success the
// Path's views point into `line` and *pos is just past the closing '>'.
// Non-ASCII octets are accepted when they form valid UTF-8 (path->utf8 is
// set); the caller decides whether SMTPUTF8 allows them.
bool ParsePath(std::string_view line, std::size_t* pos, PathKind kind,
               Path* path, PathError* error);

// Scans an RFC 5321 Domain at s[*pos]; on success *pos is past it.
//   Domain     = sub-domain *("." sub-domain)
//   sub-domain = Let-dig [Ldh-str]        ; RFC 6531: =/ U-label
//   Let-dig    = ALPHA / DIGIT
//   Ldh-str    = *( ALPHA / DIGIT / "-" ) Let-dig
bool ScanDomain(std::string_view s, std::size_t* pos, bool allow_utf8,
                bool* utf8, PathError* error);

//   IPv4-address-literal = Snum 3("." Snum)
bool IsIpv4Literal(std::string_view text);
//   IPv6-addr (without the "IPv6:" tag), RFC 5321 4.1.3.
bool IsIpv6Addr(std::string_view text);

}  // namespace posthorn::smtp::syntax_internal

#endif  // POSTHORN_SRC_SMTP_SYNTAX_PATH_SYNTAX_H_
