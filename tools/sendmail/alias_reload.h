// tools/sendmail/alias_reload.h — the daemon's alias table, reopened after
// newaliases.
//
// PURPOSE
//   newaliases replaces <alias_file>.lmdb by renaming a new file over it;
//   a table opened before keeps reading the old file. The daemon runs for
//   months, so its table checks (at most once per kCheckInterval, on
//   lookup) whether the database or the text file changed (inode, size or
//   mtime) and reopens it; lookups in progress finish on the old table.
//   A reopen that fails keeps the old table and logs why.

#ifndef POSTHORN_TOOLS_SENDMAIL_ALIAS_RELOAD_H_
#define POSTHORN_TOOLS_SENDMAIL_ALIAS_RELOAD_H_

#include <chrono>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "posthorn/mta/log.h"
#include "posthorn/store/aliases.h"

namespace posthorn::tools {

inline constexpr std::chrono::seconds kAliasCheckInterval{2};

// Opens alias_file like store::OpenAliasTable (same errors) and wraps it.
absl::StatusOr<std::unique_ptr<store::AliasTable>> OpenReloadingAliasTable(
    const std::string& alias_file, mta::LogFunction log);

}  // namespace posthorn::tools

#endif  // POSTHORN_TOOLS_SENDMAIL_ALIAS_RELOAD_H_
