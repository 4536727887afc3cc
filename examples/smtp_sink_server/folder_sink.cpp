// Message files for smtp_sink_server: see folder_sink.h.

#include "folder_sink.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "fmt/format.h"
#include "json_text.h"

namespace posthorn::examples {
namespace {

absl::Status Errno(std::string_view what, std::string_view name) {
  const int saved = errno;
  const std::string text =
      fmt::format("{} {}: {}", what, name, std::strerror(saved));
  return saved == ENOSPC || saved == EDQUOT
             ? absl::ResourceExhaustedError(text)
             : absl::InternalError(text);
}

absl::Status WriteAll(int fd, std::string_view data, std::string_view name) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Errno("write", name);
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return absl::OkStatus();
}

// Writes a whole small file under a temporary name, fsyncs, renames.
absl::Status WriteFileAtomically(int dir_fd, const std::string& name,
                                 std::string_view content) {
  const std::string temp = ".tmp." + name;
  const int fd = ::openat(dir_fd, temp.c_str(),
                          O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return Errno("create", temp);
  absl::Status status = WriteAll(fd, content, temp);
  if (status.ok() && ::fsync(fd) != 0) status = Errno("fsync", temp);
  if (::close(fd) != 0 && status.ok()) status = Errno("close", temp);
  if (status.ok() && ::renameat(dir_fd, temp.c_str(), dir_fd, name.c_str()) !=
                         0) {
    status = Errno("rename", temp);
  }
  if (!status.ok()) ::unlinkat(dir_fd, temp.c_str(), 0);
  return status;
}

}  // namespace

// ---------------------------------------------------------------------------
// Folder.

absl::StatusOr<std::unique_ptr<Folder>> Folder::Open(const std::string& path) {
  if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) {
    return Errno("mkdir", path);
  }
  const int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Errno("open", path);
  return std::unique_ptr<Folder>(new Folder(path, fd));
}

Folder::~Folder() { ::close(fd_); }

std::string Folder::NewName() {
  timeval now{};
  ::gettimeofday(&now, nullptr);
  return fmt::format("{}.{:06}.{}.{}.eml", now.tv_sec, now.tv_usec, ::getpid(),
                     counter_.fetch_add(1, std::memory_order_relaxed));
}

// ---------------------------------------------------------------------------
// FolderMessage.

absl::StatusOr<std::unique_ptr<FolderMessage>> FolderMessage::Create(
    Folder* folder, std::string_view prefix, std::string envelope_extra) {
  std::string name = folder->NewName();
  const std::string temp = ".tmp." + name;
  const int fd = ::openat(folder->fd(), temp.c_str(),
                          O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return Errno("create", temp);
  std::unique_ptr<FolderMessage> message(new FolderMessage(
      folder, std::move(name), fd, std::move(envelope_extra)));
  if (!prefix.empty()) {
    if (absl::Status status = message->Write(prefix); !status.ok()) {
      return status;
    }
  }
  return message;
}

FolderMessage::FolderMessage(Folder* folder, std::string name, int fd,
                             std::string envelope_extra)
    : folder_(folder),
      name_(std::move(name)),
      temp_name_(".tmp." + name_),
      fd_(fd),
      envelope_extra_(std::move(envelope_extra)) {}

FolderMessage::~FolderMessage() { Discard(); }

void FolderMessage::Discard() {
  if (fd_ < 0) return;
  ::close(fd_);
  fd_ = -1;
  ::unlinkat(folder_->fd(), temp_name_.c_str(), 0);
}

absl::Status FolderMessage::Write(std::string_view chunk) {
  if (fd_ < 0) return absl::FailedPreconditionError("message closed");
  size_ += chunk.size();
  return WriteAll(fd_, chunk, temp_name_);
}

absl::StatusOr<std::string> FolderMessage::Commit(
    const smtp::Envelope& envelope) {
  if (fd_ < 0) return absl::FailedPreconditionError("message closed");
  if (::fsync(fd_) != 0) {
    absl::Status status = Errno("fsync", temp_name_);
    Discard();
    return status;
  }
  const int fd = std::exchange(fd_, -1);
  if (::close(fd) != 0) {
    absl::Status status = Errno("close", temp_name_);
    ::unlinkat(folder_->fd(), temp_name_.c_str(), 0);
    return status;
  }

  std::string json = "{\"mail_from\": ";
  AppendJsonString(envelope.mail_from, &json);
  json += ", \"recipients\": [";
  for (std::size_t i = 0; i < envelope.recipients.size(); ++i) {
    if (i > 0) json += ", ";
    AppendJsonString(envelope.recipients[i].address, &json);
  }
  json += "]";
  json += envelope_extra_;
  json += fmt::format(", \"size\": {}}}\n", size_);

  const std::string env_name = name_ + ".env";
  absl::Status status = WriteFileAtomically(folder_->fd(), env_name, json);
  if (status.ok() && ::renameat(folder_->fd(), temp_name_.c_str(),
                                folder_->fd(), name_.c_str()) != 0) {
    status = Errno("rename", temp_name_);
    ::unlinkat(folder_->fd(), env_name.c_str(), 0);
  }
  if (!status.ok()) {
    ::unlinkat(folder_->fd(), temp_name_.c_str(), 0);
    return status;
  }
  // The renames are durable only once the folder itself is synced.
  if (::fsync(folder_->fd()) != 0) return Errno("fsync", folder_->path());
  return "Ok: queued as " + name_;
}

void FolderMessage::Abort() { Discard(); }

// ---------------------------------------------------------------------------
// DiscardMessage.

absl::Status DiscardMessage::Write(std::string_view /*chunk*/) {
  return absl::OkStatus();
}

absl::StatusOr<std::string> DiscardMessage::Commit(
    const smtp::Envelope& /*envelope*/) {
  return std::string("Ok: discarded");
}

}  // namespace posthorn::examples
