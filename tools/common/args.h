// tools/common/args.h — small helpers for command lines.
//
// PURPOSE
//   popauth takes sendmail-style word flags ("-init", "-user name"); popper
//   takes getopt letters. These helpers cover what both need beyond that:
//   matching a word flag, taking its value, and checking numbers strictly
//   ("600" yes, "10x", "-1", "" no).

#ifndef POSTHORN_TOOLS_COMMON_ARGS_H_
#define POSTHORN_TOOLS_COMMON_ARGS_H_

#include <cstdint>
#include <optional>
#include <string_view>

namespace posthorn::tools {

// True when `arg` is "-name" or "--name".
bool IsWordFlag(std::string_view arg, std::string_view name);

// The value after the flag at argv[*index] (and advances *index), or
// nullopt when the command line ends there.
std::optional<std::string_view> TakeValue(int argc, char** argv, int* index);

// Decimal digits only, value <= max.
std::optional<std::uint64_t> ParseUnsigned(std::string_view text,
                                           std::uint64_t max);

}  // namespace posthorn::tools

#endif  // POSTHORN_TOOLS_COMMON_ARGS_H_
