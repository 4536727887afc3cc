// posthorn/message/charset.h — text in a declared charset to UTF-8.
//
// US-ASCII, UTF-8 and ISO-8859-1 are converted without iconv (the common
// case stays fast); every other charset goes through the C library's iconv
// (ISO-8859-1..16, Windows-1250..1258, KOI8-R, Shift_JIS, GB2312, ...).
// Charset names are matched case-insensitively with their common aliases
// ("latin1", "utf8", "cp1252", RFC 2231 language suffixes "*en" removed).
// "unknown", "x-unknown", "unknown-8bit" are unknown charsets. 8-bit bytes
// labelled US-ASCII are kInvalidData (valid UTF-8 among them is kept).
//
// SECURITY: names are checked against a strict character set and a length
// bound before iconv_open sees them (no "//TRANSLIT" or paths). Each thread
// caches a few iconv descriptors (iconv_open is slow).

#ifndef POSTHORN_MESSAGE_CHARSET_H_
#define POSTHORN_MESSAGE_CHARSET_H_

#include <string>
#include <string_view>

namespace posthorn::message {

enum class CharsetResult {
  kOk,
  kUnknownCharset,  // nothing was appended
  kInvalidData,     // converted; invalid sequences became U+FFFD
};

// Converts `bytes` in `charset` to UTF-8 and appends to *out.
[[nodiscard]] CharsetResult ConvertToUtf8(std::string_view charset,
                                          std::string_view bytes,
                                          std::string* out);

// Appends `bytes` to *out with every invalid UTF-8 sequence replaced by
// U+FFFD. Returns false when a replacement was made.
bool AppendValidUtf8(std::string_view bytes, std::string* out);

}  // namespace posthorn::message

#endif  // POSTHORN_MESSAGE_CHARSET_H_
