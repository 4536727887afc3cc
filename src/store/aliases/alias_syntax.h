// store/aliases/alias_syntax.h — the pieces of the aliases(5) grammar that
// ParseAliases (alias_parser.cpp) and :include: files (alias_expand.cpp)
// share.
//
// A right-hand side is a comma-separated list of targets:
//   address | <address> | phrase <address> | "quoted local"[@domain]
//   /path/file | "|command" | |command | :include:/path
// A '#' that starts a line, or follows a space or tab outside quotes,
// starts a comment to the end of the line. Quotes must close on the line
// where they open.

#ifndef POSTHORN_SRC_STORE_ALIASES_ALIAS_SYNTAX_H_
#define POSTHORN_SRC_STORE_ALIASES_ALIAS_SYNTAX_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "posthorn/store/aliases.h"

namespace posthorn::store::aliases {

inline constexpr std::size_t kMaxLogicalLine = 64 * 1024;
inline constexpr std::size_t kMaxTargetsPerAlias = 1000;
inline constexpr std::size_t kMaxAliasNameLength = 256;

// The reason (without "file:line: ") when `line` holds a byte the format
// does not allow (NUL and other control bytes except tab), "" otherwise.
std::string CheckLineBytes(std::string_view line);

// `line` without its comment. Error reason "unterminated quote" when a
// quoted string does not close on this line.
absl::StatusOr<std::string_view> StripComment(std::string_view line);

// Splits one line's right-hand side (comment already stripped) and
// appends its targets to `out`. Errors are reasons without "file:line: ".
absl::Status ParseTargetList(std::string_view rhs,
                             std::vector<AliasTarget>* out);

// An :include: file: target lists, one or more per line, '#' comments.
// Errors are InvalidArgument "<file_name>:<line>: <reason>".
absl::StatusOr<std::vector<AliasTarget>> ParseIncludeText(
    std::string_view text, std::string_view file_name);

// ASCII lowercase (names compare case-insensitively).
std::string LowerAscii(std::string_view s);

}  // namespace posthorn::store::aliases

#endif  // POSTHORN_SRC_STORE_ALIASES_ALIAS_SYNTAX_H_
