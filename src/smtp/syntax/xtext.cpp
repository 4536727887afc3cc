// RFC 3461 section 4 xtext, used by ENVID, ORCPT and AUTH=.
//
//   xtext = *( xchar / hexchar )
//   xchar = any ASCII CHAR between "!" (33) and "~" (126) inclusive,
//        except for "+" and "=".
//   hexchar = ASCII "+" immediately followed by two upper case
//        hexadecimal digits
//
// LENIENCY: DecodeXtext also accepts lower-case hex digits.

#include <optional>
#include <string>
#include <string_view>

#include "posthorn/smtp/command.h"
#include "smtp/syntax/char_class.h"

namespace posthorn::smtp {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

}  // namespace

std::optional<std::string> DecodeXtext(std::string_view xtext) {
  using syntax_internal::Is;
  using syntax_internal::kXchar;
  std::string out;
  out.reserve(xtext.size());
  for (std::size_t i = 0; i < xtext.size(); ++i) {
    const char c = xtext[i];
    if (Is(c, kXchar)) {
      out.push_back(c);
      continue;
    }
    if (c != '+' || xtext.size() - i < 3) {
      return std::nullopt;
    }
    const int hi = HexValue(xtext[i + 1]);
    const int lo = HexValue(xtext[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

std::string EncodeXtext(std::string_view text) {
  static constexpr char kUpperHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (syntax_internal::Is(c, syntax_internal::kXchar)) {
      out.push_back(c);
    } else {
      const auto b = static_cast<unsigned char>(c);
      out.push_back('+');
      out.push_back(kUpperHex[b >> 4]);
      out.push_back(kUpperHex[b & 0x0F]);
    }
  }
  return out;
}

}  // namespace posthorn::smtp
