// FolderSink: downloaded messages as files in a folder, written atomically
// (temporary file, fsync, rename, fsync of the folder). See folder_sink.h.

#include "folder_sink.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <string>
#include <string_view>
#include <utility>

#include "fmt/format.h"

namespace posthorn::examples {
namespace {

absl::Status Errno(std::string_view what, const std::string& name) {
  return absl::InternalError(
      fmt::format("{} {}: {}", what, name, std::strerror(errno)));
}

bool KeptAsIs(char c, bool first) {
  if (c >= 'a' && c <= 'z') return true;
  if (c >= 'A' && c <= 'Z') return true;
  if (c >= '0' && c <= '9') return true;
  if (c == '-' || c == '_') return true;
  return c == '.' && !first;  // no hidden files, no "." or ".."
}

}  // namespace

std::string FileNameForUid(std::string_view uid) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string name;
  name.reserve(uid.size());
  for (std::size_t i = 0; i < uid.size(); ++i) {
    const char c = uid[i];
    if (KeptAsIs(c, i == 0)) {
      name += c;
    } else {
      const auto u = static_cast<unsigned char>(c);
      name += '%';
      name += kHex[u >> 4];
      name += kHex[u & 0x0f];
    }
  }
  return name + ".eml";
}

absl::StatusOr<FolderSink> FolderSink::Open(std::string path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Errno("cannot open folder", path);
  return FolderSink(std::move(path), fd);
}

FolderSink::FolderSink(FolderSink&& other) noexcept
    : path_(std::move(other.path_)),
      dir_fd_(std::exchange(other.dir_fd_, -1)),
      file_fd_(std::exchange(other.file_fd_, -1)),
      temp_name_(std::move(other.temp_name_)),
      final_name_(std::move(other.final_name_)) {}

FolderSink::~FolderSink() {
  Discard();
  if (dir_fd_ >= 0) ::close(dir_fd_);
}

net::FetchSink::Decision FolderSink::Consider(
    const net::MessageInfo& message) {
  if (message.uid.empty()) return Decision::kFetch;
  struct stat st {};
  const std::string name = FileNameForUid(message.uid);
  if (::fstatat(dir_fd_, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
    return Decision::kAlreadyStored;
  }
  return Decision::kFetch;
}

absl::Status FolderSink::Begin(const net::MessageInfo& message) {
  Discard();
  final_name_ = message.uid.empty()
                    ? fmt::format("nouid-{}-{}-{}.eml",
                                  static_cast<long long>(std::time(nullptr)),
                                  ::getpid(), message.number)
                    : FileNameForUid(message.uid);
  temp_name_ = fmt::format(".tmp-{}-{}", ::getpid(), message.number);
  // A stale temporary of an earlier run with the same pid is ours to drop.
  ::unlinkat(dir_fd_, temp_name_.c_str(), 0);
  file_fd_ = ::openat(dir_fd_, temp_name_.c_str(),
                      O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                      0600);
  if (file_fd_ < 0) {
    const absl::Status status = Errno("cannot create", path_ + "/" + temp_name_);
    temp_name_.clear();
    return status;
  }
  return absl::OkStatus();
}

absl::Status FolderSink::Write(std::string_view chunk) {
  while (!chunk.empty()) {
    const ssize_t n = ::write(file_fd_, chunk.data(), chunk.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Errno("cannot write", path_ + "/" + temp_name_);
    }
    chunk.remove_prefix(static_cast<std::size_t>(n));
  }
  return absl::OkStatus();
}

absl::Status FolderSink::End() {
  const std::string temp = path_ + "/" + temp_name_;
  absl::Status status;
  if (::fsync(file_fd_) != 0) status = Errno("cannot fsync", temp);
  if (::close(std::exchange(file_fd_, -1)) != 0 && status.ok()) {
    status = Errno("cannot close", temp);
  }
  if (status.ok() && ::renameat(dir_fd_, temp_name_.c_str(), dir_fd_,
                                final_name_.c_str()) != 0) {
    status = Errno("cannot rename", temp);
  }
  if (!status.ok()) {
    Discard();
    return status;
  }
  temp_name_.clear();
  // The rename is durable only once the folder is.
  if (::fsync(dir_fd_) != 0) return Errno("cannot fsync folder", path_);
  return absl::OkStatus();
}

void FolderSink::Abort(const absl::Status& why) {
  (void)why;
  Discard();
}

void FolderSink::Discard() {
  if (file_fd_ >= 0) ::close(std::exchange(file_fd_, -1));
  if (!temp_name_.empty() && dir_fd_ >= 0) {
    ::unlinkat(dir_fd_, temp_name_.c_str(), 0);
  }
  temp_name_.clear();
}

}  // namespace posthorn::examples
