// posthorn/store/maildir.h — maildrops as Maildir folders.
//
// PURPOSE
//   One Maildir per user, `root_dir/<user>/` with tmp/, new/ and cur/.
//   Delivery writes tmp/<unique>, fsyncs it, moves it into new/ with a
//   rename that never replaces an existing name (link + unlink where the
//   file system lacks that) and fsyncs the folder: no locks, as the
//   Maildir convention promises. Names carry the delivery time (not
//   DeliveryInfo::arrival). A POP session lists new/ and cur/, uses the
//   base name (before ':') as the UID (a digest when that is not a valid
//   UID), moves the messages it kept from new/ to cur/ and unlinks the
//   deleted ones at Commit(), through a small journal so that a crash
//   leaves all or none of the deletions. Names carry
//   ",S=<bytes>,W=<crlf size>" (as Dovecot writes them) so opening does
//   not read every file; files without them are measured. Stray files
//   (wrong names, dot files, folders, symlinks, files with several links,
//   empty files) are skipped, never deleted; tmp/ files older than 36
//   hours are removed (the Maildir rule). An empty message is refused.
//   Details: docs/store-maildir.md.
//
// FILES
//   root_dir/<user>/{tmp,new,cur}/   the Maildir (folders mode 0700)
//   root_dir/<user>/.pop.lock        the POP-session lock (OFD lock)
//   root_dir/<user>/.pop.commit      a Commit() in progress (replayed by
//                                    the next session after a crash)
//   root_dir/<user>/.<key>.note      WriteUserNote values

#ifndef POSTHORN_STORE_MAILDIR_H_
#define POSTHORN_STORE_MAILDIR_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "posthorn/store/mailstore.h"

namespace posthorn::store {

struct MaildirStoreOptions {
  std::string root_dir;   // must exist
  std::string hostname;   // in unique names; "" = gethostname()
  int file_mode = 0600;
  bool fsync = true;
};

absl::StatusOr<std::unique_ptr<Mailstore>> MakeMaildirStore(
    const MaildirStoreOptions& options);

}  // namespace posthorn::store

#endif  // POSTHORN_STORE_MAILDIR_H_
