// store/queue/queue_files.cpp — see queue_files.h.

#include "store/queue/queue_files.h"

#include <dirent.h>
#include <fcntl.h>

#include <cerrno>
#include <cstring>

#include "absl/status/status.h"
#include "fmt/format.h"
#include "posthorn/store/status.h"
#include "store/fs/crash_point.h"
#include "store/queue/envelope_format.h"

namespace posthorn::store::queue {
namespace {

class DataFileReader final : public MessageReader {
 public:
  DataFileReader(fs::UniqueFd fd, std::string path)
      : fd_(std::move(fd)), path_(std::move(path)) {}

  absl::StatusOr<std::size_t> Read(std::span<char> buffer) override {
    if (buffer.empty()) return 0;
    absl::StatusOr<std::size_t> n =
        fs::PReadSome(fd_.get(), buffer.data(), buffer.size(), offset_, path_);
    if (n.ok()) offset_ += *n;
    return n;
  }

 private:
  fs::UniqueFd fd_;
  std::string path_;
  std::uint64_t offset_ = 0;
};

}  // namespace

absl::StatusOr<std::vector<std::string>> ListFolder(const std::string& dir) {
  DIR* handle = ::opendir(dir.c_str());
  if (handle == nullptr) return fs::ErrnoStatus(errno, "opendir", dir);
  std::vector<std::string> names;
  for (;;) {
    errno = 0;
    struct dirent* entry = ::readdir(handle);
    if (entry == nullptr) break;
    std::string_view name = entry->d_name;
    if (name == "." || name == "..") continue;
    names.emplace_back(name);
  }
  int err = errno;
  ::closedir(handle);
  if (err != 0) return fs::ErrnoStatus(err, "readdir", dir);
  return names;
}

absl::StatusOr<fs::UniqueFd> CreateLockedFile(const std::string& path) {
  absl::StatusOr<fs::UniqueFd> fd =
      fs::OpenFile(path, O_RDWR | O_CREAT | O_EXCL, 0600);
  if (!fd.ok()) return fd.status();
  // Recovery in another process may lock and unlink a tmp/ file it finds
  // unlocked; it can only do so between our open and this lock.
  absl::Status locked = fs::TryLockOfd(fd->get(), path);
  if (!locked.ok()) {
    if (IsInUse(locked)) {
      return absl::UnavailableError(
          fmt::format("create {}: taken by queue recovery", path));
    }
    return locked;
  }
  absl::StatusOr<struct stat> st = fs::Stat(fd->get(), path);
  if (!st.ok()) return st.status();
  if (st->st_nlink == 0) {
    return absl::UnavailableError(
        fmt::format("create {}: removed by queue recovery", path));
  }
  return fd;
}

StagedEnvelope::~StagedEnvelope() {
  // Best effort; recovery removes a leftover too (its lock dies with fd).
  if (!temp_path.empty()) (void)fs::Unlink(temp_path);
}

absl::StatusOr<StagedEnvelope> StageEnvelopeFile(
    const QueueContext& context, const QueueEnvelope& envelope) {
  absl::StatusOr<std::string> text = SerializeEnvelope(envelope);
  if (!text.ok()) return text.status();
  StagedEnvelope staged;
  staged.final_path = context.EnvPath(envelope.id);
  for (int attempt = 0;; ++attempt) {
    std::string temp_path =
        fs::JoinPath(context.tmp_dir, fs::UniqueTempName(envelope.id + ".env"));
    absl::StatusOr<fs::UniqueFd> created = CreateLockedFile(temp_path);
    if (created.ok()) {
      staged.fd = *std::move(created);
      staged.temp_path = std::move(temp_path);
      break;
    }
    bool retry = absl::IsUnavailable(created.status()) ||
                 absl::IsAlreadyExists(created.status());
    if (!retry || attempt == 3) return created.status();
  }
  absl::Status written = fs::WriteAll(staged.fd.get(), *text, staged.temp_path);
  if (!written.ok()) return written;  // the destructor removes the file
  return staged;
}

absl::Status CommitStagedEnvelope(StagedEnvelope& staged) {
  fs::CrashPoint();
  absl::Status status = fs::Rename(staged.temp_path, staged.final_path);
  if (status.ok()) staged.temp_path.clear();
  return status;
}

absl::Status SyncTogether(std::initializer_list<SyncFile> files) {
  if (files.size() > 1) {
    for (const SyncFile& f : files) {
      // Only a hint (see queue_files.h): its result does not matter.
      (void)::sync_file_range(f.fd, 0, 0, SYNC_FILE_RANGE_WRITE);
    }
  }
  absl::Status first;
  for (const SyncFile& f : files) {
    absl::Status s = f.data_only ? fs::Fdatasync(f.fd, f.path)
                                 : fs::Fsync(f.fd, f.path);
    if (first.ok() && !s.ok()) first = std::move(s);
  }
  return first;
}

absl::Status WriteEnvelopeFile(QueueContext& context,
                               const QueueEnvelope& envelope) {
  absl::StatusOr<StagedEnvelope> staged = StageEnvelopeFile(context, envelope);
  if (!staged.ok()) return staged.status();
  if (context.fsync) {
    absl::Status synced = fs::Fsync(staged->fd.get(), staged->temp_path);
    if (!synced.ok()) return synced;
  }
  return CommitStagedEnvelope(*staged);
}

absl::StatusOr<QueueEnvelope> ReadEnvelopeFile(const QueueContext& context,
                                               const std::string& id) {
  const std::string path = context.EnvPath(id);
  absl::StatusOr<std::string> text = fs::ReadSmallFile(path, kMaxEnvelopeBytes);
  if (!text.ok()) {
    if (absl::IsOutOfRange(text.status())) {
      return absl::DataLossError(fmt::format(
          "queue envelope {}: larger than {} bytes", path, kMaxEnvelopeBytes));
    }
    return text.status();
  }
  absl::StatusOr<QueueEnvelope> envelope = ParseEnvelope(*text, path);
  if (!envelope.ok()) return envelope.status();
  if (envelope->id != id) {
    return absl::DataLossError(fmt::format(
        "queue envelope {} line 2: names another id {}", path, envelope->id));
  }
  return envelope;
}

std::unique_ptr<MessageReader> MakeFileReader(fs::UniqueFd fd,
                                              std::string path) {
  return std::make_unique<DataFileReader>(std::move(fd), std::move(path));
}

}  // namespace posthorn::store::queue
