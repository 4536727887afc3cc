// store/mbox/write_lock.h — the lock writers of an mbox hold: the dot-lock
// "<mbox>.lock" and an fcntl write lock on the mbox itself, as mail.local
// and procmail take them (see posthorn/store/mbox.h, LOCKING).
//
// After locking, the path is checked to still name the inode that was
// locked: a commit replaces the mbox by rename, and a writer that waited
// on the old file's lock must not append to a file nobody will read. On a
// mismatch the file is reopened and locked again (bounded retries).
// The fcntl lock is per process; the dot-lock also excludes threads of
// one process, which is why both are always taken together.

#ifndef POSTHORN_SRC_STORE_MBOX_WRITE_LOCK_H_
#define POSTHORN_SRC_STORE_MBOX_WRITE_LOCK_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "posthorn/store/mbox.h"
#include "store/fs/file_util.h"
#include "store/mbox/mbox_paths.h"

namespace posthorn::store::mbox {

class MboxWriteLock {
 public:
  enum class Mode {
    kCreate,        // create the mbox when missing (delivery)
    kExistingOnly,  // a missing mbox gives a lock with no file
  };

  // Takes both locks within options.lock_timeout, then repairs what a
  // killed writer left (an unfinished append, a commit's temporary file;
  // append_journal.h).
  static absl::StatusOr<MboxWriteLock> Acquire(
      const MboxPaths& paths, const MboxStoreOptions& options, Mode mode);

  MboxWriteLock(MboxWriteLock&&) = default;
  MboxWriteLock& operator=(MboxWriteLock&&) = default;

  // The locked mbox, read-write; invalid when missing (kExistingOnly).
  int fd() const { return fd_.get(); }
  bool has_file() const { return fd_.valid(); }
  // True when Acquire created the mbox (its folder entry is not yet
  // durable: the caller fsyncs the folder before reporting success).
  bool created() const { return created_; }

  // Releases the fcntl lock (by closing) and the dot-lock.
  void Release();

 private:
  MboxWriteLock(fs::DotLock dot_lock, fs::UniqueFd fd, bool created)
      : dot_lock_(std::move(dot_lock)), fd_(std::move(fd)),
        created_(created) {}

  std::optional<fs::DotLock> dot_lock_;
  fs::UniqueFd fd_;
  bool created_ = false;
};

}  // namespace posthorn::store::mbox

#endif  // POSTHORN_SRC_STORE_MBOX_WRITE_LOCK_H_
