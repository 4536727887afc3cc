// store/maildir/maildir_layout.cpp — see maildir_layout.h.

#include "store/maildir/maildir_layout.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
#include <sys/stat.h>

#include "absl/strings/str_cat.h"
#include "store/fs/crash_point.h"
#include "store/fs/file_util.h"

namespace posthorn::store::maildir {

MaildirPaths::MaildirPaths(std::string_view root_dir, std::string_view user)
    : root(root_dir),
      user_dir(fs::JoinPath(root_dir, user)),
      tmp(fs::JoinPath(user_dir, "tmp")),
      new_dir(fs::JoinPath(user_dir, "new")),
      cur(fs::JoinPath(user_dir, "cur")),
      lock(fs::JoinPath(user_dir, ".pop.lock")),
      commit_journal(fs::JoinPath(user_dir, ".pop.commit")) {}

namespace {

// OK when `path` is a real folder (not a symlink to one).
absl::Status CheckIsFolder(const std::string& path) {
  auto st = fs::LStat(path);
  if (!st.ok()) return st.status();
  if (!S_ISDIR(st->st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, ": not a folder (a symlink or a file is refused)"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status EnsureMaildir(const MaildirPaths& paths, bool durable) {
  // Fast path: new/ is made last, so its presence means the rest exists.
  auto existing = fs::LStat(paths.new_dir);
  if (existing.ok() && S_ISDIR(existing->st_mode)) {
    return CheckIsFolder(paths.user_dir);
  }
  if (auto s = fs::MakeDir(paths.user_dir, 0700); !s.ok()) return s;
  if (auto s = CheckIsFolder(paths.user_dir); !s.ok()) return s;
  for (const std::string* dir : {&paths.tmp, &paths.cur, &paths.new_dir}) {
    if (auto s = fs::MakeDir(*dir, 0700); !s.ok()) return s;
    if (auto s = CheckIsFolder(*dir); !s.ok()) return s;
  }
  if (durable) {
    if (auto s = fs::FsyncDir(paths.user_dir); !s.ok()) return s;
    if (auto s = fs::FsyncDir(paths.root); !s.ok()) return s;
  }
  fs::CrashPoint();
  return absl::OkStatus();
}

absl::Status RenameNoReplace(const std::string& from, const std::string& to) {
  fs::CrashPoint();
  if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(),
                  RENAME_NOREPLACE) == 0) {
    fs::CrashPoint();
    return absl::OkStatus();
  }
  int err = errno;
  if (err != EINVAL && err != ENOSYS) {
    return fs::ErrnoStatus(err, absl::StrCat("rename to ", to, " from"), from);
  }
  // No RENAME_NOREPLACE here: link() refuses an existing name too. The file
  // has two links for a moment; sessions skip such files until then.
  if (::link(from.c_str(), to.c_str()) != 0) {
    return fs::ErrnoStatus(errno, absl::StrCat("link to ", to, " from"), from);
  }
  fs::CrashPoint();
  return fs::Unlink(from);
}

absl::Status ListFolder(const std::string& dir,
                        const std::function<void(std::string_view)>& visit) {
  auto fd = fs::OpenDir(dir);
  if (!fd.ok()) return fd.status();
  DIR* stream = ::fdopendir(fd->get());
  if (stream == nullptr) return fs::ErrnoStatus(errno, "opendir", dir);
  fd->release();  // closedir() closes it now
  absl::Status status;
  for (;;) {
    errno = 0;
    struct dirent* entry = ::readdir(stream);
    if (entry == nullptr) {
      if (errno != 0) status = fs::ErrnoStatus(errno, "readdir", dir);
      break;
    }
    std::string_view name(entry->d_name);
    if (name == "." || name == "..") continue;
    visit(name);
  }
  ::closedir(stream);
  return status;
}

}  // namespace posthorn::store::maildir
