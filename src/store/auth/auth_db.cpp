// store/auth/auth_db.cpp — the LMDB auth database: CreateAuthDb,
// OpenAuthDb and the AuthDb implementation (posthorn/store/auth_db.h).
//
// Decisions:
//   - SetSecret stores only the secret: APOP needs it in clear, and PASS
//     is checked against it (SHA-256 digests compared in constant time),
//     so a hash beside it would add nothing an attacker with the file
//     lacks. SetPasswordOnly stores only a crypt(3) hash.
//   - CheckPassword's cost does not tell which kind of user exists: while
//     the database holds (or has held, since the last -init) a
//     password-only user — marked by the key kHashUsersKey, written with
//     that user — every check runs exactly one crypt(), against the user's
//     hash or against DummyHash() for unknown users and secret users.
//     Without such users no check runs crypt(): a secret is compared in
//     constant time and unknown users are compared against a dummy secret.
//     A yescrypt costs tens of milliseconds of CPU, which would otherwise
//     cap a POP server at a few dozen USER/PASS logins per second.
//   - One LMDB environment per file per process (LMDB's POSIX locks are
//     per process; a second open would drop the first one's locks): a
//     registry keyed by device and inode shares it between AuthDb objects.
//   - popauth -init -force on a healthy auth database empties it in one
//     transaction (atomic for readers and safe beside running popper
//     processes, which share the lock file). Only a file that is not an
//     auth database is replaced by a new file (fresh lock file first, then
//     the data file, both renamed into place).

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <map>
#include <mutex>
#include <utility>

#include "fmt/format.h"
#include "posthorn/store/auth_db.h"
#include "posthorn/store/mailstore.h"
#include "store/auth/auth_check.h"
#include "store/auth/auth_crypto.h"
#include "store/auth/auth_record.h"
#include "store/fs/crash_point.h"
#include "store/fs/file_util.h"
#include "store/lmdb/lmdb_env.h"

namespace posthorn::store {
namespace {

using auth::AuthRecord;
using auth::kAuthKind;

constexpr std::string_view kDescription = "auth database";
constexpr std::size_t kInitialMapSize = std::size_t{4} << 20;
// Metadata keys start with NUL (no user name can); see the header comment.
constexpr std::string_view kHashUsersKey("\0hash-users", 11);

std::string LockPath(const std::string& path) { return path + "-lock"; }

// --- the per-process registry of open environments -------------------------

struct Registry {
  std::mutex mutex;
  pid_t pid = 0;
  std::map<std::pair<dev_t, ino_t>, std::weak_ptr<lmdb::Env>> envs;
};

Registry& GetRegistry() {
  static Registry* registry = new Registry;  // never destroyed: used at exit
  return *registry;
}

absl::StatusOr<std::shared_ptr<lmdb::Env>> OpenShared(const std::string& path,
                                                      bool writable) {
  Registry& registry = GetRegistry();
  std::lock_guard lock(registry.mutex);
  if (registry.pid != ::getpid()) {
    // A forked child must not touch (or close) its parent's environments:
    // forget them without destroying them.
    for (auto& [key, weak] : registry.envs) {
      if (auto env = weak.lock()) new std::shared_ptr<lmdb::Env>(env);
    }
    registry.envs.clear();
    registry.pid = ::getpid();
  }
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return fs::ErrnoStatus(errno, "open", path);
  auto it = registry.envs.find({st.st_dev, st.st_ino});
  if (it != registry.envs.end()) {
    if (auto env = it->second.lock()) {
      if (writable && env->read_only()) {
        return absl::PermissionDeniedError(
            fmt::format("{}: not writable by this process", path));
      }
      return env;
    }
  }
  // Writable whenever the file allows it, so a later writable AuthDb in
  // this process can share the environment.
  bool read_only = !writable && ::access(path.c_str(), W_OK) != 0;
  auto opened = lmdb::Env::Open(
      path, {.read_only = read_only, .initial_map_size = kInitialMapSize});
  if (!opened.ok()) return opened.status();
  std::shared_ptr<lmdb::Env> env = *std::move(opened);
  if (absl::Status kind = lmdb::CheckKind(*env, kAuthKind, kDescription);
      !kind.ok()) {
    return kind;
  }
  auto real = fs::Stat(env->fd(), path);
  if (!real.ok()) return real.status();
  registry.envs[{real->st_dev, real->st_ino}] = env;
  return env;
}

// --- the database ------------------------------------------------------------

class LmdbAuthDb final : public AuthDb {
 public:
  LmdbAuthDb(std::shared_ptr<lmdb::Env> env, bool writable)
      : env_(std::move(env)), writable_(writable) {}

  absl::Status SetSecret(std::string_view user,
                         std::string_view secret) override {
    if (absl::Status s = CheckWrite(user); !s.ok()) return s;
    if (absl::Status s = auth::ValidateSecret(secret, "secret"); !s.ok()) {
      return s;
    }
    AuthRecord record;
    record.secret = std::string(secret);
    return Store(user, record);
  }

  absl::Status SetPasswordOnly(std::string_view user,
                               std::string_view password) override {
    if (absl::Status s = CheckWrite(user); !s.ok()) return s;
    if (absl::Status s = auth::ValidateSecret(password, "password"); !s.ok()) {
      return s;
    }
    auto hash = auth::HashPassword(password);
    if (!hash.ok()) return hash.status();
    AuthRecord record;
    record.hash = *std::move(hash);
    return Store(user, record, /*mark_hash_users=*/true);
  }

  absl::Status Delete(std::string_view user) override {
    if (absl::Status s = CheckWrite(user); !s.ok()) return s;
    return env_->Write([&](lmdb::Txn& txn) -> absl::Status {
      absl::Status s = txn.Del(user);
      if (absl::IsNotFound(s)) {
        return absl::NotFoundError(
            fmt::format("{}: no user \"{}\"", env_->path(), user));
      }
      return s;
    });
  }

  absl::StatusOr<std::vector<AuthUser>> List() const override {
    std::vector<AuthUser> users;
    absl::Status status = env_->Read([&](const lmdb::Txn& txn) {
      return txn.ForEach([&](std::string_view key,
                             std::string_view value) -> absl::Status {
        if (key.front() == '\0') return absl::OkStatus();  // kind marker
        auto record = auth::DecodeRecord(value, env_->path(), key);
        if (!record.ok()) return record.status();
        users.push_back(AuthUser{std::string(key), record->secret.has_value(),
                                 record->hash.has_value()});
        if (record->secret) auth::Wipe(&*record->secret);
        return absl::OkStatus();
      });
    });
    if (!status.ok()) return status;
    return users;  // LMDB keeps keys in bytewise order
  }

  absl::StatusOr<bool> CheckPassword(std::string_view user,
                                     std::string_view password) const override {
    bool hash_users = true;
    auto record = Find(user, &hash_users);
    if (!record.ok()) return record.status();
    return auth::CheckPasswordRecord(*record, hash_users, password);
  }

  absl::StatusOr<bool> CheckApop(std::string_view user,
                                 std::string_view timestamp,
                                 std::string_view digest_hex) const override {
    auto record = Find(user);
    if (!record.ok()) return record.status();
    return auth::CheckApopRecord(*record, timestamp, digest_hex);
  }

 private:
  absl::Status CheckWrite(std::string_view user) const {
    if (!writable_) {
      return absl::FailedPreconditionError(
          fmt::format("{}: opened read-only", env_->path()));
    }
    return ValidateUserName(user);
  }

  absl::Status Store(std::string_view user, AuthRecord& record,
                     bool mark_hash_users = false) {
    std::string value = auth::EncodeRecord(record);
    if (record.secret) auth::Wipe(&*record.secret);
    absl::Status status = env_->Write([&](lmdb::Txn& txn) -> absl::Status {
      if (mark_hash_users) {
        if (absl::Status s = txn.Put(kHashUsersKey, "1"); !s.ok()) return s;
      }
      return txn.Put(user, value);
    });
    auth::Wipe(&value);
    return status;
  }

  // nullopt for unknown (or invalid) user names. *hash_users (when given)
  // tells whether kHashUsersKey is set, read in the same transaction.
  absl::StatusOr<std::optional<AuthRecord>> Find(
      std::string_view user, bool* hash_users = nullptr) const {
    std::optional<AuthRecord> found;
    const bool valid_name = ValidateUserName(user).ok();
    if (!valid_name && hash_users == nullptr) return found;
    absl::Status status = env_->Read([&](const lmdb::Txn& txn) -> absl::Status {
      if (hash_users != nullptr) {
        auto marker = txn.Get(kHashUsersKey);
        if (!marker.ok()) return marker.status();
        *hash_users = marker->has_value();
      }
      if (!valid_name) return absl::OkStatus();
      auto value = txn.Get(user);
      if (!value.ok()) return value.status();
      if (!value->has_value()) return absl::OkStatus();
      auto record = auth::DecodeRecord(**value, env_->path(), user);
      if (!record.ok()) return record.status();
      found = *std::move(record);
      return absl::OkStatus();
    });
    if (!status.ok()) return status;
    return found;
  }

  std::shared_ptr<lmdb::Env> env_;
  bool writable_;
};

// --- creation ----------------------------------------------------------------

// A fresh, empty, 0600 file at `temp` holding only the kind marker.
absl::Status BuildEmptyDatabase(const std::string& temp) {
  auto env = lmdb::Env::Open(temp, {.no_lock = true, .create = true});
  if (!env.ok()) return env.status();
  absl::Status status = (*env)->Write(
      [](lmdb::Txn& txn) { return lmdb::PutKind(txn, kAuthKind); });
  if (status.ok()) status = (*env)->Sync();
  if (status.ok() && ::fchmod((*env)->fd(), 0600) != 0) {
    status = fs::ErrnoStatus(errno, "chmod", temp);
  }
  return status;
}

// A new empty lock file, 0600, renamed over "<path>-lock" so that no
// process's stale lock table is paired with the new data file.
absl::Status InstallFreshLockFile(const std::string& path) {
  std::string dir = fs::DirName(path);
  std::string lock = LockPath(path);
  auto slash = lock.rfind('/');
  std::string base = lock.substr(slash == std::string::npos ? 0 : slash + 1);
  std::string temp = fs::JoinPath(dir, fs::UniqueTempName("." + base + ".tmp"));
  auto fd = fs::OpenFile(temp, O_RDWR | O_CREAT | O_EXCL, 0600);
  if (!fd.ok()) return fd.status();
  if (::fchmod(fd->get(), 0600) != 0) {
    absl::Status s = fs::ErrnoStatus(errno, "chmod", temp);
    ::unlink(temp.c_str());
    return s;
  }
  absl::Status status = fs::Rename(temp, lock);
  if (!status.ok()) ::unlink(temp.c_str());
  return status;
}

absl::Status EmptyExistingDatabase(const std::string& path) {
  auto env = OpenShared(path, /*writable=*/true);
  if (!env.ok()) return env.status();
  absl::Status status = (*env)->Write([](lmdb::Txn& txn) -> absl::Status {
    if (absl::Status s = txn.Clear(); !s.ok()) return s;
    fs::CrashPoint();
    return lmdb::PutKind(txn, kAuthKind);
  });
  if (!status.ok()) return status;
  if (::fchmod((*env)->fd(), 0600) != 0) {
    return fs::ErrnoStatus(errno, "chmod", path);
  }
  ::chmod(LockPath(path).c_str(), 0600);
  return absl::OkStatus();
}

}  // namespace

absl::Status CreateAuthDb(const std::string& path, bool force) {
  struct stat st;
  bool exists = ::stat(path.c_str(), &st) == 0;
  if (!exists && errno != ENOENT) return fs::ErrnoStatus(errno, "stat", path);
  if (exists && !force) {
    return absl::FailedPreconditionError(fmt::format(
        "{}: an auth database exists (force replaces it)", path));
  }
  if (exists) {
    absl::Status status = EmptyExistingDatabase(path);
    // Only a file that is no auth database at all is replaced whole.
    if (!absl::IsDataLoss(status)) return status;
  }

  std::string dir = fs::DirName(path);
  auto slash = path.rfind('/');
  std::string base = path.substr(slash == std::string::npos ? 0 : slash + 1);
  std::string temp = fs::JoinPath(dir, fs::UniqueTempName("." + base + ".tmp"));
  absl::Status status = BuildEmptyDatabase(temp);
  fs::CrashPoint();
  if (status.ok()) status = InstallFreshLockFile(path);
  if (status.ok()) {
    fs::CrashPoint();
    // Without force, never clobber a database created meanwhile.
    unsigned flags = exists ? 0 : RENAME_NOREPLACE;
    if (::renameat2(AT_FDCWD, temp.c_str(), AT_FDCWD, path.c_str(), flags) !=
        0) {
      status = errno == EEXIST
                   ? absl::FailedPreconditionError(fmt::format(
                         "{}: an auth database exists (force replaces it)",
                         path))
                   : fs::ErrnoStatus(errno, fmt::format("rename {} to", temp),
                                     path);
    }
    fs::CrashPoint();
  }
  if (!status.ok()) {
    ::unlink(temp.c_str());
    return status;
  }
  return fs::FsyncDir(dir);
}

absl::StatusOr<std::unique_ptr<AuthDb>> OpenAuthDb(const std::string& path,
                                                   bool writable) {
  auto env = OpenShared(path, writable);
  if (!env.ok()) return env.status();
  return std::make_unique<LmdbAuthDb>(*std::move(env), writable);
}

}  // namespace posthorn::store
