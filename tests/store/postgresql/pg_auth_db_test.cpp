// tests/store/postgresql/pg_auth_db_test.cpp — the popauth database on
// PostgreSQL (OpenPgAuthDb, InitPgAuthDb): the behaviours of
// tests/store/auth/auth_db_test.cpp on this backend — secrets and password
// hashes, APOP (RFC 1939's example), unknown users, validation, read-only
// objects, -init with and without force — plus what only a shared
// database has: several objects (nodes) seeing each other's writes,
// secrets of any bytes, and a database that goes away and comes back.
// Each test has its own fresh database on the test cluster.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "pg_test_cluster.h"
#include "posthorn/store/auth_db.h"
#include "posthorn/store/postgresql.h"
#include "store/auth/auth_crypto.h"
#include "store/postgresql/pg_connection.h"

namespace posthorn::store {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kRfcTimestamp[] = "<1896.697170952@dbc.mtview.ca.us>";
constexpr char kRfcDigest[] = "c4c9334bac560ecc979e58001b3e22fb";

class PgAuthDbTest : public ::testing::Test {
 protected:
  void SetUp() override {
    POSTHORN_PG_TEST_CLUSTER(cluster);
    cluster_ = &cluster;
    auto dsn = cluster.CreateFreshDatabase();
    ASSERT_TRUE(dsn.ok()) << dsn.status();
    options_.dsn = *dsn;
    options_.connect_timeout = absl::Seconds(5);
  }

  std::unique_ptr<AuthDb> MustOpen(bool writable) {
    auto db = OpenPgAuthDb(options_, writable);
    EXPECT_TRUE(db.ok()) << db.status();
    return db.ok() ? *std::move(db) : nullptr;
  }

  // One column of one row, straight from the table.
  std::string Column(std::string_view sql, std::string_view user) {
    auto conn = pg::PgConnection::Connect(options_);
    if (!conn.ok()) return "<no connection>";
    auto r = (*conn)->Exec(sql, {pg::PgParam::Text(user)});
    if (!r.ok() || r->rows() != 1) return "<no row>";
    return r->IsNull(0, 0) ? "<null>" : std::string(r->Text(0, 0));
  }

  testing::PgTestCluster* cluster_ = nullptr;
  PgStoreOptions options_;
};

bool Check(const AuthDb& db, std::string_view user, std::string_view pw) {
  auto result = db.CheckPassword(user, pw);
  EXPECT_TRUE(result.ok()) << result.status();
  return result.ok() && *result;
}

bool Apop(const AuthDb& db, std::string_view user, std::string_view ts,
          std::string_view digest) {
  auto result = db.CheckApop(user, ts, digest);
  EXPECT_TRUE(result.ok()) << result.status();
  return result.ok() && *result;
}

std::vector<std::string> Names(const AuthDb& db) {
  std::vector<std::string> names;
  auto users = db.List();
  EXPECT_TRUE(users.ok()) << users.status();
  if (!users.ok()) return names;
  for (const AuthUser& user : *users) names.push_back(user.name);
  return names;
}

TEST_F(PgAuthDbTest, OpenMakesTheSchemaAndStartsEmpty) {
  auto db = MustOpen(true);
  ASSERT_NE(db, nullptr);
  EXPECT_TRUE(Names(*db).empty());
  EXPECT_EQ(Column("SELECT count(*) FROM auth_users WHERE $1 = $1", "x"),
            "0");
}

TEST_F(PgAuthDbTest, SecretsWorkForPassAndApop) {
  auto db = MustOpen(true);
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(db->SetSecret("mrose", "tanstaaf").ok());
  EXPECT_TRUE(Apop(*db, "mrose", kRfcTimestamp, kRfcDigest));
  EXPECT_TRUE(Apop(*db, "mrose", kRfcTimestamp,
                   "C4C9334BAC560ECC979E58001B3E22FB"));  // any case
  EXPECT_FALSE(Apop(*db, "mrose", kRfcTimestamp,
                    "c4c9334bac560ecc979e58001b3e22fc"));
  EXPECT_FALSE(Apop(*db, "mrose", "<other@host>", kRfcDigest));
  EXPECT_FALSE(Apop(*db, "mrose", kRfcTimestamp, "c4c9334b"));
  EXPECT_FALSE(Apop(*db, "mrose", kRfcTimestamp, ""));
  EXPECT_FALSE(Apop(*db, "nobody", kRfcTimestamp, kRfcDigest));
  EXPECT_FALSE(Apop(*db, "MROSE", kRfcTimestamp, kRfcDigest));  // exact names

  EXPECT_TRUE(Check(*db, "mrose", "tanstaaf"));
  EXPECT_FALSE(Check(*db, "mrose", "tanstaa"));
  EXPECT_FALSE(Check(*db, "mrose", "tanstaaff"));
  EXPECT_FALSE(Check(*db, "mrose", "TANSTAAF"));
  EXPECT_FALSE(Check(*db, "mrose", ""));
  EXPECT_FALSE(Check(*db, "nobody", "tanstaaf"));

  ASSERT_TRUE(db->SetSecret("mrose", "new secret").ok());
  EXPECT_FALSE(Check(*db, "mrose", "tanstaaf"));
  EXPECT_TRUE(Check(*db, "mrose", "new secret"));
}

// A secret may hold any byte but NUL, CR and LF, also in a UTF-8 database;
// plain ASCII secrets are stored as they are.
TEST_F(PgAuthDbTest, SecretsOfAnyBytes) {
  auto db = MustOpen(true);
  ASSERT_NE(db, nullptr);
  const std::string latin1 = "caf\xe9 \\ back\\slash \x01\x7f\xff";
  ASSERT_TRUE(db->SetSecret("alice", latin1).ok());
  EXPECT_TRUE(Check(*db, "alice", latin1));
  EXPECT_FALSE(Check(*db, "alice", "caf\xc3\xa9 \\ back\\slash \x01\x7f\xff"));
  EXPECT_TRUE(Apop(*db, "alice", "<t@h>", ApopDigest("<t@h>", latin1)));
  ASSERT_TRUE(db->SetSecret("bob", "plain ascii").ok());
  EXPECT_EQ(Column("SELECT apop_secret FROM auth_users WHERE user_name = $1",
                   "bob"),
            "plain ascii");
}

TEST_F(PgAuthDbTest, PasswordOnlyUsers) {
  auto db = MustOpen(true);
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(db->SetSecret("alice", "apop-secret").ok());
  ASSERT_TRUE(db->SetPasswordOnly("alice", "hunter2").ok());
  EXPECT_TRUE(Check(*db, "alice", "hunter2"));
  EXPECT_FALSE(Check(*db, "alice", "hunter3"));
  EXPECT_FALSE(Check(*db, "alice", "apop-secret"));  // replaced
  EXPECT_FALSE(Check(*db, "alice", std::string("hunter2\0x", 9)));
  EXPECT_FALSE(Apop(*db, "alice", kRfcTimestamp,
                    ApopDigest(kRfcTimestamp, "hunter2")));
  EXPECT_FALSE(Apop(*db, "alice", kRfcTimestamp,
                    ApopDigest(kRfcTimestamp, "apop-secret")));
  // The table holds a yescrypt hash and no clear password.
  EXPECT_EQ(Column("SELECT apop_secret FROM auth_users WHERE user_name = $1",
                   "alice"),
            "<null>");
  const std::string hash = Column(
      "SELECT password_hash FROM auth_users WHERE user_name = $1", "alice");
  EXPECT_THAT(hash, ::testing::StartsWith("$y$"));
  EXPECT_THAT(hash, Not(HasSubstr("hunter2")));
  // And back to a secret: the hash goes.
  ASSERT_TRUE(db->SetSecret("alice", "again").ok());
  EXPECT_FALSE(Check(*db, "alice", "hunter2"));
  EXPECT_TRUE(Check(*db, "alice", "again"));
}

// As with the file: no crypt() while only secrets exist; one per check,
// whatever the user, once a password-only user was stored; the marker
// survives deleting that user and goes with -init -force.
TEST_F(PgAuthDbTest, CryptRunsForEveryCheckOnlyWithPasswordOnlyUsers) {
  auto db = MustOpen(true);
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(db->SetSecret("alice", "apop-secret").ok());
  auto calls = [] { return auth::VerifyHashCallsForTesting(); };
  std::uint64_t before = calls();
  EXPECT_TRUE(Check(*db, "alice", "apop-secret"));
  EXPECT_FALSE(Check(*db, "alice", "wrong"));
  EXPECT_FALSE(Check(*db, "nobody", "apop-secret"));
  EXPECT_FALSE(Check(*db, "../x", "apop-secret"));
  EXPECT_EQ(calls(), before);

  ASSERT_TRUE(db->SetPasswordOnly("bob", "hunter2").ok());
  before = calls();
  EXPECT_TRUE(Check(*db, "alice", "apop-secret"));
  EXPECT_TRUE(Check(*db, "bob", "hunter2"));
  EXPECT_FALSE(Check(*db, "nobody", "hunter2"));
  EXPECT_FALSE(Check(*db, "../x", "hunter2"));
  EXPECT_EQ(calls(), before + 4);
  ASSERT_TRUE(db->Delete("bob").ok());
  before = calls();
  EXPECT_FALSE(Check(*db, "nobody", "x"));
  EXPECT_EQ(calls(), before + 1);
  EXPECT_THAT(Names(*db), ::testing::ElementsAre("alice"));  // no marker

  ASSERT_TRUE(InitPgAuthDb(options_, /*force=*/true).ok());
  ASSERT_TRUE(db->SetSecret("carol", "s").ok());
  before = calls();
  EXPECT_TRUE(Check(*db, "carol", "s"));
  EXPECT_FALSE(Check(*db, "nobody", "s"));
  EXPECT_EQ(calls(), before);
}

TEST_F(PgAuthDbTest, ListAndDelete) {
  auto db = MustOpen(true);
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(db->SetSecret("carol", "c").ok());
  ASSERT_TRUE(db->SetPasswordOnly("alice", "a").ok());
  ASSERT_TRUE(db->SetSecret("bob", "b").ok());
  ASSERT_TRUE(db->SetSecret("Zed", "z").ok());
  ASSERT_TRUE(db->SetSecret("_x", "x").ok());
  auto users = db->List();
  ASSERT_TRUE(users.ok()) << users.status();
  ASSERT_EQ(users->size(), 5u);
  // Bytewise order, as the file lists them, whatever the collation.
  EXPECT_EQ((*users)[0].name, "Zed");
  EXPECT_EQ((*users)[1].name, "_x");
  EXPECT_EQ((*users)[2].name, "alice");
  EXPECT_FALSE((*users)[2].has_secret);
  EXPECT_TRUE((*users)[2].has_hash);
  EXPECT_EQ((*users)[3].name, "bob");
  EXPECT_TRUE((*users)[3].has_secret);
  EXPECT_FALSE((*users)[3].has_hash);
  EXPECT_EQ((*users)[4].name, "carol");

  ASSERT_TRUE(db->Delete("bob").ok());
  absl::Status again = db->Delete("bob");
  EXPECT_EQ(again.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(again.message()), HasSubstr("no user \"bob\""));
  EXPECT_FALSE(Check(*db, "bob", "b"));
  EXPECT_EQ(db->List()->size(), 4u);

  db.reset();
  auto reopened = MustOpen(false);
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(reopened->List()->size(), 4u);
  EXPECT_TRUE(Check(*reopened, "carol", "c"));
}

TEST_F(PgAuthDbTest, RejectsBadInput) {
  auto db = MustOpen(true);
  ASSERT_NE(db, nullptr);
  for (std::string_view user :
       {std::string_view(""), std::string_view("../etc"),
        std::string_view("a/b"), std::string_view("-x"),
        std::string_view(".hidden"), std::string_view("with space"),
        std::string_view("nul\0x", 5), std::string_view("caf\xc3\xa9")}) {
    EXPECT_EQ(db->SetSecret(user, "s").code(),
              absl::StatusCode::kInvalidArgument) << user;
    EXPECT_EQ(db->SetPasswordOnly(user, "s").code(),
              absl::StatusCode::kInvalidArgument) << user;
    EXPECT_EQ(db->Delete(user).code(), absl::StatusCode::kInvalidArgument)
        << user;
    EXPECT_FALSE(Check(*db, user, "s")) << user;
    EXPECT_FALSE(Apop(*db, user, kRfcTimestamp, kRfcDigest)) << user;
  }
  EXPECT_EQ(db->SetSecret("alice", "").code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(db->SetSecret("alice", "a\r\nb").code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(db->SetSecret("alice", std::string(1025, 'x')).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(db->SetSecret("alice", std::string(1024, 'x')).ok());
  EXPECT_EQ(db->SetPasswordOnly("alice", std::string("a\0b", 3)).code(),
            absl::StatusCode::kInvalidArgument);
  absl::Status s = db->SetSecret("bad/user", "topsecret");
  EXPECT_EQ(std::string(s.message()).find("topsecret"), std::string::npos);
  // The marker row is no user, whatever a caller tries.
  ASSERT_TRUE(db->SetPasswordOnly("bob", "pw").ok());
  EXPECT_FALSE(Check(*db, "", ""));
  EXPECT_THAT(Names(*db), ::testing::ElementsAre("alice", "bob"));
}

TEST_F(PgAuthDbTest, ReadOnlyObjectsRefuseWrites) {
  auto writer = MustOpen(true);
  auto reader = MustOpen(false);
  ASSERT_NE(writer, nullptr);
  ASSERT_NE(reader, nullptr);
  ASSERT_TRUE(writer->SetSecret("alice", "x").ok());
  EXPECT_TRUE(Check(*reader, "alice", "x"));
  EXPECT_EQ(reader->SetSecret("alice", "y").code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(reader->SetPasswordOnly("alice", "y").code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(reader->Delete("alice").code(),
            absl::StatusCode::kFailedPrecondition);
  writer.reset();
  EXPECT_TRUE(Check(*reader, "alice", "x"));
}

// Two nodes on one database: a change by one is seen by the other at once.
TEST_F(PgAuthDbTest, ObjectsShareTheDatabase) {
  auto node1 = MustOpen(true);
  auto node2 = MustOpen(true);
  ASSERT_NE(node1, nullptr);
  ASSERT_NE(node2, nullptr);
  ASSERT_TRUE(node1->SetSecret("alice", "one").ok());
  EXPECT_TRUE(Check(*node2, "alice", "one"));
  ASSERT_TRUE(node2->SetSecret("alice", "two").ok());
  EXPECT_FALSE(Check(*node1, "alice", "one"));
  EXPECT_TRUE(Check(*node1, "alice", "two"));
  ASSERT_TRUE(node1->Delete("alice").ok());
  EXPECT_EQ(node2->Delete("alice").code(), absl::StatusCode::kNotFound);
}

TEST_F(PgAuthDbTest, InitRefusesUsersWithoutForce) {
  ASSERT_TRUE(InitPgAuthDb(options_, false).ok());  // a new database
  ASSERT_TRUE(InitPgAuthDb(options_, false).ok());  // still empty: fine
  auto db = MustOpen(true);
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(db->SetSecret("alice", "one").ok());
  absl::Status again = InitPgAuthDb(options_, false);
  EXPECT_EQ(again.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(again.message()), HasSubstr("force"));
  EXPECT_TRUE(Check(*db, "alice", "one"));  // untouched

  auto reader = MustOpen(false);  // open across the re-init
  ASSERT_TRUE(InitPgAuthDb(options_, true).ok());
  EXPECT_TRUE(Names(*db).empty());
  EXPECT_TRUE(Names(*reader).empty());
  EXPECT_FALSE(Check(*db, "alice", "one"));
  ASSERT_TRUE(db->SetSecret("carol", "three").ok());
  EXPECT_TRUE(Check(*reader, "carol", "three"));
}

TEST_F(PgAuthDbTest, OpenErrors) {
  PgStoreOptions none;
  EXPECT_EQ(OpenPgAuthDb(none, false).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(InitPgAuthDb(none, false).code(),
            absl::StatusCode::kInvalidArgument);
  // Nothing listens on port 1 of loopback.
  PgStoreOptions closed;
  closed.dsn = "host=127.0.0.1 port=1 user=posthorn dbname=x password=pw";
  closed.connect_timeout = absl::Seconds(2);
  auto db = OpenPgAuthDb(closed, true);
  EXPECT_EQ(db.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(db.status().message()), Not(HasSubstr("pw")));
}

TEST_F(PgAuthDbTest, ManyUsers) {
  auto db = MustOpen(true);
  ASSERT_NE(db, nullptr);
  for (int i = 0; i < 300; ++i) {
    ASSERT_TRUE(db->SetSecret("user" + std::to_string(i),
                              "secret-" + std::to_string(i)).ok());
  }
  EXPECT_EQ(db->List()->size(), 300u);
  EXPECT_TRUE(
      Apop(*db, "user123", "<t@h>", ApopDigest("<t@h>", "secret-123")));
}

// The database goes away: checks fail with Unavailable (popper answers
// -ERR [SYS/TEMP]), never "wrong password"; after it is back the same
// object works again (the pool reconnects).
TEST_F(PgAuthDbTest, DatabaseRestart) {
  if (cluster_->external()) GTEST_SKIP() << "external server";
  auto db = MustOpen(true);
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(db->SetSecret("alice", "x").ok());
  ASSERT_TRUE(cluster_->Stop(testing::PgStopMode::kImmediate).ok());
  auto down = db->CheckPassword("alice", "x");
  EXPECT_EQ(down.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(db->SetSecret("alice", "y").code(),
            absl::StatusCode::kUnavailable);
  ASSERT_TRUE(cluster_->Start().ok());
  // The pool waits out its backoff (at most 5 s) before reconnecting.
  absl::StatusOr<bool> up = absl::UnavailableError("not tried");
  for (int attempt = 0; attempt < 100 && !up.ok(); ++attempt) {
    up = db->CheckPassword("alice", "x");
    if (!up.ok()) absl::SleepFor(absl::Milliseconds(100));
  }
  ASSERT_TRUE(up.ok()) << up.status();
  EXPECT_TRUE(*up);
}

}  // namespace
}  // namespace posthorn::store
