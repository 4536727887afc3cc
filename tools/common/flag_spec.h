// tools/common/flag_spec.h — one table row per command-line flag.
//
// PURPOSE
//   Each program keeps its flags in one table (SendmailFlagSpecs(),
//   PopperFlagSpecs(), PopauthFlagSpecs()): its parser looks every flag up
//   there before acting on it, so a flag missing from the table is refused;
//   the --help text is printed from the same rows, and
//   tests/tools/man_pages_test.cpp checks that each row appears in the
//   program's manual page. Adding a flag: a row, a branch in the parser, a
//   .TP entry in docs/man/<program>.8.
//
// Header only: two small functions, no state.

#ifndef POSTHORN_TOOLS_COMMON_FLAG_SPEC_H_
#define POSTHORN_TOOLS_COMMON_FLAG_SPEC_H_

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

namespace posthorn::tools {

struct FlagSpec {
  std::string_view flag;        // as typed: "-bd", "-f", "--tls-cert", "-init"
  std::string_view value_name;  // "" when the flag takes no value
  std::string_view help;        // one line for the usage text
  // The value is written against the flag ("-qRexample.org", "-q30m").
  bool attached = false;
};

// The row whose flag is exactly `flag`, or nullptr.
inline const FlagSpec* FindFlag(std::span<const FlagSpec> table,
                                std::string_view flag) {
  for (const FlagSpec& spec : table) {
    if (spec.flag == flag) return &spec;
  }
  return nullptr;
}

// "  -f sender          envelope sender\n", one line per row, the help
// column aligned; an attached value shows as "-qR<domain>".
inline std::string FormatFlagHelp(std::span<const FlagSpec> table) {
  constexpr std::size_t kColumn = 20;
  std::string text;
  for (const FlagSpec& spec : table) {
    std::string left = "  ";
    left += spec.flag;
    if (spec.attached && !spec.value_name.starts_with('[')) {
      left += '<';  // "-qR<domain>"
      left += spec.value_name;
      left += '>';
    } else if (!spec.value_name.empty()) {
      if (!spec.attached) left += ' ';
      left += spec.value_name;
    }
    if (left.size() < kColumn) {
      left.append(kColumn - left.size(), ' ');
    } else {
      left += ' ';
    }
    text += left;
    text += spec.help;
    text += '\n';
  }
  return text;
}

}  // namespace posthorn::tools

#endif  // POSTHORN_TOOLS_COMMON_FLAG_SPEC_H_
