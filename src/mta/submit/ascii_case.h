// mta/submit/ascii_case.h — case-insensitive comparison of ASCII header
// field names and addresses, shared by HeaderFixup (header_fixup.cpp) and
// Submission (submit.cpp). Bytes outside A-Z compare as they are, so UTF-8
// and other 8-bit bytes must match exactly (no locale is consulted).

#ifndef POSTHORN_SRC_MTA_SUBMIT_ASCII_CASE_H_
#define POSTHORN_SRC_MTA_SUBMIT_ASCII_CASE_H_

#include <cstddef>
#include <string_view>

namespace posthorn::mta::detail {

inline char AsciiLower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

// True when `a` and `b` differ at most in the case of ASCII letters
// ("Message-ID" and "message-id").
inline bool SameIgnoringCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (AsciiLower(a[i]) != AsciiLower(b[i])) return false;
  }
  return true;
}

}  // namespace posthorn::mta::detail

#endif  // POSTHORN_SRC_MTA_SUBMIT_ASCII_CASE_H_
