// store/mbox/commit.h — a POP session's UPDATE state for an mbox.
//
// Under the write lock: checks the mbox is still the file the session
// listed (same inode, not shorter), then rewrites it (mbox_rewrite.h)
// with the snapshot's kept messages followed by every byte appended since
// the snapshot, and writes the new index (kept entries with their UIDs,
// moved to their new offsets, plus the appended messages). A crash at any
// point leaves the old mbox or the new one; nothing appended meanwhile is
// lost because appends wait for the write lock this holds.

#ifndef POSTHORN_SRC_STORE_MBOX_COMMIT_H_
#define POSTHORN_SRC_STORE_MBOX_COMMIT_H_

#include <vector>

#include "absl/status/status.h"
#include "posthorn/store/mbox.h"
#include "store/mbox/index_format.h"
#include "store/mbox/mbox_paths.h"

namespace posthorn::store::mbox {

// `keep[i]` says whether snapshot entry i stays. `snapshot` is the mbox
// identity when the session listed it.
absl::Status CommitMbox(const MboxPaths& paths, const MboxStoreOptions& options,
                        const MboxIdentity& snapshot,
                        const std::vector<IndexEntry>& entries,
                        const std::vector<bool>& keep);

}  // namespace posthorn::store::mbox

#endif  // POSTHORN_SRC_STORE_MBOX_COMMIT_H_
