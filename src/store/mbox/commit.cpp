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

  // Cheap evidence that the bytes are still where the session saw them
  // (another program could have rewritten the file in place).
  for (std::size_t i : {std::size_t{0}, entries.size() - 1}) {
    if (i < entries.size() &&
        !StartsWithFromLine(lock->fd(), entries[i].offset)) {
      return changed("rewritten by another program");
    }
  }
  // A delivery after a snapshot whose last message was cut off (or had no
  // separator) first wrote "\n" or "\n\n" to end it: those bytes belong
  // to that message, the appended messages start after them.
  std::uint64_t tail_start = snapshot.size;
  if (now.size > snapshot.size &&
      !StartsWithFromLine(lock->fd(), snapshot.size)) {
    char padding[2] = {0, 0};
    auto got = fs::PReadSome(lock->fd(), padding, 2, snapshot.size, paths.mbox);
    if (!got.ok()) return got.status();
    std::uint64_t length = *got >= 1 && padding[0] == '\n'
                               ? (*got == 2 && padding[1] == '\n' ? 2 : 1)
                               : 0;
    if (length == 0 || entries.empty() ||
        !StartsWithFromLine(lock->fd(), snapshot.size + length)) {
      return changed("appended to without a \"From \" line");
    }
    tail_start = snapshot.size + length;
  }
  const std::uint64_t padding = tail_start - snapshot.size;
  MboxIdentity tail_view = snapshot;
  tail_view.size = tail_start;
  std::optional<std::vector<IndexEntry>> appended =
      AppendedEntries(paths, lock->fd(), tail_view, now);
  std::vector<ByteRange> ranges;
  std::vector<IndexEntry> new_entries;
  std::uint64_t new_offset = 0;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    if (!keep[i]) continue;
    IndexEntry moved = entries[i];
    if (i + 1 == entries.size() && padding > 0) {
      // The padding ends this message: "\n\n" also ends its last line.
      moved.disk_length += padding;
      if (padding == 2) moved.content_length += 1;
    }
    ranges.push_back({moved.offset, moved.disk_length});
    moved.offset = new_offset;
    new_offset += moved.disk_length;
    new_entries.push_back(std::move(moved));
  }
  const std::uint64_t shift = new_offset;
  ranges.push_back({tail_start, now.size - tail_start});
  fs::CrashPoint();
  auto rewritten = RewriteMbox(paths, lock->fd(), ranges, options);
  if (!rewritten.ok()) return rewritten.status();
  fs::CrashPoint();
  if (appended) {
    for (IndexEntry& entry : *appended) {
      entry.offset = entry.offset - tail_start + shift;
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
