// Internal: byte tables and ASCII case folding for header field names.
//
// Field names are compared ASCII case-insensitively (RFC 5322 1.2.2: "header
// field names are ... case-insensitive"). Everything here is a table lookup:
// no locale, no per-byte function call.

#ifndef POSTHORN_SRC_MESSAGE_HEADER_ASCII_H_
#define POSTHORN_SRC_MESSAGE_HEADER_ASCII_H_

#include <array>
#include <cstdint>
#include <string_view>

namespace posthorn::message::header_internal {

//   ftext = %d33-57 / %d59-126   ; printable US-ASCII except ":"
inline constexpr std::array<bool, 256> kFtext = [] {
  std::array<bool, 256> t{};
  for (int c = 33; c <= 126; ++c) t[c] = (c != ':');
  return t;
}();

// ASCII lower case of every byte; other bytes map to themselves.
inline constexpr std::array<unsigned char, 256> kLower = [] {
  std::array<unsigned char, 256> t{};
  for (int c = 0; c < 256; ++c) {
    t[c] = static_cast<unsigned char>((c >= 'A' && c <= 'Z') ? c + 32 : c);
  }
  return t;
}();

inline bool IsWsp(char c) { return c == ' ' || c == '\t'; }

inline bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (kLower[static_cast<unsigned char>(a[i])] !=
        kLower[static_cast<unsigned char>(b[i])]) {
      return false;
    }
  }
  return true;
}

// FNV-1a over the lower-cased bytes: equal (ignoring case) names hash equal.
inline std::uint32_t HashIgnoreCase(std::string_view s) {
  std::uint32_t h = 2166136261u;
  for (char c : s) {
    h ^= kLower[static_cast<unsigned char>(c)];
    h *= 16777619u;
  }
  return h;
}

}  // namespace posthorn::message::header_internal

#endif  // POSTHORN_SRC_MESSAGE_HEADER_ASCII_H_
