// store/mbox/index_format.h — the ".<user>.index" file beside an mbox.
//
// FORMAT (little-endian, version 2)
//   header  "PHMBXIDX" u32 version=2 u32 zero                  (16 bytes)
//   records, each:  u8 type, payload, u64 RecordChecksum64 of type+payload
//   (store/common/checksum.h; version 1 had FNV-1a)
//     'E' entry  u64 offset, u64 disk_length, u64 wire_size,
//                u32 from_line_length, u64 content_length,
//                u8 uid_length, uid bytes
//     'S' stamp  u64 dev, u64 ino, u64 size, i64 mtime_ns,
//                u64 entry_count                           (49 bytes)
//   A stamp says: the entries before me describe the mbox with this
//   identity, bytes [0, size). The file always ends with a stamp; a
//   delivery appends one entry and a new stamp in one write. A record that
//   fails its checksum ends the valid part (a torn append); what follows
//   the last valid stamp is ignored.
//
// The index is a cache: anything wrong with it means "rescan the mbox".

#ifndef POSTHORN_SRC_STORE_MBOX_INDEX_FORMAT_H_
#define POSTHORN_SRC_STORE_MBOX_INDEX_FORMAT_H_

#include <sys/stat.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace posthorn::store::mbox {

struct MboxIdentity {
  std::uint64_t dev = 0;
  std::uint64_t ino = 0;
  std::uint64_t size = 0;
  std::int64_t mtime_ns = 0;

  static MboxIdentity FromStat(const struct stat& st);
  bool SameFile(const MboxIdentity& other) const {
    return dev == other.dev && ino == other.ino;
  }
  bool operator==(const MboxIdentity&) const = default;
};

// One message. Its stored content (what a reader decodes) is
// [offset + from_line_length, + content_length); disk_length also covers
// the "From " line and the separating empty line.
struct IndexEntry {
  std::uint64_t offset = 0;
  std::uint64_t disk_length = 0;
  std::uint64_t wire_size = 0;
  std::uint32_t from_line_length = 0;
  std::uint64_t content_length = 0;
  std::string uid;

  bool operator==(const IndexEntry&) const = default;
};

struct ParsedIndex {
  MboxIdentity identity;            // from the last valid stamp
  std::vector<IndexEntry> entries;  // those before that stamp
  bool trailing_garbage = false;    // bytes after the last valid stamp
};

inline constexpr std::size_t kIndexHeaderSize = 16;
inline constexpr std::size_t kStampRecordSize = 49;
// Larger index files are not read (rebuilt instead): ~100 bytes/message.
inline constexpr std::size_t kMaxIndexFileSize = std::size_t{256} << 20;

// A whole index file: header, entries, stamp.
std::string SerializeIndex(const MboxIdentity& identity,
                           const std::vector<IndexEntry>& entries);

// Records a delivery appends: one entry and the stamp after it.
std::string SerializeAppend(const IndexEntry& entry,
                            const MboxIdentity& identity,
                            std::uint64_t entry_count);

// DataLoss (naming `path`) for a file with no valid header or stamp, or
// whose entries are not contiguous from offset 0 up to the stamp's size.
absl::StatusOr<ParsedIndex> ParseIndex(std::string_view bytes,
                                       std::string_view path);

// The stamp at the very end of `tail` (the last kStampRecordSize bytes of
// an index file), or nullopt when those bytes are not a valid stamp.
struct Stamp {
  MboxIdentity identity;
  std::uint64_t entry_count = 0;
};
std::optional<Stamp> ParseTrailingStamp(std::string_view tail);

}  // namespace posthorn::store::mbox

#endif  // POSTHORN_SRC_STORE_MBOX_INDEX_FORMAT_H_
