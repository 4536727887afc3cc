// store/maildir/maildir_layout.h — where a user's Maildir lives and how it
// is created.
//
//   root/<user>/            mode 0700
//   root/<user>/tmp|new|cur mode 0700, created in that order so that an
//                           existing new/ means the others exist too
//   root/<user>/.pop.lock   POP-session lock (OFD lock)
//   root/<user>/.pop.commit a Commit() in progress (see maildir_session.h)
//   root/<user>/.<key>.note user notes
//
// The caller validates the user name before building paths.

#ifndef POSTHORN_SRC_STORE_MAILDIR_MAILDIR_LAYOUT_H_
#define POSTHORN_SRC_STORE_MAILDIR_MAILDIR_LAYOUT_H_

#include <functional>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace posthorn::store::maildir {

struct MaildirPaths {
  MaildirPaths(std::string_view root_dir, std::string_view user);

  std::string root;  // the folder holding every user's Maildir
  std::string user_dir;
  std::string tmp;
  std::string new_dir;
  std::string cur;
  std::string lock;
  std::string commit_journal;
};

// Creates what is missing (folders mode 0700); with `durable`, fsyncs the
// parents of what it created so a delivery into it survives a crash.
absl::Status EnsureMaildir(const MaildirPaths& paths, bool durable);

// rename(2) that never replaces an existing `to` (renameat2
// RENAME_NOREPLACE; on file systems without it, link(2) + unlink(2)):
// AlreadyExists when `to` exists. Passes crash points like fs::Rename.
absl::Status RenameNoReplace(const std::string& from, const std::string& to);

// Calls `visit(name)` for each entry of `dir` except "." and "..".
// NotFound when `dir` does not exist.
absl::Status ListFolder(const std::string& dir,
                        const std::function<void(std::string_view)>& visit);

}  // namespace posthorn::store::maildir

#endif  // POSTHORN_SRC_STORE_MAILDIR_MAILDIR_LAYOUT_H_
