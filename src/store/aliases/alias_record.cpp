// store/aliases/alias_record.cpp — see alias_record.h.

#include "store/aliases/alias_record.h"

#include <cstdint>

#include "fmt/format.h"

namespace posthorn::store::aliases {

std::string EncodeTargets(const std::vector<AliasTarget>& targets) {
  std::string out;
  for (const AliasTarget& target : targets) {
    out += static_cast<char>(target.kind);
    auto size = static_cast<std::uint32_t>(target.value.size());
    for (int shift = 0; shift < 32; shift += 8) {
      out += static_cast<char>((size >> shift) & 0xff);
    }
    out += target.value;
  }
  return out;
}

absl::StatusOr<std::vector<AliasTarget>> DecodeTargets(std::string_view value,
                                                       std::string_view path,
                                                       std::string_view name) {
  auto bad = [&](std::string_view why) {
    return absl::DataLossError(fmt::format(
        "{}: bad record for alias \"{}\" ({})", path, name, why));
  };
  std::vector<AliasTarget> targets;
  while (!value.empty()) {
    if (value.size() < 5) return bad("truncated target header");
    auto kind = static_cast<unsigned char>(value[0]);
    if (kind > static_cast<unsigned char>(AliasTargetKind::kInclude)) {
      return bad("unknown target kind");
    }
    std::uint32_t size = 0;
    for (int i = 0; i < 4; ++i) {
      size |= static_cast<std::uint32_t>(static_cast<unsigned char>(value[1 + i]))
              << (8 * i);
    }
    value.remove_prefix(5);
    if (size > value.size()) return bad("target longer than the record");
    targets.push_back(AliasTarget{static_cast<AliasTargetKind>(kind),
                                  std::string(value.substr(0, size))});
    value.remove_prefix(size);
  }
  if (targets.empty()) return bad("no targets");
  return targets;
}

}  // namespace posthorn::store::aliases
