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

absl::Status WriteEnvelopeFile(QueueContext& context,
                               const QueueEnvelope& envelope) {
  absl::StatusOr<std::string> text = SerializeEnvelope(envelope);
  if (!text.ok()) return text.status();
  const std::string final_path = context.EnvPath(envelope.id);
  std::string temp_path;
  fs::UniqueFd fd;
  for (int attempt = 0;; ++attempt) {
    temp_path =
        fs::JoinPath(context.tmp_dir, fs::UniqueTempName(envelope.id + ".env"));
    absl::StatusOr<fs::UniqueFd> created = CreateLockedFile(temp_path);
    if (created.ok()) {
      fd = *std::move(created);
      break;
    }
    bool retry = absl::IsUnavailable(created.status()) ||
                 absl::IsAlreadyExists(created.status());
    if (!retry || attempt == 3) return created.status();
  }
  absl::Status status = fs::WriteAll(fd.get(), *text, temp_path);
  if (status.ok() && context.fsync) status = fs::Fsync(fd.get(), temp_path);
  if (status.ok()) {
    fs::CrashPoint();
    status = fs::Rename(temp_path, final_path);
  }
  if (!status.ok()) {
    (void)fs::Unlink(temp_path);  // best effort; recovery removes it too
  }
  return status;
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
