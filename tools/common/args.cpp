// tools/common/args.cpp — word flags, flag values, strict numbers.

#include "tools/common/args.h"

#include <charconv>

namespace posthorn::tools {

bool IsWordFlag(std::string_view arg, std::string_view name) {
  if (arg.starts_with("--")) {
    arg.remove_prefix(2);
  } else if (arg.starts_with("-")) {
    arg.remove_prefix(1);
  } else {
    return false;
  }
  return arg == name;
}

std::optional<std::string_view> TakeValue(int argc, char** argv, int* index) {
  if (*index + 1 >= argc) return std::nullopt;
  ++*index;
  return std::string_view(argv[*index]);
}

std::optional<std::uint64_t> ParseUnsigned(std::string_view text,
                                           std::uint64_t max) {
  if (text.empty()) return std::nullopt;
  std::uint64_t value = 0;
  const auto [end, ec] =
      std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value > max) {
    return std::nullopt;
  }
  return value;
}

}  // namespace posthorn::tools
