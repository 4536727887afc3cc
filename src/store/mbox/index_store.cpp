// store/mbox/index_store.cpp — see index_store.h.

#include "store/mbox/index_store.h"

#include <fcntl.h>

#include "store/fs/crash_point.h"
#include "store/fs/file_util.h"
#include "store/mbox/scanner.h"
#include "store/mbox/uid.h"

namespace posthorn::store::mbox {
namespace {

bool MakeUnique(std::vector<IndexEntry>& entries) {
  std::vector<std::string*> uids;
  uids.reserve(entries.size());
  for (IndexEntry& entry : entries) uids.push_back(&entry.uid);
  return MakeUidsUnique(uids);
}

// Cheap evidence that the index's offsets still fall on message starts.
bool EndsLookRight(int fd, const std::vector<IndexEntry>& entries) {
  if (entries.empty()) return true;
  return StartsWithFromLine(fd, entries.front().offset) &&
         StartsWithFromLine(fd, entries.back().offset);
}

}  // namespace

absl::StatusOr<ParsedIndex> LoadIndex(const MboxPaths& paths) {
  auto bytes = fs::ReadSmallFile(paths.index, kMaxIndexFileSize);
  if (!bytes.ok()) return bytes.status();
  return ParseIndex(*bytes, paths.index);
}

absl::Status WriteIndex(const MboxPaths& paths, const MboxStoreOptions& options,
                        const MboxIdentity& identity,
                        const std::vector<IndexEntry>& entries) {
  return fs::AtomicWriteFile(paths.index, SerializeIndex(identity, entries),
                             static_cast<mode_t>(options.file_mode),
                             /*durable=*/false);
}

void AppendToIndex(const MboxPaths& paths, const MboxStoreOptions& options,
                   const MboxIdentity& before, const IndexEntry& entry,
                   const MboxIdentity& after) {
  auto fd = fs::OpenFile(paths.index, O_RDWR);
  if (!fd.ok()) {
    if (absl::IsNotFound(fd.status()) && before.size == 0) {
      (void)WriteIndex(paths, options, after, {entry});
    }
    return;
  }
  auto st = fs::Stat(fd->get(), paths.index);
  if (!st.ok() || st->st_size < static_cast<off_t>(kIndexHeaderSize +
                                                   kStampRecordSize)) {
    return;
  }
  std::uint64_t size = static_cast<std::uint64_t>(st->st_size);
  char tail[kStampRecordSize];
  auto got = fs::PReadSome(fd->get(), tail, sizeof tail,
                           size - kStampRecordSize, paths.index);
  if (!got.ok() || *got != sizeof tail) return;
  std::optional<Stamp> stamp =
      ParseTrailingStamp(std::string_view(tail, sizeof tail));
  if (!stamp || !(stamp->identity == before)) return;
  (void)fs::PWriteAll(fd->get(),
                      SerializeAppend(entry, after, stamp->entry_count + 1),
                      size, paths.index);
}

absl::StatusOr<MboxListing> ListMessages(const MboxPaths& paths,
                                         const MboxStoreOptions& options,
                                         int fd) {
  auto st = fs::Stat(fd, paths.mbox);
  if (!st.ok()) return st.status();
  MboxListing listing;
  listing.identity = MboxIdentity::FromStat(*st);
  const std::uint64_t size = listing.identity.size;
  bool dirty = false;
  auto index = LoadIndex(paths);
  listing.source = MboxListing::Source::kFullScan;
  if (index.ok() && index->identity.SameFile(listing.identity) &&
      EndsLookRight(fd, index->entries)) {
    if (index->identity == listing.identity) {
      listing.entries = std::move(index->entries);
      listing.source = MboxListing::Source::kIndex;
      dirty = index->trailing_garbage;
    } else if (index->identity.size < size &&
               StartsWithFromLine(fd, index->identity.size)) {
      auto tail = ScanMbox(fd, paths.mbox, index->identity.size, size);
      if (tail.ok()) {
        listing.entries = std::move(index->entries);
        listing.entries.insert(listing.entries.end(),
                               std::make_move_iterator(tail->begin()),
                               std::make_move_iterator(tail->end()));
        listing.source = MboxListing::Source::kIndexAndTail;
        dirty = true;
      }
    }
  }
  if (listing.source == MboxListing::Source::kFullScan) {
    auto all = ScanMbox(fd, paths.mbox, 0, size);
    if (!all.ok()) return all.status();
    listing.entries = std::move(*all);
    // An empty mbox with no index needs none written.
    dirty = size > 0 || index.ok();
  }
  if (MakeUnique(listing.entries)) dirty = true;
  if (dirty) {
    fs::CrashPoint();
    (void)WriteIndex(paths, options, listing.identity, listing.entries);
  }
  return listing;
}

}  // namespace posthorn::store::mbox
