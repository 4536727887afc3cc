// store/fs/file_util.h — the file primitives every store backend uses.
//
// Errors are values: each call returns a Status naming the path and the
// system's reason ("open /var/spool/mail/alice: Permission denied").
// Every mutating call passes a crash point (crash_point.h) before and after
// the system call, so tests can kill a writer between any two steps.

#ifndef POSTHORN_SRC_STORE_FS_FILE_UTIL_H_
#define POSTHORN_SRC_STORE_FS_FILE_UTIL_H_

#include <sys/stat.h>
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace posthorn::store::fs {

// Owns a file descriptor; closes it on destruction.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd();

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release();
  void reset(int fd = -1);

 private:
  int fd_ = -1;
};

// Status for a failed system call: `what path: strerror(err)`. ENOSPC,
// EIO, EAGAIN, EINTR, EMFILE, ENFILE, ENOMEM, EDQUOT -> Unavailable;
// ENOENT -> NotFound; EACCES, EPERM -> PermissionDenied; EEXIST ->
// AlreadyExists; ELOOP (a symlink where none may be) -> PermissionDenied;
// others -> Internal.
absl::Status ErrnoStatus(int err, std::string_view what, std::string_view path);

// open(2) with O_CLOEXEC | O_NOFOLLOW added. Refuses (PermissionDenied)
// a file that is not a regular file or has more than one link, so a
// symlink or hard link planted in a spool or queue folder is never
// followed (qpopper's trace-file CVE class).
absl::StatusOr<UniqueFd> OpenFile(const std::string& path, int flags,
                                  mode_t mode = 0600);
// open(2) of a folder (O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, read only).
absl::StatusOr<UniqueFd> OpenDir(const std::string& path);

absl::Status WriteAll(int fd, std::string_view data, std::string_view path);
absl::Status PWriteAll(int fd, std::string_view data, std::uint64_t offset,
                       std::string_view path);
// Reads up to `size` bytes at `offset`; fewer only at the end of the file.
absl::StatusOr<std::size_t> PReadSome(int fd, char* out, std::size_t size,
                                      std::uint64_t offset,
                                      std::string_view path);
// The whole file (small files only: notes, envelopes, indexes), at most
// `max_size` bytes or OutOfRange.
absl::StatusOr<std::string> ReadSmallFile(const std::string& path,
                                          std::size_t max_size);

absl::Status Fsync(int fd, std::string_view path);      // fsync(2)
absl::Status Fdatasync(int fd, std::string_view path);  // fdatasync(2)
absl::Status FsyncDir(const std::string& dir);
absl::Status Truncate(int fd, std::uint64_t size, std::string_view path);
absl::Status Rename(const std::string& from, const std::string& to);
absl::Status Unlink(const std::string& path);  // ENOENT is OK
absl::StatusOr<struct stat> Stat(int fd, std::string_view path);
// lstat(2); NotFound when missing.
absl::StatusOr<struct stat> LStat(const std::string& path);
absl::Status MakeDir(const std::string& path, mode_t mode);  // EEXIST is OK

// The folder part of `path` ("." when it has none).
std::string DirName(std::string_view path);
std::string JoinPath(std::string_view dir, std::string_view name);

// Writes `data` to a new temporary file in the folder of `path`, fsyncs
// it, renames it over `path` and fsyncs the folder (unless !durable).
// Readers see the old or the new content, never a mix.
absl::Status AtomicWriteFile(const std::string& path, std::string_view data,
                             mode_t mode, bool durable = true);

// A name unique on this host for temporary files: "<prefix>.<pid>.<n>.<rand>".
std::string UniqueTempName(std::string_view prefix);

// --- locks -----------------------------------------------------------------

// An open-file-description lock (F_OFD_SETLK/SETLKW) on the whole file:
// exclusive between processes AND between descriptors of one process,
// released when the descriptor closes (also when the holder is killed).
// try: InUse (status.h) when held elsewhere. wait: until `timeout`, then
// Unavailable.
absl::Status TryLockOfd(int fd, std::string_view path);
absl::Status LockOfd(int fd, std::string_view path, absl::Duration timeout);

// A POSIX fcntl write lock (F_SETLK) on the whole file, the lock
// mail.local and procmail take; waits up to `timeout`. Per process, so
// use it only together with a DotLock (which excludes threads too).
absl::Status LockFcntl(int fd, std::string_view path, absl::Duration timeout);

// `<path>.lock` holding the owner's pid, made the NFS-safe way: the pid
// is written to a unique temporary file `.<name>.lock.<pid>.<n>.<rand>`
// in the same folder, which is then link(2)ed to the lock name and
// removed, so the lock never exists without its pid (a holder killed at
// any moment leaves a lock naming a dead pid, or no lock; at worst a
// stray temporary file). Waits up to `timeout` (polling); a lock naming a
// pid that no longer runs on this host is broken at once, one without a
// readable pid (another program's) once it is older than `stale_age`.
// Removed by the destructor.
class DotLock {
 public:
  static absl::StatusOr<DotLock> Acquire(const std::string& path,
                                         absl::Duration timeout,
                                         absl::Duration stale_age);
  DotLock(DotLock&& other) noexcept;
  DotLock& operator=(DotLock&& other) noexcept;
  DotLock(const DotLock&) = delete;
  DotLock& operator=(const DotLock&) = delete;
  ~DotLock();
  void Release();
  const std::string& lock_path() const { return lock_path_; }

 private:
  explicit DotLock(std::string lock_path) : lock_path_(std::move(lock_path)) {}
  std::string lock_path_;
};

}  // namespace posthorn::store::fs

#endif  // POSTHORN_SRC_STORE_FS_FILE_UTIL_H_
