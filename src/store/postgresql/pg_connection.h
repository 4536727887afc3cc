// store/postgresql/pg_connection.h — the libpq wrapper every PostgreSQL
// part of the store uses: one connection, its results, and a pool.
//
//   auto pool = PgPool::Create(options);
//   auto conn = (*pool)->Acquire();                 // PgPool::Lease
//   auto r = (*conn)->Exec("SELECT uid, size FROM maildrop WHERE user_name=$1",
//                          {PgParam::Text(user)});
//   for (int row = 0; row < r->rows(); ++row) r->Text(row, 0) ...
//   // transactions: Exec("BEGIN") ... Exec("COMMIT"), or PgTransaction.
//
// PARAMETERS AND RESULTS
//   Statements take $1..$n parameters, each text, binary (bytea) or NULL;
//   never build SQL from values. Results are text unless `binary_result`
//   (then every column is in binary format: use it for bytea chunks only).
//
// ERRORS (absl::Status codes, the message carries libpq's text and the
//   SQLSTATE):
//   Unavailable       the connection is gone or could not be made (class
//                     08, 57P01..57P03 admin shutdown/crash); the
//                     connection is marked broken and the pool replaces it
//   Aborted           serialization failure 40001, deadlock 40P01: retry
//                     the transaction
//   AlreadyExists     unique violation 23505
//   FailedPrecondition foreign key violation 23503, check violation 23514
//   Internal          anything else
//
// PREPARED STATEMENTS
//   A statement with parameters is prepared on its connection the first
//   time it runs (PQprepare, named "posthorn_<n>") and executed by name
//   after that, so the server parses and plans it once per connection,
//   not once per call. At most kMaxPreparedStatements per connection; any
//   beyond run unprepared. (A pooler in transaction mode between posthorn
//   and the server must support named prepared statements: PgBouncer from
//   1.21 with max_prepared_statements set.)
//
// THREADS
//   A connection is used by one thread at a time; the pool is thread-safe.

#ifndef POSTHORN_SRC_STORE_POSTGRESQL_PG_CONNECTION_H_
#define POSTHORN_SRC_STORE_POSTGRESQL_PG_CONNECTION_H_

#include <condition_variable>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "posthorn/store/postgresql.h"

// libpq's types, without its header.
struct pg_conn;
struct pg_result;

namespace posthorn::store::pg {

struct PgParam {
  enum class Kind { kText, kBinary, kNull };
  Kind kind = Kind::kNull;
  std::string_view value;  // viewed, not copied: keep it alive for Exec

  static PgParam Text(std::string_view v) { return {Kind::kText, v}; }
  static PgParam Binary(std::string_view v) { return {Kind::kBinary, v}; }
  static PgParam Null() { return {Kind::kNull, {}}; }
};

// The result of one statement (owns the PGresult).
class PgResult {
 public:
  PgResult() = default;
  explicit PgResult(pg_result* result) : result_(result) {}
  PgResult(PgResult&& other) noexcept;
  PgResult& operator=(PgResult&& other) noexcept;
  PgResult(const PgResult&) = delete;
  PgResult& operator=(const PgResult&) = delete;
  ~PgResult();

  int rows() const;
  int columns() const;
  // "UPDATE 3" -> 3: rows changed by INSERT/UPDATE/DELETE.
  std::int64_t affected() const;
  bool IsNull(int row, int column) const;
  // The value's bytes (text, or binary with binary_result); "" for NULL.
  std::string_view Text(int row, int column) const;
  // A text column holding an integer; InvalidArgument naming the column.
  absl::StatusOr<std::int64_t> Int(int row, int column) const;

 private:
  pg_result* result_ = nullptr;
};

class PgConnection {
 public:
  // Connects (libpq's connect_timeout from options); Unavailable on failure.
  static absl::StatusOr<std::unique_ptr<PgConnection>> Connect(
      const PgStoreOptions& options);
  ~PgConnection();
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  absl::StatusOr<PgResult> Exec(std::string_view sql,
                                std::initializer_list<PgParam> params = {},
                                bool binary_result = false);
  absl::StatusOr<PgResult> Exec(std::string_view sql,
                                const std::vector<PgParam>& params,
                                bool binary_result = false);

  // False once an error said the connection is gone.
  bool healthy() const { return healthy_; }
  // Reads what the server sent an idle connection, without blocking; false
  // (and no longer healthy) when the server has closed it, e.g. after a
  // database restart. The pool checks idle connections with it.
  bool StillConnected();
  // True inside a transaction block (after BEGIN, before COMMIT/ROLLBACK),
  // also when that transaction failed and waits for ROLLBACK.
  bool in_transaction() const;
  // The server process id (pg_backend_pid()), for node liveness.
  int backend_pid() const;

  // For a connection that LISTENs: its socket (to poll for input; then
  // StillConnected() reads what arrived), and the payloads of the
  // notifications read so far (on any channel this connection listens
  // to), oldest first.
  int socket() const;
  std::vector<std::string> TakeNotifications();

 private:
  explicit PgConnection(pg_conn* conn) : conn_(conn) {}
  absl::StatusOr<PgResult> ExecArray(std::string_view sql,
                                     const PgParam* params, std::size_t count,
                                     bool binary_result);

  // The name of `sql` prepared on this connection: prepares it the first
  // time; nullopt when the cache is full (run it unprepared). An error
  // from the server (a syntax error, a failed transaction) as the status.
  absl::StatusOr<std::optional<std::string>> PreparedName(
      const std::string& sql);

  pg_conn* conn_;
  bool healthy_ = true;
  std::unordered_map<std::string, std::string> prepared_;  // SQL -> name
};

// Statements prepared per connection at most (see PREPARED STATEMENTS).
inline constexpr std::size_t kMaxPreparedStatements = 256;

// BEGIN on construction; ROLLBACK on destruction unless Commit() ran.
class PgTransaction {
 public:
  // Starts a transaction ("BEGIN" or e.g. "BEGIN ISOLATION LEVEL
  // SERIALIZABLE").
  static absl::StatusOr<PgTransaction> Begin(PgConnection& conn,
                                             std::string_view begin = "BEGIN");
  PgTransaction(PgTransaction&& other) noexcept;
  PgTransaction& operator=(PgTransaction&&) = delete;
  ~PgTransaction();
  // Unavailable when the connection dropped during COMMIT: the outcome is
  // unknown, and the caller must resolve it by its keys.
  absl::Status Commit();

 private:
  explicit PgTransaction(PgConnection* conn) : conn_(conn) {}
  PgConnection* conn_;
};

// A bounded pool of connections to one database.
class PgPool {
 public:
  // Does not connect yet; the first Acquire() does.
  static absl::StatusOr<std::unique_ptr<PgPool>> Create(
      const PgStoreOptions& options);

  // A connection for one thread; returned to the pool on destruction (or
  // dropped when it is no longer healthy).
  class Lease {
   public:
    Lease(PgPool* pool, std::unique_ptr<PgConnection> conn)
        : pool_(pool), conn_(std::move(conn)) {}
    Lease(Lease&&) noexcept = default;
    Lease& operator=(Lease&&) = delete;  // would drop a held connection
    ~Lease();
    PgConnection* operator->() const { return conn_.get(); }
    PgConnection& operator*() const { return *conn_; }

   private:
    PgPool* pool_;
    std::unique_ptr<PgConnection> conn_;
  };

  // Waits (up to connect_timeout) for a free connection, or opens one when
  // fewer than max_connections are open. An idle connection the server has
  // closed is dropped instead of handed out; a connection returned broken
  // drops every idle one too (a restart or crash of the server ends them
  // all), so a database restart costs at most one failed call per caller.
  // After a failed connect, further attempts wait with backoff (100 ms
  // doubling to 5 s) and fail at once with Unavailable in between, so a
  // database that is down costs callers no waiting.
  absl::StatusOr<Lease> Acquire();

  const PgStoreOptions& options() const { return options_; }

 private:
  explicit PgPool(PgStoreOptions options) : options_(std::move(options)) {}
  void Return(std::unique_ptr<PgConnection> conn);

  PgStoreOptions options_;
  std::mutex mu_;
  std::condition_variable freed_;
  std::vector<std::unique_ptr<PgConnection>> idle_;
  std::size_t open_ = 0;
  absl::Time next_connect_ = absl::InfinitePast();
  absl::Duration backoff_ = absl::ZeroDuration();
};

}  // namespace posthorn::store::pg

#endif  // POSTHORN_SRC_STORE_POSTGRESQL_PG_CONNECTION_H_
