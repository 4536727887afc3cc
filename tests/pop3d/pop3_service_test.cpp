// tests/pop3d/pop3_service_test.cpp — Pop3Service without sockets: logins
// with each mechanism against a real AuthDb, hostile user names, IN-USE,
// the listing and message reads through the maildrop adapter, UPDATE,
// bulletins at login, the address limiter, statistics and log escaping.

#include "posthorn/pop3d/pop3_service.h"

#include <sys/stat.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "pop3d_test_util.h"
#include "posthorn/store/auth_db.h"
#include "posthorn/store/maildir.h"
#include "posthorn/store/mbox.h"
#include "posthorn/store/memory_store.h"
#include "posthorn/store/status.h"

namespace posthorn::pop3d {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::LogCapture;
using testing::TempDir;
using testing::TreeOf;
using testing::WriteFile;

constexpr char kTimestamp[] = "<4711.1.1700000000@pop.example.org>";

const std::string kFirst = "Subject: one\n\nfirst body\nline 2\nline 3\n";
const std::string kSecond = "Subject: two\nX-UIDL: forged\n\nsecond\n";

std::string Crlf(std::string_view lf_text) {
  std::string out;
  for (const char c : lf_text) {
    if (c == '\n') out += '\r';
    out += c;
  }
  return out;
}

net::Pop3LoginRequest Request(pop3::LoginMechanism mechanism,
                              std::string user, std::string password,
                              std::string address = "192.0.2.10") {
  net::Pop3LoginRequest request;
  request.peer = net::Peer{std::move(address), 40000};
  request.mechanism = mechanism;
  request.user = std::move(user);
  request.password = std::move(password);
  request.apop_timestamp = kTimestamp;
  return request;
}

net::Pop3LoginRequest Pass(std::string user, std::string password,
                           std::string address = "192.0.2.10") {
  return Request(pop3::LoginMechanism::kUserPass, std::move(user),
                 std::move(password), std::move(address));
}

// An APOP login: no crypt() work, so tests about the maildrop stay fast.
net::Pop3LoginRequest Apop(std::string user, std::string address = "192.0.2.10") {
  return Request(pop3::LoginMechanism::kApop, user,
                 store::ApopDigest(kTimestamp, "apop-secret"),
                 std::move(address));
}

std::string ReadWhole(net::Pop3Maildrop& maildrop, std::size_t index,
                      std::optional<std::uint64_t> top = std::nullopt) {
  EXPECT_TRUE(maildrop.OpenMessage(index, top).ok());
  std::string text;
  char buffer[7];  // small, so several reads are needed
  for (int guard = 0; guard < 100000; ++guard) {
    auto n = maildrop.ReadMessage(buffer);
    EXPECT_TRUE(n.ok()) << n.status();
    if (!n.ok() || *n == 0) break;
    text.append(buffer, *n);
  }
  return text;
}

// One real AuthDb for the whole program (creating one per test costs an
// fsync and a crypt()): alice has an APOP secret, bob only a password hash.
// Tests only read it.
store::AuthDb* SharedAuthDb() {
  struct Shared {
    Shared() {
      const std::string path = dir.File("pop.auth");
      if (!store::CreateAuthDb(path, false).ok()) return;
      auto opened = store::OpenAuthDb(path, /*writable=*/true);
      if (!opened.ok() || !(*opened)->SetSecret("alice", "apop-secret").ok() ||
          !(*opened)->SetPasswordOnly("bob", "bob-password").ok()) {
        return;
      }
      db = std::move(*opened);
    }
    TempDir dir;  // removed at exit, after db is closed
    std::unique_ptr<store::AuthDb> db;
  };
  static Shared shared;
  return shared.db.get();
}

enum class StoreKind { kMemory, kMbox, kMaildir };

class ServiceTest : public ::testing::TestWithParam<StoreKind> {
 protected:
  void SetUp() override {
    ASSERT_EQ(::mkdir(spool_.c_str(), 0700), 0);
    switch (GetParam()) {
      case StoreKind::kMemory: store_ = store::MakeMemoryStore(); break;
      case StoreKind::kMbox: {
        auto made = store::MakeMboxStore({.spool_dir = spool_, .fsync = false});
        ASSERT_TRUE(made.ok()) << made.status();
        store_ = std::move(*made);
        break;
      }
      case StoreKind::kMaildir: {
        auto made = store::MakeMaildirStore(
            {.root_dir = spool_, .hostname = "test", .fsync = false});
        ASSERT_TRUE(made.ok()) << made.status();
        store_ = std::move(*made);
        break;
      }
    }
    auth_ = SharedAuthDb();
    ASSERT_NE(auth_, nullptr);
  }

  ServiceOptions Options() {
    ServiceOptions options;
    options.mailstore = store_.get();
    options.auth_db = auth_;
    options.hostname = "pop.example.org";
    options.log = log_.Function();
    return options;
  }

  void Deliver(std::string_view user, const std::string& text) {
    store::StringReader source(text);
    ASSERT_TRUE(store_->Deliver(user, {.envelope_sender = "x@example.org",
                                       .arrival = absl::Now()},
                                source)
                    .ok());
  }

  TempDir dir_;
  std::string spool_ = dir_.File("spool");
  std::unique_ptr<store::Mailstore> store_;
  store::AuthDb* auth_ = nullptr;
  LogCapture log_;
};

TEST_P(ServiceTest, HostileUserNamesAreRefusedAndTouchNothing) {
  Pop3Service service(Options());
  Deliver("alice", kFirst);
  const auto spool_before = TreeOf(spool_);
  const auto dir_before = TreeOf(dir_.path());
  const std::vector<std::string> names = {
      "../x", "a/b", "", std::string("a\0b", 3), std::string(65, 'a'), "-x",
      ".x", "..", "/etc/passwd", "a\r\nb", "alice\n", std::string(100000, 'z')};
  for (const std::string& name : names) {
    for (auto mechanism : {pop3::LoginMechanism::kUserPass,
                           pop3::LoginMechanism::kApop,
                           pop3::LoginMechanism::kSaslPlain}) {
      auto result = service.Login(Request(mechanism, name, "apop-secret"));
      EXPECT_EQ(result.maildrop, nullptr);
      EXPECT_EQ(result.failure.code, "AUTH");
      EXPECT_EQ(result.failure.text, "authentication failed");
    }
  }
  EXPECT_EQ(TreeOf(spool_), spool_before);
  EXPECT_EQ(TreeOf(dir_.path()), dir_before);
  for (const auto& [level, line] : log_.lines()) {
    EXPECT_EQ(line.find_first_of(std::string("\r\n\0", 3)), std::string::npos);
    EXPECT_LT(line.size(), 400u);
  }
}

// ---- maildrop -------------------------------------------------------------

TEST_P(ServiceTest, SecondConcurrentLoginIsInUse) {
  Pop3Service service(Options());
  auto first = service.Login(Apop("alice"));
  ASSERT_NE(first.maildrop, nullptr);
  auto second = service.Login(Apop("alice"));
  EXPECT_EQ(second.maildrop, nullptr);
  EXPECT_EQ(second.failure.code, "IN-USE");
  EXPECT_EQ(second.failure.text, "maildrop is locked by another session");
  first.maildrop.reset();  // releases the lock
  auto third = service.Login(Apop("alice"));
  EXPECT_NE(third.maildrop, nullptr);
}

TEST_P(ServiceTest, ListingMatchesTheStoreAndIgnoresXUidl) {
  Deliver("alice", kFirst);
  Deliver("alice", kSecond);
  std::vector<store::MessageInfo> expected;
  {
    auto session = store_->OpenSession("alice");
    ASSERT_TRUE(session.ok());
    for (const auto& m : (*session)->messages()) expected.push_back(m);
  }
  Pop3Service service(Options());
  auto result = service.Login(Apop("alice"));
  ASSERT_NE(result.maildrop, nullptr);
  ASSERT_EQ(result.listing.sizes.size(), 2u);
  ASSERT_EQ(result.listing.uids.size(), 2u);
  EXPECT_EQ(result.listing.last_accessed, 0u);
  for (std::size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(result.listing.sizes[i], expected[i].size);
    EXPECT_EQ(result.listing.uids[i], expected[i].uid);
  }
  EXPECT_EQ(result.listing.sizes[0], Crlf(kFirst).size());
  EXPECT_EQ(result.listing.sizes[1], Crlf(kSecond).size());
  EXPECT_NE(result.listing.uids[1], "forged");
  EXPECT_NE(result.listing.uids[0], result.listing.uids[1]);
}

TEST_P(ServiceTest, ReadsWholeMessagesAndTop) {
  Deliver("alice", kFirst);
  Deliver("alice", kSecond);
  Pop3Service service(Options());
  auto result = service.Login(Apop("alice"));
  ASSERT_NE(result.maildrop, nullptr);
  net::Pop3Maildrop& maildrop = *result.maildrop;
  EXPECT_EQ(ReadWhole(maildrop, 0), Crlf(kFirst));
  EXPECT_EQ(ReadWhole(maildrop, 1), Crlf(kSecond));
  EXPECT_EQ(ReadWhole(maildrop, 0, 0), "Subject: one\r\n\r\n");
  EXPECT_EQ(ReadWhole(maildrop, 0, 2), "Subject: one\r\n\r\nfirst body\r\nline 2\r\n");
  EXPECT_EQ(ReadWhole(maildrop, 0, 99), Crlf(kFirst));
  EXPECT_FALSE(maildrop.OpenMessage(2, std::nullopt).ok());
  char buffer[16];
  EXPECT_FALSE(maildrop.ReadMessage(buffer).ok());  // nothing open
}

TEST_P(ServiceTest, UpdateRemovesExactlyTheDeletedAndKeepsNewMail) {
  Deliver("alice", "Subject: 1\n\n1\n");
  Deliver("alice", "Subject: 2\n\n2\n");
  Deliver("alice", "Subject: 3\n\n3\n");
  Pop3Service service(Options());
  auto result = service.Login(Apop("alice"));
  ASSERT_NE(result.maildrop, nullptr);
  const std::string kept_uid = result.listing.uids[1];
  Deliver("alice", "Subject: 4\n\n4\n");  // arrives during the session
  const std::size_t deleted[] = {0, 2};
  ASSERT_TRUE(result.maildrop->Update(deleted).ok());
  result.maildrop.reset();

  auto next = service.Login(Apop("alice"));
  ASSERT_NE(next.maildrop, nullptr);
  ASSERT_EQ(next.listing.sizes.size(), 2u);
  EXPECT_EQ(next.listing.uids[0], kept_uid);
  EXPECT_EQ(ReadWhole(*next.maildrop, 0), "Subject: 2\r\n\r\n2\r\n");
  EXPECT_EQ(ReadWhole(*next.maildrop, 1), "Subject: 4\r\n\r\n4\r\n");
}

TEST_P(ServiceTest, DestructionWithoutUpdateRemovesNothing) {
  Deliver("alice", kFirst);
  Deliver("alice", kSecond);
  Pop3Service service(Options());
  {
    auto result = service.Login(Apop("alice"));
    ASSERT_NE(result.maildrop, nullptr);
    ASSERT_TRUE(result.maildrop->OpenMessage(0, std::nullopt).ok());
    // Dropped mid-read, without UPDATE.
  }
  auto next = service.Login(Apop("alice"));
  ASSERT_NE(next.maildrop, nullptr);
  EXPECT_EQ(next.listing.sizes.size(), 2u);
}

TEST_P(ServiceTest, BulletinsArriveAtLoginOnceAndNeverBlockIt) {
  const std::string bulletins = dir_.File("bulletins");
  ASSERT_EQ(::mkdir(bulletins.c_str(), 0700), 0);
  WriteFile(bulletins + "/00001.old", "Subject: old\n\nold\n");
  WriteFile(bulletins + "/00002.new",
            "From: admin@example.org\nTo: all\nStatus: RO\nSubject: new\n\n"
            "Status: kept\n");
  WriteFile(dir_.File("target"), "Subject: secret\n\nsecret\n");
  ASSERT_EQ(::symlink(dir_.File("target").c_str(),
                      (bulletins + "/00003.link").c_str()),
            0);
  WriteFile(bulletins + "/bad-name", "Subject: bad\n\nbad\n");
  ServiceOptions options = Options();
  options.bulletin_dir = bulletins;
  Pop3Service service(options);
  Deliver("alice", kFirst);

  auto first = service.Login(Apop("alice"));
  ASSERT_NE(first.maildrop, nullptr);
  ASSERT_EQ(first.listing.sizes.size(), 2u);  // the bulletin is in it
  EXPECT_EQ(ReadWhole(*first.maildrop, 1),
            "From: admin@example.org\r\nTo: alice@pop.example.org\r\n"
            "Subject: new\r\n\r\nStatus: kept\r\n");
  first.maildrop.reset();
  EXPECT_THAT(log_.Matching("00003.link: is a symbolic link"),
              Not(::testing::IsEmpty()));
  EXPECT_THAT(log_.Matching("bad-name: name is not NNNNN.name"),
              Not(::testing::IsEmpty()));

  auto again = service.Login(Apop("alice"));
  ASSERT_NE(again.maildrop, nullptr);
  EXPECT_EQ(again.listing.sizes.size(), 2u);  // not delivered twice
  again.maildrop.reset();

  WriteFile(bulletins + "/00004.later", "Subject: later\n\nlater\n");
  auto later = service.Login(Apop("alice"));
  ASSERT_NE(later.maildrop, nullptr);
  EXPECT_EQ(later.listing.sizes.size(), 3u);
  later.maildrop.reset();

  // A broken bulletin folder is logged, the login goes on.
  options.bulletin_dir = dir_.File("target");  // a file, not a folder
  Pop3Service broken(options);
  auto still = broken.Login(Apop("alice"));
  EXPECT_NE(still.maildrop, nullptr);
  EXPECT_THAT(log_.Matching("bulletins for alice"), Not(::testing::IsEmpty()));
}

TEST_P(ServiceTest, BulletinsWaitWhileTheMaildropIsInUse) {
  const std::string bulletins = dir_.File("bulletins");
  ASSERT_EQ(::mkdir(bulletins.c_str(), 0700), 0);
  ServiceOptions options = Options();
  options.bulletin_dir = bulletins;
  Pop3Service service(options);
  auto first = service.Login(Apop("alice"));
  ASSERT_NE(first.maildrop, nullptr);
  WriteFile(bulletins + "/1.news", "Subject: news\n\nnews\n");
  EXPECT_EQ(service.Login(Apop("alice")).failure.code, "IN-USE");
  first.maildrop.reset();
  auto next = service.Login(Apop("alice"));
  ASSERT_NE(next.maildrop, nullptr);
  EXPECT_EQ(next.listing.sizes.size(), 1u);  // delivered exactly once
}

INSTANTIATE_TEST_SUITE_P(Stores, ServiceTest,
                         ::testing::Values(StoreKind::kMemory, StoreKind::kMbox,
                                           StoreKind::kMaildir));

// ---- store failures -------------------------------------------------------

// A memory store whose OpenSession fails with a given status.
class FailingStore : public store::Mailstore {
 public:
  explicit FailingStore(absl::Status status) : status_(std::move(status)) {}
  absl::Status Deliver(std::string_view user, const store::DeliveryInfo& info,
                       store::MessageReader& source) override {
    return inner_->Deliver(user, info, source);
  }
  absl::StatusOr<std::unique_ptr<store::MaildropSession>> OpenSession(
      std::string_view) override {
    return status_;
  }
  absl::StatusOr<std::string> ReadUserNote(std::string_view user,
                                           std::string_view key) override {
    return inner_->ReadUserNote(user, key);
  }
  absl::Status WriteUserNote(std::string_view user, std::string_view key,
                             std::string_view value) override {
    return inner_->WriteUserNote(user, key, value);
  }

 private:
  absl::Status status_;
  std::unique_ptr<store::Mailstore> inner_ = store::MakeMemoryStore();
};

class PolicyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auth_ = SharedAuthDb();
    ASSERT_NE(auth_, nullptr);
  }
  ServiceOptions Options(store::Mailstore* store) {
    ServiceOptions options;
    options.mailstore = store;
    options.auth_db = auth_;
    options.log = log_.Function();
    return options;
  }
  TempDir dir_;
  store::AuthDb* auth_ = nullptr;
  LogCapture log_;
};

TEST_F(PolicyTest, StoreErrorsAreTemporaryAndLogged) {
  FailingStore store(absl::UnavailableError("spool unreadable"));
  Pop3Service service(Options(&store));
  auto result = service.Login(Apop("alice"));
  EXPECT_EQ(result.maildrop, nullptr);
  EXPECT_EQ(result.failure.code, "SYS/TEMP");
  EXPECT_EQ(result.failure.text, "cannot open maildrop");
  EXPECT_THAT(log_.Matching("spool unreadable"), ::testing::SizeIs(1));
}

TEST_F(PolicyTest, InUseFromTheStore) {
  FailingStore store(store::InUseError("held"));
  Pop3Service service(Options(&store));
  EXPECT_EQ(service.Login(Apop("alice")).failure.code, "IN-USE");
}

// ---- credentials (the store does not matter here) --------------------------

TEST_F(PolicyTest, PassRightAndWrong) {
  auto store = store::MakeMemoryStore();
  Pop3Service service(Options(store.get()));
  auto ok = service.Login(Pass("alice", "apop-secret"));
  ASSERT_NE(ok.maildrop, nullptr) << ok.failure.code << " " << ok.failure.text;
  ok.maildrop.reset();
  auto bob = service.Login(Pass("bob", "bob-password"));
  EXPECT_NE(bob.maildrop, nullptr);
  bob.maildrop.reset();

  for (const auto& [user, password] :
       std::vector<std::pair<std::string, std::string>>{
           {"alice", "wrong"}, {"alice", ""}, {"nobody", "apop-secret"},
           {"bob", "apop-secret"}}) {
    auto refused = service.Login(Pass(user, password));
    EXPECT_EQ(refused.maildrop, nullptr) << user;
    EXPECT_EQ(refused.failure.code, "AUTH");
    EXPECT_EQ(refused.failure.text, "authentication failed");
  }
}

TEST_F(PolicyTest, ApopRightAndWrong) {
  auto store = store::MakeMemoryStore();
  Pop3Service service(Options(store.get()));
  auto request = Request(pop3::LoginMechanism::kApop, "alice",
                         store::ApopDigest(kTimestamp, "apop-secret"));
  auto ok = service.Login(request);
  ASSERT_NE(ok.maildrop, nullptr) << ok.failure.text;
  ok.maildrop.reset();

  // A digest for another timestamp (a replay) fails.
  request.password = store::ApopDigest("<1.2@other>", "apop-secret");
  EXPECT_EQ(service.Login(request).failure.code, "AUTH");
  // No timestamp (APOP disabled) fails.
  request.password = store::ApopDigest(kTimestamp, "apop-secret");
  request.apop_timestamp.clear();
  EXPECT_EQ(service.Login(request).maildrop, nullptr);
  // A password-only user has no APOP secret.
  auto bob = Request(pop3::LoginMechanism::kApop, "bob",
                     store::ApopDigest(kTimestamp, "bob-password"));
  EXPECT_EQ(service.Login(bob).failure.code, "AUTH");
}

TEST_F(PolicyTest, SaslPlainAndProxyLoginRefused) {
  auto store = store::MakeMemoryStore();
  Pop3Service service(Options(store.get()));
  auto request = Request(pop3::LoginMechanism::kSaslPlain, "bob",
                         "bob-password");
  auto ok = service.Login(request);
  ASSERT_NE(ok.maildrop, nullptr);
  ok.maildrop.reset();
  request.authzid = "bob";  // the same identity is fine
  ok = service.Login(request);
  ASSERT_NE(ok.maildrop, nullptr);
  ok.maildrop.reset();
  request.authzid = "alice";  // act as someone else: no
  auto refused = service.Login(request);
  EXPECT_EQ(refused.maildrop, nullptr);
  EXPECT_EQ(refused.failure.code, "AUTH");
  request.authzid.clear();
  request.password = "wrong";
  EXPECT_EQ(service.Login(request).failure.code, "AUTH");
}

TEST_F(PolicyTest, AuthDbErrorIsTemporary) {
  class BrokenAuthDb : public store::AuthDb {
   public:
    absl::Status SetSecret(std::string_view, std::string_view) override {
      return absl::OkStatus();
    }
    absl::Status SetPasswordOnly(std::string_view, std::string_view) override {
      return absl::OkStatus();
    }
    absl::Status Delete(std::string_view) override { return absl::OkStatus(); }
    absl::StatusOr<std::vector<store::AuthUser>> List() const override {
      return std::vector<store::AuthUser>{};
    }
    absl::StatusOr<bool> CheckPassword(std::string_view,
                                       std::string_view) const override {
      return absl::UnavailableError("disk on fire");
    }
    absl::StatusOr<bool> CheckApop(std::string_view, std::string_view,
                                   std::string_view) const override {
      return absl::UnavailableError("disk on fire");
    }
  } broken;
  auto store = store::MakeMemoryStore();
  ServiceOptions options = Options(store.get());
  options.auth_db = &broken;
  Pop3Service service(options);
  auto result = service.Login(Pass("alice", "apop-secret"));
  EXPECT_EQ(result.maildrop, nullptr);
  EXPECT_EQ(result.failure.code, "SYS/TEMP");
  EXPECT_THAT(log_.Matching("disk on fire"), ::testing::SizeIs(1));
}

// ---- address limiter through the service ----------------------------------

TEST_F(PolicyTest, TooManyFailuresBlockTheAddressAtConnect) {
  auto store = store::MakeMemoryStore();
  ServiceOptions options = Options(store.get());
  options.address_limits.max_failures = 3;
  Pop3Service service(options);
  const net::Peer guesser{"203.0.113.5", 1000};
  EXPECT_EQ(service.OnConnect(guesser), std::nullopt);
  auto good = service.Login(Apop("alice", "203.0.113.5"));
  ASSERT_NE(good.maildrop, nullptr);
  good.maildrop.reset();
  // Wrong passwords and hostile names both count.
  service.Login(Pass("alice", "guess1", "203.0.113.5"));  // crypt()
  service.Login(Pass("../etc", "guess2", "203.0.113.5"));
  EXPECT_EQ(service.OnConnect(guesser), std::nullopt);
  service.Login(Request(pop3::LoginMechanism::kApop, "alice",
                        std::string(32, '0'), "203.0.113.5"));
  const auto refused = service.OnConnect(guesser);
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(*refused, "too many failed logins from your address; try again later");
  EXPECT_THAT(log_.Matching("blocking 203.0.113.5 for 600 s"),
              ::testing::SizeIs(1));
  EXPECT_EQ(service.OnConnect(net::Peer{"203.0.113.6", 1}), std::nullopt);

  // stdio sessions ("") are never blocked.
  for (int i = 0; i < 5; ++i) service.Login(Pass("-bad-name", "x", ""));
  EXPECT_EQ(service.OnConnect(net::Peer{"", 0}), std::nullopt);
}

// ---- logging --------------------------------------------------------------

TEST_F(PolicyTest, LoginLinesAndForgedNamesYieldOneEscapedLine) {
  auto store = store::MakeMemoryStore();
  Pop3Service service(Options(store.get()));
  auto request = Request(pop3::LoginMechanism::kApop, "alice",
                         store::ApopDigest(kTimestamp, "apop-secret"),
                         "127.0.0.1");
  request.tls = true;
  auto ok = service.Login(request);
  ASSERT_NE(ok.maildrop, nullptr);
  ok.maildrop.reset();
  EXPECT_THAT(log_.Matching("login alice from 127.0.0.1 (apop, tls)"),
              ::testing::SizeIs(1));

  service.Login(Pass("alice", "wrong", "::1"));
  EXPECT_THAT(log_.Matching("failed login for alice from ::1 (pass)"),
              ::testing::SizeIs(1));

  const std::size_t before = log_.lines().size();
  service.Login(Pass(std::string("x\r\nStats: forged\0y", 18), "pw", "::1"));
  const auto lines = log_.lines();
  ASSERT_EQ(lines.size(), before + 1);
  EXPECT_THAT(lines.back().second,
              HasSubstr("failed login for x\\x0D\\x0AStats: forged\\x00y from"));
  for (const auto& [level, line] : lines) {
    EXPECT_EQ(line.find_first_of(std::string("\r\n\0", 3)), std::string::npos);
    EXPECT_NE(line.rfind("Stats:", 0), 0u) << line;  // nothing forged
  }
}

TEST_F(PolicyTest, StatsLineOnlyWithStatsAndOnlyAfterLogin) {
  auto store = store::MakeMemoryStore();
  net::Pop3SessionSummary summary;
  summary.user = "alice";
  summary.logged_in = true;
  summary.updated = true;
  summary.deleted_messages = 1;
  summary.deleted_octets = 100;
  summary.left_messages = 2;
  summary.left_octets = 200;
  {
    Pop3Service quiet(Options(store.get()));
    quiet.OnSessionEnd(summary);
    EXPECT_TRUE(log_.Matching("Stats:").empty());
  }
  ServiceOptions options = Options(store.get());
  options.stats = true;
  Pop3Service service(options);
  service.OnSessionEnd(summary);
  auto stats = log_.Matching("Stats:");
  ASSERT_THAT(stats, ElementsAre("Stats: alice 1 100 2 200"));
  for (const auto& [level, line] : log_.lines()) {
    if (line.rfind("Stats:", 0) == 0) {
      EXPECT_EQ(level, LogLevel::kNotice);
    }
  }
  net::Pop3SessionSummary nobody;  // never logged in
  service.OnSessionEnd(nobody);
  EXPECT_EQ(log_.Matching("Stats:").size(), 1u);
}

TEST_F(PolicyTest, NullLogIsFine) {
  auto store = store::MakeMemoryStore();
  ServiceOptions options = Options(store.get());
  options.log = nullptr;
  options.stats = true;
  Pop3Service service(options);
  EXPECT_EQ(service.Login(Pass("alice", "wrong")).failure.code, "AUTH");
  net::Pop3SessionSummary summary;
  summary.user = "alice";
  summary.logged_in = true;
  service.OnSessionEnd(summary);
}

}  // namespace
}  // namespace posthorn::pop3d
