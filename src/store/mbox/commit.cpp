// store/mbox/commit.cpp — see commit.h.

#include "store/mbox/commit.h"

#include <algorithm>

#include "fmt/format.h"
#include "store/fs/crash_point.h"
#include "store/fs/file_util.h"
#include "store/mbox/append_journal.h"
#include "store/mbox/delivery_log.h"
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

// Keyed deliveries (delivery_log.h) follow their messages into the new
// file; one the session removed is remembered as removed, so a retry of
// that delivery does not bring it back. Best effort: the commit is done,
// and a record left behind costs at most a duplicate on a retry.
void RemapDeliveryLog(const MboxPaths& paths, const MboxStoreOptions& options,
                      const MboxIdentity& old_file,
                      const MboxIdentity& new_file,
                      const std::vector<IndexEntry>& entries,
                      const std::vector<bool>& keep,
                      const std::vector<std::uint64_t>& new_offsets,
                      std::uint64_t tail_start, std::uint64_t shift) {
  auto journal = AppendJournal::Open(paths, options);
  if (!journal.ok()) return;
  auto log = DeliveryLog::Read(journal->fd(), journal->path(),
                               kJournalLogBase);
  if (!log.ok()) return;
  (void)log->Remap(
      old_file, new_file,
      [&](DeliveryRecord& r) {
        if (r.offset >= tail_start) {
          r.offset = r.offset - tail_start + shift;
          return DeliveryLog::Fate::kMoved;
        }
        auto it = std::lower_bound(
            entries.begin(), entries.end(), r.offset,
            [](const IndexEntry& e, std::uint64_t o) { return e.offset < o; });
        if (it == entries.end() || it->offset != r.offset) {
          return DeliveryLog::Fate::kDropped;
        }
        std::size_t i = static_cast<std::size_t>(it - entries.begin());
        if (keep[i]) {
          r.offset = new_offsets[i];
          return DeliveryLog::Fate::kMoved;
        }
        // Only the very message this record names (its UID is the digest
        // of its bytes, maybe with a "-2" suffix) counts as removed.
        bool same = it->disk_length == r.length &&
                    it->uid.compare(0, r.message_digest.size(),
                                    r.message_digest) == 0 &&
                    (it->uid.size() == r.message_digest.size() ||
                     it->uid[r.message_digest.size()] == '-');
        return same ? DeliveryLog::Fate::kRemoved
                    : DeliveryLog::Fate::kDropped;
      },
      options.fsync);
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
  std::vector<std::uint64_t> new_offsets(entries.size(), 0);
  std::uint64_t new_offset = 0;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    if (!keep[i]) continue;
    new_offsets[i] = new_offset;
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
  RemapDeliveryLog(paths, options, now, rewritten->new_identity, entries, keep,
                   new_offsets, tail_start, shift);
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
