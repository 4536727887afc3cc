// store/aliases/alias_compile.cpp — CompileAliasDatabase, i.e. newaliases
// (posthorn/store/aliases.h).
//
// Steps (each a crash point; see tests/store/aliases/alias_crash_test.cpp):
//   1. read and parse the text; any error returns before a file is touched
//   2. write every entry into a NEW LMDB file ".<db>.tmp.<pid>.<n>.<rand>"
//      beside the database (MDB_NOLOCK: nobody else knows the name), one
//      transaction, committed and synced
//   3. give it the text file's permission bits, rename it over
//      "<alias_file>.lmdb", fsync the folder
// Readers open the database read-only without a lock file and see the old
// inode or the new one whole. A crash leaves at most a temporary file,
// which the next newaliases removes when its process is gone.

#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>

#include "fmt/format.h"
#include "posthorn/store/aliases.h"
#include "store/aliases/alias_record.h"
#include "store/fs/crash_point.h"
#include "store/fs/file_util.h"
#include "store/lmdb/lmdb_env.h"

namespace posthorn::store {
namespace {

std::string BaseName(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// Removes ".<base>.tmp.<pid>.*" files left by a newaliases that died
// (its pid no longer exists). Best effort: errors are ignored.
void RemoveStaleTemporaries(const std::string& dir, const std::string& base) {
  const std::string prefix = fmt::format(".{}.tmp.", base);
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return;
  std::vector<std::string> stale;
  while (struct dirent* e = ::readdir(d)) {
    std::string_view name = e->d_name;
    if (name.substr(0, prefix.size()) != prefix) continue;
    // "<pid>.<n>.<rand>": only the pid matters.
    std::string_view rest = name.substr(prefix.size());
    rest = rest.substr(0, rest.find('.'));
    if (rest.empty() || rest.size() > 9 ||
        rest.find_first_not_of("0123456789") != std::string_view::npos) {
      continue;
    }
    int pid = std::atoi(std::string(rest).c_str());
    if (pid <= 0) continue;
    if (::kill(pid, 0) != 0 && errno == ESRCH) stale.emplace_back(name);
  }
  ::closedir(d);
  for (const std::string& name : stale) {
    (void)fs::Unlink(fs::JoinPath(dir, name));
  }
}

absl::Status WriteDatabase(const std::string& temp, const AliasFile& file,
                           std::size_t text_size, mode_t mode) {
  // Room for the records plus b-tree overhead; MAP_FULL grows it anyway.
  std::size_t map_size = std::max<std::size_t>(std::size_t{1} << 20,
                                               text_size * 4 + (1 << 20));
  auto env = lmdb::Env::Open(temp, {.no_lock = true,
                                    .create = true,
                                    .mode = 0600,
                                    .initial_map_size = map_size});
  if (!env.ok()) return env.status();
  absl::Status status = (*env)->Write([&](lmdb::Txn& txn) -> absl::Status {
    if (absl::Status s = lmdb::PutKind(txn, aliases::kAliasesKind); !s.ok()) {
      return s;
    }
    for (const AliasEntry& entry : file.entries) {
      fs::CrashPoint();
      absl::Status s = txn.Put(entry.name, aliases::EncodeTargets(entry.targets));
      if (!s.ok()) return s;
    }
    return absl::OkStatus();
  });
  if (status.ok()) status = (*env)->Sync();
  fs::CrashPoint();
  if (status.ok() && ::fchmod((*env)->fd(), mode) != 0) {
    status = fs::ErrnoStatus(errno, "chmod", temp);
  }
  return status;  // the environment closes here, before the rename
}

}  // namespace

absl::StatusOr<CompileResult> CompileAliasDatabase(
    const std::string& alias_file) {
  auto text = aliases::ReadAliasText(alias_file);
  if (!text.ok()) return text.status();
  auto parsed = ParseAliases(*text, alias_file);
  if (!parsed.ok()) return parsed.status();
  struct stat text_stat;
  if (::stat(alias_file.c_str(), &text_stat) != 0) {
    return fs::ErrnoStatus(errno, "stat", alias_file);
  }

  const std::string db_path = alias_file + ".lmdb";
  const std::string dir = fs::DirName(db_path);
  const std::string base = BaseName(db_path);
  RemoveStaleTemporaries(dir, base);
  const std::string temp =
      fs::JoinPath(dir, fs::UniqueTempName(fmt::format(".{}.tmp", base)));

  // Aliases are as secret as their text file: same permission bits.
  mode_t mode = text_stat.st_mode & 0666;
  absl::Status status = WriteDatabase(temp, *parsed, text->size(), mode);
  fs::CrashPoint();
  if (status.ok()) status = fs::Rename(temp, db_path);
  if (!status.ok()) {
    ::unlink(temp.c_str());
    return status;
  }
  if (absl::Status s = fs::FsyncDir(dir); !s.ok()) return s;

  CompileResult result;
  result.aliases = parsed->entries.size();
  result.warnings = std::move(parsed->warnings);
  return result;
}

}  // namespace posthorn::store
