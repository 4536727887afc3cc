// store/maildir/maildir_session.h — a POP session on one Maildir.
//
// OPEN
//   Takes the OFD lock on .pop.lock (InUse when held), finishes a Commit()
//   a crash interrupted (.pop.commit, see COMMIT), removes tmp/ files older
//   than 36 hours, and lists new/ and cur/. Messages are ordered by the
//   delivery time in their names (seconds, microseconds, counter), then by
//   name, so numbering is stable. Sizes come from W= when S= matches the
//   file; other files are measured.
//
// STRAYS (skipped, never deleted or moved)
//   dot files, names not starting with a digit, anything that is not a
//   regular file (folders, symlinks, sockets), files with more than one
//   link (a hard link planted in a maildrop must not make a root-run
//   server read someone else's file; posthorn's delivery renames, so its
//   own files have one link), and empty files (nothing to show).
//
// COMMIT
//   1. write .pop.commit listing the files to delete (atomic, fsynced);
//   2. unlink them; 3. rename the kept messages from new/ to cur/ with
//   ":2,"; 4. fsync new/ and cur/; 5. remove .pop.commit. A crash before
//   step 1 completes changes nothing; after it, the next OpenSession()
//   replays the list (idempotently) before it lists anything, so a session
//   sees all of the deletions or none of them. A rename is atomic, so a
//   kept message is in new/ or cur/, never in both, never lost. Mail
//   delivered during the session is not in the snapshot and stays in new/.
//
// READ
//   Opens the file when asked and streams it in 64 KiB chunks, converting
//   LF to CRLF (line_ends.h). A file another program removed meanwhile
//   gives NotFound naming it.

#ifndef POSTHORN_SRC_STORE_MAILDIR_MAILDIR_SESSION_H_
#define POSTHORN_SRC_STORE_MAILDIR_MAILDIR_SESSION_H_

#include <memory>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "posthorn/store/mailstore.h"
#include "store/maildir/maildir_layout.h"

namespace posthorn::store::maildir {

// Files in tmp/ older than this are left-overs of a crashed delivery.
inline constexpr absl::Duration kStaleTmpAge = absl::Hours(36);

// The Maildir must exist (EnsureMaildir).
absl::StatusOr<std::unique_ptr<MaildropSession>> OpenMaildirSession(
    const MaildirPaths& paths, bool fsync);

}  // namespace posthorn::store::maildir

#endif  // POSTHORN_SRC_STORE_MAILDIR_MAILDIR_SESSION_H_
