// store/lmdb/lmdb_env.h — a small RAII wrapper over LMDB for the alias and
// auth databases.
//
// PURPOSE
//   One LMDB file (MDB_NOSUBDIR: the data file itself plus "<path>-lock",
//   or no lock file at all with `no_lock`), opened once, used through
//   Read()/Write() callbacks that own the transaction: a callback returns a
//   Status, Write() commits only when it is OK. Every LMDB error becomes a
//   Status naming the path ("aliases.lmdb: not an LMDB database").
//
// GUARANTEES
//   - A Write() is one LMDB transaction: after a crash the file holds the
//     state before it or after it, never a mix (LMDB's copy-on-write pages
//     and meta-page switch).
//   - Writers grow the map on MDB_MAP_FULL (doubling, up to kMaxMapSize)
//     and rerun the callback, so callbacks must be re-runnable. Readers
//     follow a map grown by another process (MDB_MAP_RESIZED).
//   - Each database carries a kind marker under kKindKey ("aliases-v1",
//     "auth-v1"); CheckKind() turns a database of another kind, or an LMDB
//     file without marker, into DataLoss.
//   - Open() refuses, as DataLoss, files that are empty, not LMDB, of
//     another LMDB version, or shorter than their own meta page says
//     (a truncated copy would make LMDB fault with SIGBUS on access).
//
// LIMITS / RESIDUAL RISK
//   LMDB trusts its data pages: a file whose header and meta pages are
//   intact but whose b-tree pages were overwritten with garbage can make
//   LMDB read wrong memory or fault. We check what can be checked cheaply
//   (meta pages, version, file size against the last page) and document
//   the rest: the files are only written by this code, mode 0600/0644,
//   and a corrupted one should be rebuilt (newaliases, popauth -init).
//   LMDB forbids opening one file twice in a process (its POSIX locks are
//   per process); callers that may do so share one Env (auth_db.cpp keeps
//   a registry). Keys are at most 511 bytes (LMDB's default limit).
//
// Threads: Read() and Write() may be called from any thread (MDB_NOTLS);
// a shared mutex keeps map resizing away from running transactions.

#ifndef POSTHORN_SRC_STORE_LMDB_LMDB_ENV_H_
#define POSTHORN_SRC_STORE_LMDB_LMDB_ENV_H_

#include <lmdb.h>
#include <sys/types.h>

#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace posthorn::store::lmdb {

// The key of the kind marker: it starts with NUL, which no alias name or
// user name may contain, so it never collides with a record.
inline constexpr std::string_view kKindKey{"\0posthorn-kind", 14};

inline constexpr std::size_t kMaxKeySize = 511;
inline constexpr std::size_t kMaxMapSize = std::size_t{1} << 34;  // 16 GiB

struct EnvOptions {
  bool read_only = false;  // MDB_RDONLY
  bool no_lock = false;    // MDB_NOLOCK: no "-lock" file; only for files
                           // that are written once, then renamed into place
  bool create = false;     // create the file when missing (else NotFound)
  mode_t mode = 0600;      // for files LMDB creates
  std::size_t initial_map_size = std::size_t{1} << 20;
};

// A transaction handed to a Read()/Write() callback. Views returned by
// Get() and ForEach() point into the map and die with the transaction.
class Txn {
 public:
  Txn(MDB_txn* txn, MDB_dbi dbi, const std::string& path)
      : txn_(txn), dbi_(dbi), path_(path) {}

  // nullopt when the key is absent.
  absl::StatusOr<std::optional<std::string_view>> Get(
      std::string_view key) const;
  absl::Status Put(std::string_view key, std::string_view value);
  // NotFound when the key is absent.
  absl::Status Del(std::string_view key);
  // Removes every record (mdb_drop with del = 0).
  absl::Status Clear();
  // Every record in key order (bytewise), the kind marker included.
  absl::Status ForEach(
      const std::function<absl::Status(std::string_view key,
                                       std::string_view value)>& fn) const;

 private:
  friend class Env;
  MDB_txn* txn_;
  MDB_dbi dbi_;
  const std::string& path_;
  int last_error_ = 0;  // an MDB_MAP_FULL seen by Put, for Write()'s retry
};

class Env {
 public:
  static absl::StatusOr<std::unique_ptr<Env>> Open(const std::string& path,
                                                   const EnvOptions& options);
  ~Env();
  Env(const Env&) = delete;
  Env& operator=(const Env&) = delete;

  const std::string& path() const { return path_; }
  bool read_only() const { return read_only_; }

  absl::Status Read(const std::function<absl::Status(const Txn&)>& fn) const;
  // Commits when `fn` returns OK; aborts otherwise (and returns its status).
  absl::Status Write(const std::function<absl::Status(Txn&)>& fn);
  // mdb_env_sync(force): for environments opened with MDB_NOSYNC (none
  // today) and as an explicit barrier before a rename.
  absl::Status Sync();
  // The data file's descriptor (fchmod, fstat); owned by LMDB.
  int fd() const;

 private:
  Env(std::string path, MDB_env* env, bool read_only)
      : path_(std::move(path)), env_(env), read_only_(read_only) {}
  absl::Status CheckFileSize();
  absl::Status GrowMap();
  absl::Status AdoptMapSize() const;

  std::string path_;
  MDB_env* env_;
  MDB_dbi dbi_ = 0;
  bool read_only_;
  mutable std::shared_mutex resize_mutex_;
  std::mutex write_mutex_;
};

// Maps an LMDB or errno code to a Status: `<path>: <what>: <reason>`.
absl::Status LmdbStatus(int rc, std::string_view what, std::string_view path);

// Writes the kind marker (in a Write() callback).
absl::Status PutKind(Txn& txn, std::string_view kind);
// DataLoss "<path>: not a posthorn <description> (...)" unless the marker
// is `kind`.
absl::Status CheckKind(const Env& env, std::string_view kind,
                       std::string_view description);

}  // namespace posthorn::store::lmdb

#endif  // POSTHORN_SRC_STORE_LMDB_LMDB_ENV_H_
