// store/aliases/alias_record.h — how an alias is stored in aliases.lmdb.
//
// Key: the lowercased alias name. Value: the targets, each as
//   1 byte kind (0 address, 1 file, 2 program, 3 include)
//   4 bytes length, little endian
//   the value bytes
// The database's kind marker "aliases-v1" versions this layout; a new
// layout gets a new marker, and newaliases rewrites the whole file anyway.

#ifndef POSTHORN_SRC_STORE_ALIASES_ALIAS_RECORD_H_
#define POSTHORN_SRC_STORE_ALIASES_ALIAS_RECORD_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "posthorn/store/aliases.h"

namespace posthorn::store::aliases {

inline constexpr std::string_view kAliasesKind = "aliases-v1";

std::string EncodeTargets(const std::vector<AliasTarget>& targets);

// DataLoss "<path>: bad record for alias "<name>"" on any inconsistency.
absl::StatusOr<std::vector<AliasTarget>> DecodeTargets(std::string_view value,
                                                       std::string_view path,
                                                       std::string_view name);

// Reads the text alias file (at most 64 MiB; symlinks followed: it is
// configuration). Used by newaliases and the text fallback.
absl::StatusOr<std::string> ReadAliasText(const std::string& alias_file);

}  // namespace posthorn::store::aliases

#endif  // POSTHORN_SRC_STORE_ALIASES_ALIAS_RECORD_H_
