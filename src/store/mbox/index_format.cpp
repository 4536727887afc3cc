// store/mbox/index_format.cpp — see index_format.h.

#include "store/mbox/index_format.h"

#include <cstring>

#include "absl/status/status.h"
#include "fmt/format.h"
#include "store/common/checksum.h"

namespace posthorn::store::mbox {
namespace {

constexpr std::string_view kMagic = "PHMBXIDX";
// Version 2: the word-at-a-time record checksum (version 1 used FNV-1a;
// such an index is rebuilt like any other unusable one).
constexpr std::uint32_t kVersion = 2;
constexpr char kEntryType = 'E';
constexpr char kStampType = 'S';
// type + 3*u64 + u32 + u64 + u8 (+ uid) + checksum
constexpr std::size_t kEntryFixedSize = 1 + 24 + 4 + 8 + 1 + 8;

void PutU64(std::string* out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>(v >> (8 * i)));
}
void PutU32(std::string* out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>(v >> (8 * i)));
}
std::uint64_t GetU64(const char* p) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}
std::uint32_t GetU32(const char* p) {
  std::uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

// Appends the checksum of everything from `record_start` on.
void Seal(std::string* out, std::size_t record_start) {
  PutU64(out, RecordChecksum64(std::string_view(*out).substr(record_start)));
}

void AppendEntry(std::string* out, const IndexEntry& entry) {
  std::size_t start = out->size();
  out->push_back(kEntryType);
  PutU64(out, entry.offset);
  PutU64(out, entry.disk_length);
  PutU64(out, entry.wire_size);
  PutU32(out, entry.from_line_length);
  PutU64(out, entry.content_length);
  out->push_back(static_cast<char>(entry.uid.size()));
  out->append(entry.uid);
  Seal(out, start);
}

void AppendStamp(std::string* out, const MboxIdentity& identity,
                 std::uint64_t entry_count) {
  std::size_t start = out->size();
  out->push_back(kStampType);
  PutU64(out, identity.dev);
  PutU64(out, identity.ino);
  PutU64(out, identity.size);
  PutU64(out, static_cast<std::uint64_t>(identity.mtime_ns));
  PutU64(out, entry_count);
  Seal(out, start);
}

bool ChecksumOk(std::string_view record) {
  std::string_view body = record.substr(0, record.size() - 8);
  return RecordChecksum64(body) == GetU64(record.data() + record.size() - 8);
}

Stamp DecodeStamp(const char* p) {
  Stamp stamp;
  stamp.identity.dev = GetU64(p + 1);
  stamp.identity.ino = GetU64(p + 9);
  stamp.identity.size = GetU64(p + 17);
  stamp.identity.mtime_ns = static_cast<std::int64_t>(GetU64(p + 25));
  stamp.entry_count = GetU64(p + 33);
  return stamp;
}

// RFC 1939: 1..70 characters 0x21..0x7E.
bool PrintableUid(std::string_view uid) {
  for (char c : uid) {
    if (c < 0x21 || c > 0x7E) return false;
  }
  return true;
}

absl::Status Corrupt(std::string_view path, std::string_view why) {
  return absl::DataLossError(fmt::format("{}: corrupt index: {}", path, why));
}

}  // namespace

MboxIdentity MboxIdentity::FromStat(const struct stat& st) {
  MboxIdentity id;
  id.dev = static_cast<std::uint64_t>(st.st_dev);
  id.ino = static_cast<std::uint64_t>(st.st_ino);
  id.size = static_cast<std::uint64_t>(st.st_size);
  id.mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 +
                st.st_mtim.tv_nsec;
  return id;
}

std::string SerializeIndex(const MboxIdentity& identity,
                           const std::vector<IndexEntry>& entries) {
  std::string out;
  out.reserve(kIndexHeaderSize + entries.size() * (kEntryFixedSize + 24) +
              kStampRecordSize);
  out.append(kMagic);
  PutU32(&out, kVersion);
  PutU32(&out, 0);
  for (const IndexEntry& entry : entries) AppendEntry(&out, entry);
  AppendStamp(&out, identity, entries.size());
  return out;
}

std::string SerializeAppend(const IndexEntry& entry,
                            const MboxIdentity& identity,
                            std::uint64_t entry_count) {
  std::string out;
  AppendEntry(&out, entry);
  AppendStamp(&out, identity, entry_count);
  return out;
}

std::optional<Stamp> ParseTrailingStamp(std::string_view tail) {
  if (tail.size() < kStampRecordSize) return std::nullopt;
  std::string_view record = tail.substr(tail.size() - kStampRecordSize);
  if (record[0] != kStampType || !ChecksumOk(record)) return std::nullopt;
  return DecodeStamp(record.data());
}

absl::StatusOr<ParsedIndex> ParseIndex(std::string_view bytes,
                                       std::string_view path) {
  if (bytes.size() < kIndexHeaderSize || bytes.substr(0, 8) != kMagic) {
    return Corrupt(path, "no header");
  }
  if (GetU32(bytes.data() + 8) != kVersion) {
    return Corrupt(path, fmt::format("version {}, expected {}", GetU32(bytes.data() + 8), kVersion));
  }
  ParsedIndex result;
  std::vector<IndexEntry> pending;
  // Room for as many entries as the file could hold (an entry with a
  // one-byte UID is the smallest record), so a large index is read without
  // reallocating and moving every entry again and again.
  pending.reserve(bytes.size() / (kEntryFixedSize + 1));
  bool have_stamp = false;
  std::size_t pos = kIndexHeaderSize;
  std::size_t valid_end = pos;
  while (pos < bytes.size()) {
    std::string_view rest = bytes.substr(pos);
    if (rest[0] == kEntryType && rest.size() >= kEntryFixedSize) {
      std::size_t uid_length = static_cast<unsigned char>(rest[37]);
      std::size_t size = kEntryFixedSize + uid_length;
      if (rest.size() < size || !ChecksumOk(rest.substr(0, size))) break;
      const char* p = rest.data();
      IndexEntry entry;
      entry.offset = GetU64(p + 1);
      entry.disk_length = GetU64(p + 9);
      entry.wire_size = GetU64(p + 17);
      entry.from_line_length = GetU32(p + 25);
      entry.content_length = GetU64(p + 29);
      entry.uid.assign(p + 38, uid_length);
      pending.push_back(std::move(entry));
      pos += size;
    } else if (rest[0] == kStampType && rest.size() >= kStampRecordSize &&
               ChecksumOk(rest.substr(0, kStampRecordSize))) {
      Stamp stamp = DecodeStamp(rest.data());
      if (result.entries.empty()) {
        std::swap(result.entries, pending);  // the usual case: one stamp
      } else {
        for (IndexEntry& entry : pending) {
          result.entries.push_back(std::move(entry));
        }
      }
      pending.clear();
      if (stamp.entry_count != result.entries.size()) {
        return Corrupt(path, "stamp counts a different number of entries");
      }
      result.identity = stamp.identity;
      have_stamp = true;
      pos += kStampRecordSize;
      valid_end = pos;
    } else {
      break;
    }
  }
  if (!have_stamp) return Corrupt(path, "no valid stamp");
  result.trailing_garbage = valid_end != bytes.size();
  // The entries must tile [0, size) exactly, and make sense.
  std::uint64_t expected_offset = 0;
  for (const IndexEntry& entry : result.entries) {
    if (entry.offset != expected_offset || entry.disk_length == 0 ||
        entry.from_line_length > entry.disk_length ||
        entry.content_length > entry.disk_length - entry.from_line_length ||
        entry.uid.empty() || entry.uid.size() > 70 ||
        !PrintableUid(entry.uid)) {
      return Corrupt(path, fmt::format("bad entry at offset {}", entry.offset));
    }
    expected_offset += entry.disk_length;
  }
  if (expected_offset != result.identity.size) {
    return Corrupt(path, "entries do not cover the mbox size");
  }
  return result;
}

}  // namespace posthorn::store::mbox
