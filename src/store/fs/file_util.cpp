// store/fs/file_util.cpp — see file_util.h.

#include "store/fs/file_util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <random>
#include <thread>
#include <utility>

#include "absl/strings/numbers.h"
#include "fmt/format.h"
#include "posthorn/store/status.h"
#include "store/fs/crash_point.h"

namespace posthorn::store::fs {

UniqueFd& UniqueFd::operator=(UniqueFd&& other) noexcept {
  if (this != &other) reset(other.release());
  return *this;
}

UniqueFd::~UniqueFd() { reset(); }

int UniqueFd::release() { return std::exchange(fd_, -1); }

void UniqueFd::reset(int fd) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

absl::Status ErrnoStatus(int err, std::string_view what,
                         std::string_view path) {
  std::string message = fmt::format("{} {}: {}", what, path, std::strerror(err));
  switch (err) {
    case ENOSPC:
    case EDQUOT:
    case EIO:
    case EAGAIN:
    case EINTR:
    case EMFILE:
    case ENFILE:
    case ENOMEM:
    case EBUSY:
      return absl::UnavailableError(message);
    case ENOENT:
      return absl::NotFoundError(message);
    case EACCES:
    case EPERM:
    case ELOOP:
      return absl::PermissionDeniedError(message);
    case EEXIST:
      return absl::AlreadyExistsError(message);
    default:
      return absl::InternalError(message);
  }
}

absl::StatusOr<UniqueFd> OpenFile(const std::string& path, int flags,
                                  mode_t mode) {
  if (flags & O_CREAT) CrashPoint();
  UniqueFd fd(::open(path.c_str(), flags | O_CLOEXEC | O_NOFOLLOW, mode));
  if (!fd.valid()) return ErrnoStatus(errno, "open", path);
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return ErrnoStatus(errno, "fstat", path);
  if (!S_ISREG(st.st_mode)) {
    return absl::PermissionDeniedError(
        fmt::format("open {}: not a regular file", path));
  }
  if (st.st_nlink > 1) {
    return absl::PermissionDeniedError(fmt::format(
        "open {}: has {} links (refused: a hard link could point anywhere)",
        path, st.st_nlink));
  }
  return fd;
}

absl::StatusOr<UniqueFd> OpenDir(const std::string& path) {
  UniqueFd fd(::open(path.c_str(),
                     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid()) return ErrnoStatus(errno, "open folder", path);
  return fd;
}

absl::Status WriteAll(int fd, std::string_view data, std::string_view path) {
  CrashPoint();
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "write", path);
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  CrashPoint();
  return absl::OkStatus();
}

absl::Status PWriteAll(int fd, std::string_view data, std::uint64_t offset,
                       std::string_view path) {
  CrashPoint();
  while (!data.empty()) {
    ssize_t n = ::pwrite(fd, data.data(), data.size(),
                         static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "write", path);
    }
    data.remove_prefix(static_cast<std::size_t>(n));
    offset += static_cast<std::uint64_t>(n);
  }
  CrashPoint();
  return absl::OkStatus();
}

absl::StatusOr<std::size_t> PReadSome(int fd, char* out, std::size_t size,
                                      std::uint64_t offset,
                                      std::string_view path) {
  std::size_t done = 0;
  while (done < size) {
    ssize_t n = ::pread(fd, out + done, size - done,
                        static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "read", path);
    }
    if (n == 0) break;
    done += static_cast<std::size_t>(n);
  }
  return done;
}

absl::StatusOr<std::string> ReadSmallFile(const std::string& path,
                                          std::size_t max_size) {
  auto fd = OpenFile(path, O_RDONLY);
  if (!fd.ok()) return fd.status();
  auto st = Stat(fd->get(), path);
  if (!st.ok()) return st.status();
  if (static_cast<std::uint64_t>(st->st_size) > max_size) {
    return absl::OutOfRangeError(fmt::format(
        "{}: {} bytes, more than the {} allowed", path, st->st_size, max_size));
  }
  std::string data(static_cast<std::size_t>(st->st_size), '\0');
  auto n = PReadSome(fd->get(), data.data(), data.size(), 0, path);
  if (!n.ok()) return n.status();
  data.resize(*n);
  return data;
}

absl::Status Fsync(int fd, std::string_view path) {
  CrashPoint();
  if (::fsync(fd) != 0) return ErrnoStatus(errno, "fsync", path);
  CrashPoint();
  return absl::OkStatus();
}

absl::Status Fdatasync(int fd, std::string_view path) {
  CrashPoint();
  if (::fdatasync(fd) != 0) return ErrnoStatus(errno, "fdatasync", path);
  CrashPoint();
  return absl::OkStatus();
}

absl::Status FsyncDir(const std::string& dir) {
  auto fd = OpenDir(dir);
  if (!fd.ok()) return fd.status();
  return Fsync(fd->get(), dir);
}

absl::Status Truncate(int fd, std::uint64_t size, std::string_view path) {
  CrashPoint();
  if (::ftruncate(fd, static_cast<off_t>(size)) != 0) {
    return ErrnoStatus(errno, "truncate", path);
  }
  CrashPoint();
  return absl::OkStatus();
}

absl::Status Rename(const std::string& from, const std::string& to) {
  CrashPoint();
  if (::rename(from.c_str(), to.c_str()) != 0) {
    return ErrnoStatus(errno, fmt::format("rename {} to", from), to);
  }
  CrashPoint();
  return absl::OkStatus();
}

absl::Status Unlink(const std::string& path) {
  CrashPoint();
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return ErrnoStatus(errno, "unlink", path);
  }
  CrashPoint();
  return absl::OkStatus();
}

absl::StatusOr<struct stat> Stat(int fd, std::string_view path) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return ErrnoStatus(errno, "fstat", path);
  return st;
}

absl::StatusOr<struct stat> LStat(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) return ErrnoStatus(errno, "lstat", path);
  return st;
}

absl::Status MakeDir(const std::string& path, mode_t mode) {
  CrashPoint();
  if (::mkdir(path.c_str(), mode) != 0) {
    if (errno != EEXIST) return ErrnoStatus(errno, "mkdir", path);
    auto st = LStat(path);
    if (!st.ok()) return st.status();
    if (!S_ISDIR(st->st_mode)) {
      return absl::FailedPreconditionError(
          fmt::format("mkdir {}: exists and is not a folder", path));
    }
  }
  CrashPoint();
  return absl::OkStatus();
}

std::string DirName(std::string_view path) {
  auto slash = path.rfind('/');
  if (slash == std::string_view::npos) return ".";
  if (slash == 0) return "/";
  return std::string(path.substr(0, slash));
}

std::string JoinPath(std::string_view dir, std::string_view name) {
  if (dir.empty()) return std::string(name);
  if (dir.back() == '/') return fmt::format("{}{}", dir, name);
  return fmt::format("{}/{}", dir, name);
}

std::string UniqueTempName(std::string_view prefix) {
  static std::atomic<std::uint64_t> counter{0};
  thread_local std::mt19937_64 random(std::random_device{}());
  return fmt::format("{}.{}.{}.{:08x}", prefix, ::getpid(),
                     counter.fetch_add(1, std::memory_order_relaxed),
                     random() & 0xffffffffu);
}

absl::Status AtomicWriteFile(const std::string& path, std::string_view data,
                             mode_t mode, bool durable) {
  std::string dir = DirName(path);
  auto slash = path.rfind('/');
  std::string base = path.substr(slash == std::string::npos ? 0 : slash + 1);
  std::string temp = JoinPath(dir, UniqueTempName(fmt::format(".{}.tmp", base)));
  auto fd = OpenFile(temp, O_WRONLY | O_CREAT | O_EXCL, mode);
  if (!fd.ok()) return fd.status();
  absl::Status status = WriteAll(fd->get(), data, temp);
  if (status.ok() && durable) status = Fsync(fd->get(), temp);
  if (status.ok()) status = Rename(temp, path);
  if (!status.ok()) {
    ::unlink(temp.c_str());
    return status;
  }
  if (durable) return FsyncDir(dir);
  return absl::OkStatus();
}

// --- locks -----------------------------------------------------------------

namespace {

struct flock WholeFileWriteLock() {
  struct flock lock;
  std::memset(&lock, 0, sizeof lock);
  lock.l_type = F_WRLCK;
  lock.l_whence = SEEK_SET;
  lock.l_start = 0;
  lock.l_len = 0;  // to the end, however the file grows
  return lock;
}

// Polls `try_once` until it stops answering "busy" or `timeout` passes;
// polling (rather than F_SETLKW) keeps the wait bounded.
template <typename TryOnce>
absl::Status PollLock(TryOnce try_once, std::string_view what,
                      std::string_view path, absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  absl::Duration pause = absl::Milliseconds(1);
  for (;;) {
    int err = try_once();
    if (err == 0) return absl::OkStatus();
    if (err != EAGAIN && err != EACCES && err != EINTR) {
      return ErrnoStatus(err, what, path);
    }
    if (absl::Now() >= deadline) {
      return absl::UnavailableError(fmt::format(
          "{} {}: still held by another process after {}", what, path,
          absl::FormatDuration(timeout)));
    }
    std::this_thread::sleep_for(absl::ToChronoMicroseconds(pause));
    pause = std::min(pause * 2, absl::Milliseconds(50));
  }
}

}  // namespace

absl::Status TryLockOfd(int fd, std::string_view path) {
  struct flock lock = WholeFileWriteLock();
  if (::fcntl(fd, F_OFD_SETLK, &lock) == 0) return absl::OkStatus();
  if (errno == EAGAIN || errno == EACCES) {
    return InUseError(fmt::format("{} is locked by another session", path));
  }
  return ErrnoStatus(errno, "lock", path);
}

absl::Status LockOfd(int fd, std::string_view path, absl::Duration timeout) {
  return PollLock(
      [fd] {
        struct flock lock = WholeFileWriteLock();
        return ::fcntl(fd, F_OFD_SETLK, &lock) == 0 ? 0 : errno;
      },
      "lock", path, timeout);
}

absl::Status LockFcntl(int fd, std::string_view path, absl::Duration timeout) {
  return PollLock(
      [fd] {
        struct flock lock = WholeFileWriteLock();
        return ::fcntl(fd, F_SETLK, &lock) == 0 ? 0 : errno;
      },
      "fcntl lock", path, timeout);
}

namespace {

// True when the lock file open as `fd` names a pid that no longer runs
// here.
bool HolderIsDead(int fd) {
  char buffer[32];
  ssize_t n = ::pread(fd, buffer, sizeof buffer - 1, 0);
  if (n <= 0) return false;
  std::string_view text(buffer, static_cast<std::size_t>(n));
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) {
    text.remove_suffix(1);
  }
  int pid = 0;
  if (!absl::SimpleAtoi(absl::string_view(text.data(), text.size()), &pid) ||
      pid <= 0) {
    return false;
  }
  return ::kill(pid, 0) != 0 && errno == ESRCH;
}

// Removes `lock_path` when it is stale (older than `stale_age`, or its
// holder is dead). The inode is checked again just before the unlink so a
// waiter that judged an old lock stale does not remove a fresh one made
// meanwhile by another waiter (the window left is one lstat+unlink).
void BreakIfStale(const std::string& lock_path, absl::Duration stale_age) {
  UniqueFd fd(::open(lock_path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid()) return;
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return;
  absl::Time modified = absl::FromUnixSeconds(st.st_mtime);
  if (absl::Now() - modified <= stale_age && !HolderIsDead(fd.get())) return;
  struct stat now;
  if (::lstat(lock_path.c_str(), &now) != 0) return;
  if (now.st_ino != st.st_ino || now.st_dev != st.st_dev) return;
  ::unlink(lock_path.c_str());
}

}  // namespace

namespace {

// Makes `lock_path` a hard link to `temp` (which holds the pid). 0, or the
// errno; EEXIST when the lock is taken. link() over NFS may report an
// error although it worked (a lost reply): the link count tells.
int LinkLock(const std::string& temp, int temp_fd,
             const std::string& lock_path) {
  CrashPoint();
  if (::link(temp.c_str(), lock_path.c_str()) == 0) return 0;
  int err = errno;
  struct stat st;
  if (err != EEXIST && ::fstat(temp_fd, &st) == 0 && st.st_nlink == 2) {
    return 0;
  }
  return err;
}

}  // namespace

absl::StatusOr<DotLock> DotLock::Acquire(const std::string& path,
                                         absl::Duration timeout,
                                         absl::Duration stale_age) {
  std::string lock_path = path + ".lock";
  std::string content = fmt::format("{}\n", ::getpid());
  // The pid is written before the lock name exists (write a unique file,
  // then link it to the lock name, the NFS-safe dot-lock): a holder killed
  // at any moment leaves a lock naming it, which the next waiter breaks
  // at once (HolderIsDead), never an empty one that blocks for stale_age.
  std::string base = lock_path.substr(lock_path.rfind('/') + 1);
  std::string temp = JoinPath(DirName(lock_path),
                              UniqueTempName(fmt::format(".{}", base)));
  CrashPoint();
  UniqueFd temp_fd(::open(temp.c_str(),
                          O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                          0644));
  if (!temp_fd.valid()) return ErrnoStatus(errno, "create lock", temp);
  absl::Status written = WriteAll(temp_fd.get(), content, temp);
  if (!written.ok()) {
    ::unlink(temp.c_str());
    return written;
  }
  absl::Time deadline = absl::Now() + timeout;
  absl::Duration pause = absl::Milliseconds(1);
  for (;;) {
    int err = LinkLock(temp, temp_fd.get(), lock_path);
    if (err == 0) {
      CrashPoint();
      ::unlink(temp.c_str());  // the lock keeps the inode
      return DotLock(std::move(lock_path));
    }
    if (err != EEXIST) {
      ::unlink(temp.c_str());
      return ErrnoStatus(err, "create lock", lock_path);
    }
    BreakIfStale(lock_path, stale_age);
    if (::access(lock_path.c_str(), F_OK) != 0) continue;  // broken or freed
    if (absl::Now() >= deadline) {
      ::unlink(temp.c_str());
      return absl::UnavailableError(fmt::format(
          "lock {}: still held after {}", lock_path,
          absl::FormatDuration(timeout)));
    }
    std::this_thread::sleep_for(absl::ToChronoMicroseconds(pause));
    pause = std::min(pause * 2, absl::Milliseconds(50));
  }
}

DotLock::DotLock(DotLock&& other) noexcept
    : lock_path_(std::exchange(other.lock_path_, std::string())) {}

DotLock& DotLock::operator=(DotLock&& other) noexcept {
  if (this != &other) {
    Release();
    lock_path_ = std::exchange(other.lock_path_, std::string());
  }
  return *this;
}

DotLock::~DotLock() { Release(); }

void DotLock::Release() {
  if (lock_path_.empty()) return;
  CrashPoint();
  ::unlink(lock_path_.c_str());
  lock_path_.clear();
}

}  // namespace posthorn::store::fs
