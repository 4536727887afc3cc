// store/mbox/commit.cpp — see commit.h.

#include "store/mbox/commit.h"

#include "fmt/format.h"
#include "store/fs/crash_point.h"
#include "store/fs/file_util.h"
#include "store/mbox/index_store.h"
#include "store/mbox/mbox_rewrite.h"
#include "store/mbox/scanner.h"
#include "store/mbox/uid.h"
#include "store/mbox/write_lock.h"

namespace posthorn::store::mbox {
namespace {

// Entries for the bytes appended after the snapshot: from the index when
// it describes the current file, else by scanning them. nullopt when the
// appended bytes are not well-formed messages (they are still copied; the
// next session's scan sorts them out).
std::optional<std::vector<IndexEntry>> AppendedEntries(
    const MboxPaths& paths, int fd, const MboxIdentity& snapshot,
    const MboxIdentity& now) {
  std::vector<IndexEntry> appended;
  if (now.size == snapshot.size) return appended;
  if (auto index = LoadIndex(paths); index.ok() && index->identity == now) {
    bool boundary = false;
    for (IndexEntry& entry : index->entries) {
      if (entry.offset == snapshot.size) boundary = true;
      if (entry.offset >= snapshot.size) appended.push_back(std::move(entry));
    }
    if (boundary) return appended;
    appended.clear();
  }
  auto scanned = ScanMbox(fd, paths.mbox, snapshot.size, now.size);
  if (!scanned.ok()) return std::nullopt;
  return std::move(*scanned);
}

}  // namespace

absl::Status CommitMbox(const MboxPaths& paths, const MboxStoreOptions& options,
                        const MboxIdentity& snapshot,
                        const std::vector<IndexEntry>& entries,
                        const std::vector<bool>& keep) {
  auto lock = MboxWriteLock::Acquire(paths, options,
                                     MboxWriteLock::Mode::kExistingOnly);
  if (!lock.ok()) return lock.status();
  auto changed = [&](std::string_view why) {
    return absl::FailedPreconditionError(fmt::format("{}: {} since the session opened; nothing removed", paths.mbox, why));
  };
  if (!lock->has_file()) return changed("removed by another program");
  auto st = fs::Stat(lock->fd(), paths.mbox);
  if (!st.ok()) return st.status();
  const MboxIdentity now = MboxIdentity::FromStat(*st);
  if (!now.SameFile(snapshot)) return changed("replaced by another program");
  if (now.size < snapshot.size) return changed("shortened by another program");

  std::optional<std::vector<IndexEntry>> appended =
      AppendedEntries(paths, lock->fd(), snapshot, now);
  std::vector<ByteRange> ranges;
  std::vector<IndexEntry> new_entries;
  std::uint64_t new_offset = 0;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    if (!keep[i]) continue;
    ranges.push_back({entries[i].offset, entries[i].disk_length});
    IndexEntry moved = entries[i];
    moved.offset = new_offset;
    new_offset += moved.disk_length;
    new_entries.push_back(std::move(moved));
  }
  const std::uint64_t shift = new_offset;
  ranges.push_back({snapshot.size, now.size - snapshot.size});
  fs::CrashPoint();
  auto rewritten = RewriteMbox(paths, lock->fd(), ranges, options);
  if (!rewritten.ok()) return rewritten.status();
  fs::CrashPoint();
  if (appended) {
    for (IndexEntry& entry : *appended) {
      entry.offset = entry.offset - snapshot.size + shift;
      new_entries.push_back(std::move(entry));
    }
    std::vector<std::string*> uids;
    for (IndexEntry& entry : new_entries) uids.push_back(&entry.uid);
    MakeUidsUnique(uids);
    (void)WriteIndex(paths, options, rewritten->new_identity, new_entries);
  } else {
    (void)fs::Unlink(paths.index);  // stale: the next session rescans
  }
  rewritten->new_fd.reset();
  lock->Release();
  return absl::OkStatus();
}

}  // namespace posthorn::store::mbox
