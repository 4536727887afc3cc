// src/message/codec/ascii.h — small ASCII tables shared by the codecs
// (internal; not installed).

#ifndef POSTHORN_SRC_MESSAGE_CODEC_ASCII_H_
#define POSTHORN_SRC_MESSAGE_CODEC_ASCII_H_

#include <array>
#include <cstdint>
#include <string_view>

namespace posthorn::message::codec_internal {

// Value of a hex digit (either case), or 0xFF.
inline constexpr std::array<std::uint8_t, 256> kHexValue = [] {
  std::array<std::uint8_t, 256> t{};
  for (auto& v : t) v = 0xFF;
  for (int c = '0'; c <= '9'; ++c) t[c] = static_cast<std::uint8_t>(c - '0');
  for (int c = 'a'; c <= 'f'; ++c) t[c] = static_cast<std::uint8_t>(c - 'a' + 10);
  for (int c = 'A'; c <= 'F'; ++c) t[c] = static_cast<std::uint8_t>(c - 'A' + 10);
  return t;
}();

inline constexpr char kUpperHex[] = "0123456789ABCDEF";

inline bool IsWsp(char c) { return c == ' ' || c == '\t'; }

inline char LowerAscii(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + ('a' - 'A')) : c;
}

inline bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (LowerAscii(a[i]) != LowerAscii(b[i])) return false;
  }
  return true;
}

// RFC 2045 section 5.1:
//   token    := 1*<any (US-ASCII) CHAR except SPACE, CTLs, or tspecials>
//   tspecials := "(" / ")" / "<" / ">" / "@" / "," / ";" / ":" / "\" /
//                <"> / "/" / "[" / "]" / "?" / "="
inline constexpr std::array<bool, 256> kTokenChar = [] {
  std::array<bool, 256> t{};
  for (int c = 33; c < 127; ++c) t[c] = true;
  for (char c : std::string_view("()<>@,;:\\\"/[]?=")) {
    t[static_cast<unsigned char>(c)] = false;
  }
  return t;
}();

inline bool IsTokenChar(char c) {
  return kTokenChar[static_cast<unsigned char>(c)];
}

// True when any byte of `s` is >= 0x80.
inline bool HasEightBit(std::string_view s) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(s.data());
  std::size_t n = s.size();
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    std::uint64_t w;
    __builtin_memcpy(&w, p + i, 8);
    if (w & 0x8080808080808080ULL) return true;
  }
  for (; i < n; ++i) {
    if (p[i] & 0x80) return true;
  }
  return false;
}

}  // namespace posthorn::message::codec_internal

#endif  // POSTHORN_SRC_MESSAGE_CODEC_ASCII_H_
