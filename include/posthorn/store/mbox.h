// posthorn/store/mbox.h — maildrops as mbox files, shared with local mail
// programs.
//
// PURPOSE
//   One mbox file per user, `spool_dir/<user>`, in the format mail.local,
//   procmail, mutt and python's mailbox module read and write: each message
//   starts with a "From sender asctime-date" line and ends with an empty
//   line; body lines matching /^>*From / get one more '>' on append and
//   lose one on read (mboxrd). Line ends are LF on disk.
//
// FILES (all in spool_dir, user names never start with '.')
//   <user>              the mbox
//   <user>.lock         dot-lock, as mail.local and procmail take it
//   .<user>.index       offsets, sizes and UIDs; rebuilt when stale
//   .<user>.pop         the POP-session lock (an OFD lock on this file)
//   .<user>.<key>.note  WriteUserNote values
//
// LOCKING
//   Writers (delivery, commit) take the dot-lock (O_EXCL create; one older
//   than stale_lock_age is broken), then an fcntl write lock on the mbox,
//   and re-check that the path still names the file they opened (a commit
//   replaces the file by rename). Readers other than posthorn that take
//   either lock are therefore excluded. The POP-session lock is separate
//   and lasts the whole session, so delivery never waits for a session.
//
// INDEX
//   Records the mbox's identity (device, inode, size, mtime) and each
//   message's offset, length on disk, CRLF size and UID. Opening a session
//   trusts an index that matches the file, scans only the tail when the
//   file grew (another program appended), and rescans everything when the
//   file changed otherwise or the index is corrupt (the index is a cache:
//   losing it loses nothing but time).
//
// UIDS
//   Assigned at first sight of a message (append or scan) from a digest of
//   its "From " line and content, with a suffix for duplicates, and kept in
//   the index; a rebuilt index assigns the same ids to the same maildrop.

#ifndef POSTHORN_STORE_MBOX_H_
#define POSTHORN_STORE_MBOX_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "posthorn/store/mailstore.h"

namespace posthorn::store {

struct MboxStoreOptions {
  std::string spool_dir;                           // must exist
  absl::Duration lock_timeout = absl::Seconds(30);  // waiting for the locks
  absl::Duration stale_lock_age = absl::Minutes(5);
  int file_mode = 0600;                            // new mboxes
  bool fsync = true;  // false only for tests and benchmarks of the logic
};

absl::StatusOr<std::unique_ptr<Mailstore>> MakeMboxStore(
    const MboxStoreOptions& options);

}  // namespace posthorn::store

#endif  // POSTHORN_STORE_MBOX_H_
