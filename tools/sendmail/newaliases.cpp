// tools/sendmail/newaliases.cpp — `newaliases` / `sendmail -bi`: compile
// alias_file into its database and print sendmail 8.8's summary line
//   /etc/aliases: 12 aliases, longest 31 bytes, 270 bytes total
// (longest: the longest right-hand side; total: every name and right-hand
// side together). Warnings (duplicates, ...) go to stderr.
//
// EXIT STATUS
//   0 done; 65 a syntax error (file:line: reason, the old database kept);
//   66 no alias file; 73 the database cannot be written; 78 config.

#include <algorithm>
#include <cstdio>

#include "fmt/format.h"
#include "tools/common/exit_codes.h"
#include "tools/sendmail/modes.h"
#include "tools/sendmail/setup.h"

namespace posthorn::tools {

int RunNewAliases(const SendmailFlags& flags, const Config& config) {
  auto result = store::CompileAliasDatabase(config.alias_file);
  if (!result.ok()) {
    const absl::Status& s = result.status();
    const int code = absl::IsInvalidArgument(s) ? kExitDataErr
                     : absl::IsNotFound(s)      ? kExitNoInput
                     : absl::IsPermissionDenied(s) || absl::IsFailedPrecondition(s)
                         ? kExitCantCreat
                         : kExitIoErr;
    return Report(flags, {code, StatusText(s)});
  }
  for (const std::string& warning : result->warnings) {
    fmt::print(stderr, "{}: warning: {}\n", flags.program, warning);
  }
  std::fflush(stderr);
  // The sizes, from what was just written.
  std::size_t longest = 0, total = 0;
  auto table = store::OpenAliasTable(config.alias_file);
  if (table.ok()) {
    auto all = (*table)->All();
    if (all.ok()) {
      for (const store::AliasEntry& entry : *all) {
        std::size_t rhs = 0;
        for (const store::AliasTarget& t : entry.targets) {
          rhs += t.value.size() + (rhs == 0 ? 0 : 1);  // "a,b"
          if (t.kind == store::AliasTargetKind::kProgram) rhs += 1;  // '|'
          if (t.kind == store::AliasTargetKind::kInclude) rhs += 9;
        }
        longest = std::max(longest, rhs);
        total += entry.name.size() + rhs;
      }
    }
  }
  fmt::print("{}: {} aliases, longest {} bytes, {} bytes total\n",
             config.alias_file, result->aliases, longest, total);
  return kExitOk;
}

}  // namespace posthorn::tools
