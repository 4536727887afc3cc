// tests/store/auth/auth_db_test.cpp — the popauth database: creation and
// file modes, secrets and password hashes, APOP (RFC 1939's example),
// unknown users, and refusal of files that are not auth databases.

#include "posthorn/store/auth_db.h"

#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "posthorn/store/aliases.h"
#include "store/aliases/db_test_util.h"
#include "store/auth/auth_crypto.h"
#include "store/lmdb/lmdb_env.h"

namespace posthorn::store {
namespace {

using dbtest::TempDir;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr char kRfcTimestamp[] = "<1896.697170952@dbc.mtview.ca.us>";
constexpr char kRfcDigest[] = "c4c9334bac560ecc979e58001b3e22fb";

class UmaskScope {
 public:
  explicit UmaskScope(mode_t mask) : old_(::umask(mask)) {}
  ~UmaskScope() { ::umask(old_); }

 private:
  mode_t old_;
};

std::unique_ptr<AuthDb> MustOpen(const std::string& path, bool writable) {
  auto db = OpenAuthDb(path, writable);
  EXPECT_TRUE(db.ok()) << db.status();
  return db.ok() ? *std::move(db) : nullptr;
}

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

TEST(ApopDigest, Rfc1939Example) {
  EXPECT_EQ(ApopDigest(kRfcTimestamp, "tanstaaf"), kRfcDigest);
  EXPECT_EQ(ApopDigest("", ""), "d41d8cd98f00b204e9800998ecf8427e");
}

TEST(AuthDb, CreateMakesBothFiles0600EvenWithAPermissiveUmask) {
  for (mode_t mask : {mode_t{022}, mode_t{0}, mode_t{0277}}) {
    TempDir dir;
    UmaskScope umask(mask);
    std::string path = dir.File("popauth.db");
    ASSERT_TRUE(CreateAuthDb(path, false).ok());
    EXPECT_EQ(dbtest::ModeOf(path), 0600u) << "umask " << mask;
    EXPECT_EQ(dbtest::ModeOf(path + "-lock"), 0600u) << "umask " << mask;
    // Opening and writing keeps them so.
    {
      auto db = MustOpen(path, true);
      ASSERT_NE(db, nullptr);
      ASSERT_TRUE(db->SetSecret("alice", "s3cret").ok());
    }
    EXPECT_EQ(dbtest::ModeOf(path), 0600u);
    EXPECT_EQ(dbtest::ModeOf(path + "-lock"), 0600u);
    std::vector<std::string> files = dir.Names();
    std::sort(files.begin(), files.end());
    EXPECT_THAT(files, ::testing::ElementsAre("popauth.db", "popauth.db-lock"));
  }
}

TEST(AuthDb, CreateRefusesAnExistingDatabaseWithoutForce) {
  TempDir dir;
  std::string path = dir.File("popauth.db");
  ASSERT_TRUE(CreateAuthDb(path, false).ok());
  {
    auto db = MustOpen(path, true);
    ASSERT_TRUE(db->SetSecret("alice", "one").ok());
  }
  absl::Status again = CreateAuthDb(path, false);
  EXPECT_EQ(again.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(again.message()), HasSubstr(path));
  auto db = MustOpen(path, false);
  EXPECT_TRUE(Check(*db, "alice", "one"));  // untouched
}

TEST(AuthDb, ForceEmptiesTheDatabase) {
  TempDir dir;
  std::string path = dir.File("popauth.db");
  ASSERT_TRUE(CreateAuthDb(path, false).ok());
  auto reader = MustOpen(path, false);  // open across the re-init
  {
    auto db = MustOpen(path, true);
    ASSERT_TRUE(db->SetSecret("alice", "one").ok());
    ASSERT_TRUE(db->SetSecret("bob", "two").ok());
  }
  ::chmod(path.c_str(), 0644);
  ASSERT_TRUE(CreateAuthDb(path, true).ok());
  EXPECT_EQ(dbtest::ModeOf(path), 0600u);
  auto db = MustOpen(path, true);
  EXPECT_TRUE(db->List()->empty());
  EXPECT_TRUE(reader->List()->empty());  // the same file, emptied
  EXPECT_FALSE(Check(*db, "alice", "one"));
  ASSERT_TRUE(db->SetSecret("carol", "three").ok());
  EXPECT_TRUE(Check(*reader, "carol", "three"));
}

TEST(AuthDb, ForceReplacesAFileThatIsNoAuthDatabase) {
  TempDir dir;
  std::string path = dir.File("popauth.db");
  dbtest::WriteFile(path, dbtest::GarbageBytes(8192, 3));
  EXPECT_EQ(CreateAuthDb(path, false).code(),
            absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(CreateAuthDb(path, true).ok());
  EXPECT_EQ(dbtest::ModeOf(path), 0600u);
  EXPECT_EQ(dbtest::ModeOf(path + "-lock"), 0600u);
  auto db = MustOpen(path, true);
  ASSERT_NE(db, nullptr);
  EXPECT_TRUE(db->List()->empty());
  std::vector<std::string> files = dir.Names();
  EXPECT_EQ(files.size(), 2u);  // no temporaries left
}

TEST(AuthDb, OpenErrors) {
  TempDir dir;
  auto missing = OpenAuthDb(dir.File("none"), false);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr(dir.File("none")));

  dbtest::WriteFile(dir.File("random"), dbtest::GarbageBytes(12000, 9));
  auto random = OpenAuthDb(dir.File("random"), false);
  EXPECT_EQ(random.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(random.status().message()),
              StartsWith(dir.File("random") + ": not an LMDB database"));
  auto random_rw = OpenAuthDb(dir.File("random"), true);
  EXPECT_EQ(random_rw.status().code(), absl::StatusCode::kDataLoss);

  // A compiled alias database is LMDB, but not an auth database.
  dbtest::WriteFile(dir.File("aliases"), "a: b\n");
  ASSERT_TRUE(CompileAliasDatabase(dir.File("aliases")).ok());
  auto aliases = OpenAuthDb(dir.File("aliases.lmdb"), true);
  EXPECT_EQ(aliases.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(aliases.status().message(),
            dir.File("aliases.lmdb") +
                ": not a posthorn auth database (it is marked \"aliases-v1\", "
                "not \"auth-v1\")");

  // And the other way round.
  ASSERT_TRUE(CreateAuthDb(dir.File("aliases2.lmdb"), false).ok());
  dbtest::WriteFile(dir.File("aliases2"), "a: b\n");
  dbtest::SetMtime(dir.File("aliases2"), 1000000000);
  auto table = OpenAliasTable(dir.File("aliases2"));
  ASSERT_TRUE(table.ok());
  ASSERT_EQ((*table)->warnings().size(), 1u);
  EXPECT_THAT((*table)->warnings()[0],
              HasSubstr("not a posthorn alias database (it is marked "
                        "\"auth-v1\""));

  // An LMDB file without any marker.
  {
    auto env = lmdb::Env::Open(dir.File("plain"), {.create = true});
    ASSERT_TRUE(env.ok());
  }
  auto plain = OpenAuthDb(dir.File("plain"), false);
  EXPECT_EQ(plain.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(plain.status().message()), HasSubstr("without kind marker"));
}

TEST(AuthDb, PermissionDenied) {
  if (::geteuid() == 0) GTEST_SKIP() << "root reads every file";
  TempDir dir;
  std::string path = dir.File("popauth.db");
  ASSERT_TRUE(CreateAuthDb(path, false).ok());
  ::chmod(path.c_str(), 0);
  EXPECT_EQ(OpenAuthDb(path, false).status().code(),
            absl::StatusCode::kPermissionDenied);
}

TEST(AuthDb, SecretsWorkForPassAndApop) {
  TempDir dir;
  std::string path = dir.File("popauth.db");
  ASSERT_TRUE(CreateAuthDb(path, false).ok());
  auto db = MustOpen(path, true);
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

  // Replacing the secret.
  ASSERT_TRUE(db->SetSecret("mrose", "new secret").ok());
  EXPECT_FALSE(Check(*db, "mrose", "tanstaaf"));
  EXPECT_TRUE(Check(*db, "mrose", "new secret"));
}

TEST(AuthDb, PasswordOnlyUsers) {
  TempDir dir;
  std::string path = dir.File("popauth.db");
  ASSERT_TRUE(CreateAuthDb(path, false).ok());
  auto db = MustOpen(path, true);
  ASSERT_TRUE(db->SetSecret("alice", "apop-secret").ok());
  ASSERT_TRUE(db->SetPasswordOnly("alice", "hunter2").ok());
  EXPECT_TRUE(Check(*db, "alice", "hunter2"));
  EXPECT_FALSE(Check(*db, "alice", "hunter3"));
  EXPECT_FALSE(Check(*db, "alice", "apop-secret"));  // replaced
  EXPECT_FALSE(Check(*db, "alice", std::string("hunter2\0x", 9)));
  // APOP needs the secret, which is no longer kept.
  EXPECT_FALSE(Apop(*db, "alice", kRfcTimestamp,
                    ApopDigest(kRfcTimestamp, "hunter2")));
  EXPECT_FALSE(Apop(*db, "alice", kRfcTimestamp,
                    ApopDigest(kRfcTimestamp, "apop-secret")));
  // The stored hash is yescrypt (the file holds no clear password).
  std::string file = dbtest::ReadFile(path);
  EXPECT_EQ(file.find("hunter2"), std::string::npos);
  EXPECT_NE(file.find("$y$"), std::string::npos);
}

// A database of secrets only runs no crypt() at all; once it holds a
// password-only user, every check runs exactly one, whatever the user, so
// the time never tells which names exist. -init -force starts over.
TEST(AuthDb, CryptRunsForEveryCheckOnlyWithPasswordOnlyUsers) {
  TempDir dir;
  std::string path = dir.File("popauth.db");
  ASSERT_TRUE(CreateAuthDb(path, false).ok());
  auto db = MustOpen(path, true);
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
  // Deleting the last password-only user keeps the cost (the marker stays
  // until -init), so the change is not observable either.
  ASSERT_TRUE(db->Delete("bob").ok());
  before = calls();
  EXPECT_FALSE(Check(*db, "nobody", "x"));
  EXPECT_EQ(calls(), before + 1);
  auto users = db->List();
  ASSERT_TRUE(users.ok());
  ASSERT_EQ(users->size(), 1u);  // the marker is no user
  EXPECT_EQ((*users)[0].name, "alice");

  db.reset();
  ASSERT_TRUE(CreateAuthDb(path, /*force=*/true).ok());
  db = MustOpen(path, true);
  ASSERT_TRUE(db->SetSecret("carol", "s").ok());
  before = calls();
  EXPECT_TRUE(Check(*db, "carol", "s"));
  EXPECT_FALSE(Check(*db, "nobody", "s"));
  EXPECT_EQ(calls(), before);
}

TEST(AuthDb, ListAndDelete) {
  TempDir dir;
  std::string path = dir.File("popauth.db");
  ASSERT_TRUE(CreateAuthDb(path, false).ok());
  auto db = MustOpen(path, true);
  ASSERT_TRUE(db->SetSecret("carol", "c").ok());
  ASSERT_TRUE(db->SetPasswordOnly("alice", "a").ok());
  ASSERT_TRUE(db->SetSecret("bob", "b").ok());
  auto users = db->List();
  ASSERT_TRUE(users.ok());
  ASSERT_EQ(users->size(), 3u);
  EXPECT_EQ((*users)[0].name, "alice");
  EXPECT_FALSE((*users)[0].has_secret);
  EXPECT_TRUE((*users)[0].has_hash);
  EXPECT_EQ((*users)[1].name, "bob");
  EXPECT_TRUE((*users)[1].has_secret);
  EXPECT_FALSE((*users)[1].has_hash);
  EXPECT_EQ((*users)[2].name, "carol");

  ASSERT_TRUE(db->Delete("bob").ok());
  absl::Status again = db->Delete("bob");
  EXPECT_EQ(again.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(again.message()), HasSubstr("no user \"bob\""));
  EXPECT_FALSE(Check(*db, "bob", "b"));
  EXPECT_EQ(db->List()->size(), 2u);

  // Survives closing and reopening.
  db.reset();
  auto reopened = MustOpen(path, false);
  EXPECT_EQ(reopened->List()->size(), 2u);
  EXPECT_TRUE(Check(*reopened, "carol", "c"));
}

TEST(AuthDb, RejectsBadInput) {
  TempDir dir;
  std::string path = dir.File("popauth.db");
  ASSERT_TRUE(CreateAuthDb(path, false).ok());
  auto db = MustOpen(path, true);
  for (std::string_view user : {"", "../etc", "a/b", "-x", ".hidden",
                                "with space"}) {
    EXPECT_EQ(db->SetSecret(user, "s").code(),
              absl::StatusCode::kInvalidArgument) << user;
    EXPECT_FALSE(Check(*db, user, "s")) << user;
    EXPECT_FALSE(Apop(*db, user, kRfcTimestamp, kRfcDigest)) << user;
  }
  EXPECT_EQ(db->SetSecret("alice", "").code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(db->SetSecret("alice", "a\r\nb").code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(db->SetSecret("alice", std::string(1025, 'x')).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(db->SetPasswordOnly("alice", std::string("a\0b", 3)).code(),
            absl::StatusCode::kInvalidArgument);
  // Secrets never appear in messages.
  absl::Status s = db->SetSecret("bad/user", "topsecret");
  EXPECT_EQ(std::string(s.message()).find("topsecret"), std::string::npos);
}

TEST(AuthDb, ReadOnlyHandlesRefuseWrites) {
  TempDir dir;
  std::string path = dir.File("popauth.db");
  ASSERT_TRUE(CreateAuthDb(path, false).ok());
  auto writer = MustOpen(path, true);
  auto reader = MustOpen(path, false);  // shares the environment
  ASSERT_TRUE(writer->SetSecret("alice", "x").ok());
  EXPECT_TRUE(Check(*reader, "alice", "x"));
  EXPECT_EQ(reader->SetSecret("alice", "y").code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(reader->Delete("alice").code(),
            absl::StatusCode::kFailedPrecondition);
  writer.reset();
  EXPECT_TRUE(Check(*reader, "alice", "x"));
}

TEST(AuthDb, ManyUsers) {
  TempDir dir;
  std::string path = dir.File("popauth.db");
  ASSERT_TRUE(CreateAuthDb(path, false).ok());
  auto db = MustOpen(path, true);
  for (int i = 0; i < 300; ++i) {
    ASSERT_TRUE(db->SetSecret("user" + std::to_string(i),
                              "secret-" + std::to_string(i)).ok());
  }
  EXPECT_EQ(db->List()->size(), 300u);
  EXPECT_TRUE(Apop(*db, "user123", "<t@h>", ApopDigest("<t@h>", "secret-123")));
}

}  // namespace
}  // namespace posthorn::store
