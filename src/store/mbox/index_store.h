// store/mbox/index_store.h — reading, writing and extending the index
// file (format: index_format.h), and deciding how far to trust it.
//
// The index is a cache. Every function here either succeeds or leaves the
// caller to rescan; a failed index write never fails a delivery or a
// commit. All calls are made under the mbox write lock.

#ifndef POSTHORN_SRC_STORE_MBOX_INDEX_STORE_H_
#define POSTHORN_SRC_STORE_MBOX_INDEX_STORE_H_

#include <vector>

#include "absl/status/statusor.h"
#include "posthorn/store/mbox.h"
#include "store/mbox/index_format.h"
#include "store/mbox/mbox_paths.h"

namespace posthorn::store::mbox {

// The index file as parsed; NotFound when missing, DataLoss when corrupt.
absl::StatusOr<ParsedIndex> LoadIndex(const MboxPaths& paths);

// Replaces the index (write-temp + rename; not fsynced: it is a cache).
absl::Status WriteIndex(const MboxPaths& paths, const MboxStoreOptions& options,
                        const MboxIdentity& identity,
                        const std::vector<IndexEntry>& entries);

// After an append: adds `entry` and a stamp for `after` when the index
// currently ends with a stamp for `before` (or creates the index when the
// mbox was empty). Otherwise leaves the index alone for the next session
// to repair. Best effort: errors are ignored.
void AppendToIndex(const MboxPaths& paths, const MboxStoreOptions& options,
                   const MboxIdentity& before, const IndexEntry& entry,
                   const MboxIdentity& after);

struct MboxListing {
  MboxIdentity identity;
  std::vector<IndexEntry> entries;  // UIDs unique
  enum class Source { kIndex, kIndexAndTail, kFullScan } source;
};

// The messages of the locked mbox `fd`: from the index when it matches,
// index + a scan of the tail when the file only grew, or a full scan;
// then UIDs made unique and the index rewritten when anything changed.
// DataLoss naming the file when it is not an mbox.
absl::StatusOr<MboxListing> ListMessages(const MboxPaths& paths,
                                         const MboxStoreOptions& options,
                                         int fd);

}  // namespace posthorn::store::mbox

#endif  // POSTHORN_SRC_STORE_MBOX_INDEX_STORE_H_
