// store/lmdb/lmdb_env.cpp — see lmdb_env.h.

#include "store/lmdb/lmdb_env.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdint>
#include <mutex>
#include <utility>

#include "fmt/format.h"
#include "store/fs/crash_point.h"
#include "store/fs/file_util.h"

namespace posthorn::store::lmdb {
namespace {

MDB_val ToVal(std::string_view s) {
  return MDB_val{s.size(), const_cast<char*>(s.data())};
}

std::string_view FromVal(const MDB_val& v) {
  return {static_cast<const char*>(v.mv_data), v.mv_size};
}

// A marker read from a foreign file is shown only in a bounded,
// printable form.
std::string Printable(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 40)) {
    out += (c >= 0x20 && c < 0x7f) ? c : '?';
  }
  return out;
}

struct CursorCloser {
  void operator()(MDB_cursor* c) const { mdb_cursor_close(c); }
};

}  // namespace

absl::Status LmdbStatus(int rc, std::string_view what, std::string_view path) {
  if (rc > 0) return fs::ErrnoStatus(rc, what, path);
  const char* reason = mdb_strerror(rc);
  switch (rc) {
    case MDB_NOTFOUND:
      return absl::NotFoundError(fmt::format("{}: {}: not found", path, what));
    case MDB_INVALID:
    case MDB_VERSION_MISMATCH:
      return absl::DataLossError(
          fmt::format("{}: not an LMDB database ({})", path, reason));
    case MDB_CORRUPTED:
    case MDB_PAGE_NOTFOUND:
    case MDB_PANIC:
    case MDB_INCOMPATIBLE:
      return absl::DataLossError(
          fmt::format("{}: {}: database corrupted ({})", path, what, reason));
    case MDB_MAP_FULL:
      return absl::ResourceExhaustedError(
          fmt::format("{}: {}: database full ({})", path, what, reason));
    case MDB_READERS_FULL:
    case MDB_MAP_RESIZED:
    case MDB_TLS_FULL:
    case MDB_TXN_FULL:
      return absl::UnavailableError(
          fmt::format("{}: {}: {}", path, what, reason));
    case MDB_BAD_VALSIZE:
      return absl::InvalidArgumentError(
          fmt::format("{}: {}: key or value size not allowed", path, what));
    default:
      return absl::InternalError(
          fmt::format("{}: {}: {}", path, what, reason));
  }
}

// --- Txn ---------------------------------------------------------------------

absl::StatusOr<std::optional<std::string_view>> Txn::Get(
    std::string_view key) const {
  if (key.empty() || key.size() > kMaxKeySize) return std::nullopt;
  MDB_val k = ToVal(key);
  MDB_val v;
  int rc = mdb_get(txn_, dbi_, &k, &v);
  if (rc == MDB_NOTFOUND) return std::nullopt;
  if (rc != 0) return LmdbStatus(rc, "read", path_);
  return FromVal(v);
}

absl::Status Txn::Put(std::string_view key, std::string_view value) {
  if (key.empty() || key.size() > kMaxKeySize) {
    return absl::InvalidArgumentError(fmt::format(
        "{}: key of {} bytes (1 to {} allowed)", path_, key.size(),
        kMaxKeySize));
  }
  MDB_val k = ToVal(key);
  MDB_val v = ToVal(value);
  int rc = mdb_put(txn_, dbi_, &k, &v, 0);
  if (rc != 0) {
    last_error_ = rc;
    return LmdbStatus(rc, "write", path_);
  }
  return absl::OkStatus();
}

absl::Status Txn::Del(std::string_view key) {
  if (key.empty() || key.size() > kMaxKeySize) {
    return absl::NotFoundError(fmt::format("{}: no such key", path_));
  }
  MDB_val k = ToVal(key);
  int rc = mdb_del(txn_, dbi_, &k, nullptr);
  if (rc == MDB_NOTFOUND) {
    return absl::NotFoundError(fmt::format("{}: no such key", path_));
  }
  if (rc != 0) {
    last_error_ = rc;
    return LmdbStatus(rc, "delete", path_);
  }
  return absl::OkStatus();
}

absl::Status Txn::Clear() {
  int rc = mdb_drop(txn_, dbi_, 0);
  if (rc != 0) {
    last_error_ = rc;
    return LmdbStatus(rc, "clear", path_);
  }
  return absl::OkStatus();
}

absl::Status Txn::ForEach(
    const std::function<absl::Status(std::string_view, std::string_view)>& fn)
    const {
  MDB_cursor* raw = nullptr;
  int rc = mdb_cursor_open(txn_, dbi_, &raw);
  if (rc != 0) return LmdbStatus(rc, "open cursor", path_);
  std::unique_ptr<MDB_cursor, CursorCloser> cursor(raw);
  MDB_val k;
  MDB_val v;
  for (rc = mdb_cursor_get(raw, &k, &v, MDB_FIRST); rc == 0;
       rc = mdb_cursor_get(raw, &k, &v, MDB_NEXT)) {
    absl::Status status = fn(FromVal(k), FromVal(v));
    if (!status.ok()) return status;
  }
  if (rc != MDB_NOTFOUND) return LmdbStatus(rc, "iterate", path_);
  return absl::OkStatus();
}

// --- Env ---------------------------------------------------------------------

absl::StatusOr<std::unique_ptr<Env>> Env::Open(const std::string& path,
                                               const EnvOptions& options) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    int err = errno;
    if (err != ENOENT || !options.create || options.read_only) {
      return fs::ErrnoStatus(err, "open", path);
    }
  } else if (!S_ISREG(st.st_mode)) {
    return absl::DataLossError(
        fmt::format("{}: not an LMDB database (not a regular file)", path));
  } else if (st.st_size == 0) {
    // LMDB would initialise an empty file as a new database; an empty file
    // where a database should be is damage, not an invitation.
    return absl::DataLossError(
        fmt::format("{}: not an LMDB database (empty file)", path));
  }

  MDB_env* raw = nullptr;
  int rc = mdb_env_create(&raw);
  if (rc != 0) return LmdbStatus(rc, "create environment", path);
  unsigned flags = MDB_NOSUBDIR | MDB_NOTLS;
  if (options.read_only) flags |= MDB_RDONLY;
  if (options.no_lock) flags |= MDB_NOLOCK;
  rc = mdb_env_set_mapsize(raw, options.initial_map_size);
  if (rc == 0) rc = mdb_env_open(raw, path.c_str(), flags, options.mode);
  if (rc != 0) {
    mdb_env_close(raw);
    return LmdbStatus(rc, "open", path);
  }
  std::unique_ptr<Env> env(new Env(path, raw, options.read_only));

  // The main (unnamed) database handle, valid for the life of the env.
  MDB_txn* txn = nullptr;
  rc = mdb_txn_begin(raw, nullptr, options.read_only ? MDB_RDONLY : 0, &txn);
  if (rc == MDB_MAP_RESIZED) {
    mdb_env_set_mapsize(raw, 0);
    rc = mdb_txn_begin(raw, nullptr, options.read_only ? MDB_RDONLY : 0, &txn);
  }
  if (rc != 0) return LmdbStatus(rc, "begin transaction", path);
  rc = mdb_dbi_open(txn, nullptr, 0, &env->dbi_);
  if (rc != 0) {
    mdb_txn_abort(txn);
    return LmdbStatus(rc, "open database", path);
  }
  rc = mdb_txn_commit(txn);
  if (rc != 0) return LmdbStatus(rc, "open database", path);

  if (absl::Status status = env->CheckFileSize(); !status.ok()) return status;
  if (!options.read_only && !options.no_lock) {
    // Reader slots of killed processes would keep old pages from reuse.
    int dead = 0;
    mdb_reader_check(raw, &dead);
  }
  return env;
}

Env::~Env() { mdb_env_close(env_); }

int Env::fd() const {
  mdb_filehandle_t handle = -1;
  mdb_env_get_fd(env_, &handle);
  return handle;
}

absl::Status Env::CheckFileSize() {
  MDB_envinfo info;
  MDB_stat stat;
  int rc = mdb_env_info(env_, &info);
  if (rc == 0) rc = mdb_env_stat(env_, &stat);
  if (rc != 0) return LmdbStatus(rc, "stat", path_);
  auto st = fs::Stat(fd(), path_);
  if (!st.ok()) return st.status();
  // Every page up to the last one the meta page names must be in the file:
  // LMDB maps the file and would fault (SIGBUS) on a missing page.
  auto size = static_cast<std::uint64_t>(st->st_size);
  std::uint64_t pages = size / stat.ms_psize;
  if (pages < static_cast<std::uint64_t>(info.me_last_pgno) + 1) {
    return absl::DataLossError(fmt::format(
        "{}: truncated LMDB database ({} bytes, its meta page names page {} "
        "of {} bytes)",
        path_, size, info.me_last_pgno, stat.ms_psize));
  }
  if (info.me_mapsize > kMaxMapSize) {
    return absl::DataLossError(fmt::format(
        "{}: LMDB database claims a map of {} bytes", path_, info.me_mapsize));
  }
  return absl::OkStatus();
}

absl::Status Env::GrowMap() {
  MDB_envinfo info;
  int rc = mdb_env_info(env_, &info);
  if (rc != 0) return LmdbStatus(rc, "stat", path_);
  if (info.me_mapsize >= kMaxMapSize) {
    return LmdbStatus(MDB_MAP_FULL, "write", path_);
  }
  rc = mdb_env_set_mapsize(env_, info.me_mapsize * 2);
  if (rc != 0) return LmdbStatus(rc, "grow map", path_);
  return absl::OkStatus();
}

absl::Status Env::AdoptMapSize() const {
  std::unique_lock lock(resize_mutex_);
  int rc = mdb_env_set_mapsize(env_, 0);
  if (rc != 0) return LmdbStatus(rc, "adopt map size", path_);
  return absl::OkStatus();
}

absl::Status Env::Read(const std::function<absl::Status(const Txn&)>& fn) const {
  for (int attempt = 0;; ++attempt) {
    std::shared_lock lock(resize_mutex_);
    MDB_txn* txn = nullptr;
    int rc = mdb_txn_begin(env_, nullptr, MDB_RDONLY, &txn);
    if (rc == MDB_MAP_RESIZED && attempt < 3) {
      lock.unlock();
      if (absl::Status s = AdoptMapSize(); !s.ok()) return s;
      continue;
    }
    if (rc != 0) return LmdbStatus(rc, "begin read", path_);
    Txn t(txn, dbi_, path_);
    absl::Status status = fn(t);
    mdb_txn_abort(txn);
    return status;
  }
}

absl::Status Env::Write(const std::function<absl::Status(Txn&)>& fn) {
  if (read_only_) {
    return absl::FailedPreconditionError(
        fmt::format("{}: opened read-only", path_));
  }
  // One writer of this process at a time; readers go on beside it (shared
  // lock) except while the map is being resized (exclusive lock).
  std::lock_guard writer(write_mutex_);
  for (int attempt = 0;; ++attempt) {
    bool grow = false;
    {
      std::shared_lock lock(resize_mutex_);
      MDB_txn* txn = nullptr;
      int rc = mdb_txn_begin(env_, nullptr, 0, &txn);
      if (rc == MDB_MAP_RESIZED && attempt < 3) {
        lock.unlock();
        if (absl::Status s = AdoptMapSize(); !s.ok()) return s;
        continue;
      }
      if (rc != 0) return LmdbStatus(rc, "begin write", path_);
      fs::CrashPoint();
      Txn t(txn, dbi_, path_);
      absl::Status status = fn(t);
      if (!status.ok()) {
        mdb_txn_abort(txn);
        if (t.last_error_ != MDB_MAP_FULL) return status;
        grow = true;
      } else {
        fs::CrashPoint();
        rc = mdb_txn_commit(txn);  // frees the transaction either way
        if (rc == MDB_MAP_FULL) {
          grow = true;
        } else if (rc != 0) {
          return LmdbStatus(rc, "commit", path_);
        } else {
          fs::CrashPoint();
          return absl::OkStatus();
        }
      }
    }
    if (grow) {
      std::unique_lock lock(resize_mutex_);
      if (absl::Status s = GrowMap(); !s.ok()) return s;
    }
  }
}

absl::Status Env::Sync() {
  int rc = mdb_env_sync(env_, 1);
  if (rc != 0) return LmdbStatus(rc, "sync", path_);
  return absl::OkStatus();
}

// --- kind marker ---------------------------------------------------------------

absl::Status PutKind(Txn& txn, std::string_view kind) {
  return txn.Put(kKindKey, kind);
}

absl::Status CheckKind(const Env& env, std::string_view kind,
                       std::string_view description) {
  return env.Read([&](const Txn& txn) -> absl::Status {
    auto marker = txn.Get(kKindKey);
    if (!marker.ok()) return marker.status();
    if (!marker->has_value()) {
      return absl::DataLossError(fmt::format(
          "{}: not a posthorn {} (an LMDB database without kind marker)",
          env.path(), description));
    }
    if (**marker != kind) {
      return absl::DataLossError(
          fmt::format("{}: not a posthorn {} (it is marked \"{}\", not \"{}\")",
                      env.path(), description, Printable(**marker), kind));
    }
    return absl::OkStatus();
  });
}

}  // namespace posthorn::store::lmdb
