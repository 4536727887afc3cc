// store/mbox/append_journal.h — makes an mbox append all-or-nothing.
//
// ".<user>.append" is a small file, created once and then overwritten in
// place, holding either "idle" or "active <dev> <ino> <offset> <from>":
// an append to the mbox with that identity started at `offset` (the "From "
// line at `from`, after any newline added to end the previous message).
//
//   SetActive      write "active ...", fdatasync      (before the append)
//   ... append the message, fdatasync the mbox ...
//   SetIdle        write "idle", fdatasync            (before reporting OK)
//
// Whoever takes the mbox write lock next calls RecoverAppend(): an
// "active" marker for the locked file means the append never finished, so
// the mbox is cut back to `offset`. If another program appended after the
// broken message (it took the locks once the killed writer's were gone),
// only the broken bytes are removed, by a rewrite (mbox_rewrite.h).
// The syncs order the marker around the append so this also holds across
// a power loss: the marker is durable before any appended byte can be,
// and the message is durable before the marker says "idle".
//
// The file also holds, after the marker, the log of recent keyed
// deliveries (delivery_log.h) from byte kJournalLogBase on; Open() sizes
// the file for it once, so later writes never change its size.

#ifndef POSTHORN_SRC_STORE_MBOX_APPEND_JOURNAL_H_
#define POSTHORN_SRC_STORE_MBOX_APPEND_JOURNAL_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "posthorn/store/mbox.h"
#include "store/fs/file_util.h"
#include "store/mbox/index_format.h"
#include "store/mbox/mbox_paths.h"

namespace posthorn::store::mbox {

// The marker's fixed size, and where the delivery log starts.
inline constexpr std::size_t kJournalMarkerSize = 96;
inline constexpr std::uint64_t kJournalLogBase = kJournalMarkerSize;

class AppendJournal {
 public:
  // Opens (creating it durably when missing) the marker file.
  static absl::StatusOr<AppendJournal> Open(const MboxPaths& paths,
                                            const MboxStoreOptions& options);

  absl::Status SetActive(const MboxIdentity& mbox, std::uint64_t offset,
                         std::uint64_t from_offset);
  absl::Status SetIdle();

  int fd() const { return fd_.get(); }
  const std::string& path() const { return path_; }

 private:
  AppendJournal(fs::UniqueFd fd, std::string path, bool fsync)
      : fd_(std::move(fd)), path_(std::move(path)), fsync_(fsync) {}
  absl::Status Write(std::string_view text);

  fs::UniqueFd fd_;
  std::string path_;
  bool fsync_ = true;
};

// Under the write lock: undoes an unfinished append to the locked mbox
// `mbox_fd` (-1 when there is no mbox) and removes a killed commit's
// temporary file. Returns true when the mbox was replaced by a rewrite
// (the caller must reopen and relock it).
absl::StatusOr<bool> RecoverAppend(const MboxPaths& paths, int mbox_fd,
                                   const MboxStoreOptions& options);

}  // namespace posthorn::store::mbox

#endif  // POSTHORN_SRC_STORE_MBOX_APPEND_JOURNAL_H_
