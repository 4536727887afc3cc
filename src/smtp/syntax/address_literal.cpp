// RFC 5321 4.1.3 address literals and the public domain validators.

#include <cstddef>
#include <string_view>

#include "posthorn/smtp/command.h"
#include "smtp/syntax/char_class.h"
#include "smtp/syntax/path_syntax.h"

namespace posthorn::smtp {
namespace syntax_internal {

// RFC 5321 4.1.3:
//   IPv4-address-literal  = Snum 3("."  Snum)
//   Snum           = 1*3DIGIT
//                  ; representing a decimal integer
//                  ; value in the range 0 through 255
bool IsIpv4Literal(std::string_view text) {
  std::size_t i = 0;
  for (int part = 0; part < 4; ++part) {
    if (part > 0) {
      if (i >= text.size() || text[i] != '.') return false;
      ++i;
    }
    unsigned value = 0;
    std::size_t digits = 0;
    while (i < text.size() && Is(text[i], kDigit) && digits < 4) {
      value = value * 10 + static_cast<unsigned>(text[i] - '0');
      ++i;
      ++digits;
    }
    if (digits == 0 || digits > 3 || value > 255) return false;
  }
  return i == text.size();
}

// RFC 5321 4.1.3:
//   IPv6-addr      = IPv6-full / IPv6-comp / IPv6v4-full / IPv6v4-comp
//   IPv6-hex       = 1*4HEXDIG
//   IPv6-full      = IPv6-hex 7(":" IPv6-hex)
//   IPv6-comp      = [IPv6-hex *5(":" IPv6-hex)] "::"
//                  [IPv6-hex *5(":" IPv6-hex)]
//                  ; The "::" represents at least 2 16-bit groups of
//                  ; zeros.  No more than 6 groups in addition to the
//                  ; "::" may be present.
//   IPv6v4-full    = IPv6-hex 5(":" IPv6-hex) ":" IPv4-address-literal
//   IPv6v4-comp    = [IPv6-hex *3(":" IPv6-hex)] "::"
//                  [IPv6-hex *3(":" IPv6-hex ":")]
//                  IPv4-address-literal
//                  ; The "::" represents at least 2 16-bit groups of
//                  ; zeros.  No more than 4 groups in addition to the
//                  ; "::" and IPv4-address-literal may be present.
// Note the RFC 5321 rule is stricter than RFC 4291: "::" may not stand for
// a single group, so "1:2:3:4:5:6:7::" is refused (RFC 5952 4.2.2 agrees).
bool IsIpv6Addr(std::string_view s) {
  const std::size_t n = s.size();
  std::size_t i = 0;
  std::size_t groups = 0;  // explicit hex groups
  bool compressed = false;
  bool ipv4_tail = false;
  if (n >= 2 && s[0] == ':' && s[1] == ':') {
    compressed = true;
    i = 2;
  }
  while (i < n) {
    std::size_t j = i;
    while (j < n && Is(s[j], kHex) && j - i < 5) ++j;
    if (j < n && s[j] == '.') {
      // The IPv4 tail: the rest of the text, after at least one ':'.
      if (!IsIpv4Literal(s.substr(i))) return false;
      ipv4_tail = true;
      break;
    }
    if (j == i || j - i > 4) return false;
    ++groups;
    i = j;
    if (i == n) break;
    if (s[i] != ':') return false;
    ++i;
    if (i < n && s[i] == ':') {
      if (compressed) return false;
      compressed = true;
      ++i;
    } else if (i == n) {
      return false;  // a single trailing ':'
    }
  }
  if (compressed) return groups <= (ipv4_tail ? 4u : 6u);
  return groups == (ipv4_tail ? 6u : 8u);
}

}  // namespace syntax_internal

using syntax_internal::Is;

// RFC 5321 4.1.2 / 4.1.3:
//   address-literal  = "[" ( IPv4-address-literal /
//                    IPv6-address-literal /
//                    General-address-literal ) "]"
//   IPv6-address-literal  = "IPv6:" IPv6-addr
//   General-address-literal  = Standardized-tag ":" 1*dcontent
//   Standardized-tag  = Ldh-str
//   dcontent       = %d33-90 / ; Printable US-ASCII
//                  %d94-126 ; excl. "[", "\", "]"
// A General-address-literal is accepted as syntax only (no tag other than
// IPv6 is registered); "IPv6:" (any case) must hold a valid IPv6 address.
bool IsValidAddressLiteral(std::string_view literal) {
  using namespace syntax_internal;
  if (literal.size() < 3 || literal.size() > kMaxDomain ||
      literal.front() != '[' || literal.back() != ']') {
    return false;
  }
  const std::string_view inner = literal.substr(1, literal.size() - 2);
  const std::size_t colon = inner.find(':');
  if (colon == std::string_view::npos) return IsIpv4Literal(inner);
  const std::string_view tag = inner.substr(0, colon);
  const std::string_view rest = inner.substr(colon + 1);
  if (EqualsLower(tag, "ipv6")) return IsIpv6Addr(rest);
  // Ldh-str = *( ALPHA / DIGIT / "-" ) Let-dig
  if (tag.empty() || tag.back() == '-') return false;
  for (char c : tag) {
    if (!Is(c, kAlpha | kDigit) && c != '-') return false;
  }
  if (rest.empty()) return false;
  for (char c : rest) {
    if (!Is(c, kDcontent)) return false;
  }
  return true;
}

bool IsValidDomain(std::string_view domain) {
  using namespace syntax_internal;
  if (!domain.empty() && domain.front() == '[') {
    return IsValidAddressLiteral(domain);
  }
  if (domain.empty() || domain.size() > kMaxDomain) return false;
  std::size_t pos = 0;
  bool utf8 = false;
  PathError error;
  return ScanDomain(domain, &pos, /*allow_utf8=*/false, &utf8, &error) &&
         pos == domain.size();
}

}  // namespace posthorn::smtp
