// mta/deliver/local_targets.h — what one local recipient expands to.
//
// The alias table is searched for the recipient's local part
// (store::ExpandAlias) with:
//   - local_part: the Router decides what is local (a local domain, or no
//     '@'); the lowercased local part is looked up again;
//   - read_include: :include: files, absolute paths, regular files only,
//     at most kMaxIncludeBytes;
//   - file and program targets always accepted by the expansion, so that
//     the agent can refuse them per target with a clear bounce ("550
//     5.7.1 ... not allowed") instead of dropping them silently.
// The results are classified: a user with a maildrop, an unknown name, a
// remote address, a file, a program.

#ifndef POSTHORN_SRC_MTA_DELIVER_LOCAL_TARGETS_H_
#define POSTHORN_SRC_MTA_DELIVER_LOCAL_TARGETS_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "posthorn/mta/local_delivery.h"

namespace posthorn::mta::deliver {

// Largest :include: file read (bytes).
inline constexpr std::size_t kMaxIncludeBytes = 1 << 20;

enum class TargetKind { kUser, kUnknownUser, kRemote, kFile, kProgram };

struct LocalTarget {
  TargetKind kind = TargetKind::kUser;
  std::string value;  // user name, address, path, or command (no '|')
  std::string owner;  // "owner-<alias>" for errors of this branch, or ""
};

struct TargetList {
  std::vector<LocalTarget> targets;
  std::vector<std::string> problems;  // from the expansion, for the log
  bool loop = false;                  // a problem was an alias loop
};

// Expands the local part `name` (already lowercased by the Router).
// Errors: ResourceExhausted when the expansion exceeds a limit, others
// from the alias table (a database that cannot be read).
absl::StatusOr<TargetList> ExpandLocal(const LocalAgentOptions& options,
                                       std::string_view name);

// Reads an :include: file (see above).
absl::StatusOr<std::string> ReadIncludeFile(std::string_view path);

}  // namespace posthorn::mta::deliver

#endif  // POSTHORN_SRC_MTA_DELIVER_LOCAL_TARGETS_H_
