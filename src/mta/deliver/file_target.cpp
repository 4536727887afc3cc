// mta/deliver/file_target.cpp — see file_target.h.

#include "mta/deliver/file_target.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <thread>

#include "fmt/format.h"
#include "store/fs/file_util.h"
#include "store/mbox/from_line.h"
#include "store/mbox/mboxrd_encoder.h"

namespace posthorn::mta::deliver {
namespace {

// Reading the message for the file, and how often a held lock is retried.
constexpr std::size_t kChunkSize = 16384;
constexpr auto kLockRetry = std::chrono::milliseconds(50);

// fcntl write lock on the whole file, retried until kFileLockWait. Not
// F_SETLKW: a holder that never lets go must not block a worker forever.
absl::Status LockFile(int fd, const std::string& path) {
  absl::Time deadline = absl::Now() + kFileLockWait;
  for (;;) {
    struct flock lock = {};
    lock.l_type = F_WRLCK;
    lock.l_whence = SEEK_SET;
    if (::fcntl(fd, F_SETLK, &lock) == 0) return absl::OkStatus();
    if (errno != EACCES && errno != EAGAIN && errno != EINTR) {
      return store::fs::ErrnoStatus(errno, "lock", path);
    }
    if (absl::Now() >= deadline) {
      return absl::UnavailableError(
          fmt::format("lock {}: still held after {}", path,
                      absl::FormatDuration(kFileLockWait)));
    }
    std::this_thread::sleep_for(kLockRetry);
  }
}

// Writes the From line, the quoted message and the closing empty line.
absl::Status WriteMessage(int fd, const std::string& path,
                          const std::string& sender, absl::Time arrival,
                          const DataOpener& open_data) {
  auto reader = open_data();
  if (!reader.ok()) return reader.status();
  absl::Status status = store::fs::WriteAll(
      fd, store::mbox::FormatFromLine(sender, arrival), path);
  if (!status.ok()) return status;
  store::mbox::MboxrdEncoder encoder;
  char buffer[kChunkSize];
  std::string out;
  for (;;) {
    auto n = (*reader)->Read(buffer);
    if (!n.ok()) return n.status();
    out.clear();
    if (*n == 0) {
      encoder.Finish(&out);
      out += '\n';  // the empty line that ends an mbox message
    } else {
      encoder.Feed(std::string_view(buffer, *n), &out);
    }
    status = store::fs::WriteAll(fd, out, path);
    if (!status.ok() || *n == 0) return status;
  }
}

}  // namespace

TargetResult AppendToFile(const std::string& path,
                          const std::string& envelope_sender,
                          absl::Time arrival, const DataOpener& open_data) {
  if (path == "/dev/null") {
    return {DeliveryStatus::kSent, "250 2.0.0 discarded (/dev/null)"};
  }
  if (path.empty() || path.front() != '/') {
    return {DeliveryStatus::kBounced,
            fmt::format("550 5.3.0 {}: a file target needs an absolute path",
                        path)};
  }
  // O_NONBLOCK: opening a FIFO must not hang; it is then refused as not a
  // regular file.
  auto fd = store::fs::OpenFile(path, O_WRONLY | O_APPEND | O_CREAT |
                                          O_NONBLOCK, 0600);
  if (!fd.ok()) {
    if (absl::IsPermissionDenied(fd.status())) {
      return {DeliveryStatus::kBounced,
              fmt::format("550 5.3.0 {}", std::string(fd.status().message()))};
    }
    return StorageFailure(fd.status(), path);
  }
  if (absl::Status s = LockFile(fd->get(), path); !s.ok()) {
    return StorageFailure(s, path);
  }
  // The size under the lock: where this message starts.
  auto before = store::fs::Stat(fd->get(), path);
  if (!before.ok()) return StorageFailure(before.status(), path);
  absl::Status status =
      WriteMessage(fd->get(), path, envelope_sender, arrival, open_data);
  if (status.ok()) status = store::fs::Fsync(fd->get(), path);
  if (!status.ok()) {
    // Never leave half a message behind: the next append would glue to it.
    (void)store::fs::Truncate(fd->get(),
                              static_cast<std::uint64_t>(before->st_size),
                              path);
    return StorageFailure(status, path);
  }
  return {DeliveryStatus::kSent, fmt::format("250 2.0.0 appended to {}", path)};
}

}  // namespace posthorn::mta::deliver
