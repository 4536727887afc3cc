// store/mbox/write_lock.cpp — see write_lock.h.

#include "store/mbox/write_lock.h"

#include <fcntl.h>

#include "fmt/format.h"
#include "store/fs/crash_point.h"
#include "store/mbox/append_journal.h"

namespace posthorn::store::mbox {
namespace {

// A commit replaces the file at most once per lock holder; more misses
// than this mean something else keeps swapping files under us.
constexpr int kMaxReopens = 16;

}  // namespace

absl::StatusOr<MboxWriteLock> MboxWriteLock::Acquire(
    const MboxPaths& paths, const MboxStoreOptions& options, Mode mode) {
  auto dot_lock = fs::DotLock::Acquire(paths.mbox, options.lock_timeout,
                                       options.stale_lock_age);
  if (!dot_lock.ok()) return dot_lock.status();
  for (int attempt = 0; attempt < kMaxReopens; ++attempt) {
    bool created = false;
    auto fd = fs::OpenFile(paths.mbox, O_RDWR);
    if (!fd.ok() && absl::IsNotFound(fd.status())) {
      if (mode == Mode::kExistingOnly) {
        auto recovered = RecoverAppend(paths, -1, options);
        if (!recovered.ok()) return recovered.status();
        return MboxWriteLock(std::move(*dot_lock), fs::UniqueFd(), false);
      }
      fd = fs::OpenFile(paths.mbox, O_RDWR | O_CREAT | O_EXCL,
                        static_cast<mode_t>(options.file_mode));
      created = fd.ok();
      if (!fd.ok() && absl::IsAlreadyExists(fd.status())) continue;
    }
    if (!fd.ok()) return fd.status();
    if (auto status = fs::LockFcntl(fd->get(), paths.mbox, options.lock_timeout);
        !status.ok()) {
      return status;
    }
    auto locked = fs::Stat(fd->get(), paths.mbox);
    if (!locked.ok()) return locked.status();
    auto named = fs::LStat(paths.mbox);
    if (named.ok() && named->st_ino == locked->st_ino &&
        named->st_dev == locked->st_dev) {
      auto replaced = RecoverAppend(paths, fd->get(), options);
      if (!replaced.ok()) return replaced.status();
      if (!*replaced) {
        return MboxWriteLock(std::move(*dot_lock), std::move(*fd), created);
      }
      continue;  // a rewrite replaced the file: lock the new one
    }
    if (!named.ok() && !absl::IsNotFound(named.status())) {
      return named.status();
    }
    // Replaced (or removed) while we waited: lock whatever is there now.
  }
  return absl::UnavailableError(fmt::format("{}: replaced {} times while locking", paths.mbox, kMaxReopens));
}

void MboxWriteLock::Release() {
  fd_.reset();  // drops the fcntl lock
  if (dot_lock_) {
    dot_lock_->Release();
    dot_lock_.reset();
  }
}

}  // namespace posthorn::store::mbox
