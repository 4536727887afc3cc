// store/mbox/append_journal.cpp — see append_journal.h.

#include "store/mbox/append_journal.h"

#include <fcntl.h>

#include <charconv>
#include <vector>

#include "fmt/format.h"
#include "store/fs/crash_point.h"
#include "store/mbox/delivery_log.h"
#include "store/mbox/journal_words.h"
#include "store/mbox/mbox_rewrite.h"
#include "store/mbox/scanner.h"

namespace posthorn::store::mbox {
namespace {

// Every state is written padded to kJournalMarkerSize, so an overwrite
// never changes the file size (no metadata for fdatasync to flush).
constexpr std::uint64_t kJournalFileSize =
    kJournalLogBase + kDeliveryLogSlots * kDeliveryLogSlotSize;

// Grows a journal made before the delivery log existed (or just created)
// to its full size, once; zero bytes read as free log slots.
absl::Status SizeJournal(int fd, const std::string& path) {
  auto st = fs::Stat(fd, path);
  if (!st.ok()) return st.status();
  if (static_cast<std::uint64_t>(st->st_size) >= kJournalFileSize) {
    return absl::OkStatus();
  }
  return fs::Truncate(fd, kJournalFileSize, path);
}

struct ActiveAppend {
  std::uint64_t dev = 0, ino = 0, offset = 0, from_offset = 0;
};


std::optional<ActiveAppend> ParseMarker(std::string_view text) {
  const std::vector<std::string_view> words = JournalWords(text);
  if (words.size() != 5 || words[0] != "active") return std::nullopt;
  ActiveAppend active;
  if (!ParseJournalNumber(words[1], &active.dev) ||
      !ParseJournalNumber(words[2], &active.ino) ||
      !ParseJournalNumber(words[3], &active.offset) ||
      !ParseJournalNumber(words[4], &active.from_offset)) {
    return std::nullopt;
  }
  return active;
}

}  // namespace

absl::StatusOr<AppendJournal> AppendJournal::Open(
    const MboxPaths& paths, const MboxStoreOptions& options) {
  auto fd = fs::OpenFile(paths.append_marker, O_RDWR);
  if (fd.ok() || !absl::IsNotFound(fd.status())) {
    if (!fd.ok()) return fd.status();
    if (auto status = SizeJournal(fd->get(), paths.append_marker);
        !status.ok()) {
      return status;
    }
    return AppendJournal(std::move(*fd), paths.append_marker, options.fsync);
  }
  fd = fs::OpenFile(paths.append_marker, O_RDWR | O_CREAT,
                    static_cast<mode_t>(options.file_mode));
  if (!fd.ok()) return fd.status();
  if (auto status = SizeJournal(fd->get(), paths.append_marker);
      !status.ok()) {
    return status;
  }
  AppendJournal journal(std::move(*fd), paths.append_marker, options.fsync);
  if (auto status = journal.SetIdle(); !status.ok()) return status;
  // The marker must survive a power loss before any append relies on it.
  if (options.fsync) {
    if (auto status = fs::FsyncDir(paths.spool_dir); !status.ok()) {
      return status;
    }
  }
  return journal;
}

absl::Status AppendJournal::Write(std::string_view text) {
  std::string padded(text);
  padded.resize(kJournalMarkerSize, ' ');
  padded.back() = '\n';
  if (auto status = fs::PWriteAll(fd_.get(), padded, 0, path_); !status.ok()) {
    return status;
  }
  return fsync_ ? fs::Fdatasync(fd_.get(), path_) : absl::OkStatus();
}

absl::Status AppendJournal::SetActive(const MboxIdentity& mbox,
                                      std::uint64_t offset,
                                      std::uint64_t from_offset) {
  return Write(fmt::format("active {} {} {} {}", mbox.dev, mbox.ino, offset, from_offset));
}

absl::Status AppendJournal::SetIdle() { return Write("idle"); }

absl::StatusOr<bool> RecoverAppend(const MboxPaths& paths, int mbox_fd,
                                   const MboxStoreOptions& options) {
  if (auto status = fs::Unlink(paths.commit_temp); !status.ok()) return status;
  std::string text(kJournalMarkerSize, '\0');
  {
    auto fd = fs::OpenFile(paths.append_marker, O_RDONLY);
    if (!fd.ok()) {
      return absl::IsNotFound(fd.status()) ? absl::StatusOr<bool>(false)
                                           : fd.status();
    }
    auto n = fs::PReadSome(fd->get(), text.data(), text.size(), 0,
                           paths.append_marker);
    if (!n.ok()) return n.status();
    text.resize(*n);
  }
  std::optional<ActiveAppend> active = ParseMarker(text);
  if (!active) return false;
  auto journal = AppendJournal::Open(paths, options);
  if (!journal.ok()) return journal.status();
  if (mbox_fd < 0) {
    if (auto status = journal->SetIdle(); !status.ok()) return status;
    return false;
  }
  auto st = fs::Stat(mbox_fd, paths.mbox);
  if (!st.ok()) return st.status();
  MboxIdentity now = MboxIdentity::FromStat(*st);
  if (now.dev != active->dev || now.ino != active->ino ||
      now.size <= active->offset) {
    // Another file (replaced since), or nothing of the append landed.
    if (auto status = journal->SetIdle(); !status.ok()) return status;
    return false;
  }
  // Did another program append after the broken message?
  std::optional<std::uint64_t> foreign_start;
  if (active->from_offset < now.size) {
    auto found = ScanMbox(mbox_fd, paths.mbox, active->from_offset, now.size);
    if (found.ok() && found->size() >= 2) foreign_start = (*found)[1].offset;
  }
  bool replaced = false;
  if (!foreign_start) {
    if (auto status = fs::Truncate(mbox_fd, active->offset, paths.mbox);
        !status.ok()) {
      return status;
    }
    if (options.fsync) {
      if (auto status = fs::Fsync(mbox_fd, paths.mbox); !status.ok()) {
        return status;
      }
    }
  } else {
    std::vector<ByteRange> keep = {
        {0, active->offset},
        {*foreign_start, now.size - *foreign_start}};
    auto rewritten = RewriteMbox(paths, mbox_fd, keep, options);
    if (!rewritten.ok()) return rewritten.status();
    replaced = true;
    // Keyed deliveries before and after the removed bytes moved with them.
    auto log = DeliveryLog::Read(journal->fd(), journal->path(),
                                 kJournalLogBase);
    if (!log.ok()) return log.status();
    const std::uint64_t cut = *foreign_start - active->offset;
    auto status = log->Remap(
        now, rewritten->new_identity,
        [&](DeliveryRecord& r) {
          if (r.offset + r.length <= active->offset) {
            return DeliveryLog::Fate::kMoved;
          }
          if (r.offset >= *foreign_start) {
            r.offset -= cut;
            return DeliveryLog::Fate::kMoved;
          }
          return DeliveryLog::Fate::kDropped;
        },
        options.fsync);
    if (!status.ok()) return status;
  }
  fs::CrashPoint();
  if (auto status = journal->SetIdle(); !status.ok()) return status;
  return replaced;
}

}  // namespace posthorn::store::mbox
