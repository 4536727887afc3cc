// src/smtp/syntax/char_class.h — byte classes of the RFC 5321 grammar as one
// 256-entry table (internal; not installed). One lookup per byte, no
// locale, no branches on ranges in the hot loops.

#ifndef POSTHORN_SRC_SMTP_SYNTAX_CHAR_CLASS_H_
#define POSTHORN_SRC_SMTP_SYNTAX_CHAR_CLASS_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace posthorn::smtp::syntax_internal {

enum CharClass : std::uint16_t {
  kAlpha = 1 << 0,  // ALPHA
  kDigit = 1 << 1,  // DIGIT
  kHex = 1 << 2,    // HEXDIG (either case)
  // RFC 5322 atext = ALPHA / DIGIT / "!" / "#" / "$" / "%" / "&" / "'" /
  //                  "*" / "+" / "-" / "/" / "=" / "?" / "^" / "_" / "`" /
  //                  "{" / "|" / "}" / "~"
  kAtext = 1 << 3,
  // RFC 5321 qtextSMTP = %d32-33 / %d35-91 / %d93-126
  kQtext = 1 << 4,
  // RFC 5321 dcontent = %d33-90 / %d94-126
  kDcontent = 1 << 5,
  // RFC 5321 esmtp-value = 1*(%d33-60 / %d62-126)
  kEsmtpValue = 1 << 6,
  // RFC 3461 xchar = "!" .. "~" except "+" and "="
  kXchar = 1 << 7,
  // NUL, CTLs (0x00-0x1F) and DEL
  kControl = 1 << 8,
  kEightBit = 1 << 9,  // 0x80-0xFF
  // base64 alphabet and "=" padding (RFC 4648 section 4)
  kBase64 = 1 << 10,
  // RFC 4954 sasl-mech characters: ALPHA / DIGIT / "-" / "_"
  kSaslMech = 1 << 11,
};

inline constexpr std::array<std::uint16_t, 256> kCharClass = [] {
  std::array<std::uint16_t, 256> t{};
  auto add = [&t](int c, std::uint16_t bits) {
    t[static_cast<std::size_t>(c)] =
        static_cast<std::uint16_t>(t[static_cast<std::size_t>(c)] | bits);
  };
  for (int c = 'A'; c <= 'Z'; ++c) add(c, kAlpha | kAtext | kBase64);
  for (int c = 'a'; c <= 'z'; ++c) add(c, kAlpha | kAtext | kBase64);
  for (int c = '0'; c <= '9'; ++c) add(c, kDigit | kHex | kAtext | kBase64);
  for (int c = 'A'; c <= 'F'; ++c) add(c, kHex);
  for (int c = 'a'; c <= 'f'; ++c) add(c, kHex);
  for (char c : std::string_view("!#$%&'*+-/=?^_`{|}~")) {
    add(static_cast<unsigned char>(c), kAtext);
  }
  for (int c = 32; c <= 126; ++c) {
    if (c != 34 && c != 92) add(c, kQtext);
    if (c >= 33 && (c <= 90 || c >= 94)) add(c, kDcontent);
    if (c >= 33 && c != 61) add(c, kEsmtpValue);
    if (c >= 33 && c != '+' && c != '=') add(c, kXchar);
  }
  add('+', kBase64);
  add('/', kBase64);
  add('=', kBase64);
  for (int c = 0; c < 32; ++c) add(c, kControl);
  add(127, kControl);
  for (int c = 128; c < 256; ++c) add(c, kEightBit);
  for (int c = 0; c < 256; ++c) {
    if (t[static_cast<std::size_t>(c)] & (kAlpha | kDigit)) add(c, kSaslMech);
  }
  add('-', kSaslMech);
  add('_', kSaslMech);
  return t;
}();

inline bool Is(char c, std::uint16_t classes) {
  return (kCharClass[static_cast<unsigned char>(c)] & classes) != 0;
}

inline char LowerAscii(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + ('a' - 'A')) : c;
}

// ASCII case-insensitive comparison; `lower` must already be lower case.
inline bool EqualsLower(std::string_view text, std::string_view lower) {
  if (text.size() != lower.size()) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (LowerAscii(text[i]) != lower[i]) return false;
  }
  return true;
}

// Length of the well-formed UTF-8 sequence (RFC 3629 section 4, no
// overlongs, no surrogates, at most U+10FFFF) starting at s[i], or 0.
inline std::size_t Utf8SequenceLength(std::string_view s, std::size_t i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  std::size_t n;
  unsigned char lo = 0x80;
  unsigned char hi = 0xBF;
  if (b0 < 0x80) return 1;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    n = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    n = 3;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    n = 4;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (s.size() - i < n) return 0;
  const auto b1 = static_cast<unsigned char>(s[i + 1]);
  if (b1 < lo || b1 > hi) return 0;
  for (std::size_t k = 2; k < n; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if (b < 0x80 || b > 0xBF) return 0;
  }
  return n;
}

}  // namespace posthorn::smtp::syntax_internal

#endif  // POSTHORN_SRC_SMTP_SYNTAX_CHAR_CLASS_H_
