// tests/store/conformance/auth_db_conformance.cpp — the cases every AuthDb
// backend must pass; see auth_db_conformance.h.

#include "auth_db_conformance.h"

#include <string_view>
#include <vector>

#include "posthorn/store/mailstore.h"

namespace posthorn::store::testing {

void AuthDbConformanceTest::SetUp() {
  storage_ = GetParam().new_storage(temp_dir_.path());
  ASSERT_FALSE(storage_.empty());
  db_ = OpenAgain(/*writable=*/true);
  ASSERT_NE(db_, nullptr);
}

std::unique_ptr<AuthDb> AuthDbConformanceTest::OpenAgain(bool writable) {
  absl::StatusOr<std::unique_ptr<AuthDb>> db =
      GetParam().open(storage_, writable);
  EXPECT_TRUE(db.ok()) << db.status();
  return db.ok() ? *std::move(db) : nullptr;
}

namespace {

// RFC 1939 section 7's example: user mrose, secret "tanstaaf".
constexpr char kRfcTimestamp[] = "<1896.697170952@dbc.mtview.ca.us>";
constexpr char kRfcDigest[] = "c4c9334bac560ecc979e58001b3e22fb";
constexpr char kTimestamp[] = "<4711.1700000000@pop.example.org>";

// CheckPassword's answer; a failed call fails the test and answers false.
bool PassOk(const AuthDb& db, std::string_view user, std::string_view pw) {
  absl::StatusOr<bool> result = db.CheckPassword(user, pw);
  EXPECT_TRUE(result.ok()) << result.status();
  return result.value_or(false);
}

// CheckApop with the digest a client holding `secret` would send.
bool ApopOk(const AuthDb& db, std::string_view user, std::string_view secret) {
  absl::StatusOr<bool> result =
      db.CheckApop(user, kTimestamp, ApopDigest(kTimestamp, secret));
  EXPECT_TRUE(result.ok()) << result.status();
  return result.value_or(false);
}

// List() as "name:flags" ("s" secret, "h" hash), in the order given.
std::vector<std::string> Listed(const AuthDb& db) {
  std::vector<std::string> out;
  absl::StatusOr<std::vector<AuthUser>> users = db.List();
  EXPECT_TRUE(users.ok()) << users.status();
  if (!users.ok()) return out;
  for (const AuthUser& user : *users) {
    out.push_back(user.name + ":" + (user.has_secret ? "s" : "") +
                  (user.has_hash ? "h" : ""));
  }
  return out;
}

using Names = std::vector<std::string>;

TEST_P(AuthDbConformanceTest, StartsEmpty) {
  EXPECT_EQ(Listed(*db_), Names{});
  EXPECT_FALSE(PassOk(*db_, "alice", "anything"));
  EXPECT_FALSE(ApopOk(*db_, "alice", "anything"));
}

TEST_P(AuthDbConformanceTest, ASecretServesPass) {
  ASSERT_TRUE(db_->SetSecret("alice", "s3cret").ok());
  EXPECT_TRUE(PassOk(*db_, "alice", "s3cret"));
  for (std::string_view wrong : {"s3cre", "s3crett", "S3CRET", "", " s3cret"}) {
    EXPECT_FALSE(PassOk(*db_, "alice", wrong)) << wrong;
  }
  EXPECT_FALSE(PassOk(*db_, "ALICE", "s3cret"));     // names are exact
  EXPECT_FALSE(PassOk(*db_, "bob", "s3cret"));       // unknown
  EXPECT_FALSE(PassOk(*db_, "../alice", "s3cret"));  // no user name at all
  EXPECT_EQ(Listed(*db_), Names{"alice:s"});
}

TEST_P(AuthDbConformanceTest, ASecretServesApop) {
  ASSERT_TRUE(db_->SetSecret("mrose", "tanstaaf").ok());
  auto apop = [&](std::string_view user, std::string_view timestamp,
                  std::string_view digest) {
    absl::StatusOr<bool> result = db_->CheckApop(user, timestamp, digest);
    EXPECT_TRUE(result.ok()) << result.status();
    return result.value_or(false);
  };
  EXPECT_TRUE(apop("mrose", kRfcTimestamp, kRfcDigest));
  EXPECT_TRUE(apop("mrose", kRfcTimestamp, "C4C9334BAC560ECC979E58001B3E22FB"));
  EXPECT_TRUE(apop("mrose", kRfcTimestamp, "c4c9334BAC560ecc979e58001b3e22fb"));
  EXPECT_FALSE(
      apop("mrose", kRfcTimestamp, "c4c9334bac560ecc979e58001b3e22fc"));
  EXPECT_FALSE(apop("mrose", kRfcTimestamp, "c4c9334bac560ecc"));
  EXPECT_FALSE(apop("mrose", kRfcTimestamp, std::string(kRfcDigest) + "0"));
  EXPECT_FALSE(apop("mrose", kRfcTimestamp, ""));
  EXPECT_FALSE(apop("mrose", "<other@host>", kRfcDigest));
  EXPECT_FALSE(apop("nobody", kRfcTimestamp, kRfcDigest));
  EXPECT_FALSE(apop("MROSE", kRfcTimestamp, kRfcDigest));
  // An unknown user with the digest of the empty secret, which unknown
  // users are checked against.
  EXPECT_FALSE(apop("nobody", kRfcTimestamp, ApopDigest(kRfcTimestamp, "")));
}

TEST_P(AuthDbConformanceTest, APasswordOnlyUserServesPassButNotApop) {
  ASSERT_TRUE(db_->SetPasswordOnly("alice", "hunter2").ok());
  EXPECT_TRUE(PassOk(*db_, "alice", "hunter2"));
  EXPECT_FALSE(PassOk(*db_, "alice", "hunter3"));
  EXPECT_FALSE(PassOk(*db_, "alice", std::string("hunter2\0x", 9)));
  EXPECT_FALSE(PassOk(*db_, "bob", "hunter2"));
  EXPECT_FALSE(ApopOk(*db_, "alice", "hunter2"));
  EXPECT_FALSE(ApopOk(*db_, "alice", ""));
  EXPECT_EQ(Listed(*db_), Names{"alice:h"});
}

// Secret after secret, password after secret, password after password,
// secret after password: only the newest entry works, APOP only with a
// secret.
TEST_P(AuthDbConformanceTest, EachEntryReplacesTheOneBefore) {
  struct Entry {
    bool secret;  // SetSecret, else SetPasswordOnly
    const char* value;
  };
  const Entry entries[] = {{true, "first secret"},
                           {true, "second secret"},
                           {false, "hunter2"},
                           {false, "hunter3"},
                           {true, "third secret"}};
  const Entry* before = nullptr;
  for (const Entry& entry : entries) {
    SCOPED_TRACE(entry.value);
    absl::Status set = entry.secret
                           ? db_->SetSecret("alice", entry.value)
                           : db_->SetPasswordOnly("alice", entry.value);
    ASSERT_TRUE(set.ok()) << set;
    EXPECT_TRUE(PassOk(*db_, "alice", entry.value));
    EXPECT_EQ(ApopOk(*db_, "alice", entry.value), entry.secret);
    if (before != nullptr) {
      EXPECT_FALSE(PassOk(*db_, "alice", before->value));
      EXPECT_FALSE(ApopOk(*db_, "alice", before->value));
    }
    EXPECT_EQ(Listed(*db_), Names{entry.secret ? "alice:s" : "alice:h"});
    before = &entry;
  }
}

TEST_P(AuthDbConformanceTest, DeleteRemovesOnlyThatUser) {
  ASSERT_TRUE(db_->SetSecret("alice", "a").ok());
  ASSERT_TRUE(db_->SetPasswordOnly("bob", "b").ok());
  ASSERT_TRUE(db_->SetSecret("carol", "c").ok());
  ASSERT_TRUE(db_->Delete("alice").ok());
  ASSERT_TRUE(db_->Delete("bob").ok());
  for (std::string_view user : {"alice", "bob", "never-there"}) {
    absl::Status again = db_->Delete(user);
    EXPECT_EQ(again.code(), absl::StatusCode::kNotFound) << user << again;
  }
  EXPECT_FALSE(PassOk(*db_, "alice", "a"));
  EXPECT_FALSE(ApopOk(*db_, "alice", "a"));
  EXPECT_FALSE(PassOk(*db_, "bob", "b"));
  EXPECT_TRUE(PassOk(*db_, "carol", "c"));
  EXPECT_TRUE(ApopOk(*db_, "carol", "c"));
  EXPECT_EQ(Listed(*db_), Names{"carol:s"});
  // A deleted name may be used again.
  ASSERT_TRUE(db_->SetPasswordOnly("alice", "new").ok());
  EXPECT_TRUE(PassOk(*db_, "alice", "new"));
}

// Bytewise order (upper case before '_' before lower case), whatever a
// database's collation would say.
TEST_P(AuthDbConformanceTest, ListIsSortedByNameWithItsFlags) {
  ASSERT_TRUE(db_->SetSecret("carol", "c").ok());
  ASSERT_TRUE(db_->SetPasswordOnly("alice", "a").ok());
  ASSERT_TRUE(db_->SetSecret("bob", "b").ok());
  ASSERT_TRUE(db_->SetSecret("Zed", "z").ok());
  ASSERT_TRUE(db_->SetPasswordOnly("_x", "x").ok());
  ASSERT_TRUE(db_->SetSecret("a.b-c", "d").ok());
  ASSERT_TRUE(db_->SetSecret("0", "0").ok());
  ASSERT_TRUE(db_->SetSecret("alice2", "e").ok());
  EXPECT_EQ(Listed(*db_), (Names{"0:s", "Zed:s", "_x:h", "a.b-c:s", "alice:h",
                                 "alice2:s", "bob:s", "carol:s"}));
}

TEST_P(AuthDbConformanceTest, AReadOnlyHandleRefusesWrites) {
  ASSERT_TRUE(db_->SetSecret("alice", "x").ok());
  std::unique_ptr<AuthDb> reader = OpenAgain(/*writable=*/false);
  ASSERT_NE(reader, nullptr);
  EXPECT_TRUE(PassOk(*reader, "alice", "x"));
  EXPECT_TRUE(ApopOk(*reader, "alice", "x"));
  EXPECT_EQ(Listed(*reader), Names{"alice:s"});
  const absl::Status refused[] = {
      reader->SetSecret("alice", "y"), reader->SetSecret("bob", "y"),
      reader->SetPasswordOnly("alice", "y"), reader->Delete("alice"),
      reader->Delete("nobody")};
  for (const absl::Status& status : refused) {
    EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
  }
  EXPECT_EQ(Listed(*db_), Names{"alice:s"});
  EXPECT_TRUE(PassOk(*db_, "alice", "x"));
  // The writer's later changes reach the reader, also after it is gone.
  ASSERT_TRUE(db_->SetSecret("alice", "y").ok());
  db_.reset();
  EXPECT_TRUE(PassOk(*reader, "alice", "y"));
}

TEST_P(AuthDbConformanceTest, TwoWritableHandlesSeeEachOthersChanges) {
  std::unique_ptr<AuthDb> other = OpenAgain(/*writable=*/true);
  ASSERT_NE(other, nullptr);
  ASSERT_TRUE(db_->SetSecret("alice", "one").ok());
  ASSERT_TRUE(other->SetPasswordOnly("bob", "hunter2").ok());
  for (const AuthDb* db : {db_.get(), other.get()}) {
    EXPECT_TRUE(PassOk(*db, "alice", "one"));
    EXPECT_TRUE(ApopOk(*db, "alice", "one"));
    EXPECT_TRUE(PassOk(*db, "bob", "hunter2"));
    EXPECT_EQ(Listed(*db), (Names{"alice:s", "bob:h"}));
  }
  ASSERT_TRUE(other->SetSecret("alice", "two").ok());
  EXPECT_FALSE(PassOk(*db_, "alice", "one"));
  EXPECT_TRUE(ApopOk(*db_, "alice", "two"));
  ASSERT_TRUE(db_->Delete("bob").ok());
  EXPECT_EQ(other->Delete("bob").code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Listed(*other), Names{"alice:s"});
}

// crypt(3) (libxcrypt) hashes at most 511 bytes: a longer password is
// refused by SetPasswordOnly (InvalidArgument), though a secret may be
// 1024 bytes long.
constexpr std::size_t kLongestHashablePassword = 511;

// Secrets are bytes: anything but NUL, CR and LF, 1 to 1024 of them.
TEST_P(AuthDbConformanceTest, SecretsMayHoldAnyByteButNulCrLf) {
  std::string every_byte;
  for (int b = 1; b < 256; ++b) {
    if (b != '\r' && b != '\n') every_byte.push_back(static_cast<char>(b));
  }
  const std::vector<std::string> secrets = {
      "with  spaces ",
      "p\xc3\xa4ssw\xc3\xb6rd \xe2\x98\x83",  // UTF-8
      "caf\xe9 latin-1",
      "back\\slash \\\\ \\000 'quote\" %s",
      every_byte,
      std::string(kLongestHashablePassword, 'p'),
      std::string(kLongestHashablePassword + 1, 'q'),
      std::string(1024, 's'),
      "x"};
  for (std::size_t i = 0; i < secrets.size(); ++i) {
    SCOPED_TRACE(i);
    const std::string& secret = secrets[i];
    const std::string user = "user" + std::to_string(i);
    ASSERT_TRUE(db_->SetSecret(user, secret).ok());
    EXPECT_TRUE(PassOk(*db_, user, secret));
    EXPECT_TRUE(ApopOk(*db_, user, secret));
    EXPECT_FALSE(PassOk(*db_, user, secret + "x"));
    const std::string password_user = "pw" + std::to_string(i);
    if (secret.size() > kLongestHashablePassword) {
      EXPECT_EQ(db_->SetPasswordOnly(password_user, secret).code(),
                absl::StatusCode::kInvalidArgument);
      continue;
    }
    ASSERT_TRUE(db_->SetPasswordOnly(password_user, secret).ok());
    EXPECT_TRUE(PassOk(*db_, password_user, secret));
    EXPECT_FALSE(PassOk(*db_, password_user, secret.substr(1)));
  }
}

TEST_P(AuthDbConformanceTest, RefusesSecretsBeyondTheLimits) {
  const std::vector<std::string> bad = {"",       std::string(1025, 's'),
                                        "a\r\nb", "a\nb",
                                        "a\rb",   std::string("a\0b", 3)};
  for (const std::string& secret : bad) {
    SCOPED_TRACE(secret.size());
    EXPECT_EQ(db_->SetSecret("alice", secret).code(),
              absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(db_->SetPasswordOnly("alice", secret).code(),
              absl::StatusCode::kInvalidArgument);
  }
  EXPECT_EQ(Listed(*db_), Names{});
  // A refusal never repeats the secret.
  absl::Status refused = db_->SetSecret("alice", "topsecret\n");
  EXPECT_EQ(std::string(refused.message()).find("topsecret"), std::string::npos)
      << refused;
}

// User names are ValidateUserName's: 1 to 64 of [A-Za-z0-9._-], not
// starting with '.' or '-'.
TEST_P(AuthDbConformanceTest, UserNamesWithinTheLimitsOnly) {
  const std::string longest(kMaxUserNameLength, 'n');
  ASSERT_TRUE(db_->SetSecret(longest, "s").ok());
  EXPECT_TRUE(PassOk(*db_, longest, "s"));
  EXPECT_EQ(Listed(*db_), Names{longest + ":s"});
  ASSERT_TRUE(db_->Delete(longest).ok());

  const std::vector<std::string> bad = {
      "",
      std::string(kMaxUserNameLength + 1, 'n'),
      "with space",
      "caf\xc3\xa9",
      "a/b",
      "../etc",
      ".hidden",
      "-x",
      std::string("nul\0x", 5),
      "tab\t",
      "semi;colon",
      "at@host"};
  for (const std::string& user : bad) {
    SCOPED_TRACE(user);
    EXPECT_EQ(db_->SetSecret(user, "s").code(),
              absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(db_->SetPasswordOnly(user, "s").code(),
              absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(db_->Delete(user).code(), absl::StatusCode::kInvalidArgument);
    EXPECT_FALSE(PassOk(*db_, user, "s"));
    EXPECT_FALSE(ApopOk(*db_, user, "s"));
  }
  EXPECT_EQ(Listed(*db_), Names{});
}

}  // namespace
}  // namespace posthorn::store::testing
