// Internal: writing header fields for the builder — folding (RFC 5322
// 2.2.3), the line length rules (RFC 5322 2.1.1) and the checks that keep
// caller text from injecting fields.
//
//   Each line of characters MUST be no more than 998 characters, and SHOULD
//   be no more than 78 characters, excluding the CRLF.  (RFC 5322 2.1.1)
//
// Folding inserts CRLF before a run of whitespace; the whitespace stays, so
// unfolding (removing the CRLF) gives the value back unchanged.

#ifndef POSTHORN_SRC_MESSAGE_BUILDER_FIELD_WRITER_H_
#define POSTHORN_SRC_MESSAGE_BUILDER_FIELD_WRITER_H_

#include <cstddef>
#include <iterator>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "fmt/format.h"

namespace posthorn::message::builder_internal {

// Concatenates strings, string_views and numbers (absl::StrCat does not
// take std::string_view with every Abseil build).
template <typename... Args>
std::string Cat(const Args&... args) {
  std::string out;
  (fmt::format_to(std::back_inserter(out), "{}", args), ...);
  return out;
}

// Lines are folded when longer than this (CRLF excluded).
inline constexpr std::size_t kFoldWidth = 78;
// No line may be longer than this (CRLF excluded).
inline constexpr std::size_t kMaxLineLength = 998;

// Appends "name: value" CRLF to *out, folded at whitespace so that lines
// are at most kFoldWidth octets where a break is possible. `value` may
// already contain folds (CRLF followed by SP or HTAB), as encoded words and
// address lists do. Fails, leaving *out unchanged, when a line would still
// be longer than kMaxLineLength, or when `value` holds a CR or LF that is not
// part of a fold.
[[nodiscard]] absl::Status AppendField(std::string_view name,
                                       std::string_view value,
                                       std::string* out);

// True for CR, LF or NUL anywhere: such text would end a field early and
// start another (header injection), or is not allowed in mail at all.
bool HasForbiddenControl(std::string_view text);

// kInvalidArgument naming `what` when `text` has a CR, LF or NUL.
[[nodiscard]] absl::Status CheckFieldText(std::string_view what,
                                          std::string_view text);

// ASCII case-insensitive equality and prefix test.
bool EqualsIgnoreCase(std::string_view a, std::string_view b);
bool StartsWithIgnoreCase(std::string_view text, std::string_view prefix);

//   token := 1*<any (US-ASCII) CHAR except SPACE, CTLs, or tspecials>
//   tspecials := "(" / ")" / "<" / ">" / "@" / "," / ";" / ":" / "\" /
//                <"> / "/" / "[" / "]" / "?" / "="     (RFC 2045 5.1)
bool IsMimeToken(std::string_view text);

}  // namespace posthorn::message::builder_internal

#endif  // POSTHORN_SRC_MESSAGE_BUILDER_FIELD_WRITER_H_
