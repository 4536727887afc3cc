// store/mbox/mbox_rewrite.h — replaces an mbox by a new file holding
// chosen byte ranges of the old one (commit; removing a killed append).
//
// Write-temp, fsync, rename, fsync folder: after a crash at any moment
// the path names the old file or the complete new one, never a mix. The
// temporary file ".<user>.commit" has the old file's mode and owner. The
// caller holds the mbox write lock (write_lock.h) for the whole call; the
// old file's descriptor (and its fcntl lock) stay with the caller.

#ifndef POSTHORN_SRC_STORE_MBOX_MBOX_REWRITE_H_
#define POSTHORN_SRC_STORE_MBOX_MBOX_REWRITE_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "posthorn/store/mbox.h"
#include "store/fs/file_util.h"
#include "store/mbox/index_format.h"
#include "store/mbox/mbox_paths.h"

namespace posthorn::store::mbox {

struct ByteRange {
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
};

struct RewriteResult {
  fs::UniqueFd new_fd;        // the new mbox, read-write
  MboxIdentity new_identity;  // its identity after the rename
};

// Copies `ranges` of `old_fd` (in order, adjacent ones merged) into a new
// file and renames it over paths.mbox.
absl::StatusOr<RewriteResult> RewriteMbox(const MboxPaths& paths, int old_fd,
                                          const std::vector<ByteRange>& ranges,
                                          const MboxStoreOptions& options);

}  // namespace posthorn::store::mbox

#endif  // POSTHORN_SRC_STORE_MBOX_MBOX_REWRITE_H_
