// store/postgresql/pg_auth_db.cpp — the popauth database on PostgreSQL:
// OpenPgAuthDb and InitPgAuthDb (posthorn/store/postgresql.h), an AuthDb
// over the table auth_users (schema.h).
//
// Decisions:
//   - The same semantics as the LMDB file (store/auth/auth_db.cpp): its
//     validation, hashing and checks are shared (store/auth/auth_check.h,
//     auth_crypto.h); only where the record lives differs. Passwords and
//     digests never travel to the server: the row is fetched and compared
//     here, in constant time, as with the file.
//   - apop_secret holds the secret in PostgreSQL's "escape" form
//     (encode(bytea, 'escape')): a secret may hold any byte but NUL, CR and
//     LF, which a UTF-8 database would refuse in a text column; ASCII
//     secrets without '\' read as themselves.
//   - LMDB's "has held a password-only user" marker (every check then runs
//     one crypt(), see auth_db.cpp) is the row with user_name '' (no user
//     name is empty): written with the first password-only user, kept until
//     InitPgAuthDb, never listed.
//   - Every write is one transaction; a read-only object refuses writes
//     with FailedPrecondition, as the LMDB file opened read-only does.
//   - Messages name "postgresql auth_users", never the DSN (it may hold a
//     password) nor a secret.

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "fmt/format.h"
#include "posthorn/store/auth_db.h"
#include "posthorn/store/mailstore.h"
#include "posthorn/store/postgresql.h"
#include "store/auth/auth_check.h"
#include "store/auth/auth_crypto.h"
#include "store/auth/auth_record.h"
#include "store/postgresql/pg_connection.h"

namespace posthorn::store {
namespace {

using pg::PgParam;
using pg::PgPool;
using pg::PgResult;
using pg::PgTransaction;

constexpr std::string_view kWhere = "postgresql auth_users";

// One round trip for a check: the marker, and the user's row if any ($1
// NULL for a name that cannot exist). Binary results: bool is one byte,
// bytea and text their bytes.
constexpr std::string_view kFindSql =
    "SELECT EXISTS (SELECT 1 FROM auth_users WHERE user_name = ''), "
    "u.user_name IS NOT NULL, decode(u.apop_secret, 'escape'), "
    "u.password_hash "
    "FROM (SELECT 1) AS one LEFT JOIN auth_users u ON u.user_name = $1";

constexpr std::string_view kSetSecretSql =
    "INSERT INTO auth_users (user_name, apop_secret, password_hash) "
    "VALUES ($1, encode($2::bytea, 'escape'), NULL) "
    "ON CONFLICT (user_name) DO UPDATE "
    "SET apop_secret = EXCLUDED.apop_secret, password_hash = NULL";

constexpr std::string_view kSetHashSql =
    "INSERT INTO auth_users (user_name, apop_secret, password_hash) "
    "VALUES ($1, NULL, $2) "
    "ON CONFLICT (user_name) DO UPDATE "
    "SET apop_secret = NULL, password_hash = EXCLUDED.password_hash";

constexpr std::string_view kMarkSql =
    "INSERT INTO auth_users (user_name) VALUES ('') "
    "ON CONFLICT (user_name) DO NOTHING";

// COLLATE "C": bytewise order, as the LMDB file lists.
constexpr std::string_view kListSql =
    "SELECT user_name, apop_secret IS NOT NULL, password_hash IS NOT NULL "
    "FROM auth_users WHERE user_name <> '' ORDER BY user_name COLLATE \"C\"";

// The store's message with our prefix.
absl::Status Where(const absl::Status& status) {
  return absl::Status(status.code(),
                      fmt::format("{}: {}", kWhere,
                                  std::string(status.message())));
}

class PgAuthDb final : public AuthDb {
 public:
  PgAuthDb(std::unique_ptr<PgPool> pool, bool writable)
      : pool_(std::move(pool)), writable_(writable) {}

  absl::Status SetSecret(std::string_view user,
                         std::string_view secret) override {
    if (absl::Status s = CheckWrite(user); !s.ok()) return s;
    if (absl::Status s = auth::ValidateSecret(secret, "secret"); !s.ok()) {
      return s;
    }
    auto conn = pool_->Acquire();
    if (!conn.ok()) return Where(conn.status());
    auto r = (*conn)->Exec(kSetSecretSql,
                           {PgParam::Text(user), PgParam::Binary(secret)});
    return r.ok() ? absl::OkStatus() : Where(r.status());
  }

  absl::Status SetPasswordOnly(std::string_view user,
                               std::string_view password) override {
    if (absl::Status s = CheckWrite(user); !s.ok()) return s;
    if (absl::Status s = auth::ValidateSecret(password, "password"); !s.ok()) {
      return s;
    }
    auto hash = auth::HashPassword(password);
    if (!hash.ok()) return hash.status();
    auto conn = pool_->Acquire();
    if (!conn.ok()) return Where(conn.status());
    auto txn = PgTransaction::Begin(**conn);
    if (!txn.ok()) return Where(txn.status());
    auto marked = (*conn)->Exec(kMarkSql);
    if (!marked.ok()) return Where(marked.status());
    auto stored =
        (*conn)->Exec(kSetHashSql, {PgParam::Text(user), PgParam::Text(*hash)});
    if (!stored.ok()) return Where(stored.status());
    if (absl::Status s = txn->Commit(); !s.ok()) return Where(s);
    return absl::OkStatus();
  }

  absl::Status Delete(std::string_view user) override {
    if (absl::Status s = CheckWrite(user); !s.ok()) return s;
    auto conn = pool_->Acquire();
    if (!conn.ok()) return Where(conn.status());
    auto r = (*conn)->Exec("DELETE FROM auth_users WHERE user_name = $1",
                           {PgParam::Text(user)});
    if (!r.ok()) return Where(r.status());
    if (r->affected() == 0) {
      return absl::NotFoundError(
          fmt::format("{}: no user \"{}\"", kWhere, user));
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::vector<AuthUser>> List() const override {
    auto conn = pool_->Acquire();
    if (!conn.ok()) return Where(conn.status());
    auto r = (*conn)->Exec(kListSql);
    if (!r.ok()) return Where(r.status());
    std::vector<AuthUser> users;
    users.reserve(static_cast<std::size_t>(r->rows()));
    for (int row = 0; row < r->rows(); ++row) {
      users.push_back(AuthUser{std::string(r->Text(row, 0)),
                               r->Text(row, 1) == "t", r->Text(row, 2) == "t"});
    }
    return users;
  }

  absl::StatusOr<bool> CheckPassword(std::string_view user,
                                     std::string_view password) const override {
    auto found = Find(user);
    if (!found.ok()) return found.status();
    return auth::CheckPasswordRecord(found->record, found->hash_users,
                                     password);
  }

  absl::StatusOr<bool> CheckApop(std::string_view user,
                                 std::string_view timestamp,
                                 std::string_view digest_hex) const override {
    auto found = Find(user);
    if (!found.ok()) return found.status();
    return auth::CheckApopRecord(found->record, timestamp, digest_hex);
  }

 private:
  struct Found {
    std::optional<auth::AuthRecord> record;  // nullopt: unknown user
    bool hash_users = true;                  // the marker row exists
  };

  absl::Status CheckWrite(std::string_view user) const {
    if (!writable_) {
      return absl::FailedPreconditionError(
          fmt::format("{}: opened read-only", kWhere));
    }
    return ValidateUserName(user);
  }

  // Invalid names are looked up as NULL (no row), so they cost the same
  // query as unknown ones.
  absl::StatusOr<Found> Find(std::string_view user) const {
    const bool valid_name = ValidateUserName(user).ok();
    auto conn = pool_->Acquire();
    if (!conn.ok()) return Where(conn.status());
    auto r = (*conn)->Exec(
        kFindSql, {valid_name ? PgParam::Text(user) : PgParam::Null()},
        /*binary_result=*/true);
    if (!r.ok()) return Where(r.status());
    Found found;
    if (r->rows() != 1) {
      return absl::InternalError(
          fmt::format("{}: lookup returned {} rows", kWhere, r->rows()));
    }
    found.hash_users = r->Text(0, 0) == std::string_view("\1", 1);
    if (r->Text(0, 1) != std::string_view("\1", 1)) return found;
    auth::AuthRecord record;
    if (!r->IsNull(0, 2)) record.secret = std::string(r->Text(0, 2));
    if (!r->IsNull(0, 3)) record.hash = std::string(r->Text(0, 3));
    found.record = std::move(record);
    return found;
  }

  std::unique_ptr<PgPool> pool_;
  bool writable_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<AuthDb>> OpenPgAuthDb(
    const PgStoreOptions& options, bool writable) {
  auto pool = PgPool::Create(options);
  if (!pool.ok()) return pool.status();
  auto migrated = MigratePgSchema(options);
  if (!migrated.ok()) return migrated.status();
  return std::make_unique<PgAuthDb>(*std::move(pool), writable);
}

absl::Status InitPgAuthDb(const PgStoreOptions& options, bool force) {
  auto pool = PgPool::Create(options);
  if (!pool.ok()) return pool.status();
  auto migrated = MigratePgSchema(options);
  if (!migrated.ok()) return migrated.status();
  auto conn = (*pool)->Acquire();
  if (!conn.ok()) return Where(conn.status());
  if (!force) {
    auto r = (*conn)->Exec("SELECT 1 FROM auth_users LIMIT 1");
    if (!r.ok()) return Where(r.status());
    if (r->rows() > 0) {
      return absl::FailedPreconditionError(fmt::format(
          "{}: the auth database holds users (force empties it)", kWhere));
    }
    return absl::OkStatus();
  }
  // One statement: readers see every user or none; the marker goes too.
  auto r = (*conn)->Exec("DELETE FROM auth_users");
  return r.ok() ? absl::OkStatus() : Where(r.status());
}

}  // namespace posthorn::store
