// store/mbox/delivery.cpp — see delivery.h.

#include "store/mbox/delivery.h"

#include <optional>
#include <vector>

#include "store/fs/crash_point.h"
#include "store/fs/file_util.h"
#include "store/mbox/append_journal.h"
#include "store/mbox/delivery_log.h"
#include "store/mbox/from_line.h"
#include "store/mbox/index_store.h"
#include "store/mbox/mboxrd_encoder.h"
#include "store/mbox/uid.h"
#include "store/mbox/write_lock.h"

namespace posthorn::store::mbox {
namespace {

constexpr std::size_t kReadChunk = 64 * 1024;
constexpr std::size_t kWriteBatch = 256 * 1024;

// What must precede a new "From " line so that the previous message ends
// with its line end and the separating empty line.
absl::StatusOr<std::string> Padding(int fd, const std::string& path,
                                    std::uint64_t size) {
  if (size == 0) return std::string();
  char last[2] = {0, 0};
  std::size_t want = size >= 2 ? 2 : 1;
  auto got = fs::PReadSome(fd, last, want, size - want, path);
  if (!got.ok()) return got.status();
  std::string_view end(last, *got);
  if (end == "\n\n") return std::string();
  if (!end.empty() && end.back() == '\n') return std::string("\n");
  return std::string("\n\n");
}

// Streams the message into the file from `offset` on.
class AppendWriter {
 public:
  AppendWriter(int fd, const std::string& path, std::uint64_t offset)
      : fd_(fd), path_(path), offset_(offset) {}

  absl::Status Add(std::string_view bytes) {
    batch_.append(bytes);
    return batch_.size() >= kWriteBatch ? Flush() : absl::OkStatus();
  }
  absl::Status Flush() {
    if (batch_.empty()) return absl::OkStatus();
    absl::Status status = fs::PWriteAll(fd_, batch_, offset_, path_);
    offset_ += batch_.size();
    batch_.clear();
    return status;
  }

 private:
  int fd_;
  const std::string& path_;
  std::uint64_t offset_;
  std::string batch_;
};


absl::StatusOr<IndexEntry> WriteMessage(int fd, const std::string& path,
                                        std::uint64_t start,
                                        std::string_view padding,
                                        const DeliveryInfo& info,
                                        MessageReader& source) {
  AppendWriter writer(fd, path, start);
  std::string from_line =
      FormatFromLine(info.envelope_sender, info.arrival);
  UidDigest digest;
  digest.Update(from_line);
  if (auto status = writer.Add(padding); !status.ok()) return status;
  if (auto status = writer.Add(from_line); !status.ok()) return status;
  MboxrdEncoder encoder;
  std::vector<char> chunk(kReadChunk);
  std::string stored;
  for (;;) {
    auto n = source.Read(chunk);
    if (!n.ok()) return n.status();
    if (*n == 0) break;
    stored.clear();
    encoder.Feed(std::string_view(chunk.data(), *n), &stored);
    digest.Update(stored);
    if (auto status = writer.Add(stored); !status.ok()) return status;
  }
  stored.clear();
  encoder.Finish(&stored);
  stored.push_back('\n');  // the empty line that separates messages
  digest.Update(stored);
  if (auto status = writer.Add(stored); !status.ok()) return status;
  if (auto status = writer.Flush(); !status.ok()) return status;

  IndexEntry entry;
  entry.offset = start + padding.size();
  entry.from_line_length = static_cast<std::uint32_t>(from_line.size());
  entry.content_length = encoder.stored_size();
  entry.disk_length = from_line.size() + encoder.stored_size() + 1;
  entry.wire_size = encoder.wire_size();
  entry.uid = digest.Finish();
  return entry;
}

}  // namespace

absl::Status DeliverToMbox(const MboxPaths& paths,
                           const MboxStoreOptions& options,
                           const DeliveryInfo& info, MessageReader& source) {
  if (auto status = ValidateDeliveryId(info.delivery_id); !status.ok()) {
    return status;
  }
  auto lock = MboxWriteLock::Acquire(paths, options,
                                     MboxWriteLock::Mode::kCreate);
  if (!lock.ok()) return lock.status();
  const int fd = lock->fd();
  auto st = fs::Stat(fd, paths.mbox);
  if (!st.ok()) return st.status();
  const MboxIdentity before = MboxIdentity::FromStat(*st);

  auto journal = AppendJournal::Open(paths, options);
  if (!journal.ok()) return journal.status();
  // A keyed delivery that already happened (delivery_log.h) appends
  // nothing. The lock made any unfinished append undone, so a record
  // whose bytes are there names a complete, durable message.
  std::optional<DeliveryLog> log;
  std::string id_digest;
  if (!info.delivery_id.empty()) {
    auto read = DeliveryLog::Read(journal->fd(), journal->path(),
                                  kJournalLogBase);
    if (!read.ok()) return read.status();
    log.emplace(std::move(*read));
    id_digest = DeliveryIdDigest(info.delivery_id);
    if (const DeliveryRecord* record = log->Find(id_digest)) {
      auto held = record->removed
                      ? absl::StatusOr<bool>(true)
                      : HoldsDelivery(fd, paths.mbox, before, *record);
      if (!held.ok()) return held.status();
      if (*held) {
        lock->Release();
        return absl::OkStatus();
      }
    }
  }

  auto padding = Padding(fd, paths.mbox, before.size);
  if (!padding.ok()) return padding.status();
  if (auto status = journal->SetActive(before, before.size,
                                       before.size + padding->size());
      !status.ok()) {
    return status;
  }
  fs::CrashPoint();
  auto entry = WriteMessage(fd, paths.mbox, before.size, *padding, info, source);
  absl::Status status = entry.status();
  if (status.ok() && options.fsync) status = fs::Fdatasync(fd, paths.mbox);
  if (status.ok() && options.fsync && lock->created()) {
    status = fs::FsyncDir(paths.spool_dir);
  }
  if (!status.ok()) {
    // Undo the partial append now; if that fails too, the journal stays
    // active and the next lock holder undoes it.
    if (fs::Truncate(fd, before.size, paths.mbox).ok() &&
        (!options.fsync || fs::Fsync(fd, paths.mbox).ok())) {
      (void)journal->SetIdle();
    }
    return status;
  }
  fs::CrashPoint();
  if (log) {
    // Made durable by SetIdle's sync; if the kill comes first, the journal
    // is still active, the append is undone, and the record fails
    // HoldsDelivery.
    DeliveryRecord record;
    record.id_digest = id_digest;
    record.dev = before.dev;
    record.ino = before.ino;
    record.offset = entry->offset;
    record.length = entry->disk_length;
    record.message_digest = entry->uid;
    if (auto added = log->Add(std::move(record)); !added.ok()) return added;
    fs::CrashPoint();
  }
  if (auto idle = journal->SetIdle(); !idle.ok()) return idle;

  // The message is delivered; the index is only a cache from here on.
  fs::CrashPoint();
  if (padding->empty()) {
    if (auto after = fs::Stat(fd, paths.mbox); after.ok()) {
      AppendToIndex(paths, options, before, *entry,
                    MboxIdentity::FromStat(*after));
    }
  }
  lock->Release();
  return absl::OkStatus();
}

}  // namespace posthorn::store::mbox
