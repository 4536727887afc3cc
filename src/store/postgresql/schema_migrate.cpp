// store/postgresql/schema_migrate.cpp — creates and upgrades the schema
// (MigrateSchema in schema.h, store::MigratePgSchema in postgresql.h).
//
// Every node runs the migration when it starts. Nodes serialize on a
// session-level advisory lock with a fixed key, so two nodes starting
// together migrate once: the second waits, then finds the version the first
// recorded. The upgrade itself is one transaction (PostgreSQL's DDL is
// transactional), so a crash half way leaves the old version intact.
//
// The version lives in posthorn_schema (one row). A database newer than
// this build is refused: an old binary must not write tables whose meaning
// it does not know.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "fmt/format.h"
#include "posthorn/store/postgresql.h"
#include "store/postgresql/pg_connection.h"
#include "store/postgresql/schema.h"

namespace posthorn::store::pg {
namespace {

// The advisory lock every node takes to migrate ("posthorn" in ASCII, as a
// bigint), so it does not collide with another application's keys.
constexpr std::string_view kMigrateLockKey = "8101821198468346478";
// How long a node waits for another node's migration before giving up.
constexpr std::string_view kMigrateLockTimeout = "60s";
// SQLSTATE lock_not_available: lock_timeout ran out.
constexpr std::string_view kLockNotAvailable = "55P03";

// Splits a script into statements at ';' outside comments and quotes
// (PQexecParams runs one statement at a time). Our own SQL only: no
// dollar quoting.
std::vector<std::string> SplitStatements(std::string_view script) {
  std::vector<std::string> out;
  std::string current;
  bool in_quote = false;
  bool in_comment = false;
  for (std::size_t i = 0; i < script.size(); ++i) {
    const char c = script[i];
    if (in_comment) {
      if (c == '\n') in_comment = false;
      current += c;
      continue;
    }
    if (in_quote) {
      if (c == '\'') in_quote = false;
      current += c;
      continue;
    }
    if (c == '-' && i + 1 < script.size() && script[i + 1] == '-') {
      in_comment = true;
    } else if (c == '\'') {
      in_quote = true;
    } else if (c == ';') {
      out.push_back(std::move(current));
      current.clear();
      continue;
    }
    current += c;
  }
  out.push_back(std::move(current));
  // Drop what holds no statement (blanks and comments only).
  std::erase_if(out, [](const std::string& statement) {
    std::string_view rest = statement;
    for (;;) {
      const std::size_t start = rest.find_first_not_of(" \t\r\n");
      if (start == std::string_view::npos) return true;
      rest.remove_prefix(start);
      if (!rest.starts_with("--")) return false;
      const std::size_t end = rest.find('\n');
      if (end == std::string_view::npos) return true;
      rest.remove_prefix(end);
    }
  });
  return out;
}

// Holds the migration lock; releases it on destruction. A broken
// connection lost the lock with its session already.
class MigrateLock {
 public:
  static absl::StatusOr<MigrateLock> Take(PgConnection& conn) {
    absl::StatusOr<PgResult> r = conn.Exec(
        fmt::format("SET lock_timeout = '{}'", kMigrateLockTimeout));
    if (!r.ok()) return r.status();
    r = conn.Exec(fmt::format("SELECT pg_advisory_lock({})", kMigrateLockKey));
    absl::StatusOr<PgResult> reset = conn.Exec("RESET lock_timeout");
    if (!r.ok()) {
      const std::string message(r.status().message());
      if (message.find(kLockNotAvailable) != std::string::npos) {
        return absl::UnavailableError(fmt::format(
            "postgresql: another node has been migrating the schema for "
            "more than {}",
            kMigrateLockTimeout));
      }
      return r.status();
    }
    if (!reset.ok()) {
      (void)conn.Exec(
          fmt::format("SELECT pg_advisory_unlock({})", kMigrateLockKey));
      return reset.status();
    }
    return MigrateLock(&conn);
  }
  MigrateLock(MigrateLock&& other) noexcept
      : conn_(std::exchange(other.conn_, nullptr)) {}
  MigrateLock& operator=(MigrateLock&&) = delete;
  ~MigrateLock() {
    if (conn_ != nullptr && conn_->healthy()) {
      (void)conn_->Exec(
          fmt::format("SELECT pg_advisory_unlock({})", kMigrateLockKey));
    }
  }

 private:
  explicit MigrateLock(PgConnection* conn) : conn_(conn) {}
  PgConnection* conn_;
};

// The recorded version; 0 when posthorn_schema is empty.
absl::StatusOr<int> ReadVersion(PgConnection& conn) {
  absl::StatusOr<PgResult> r =
      conn.Exec("SELECT coalesce(max(version), 0) FROM posthorn_schema");
  if (!r.ok()) return r.status();
  absl::StatusOr<std::int64_t> version = r->Int(0, 0);
  if (!version.ok()) return version.status();
  return static_cast<int>(*version);
}

absl::Status ApplyScript(PgConnection& conn, std::string_view script) {
  for (const std::string& statement : SplitStatements(script)) {
    absl::StatusOr<PgResult> r = conn.Exec(statement);
    if (!r.ok()) return r.status();
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<int> MigrateSchema(PgConnection& conn) {
  absl::StatusOr<MigrateLock> lock = MigrateLock::Take(conn);
  if (!lock.ok()) return lock.status();

  absl::StatusOr<PgTransaction> tx = PgTransaction::Begin(conn);
  if (!tx.ok()) return tx.status();
  absl::StatusOr<PgResult> r = conn.Exec(
      "CREATE TABLE IF NOT EXISTS posthorn_schema ("
      " version integer NOT NULL,"
      " migrated timestamptz NOT NULL DEFAULT now())");
  if (!r.ok()) return r.status();
  absl::StatusOr<int> found = ReadVersion(conn);
  if (!found.ok()) return found.status();
  if (*found > kPgSchemaVersion) {
    return absl::FailedPreconditionError(fmt::format(
        "postgresql: the database has schema version {}, newer than version "
        "{} of this posthorn; upgrade posthorn",
        *found, kPgSchemaVersion));
  }
  if (*found == kPgSchemaVersion) return *found;  // rolls back: nothing done

  // Upgrades, one step per version. Version 1 is the first.
  if (*found < 1) {
    if (absl::Status s = ApplyScript(conn, SchemaV1Sql()); !s.ok()) return s;
  }
  r = conn.Exec("DELETE FROM posthorn_schema");
  if (!r.ok()) return r.status();
  const std::string version = std::to_string(kPgSchemaVersion);
  r = conn.Exec("INSERT INTO posthorn_schema (version) VALUES ($1)",
                {PgParam::Text(version)});
  if (!r.ok()) return r.status();
  if (absl::Status s = tx->Commit(); !s.ok()) return s;
  return *found;
}

}  // namespace posthorn::store::pg

namespace posthorn::store {

absl::StatusOr<int> MigratePgSchema(const PgStoreOptions& options) {
  if (options.dsn.empty()) {
    return absl::InvalidArgumentError("postgresql: no DSN (postgresql_dsn)");
  }
  absl::StatusOr<std::unique_ptr<pg::PgConnection>> conn =
      pg::PgConnection::Connect(options);
  if (!conn.ok()) return conn.status();
  return pg::MigrateSchema(**conn);
}

}  // namespace posthorn::store
