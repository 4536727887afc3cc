// tests/pop3d/bulletins_test.cpp — bulletin listing (names, unsafe files),
// the header rewrite, the envelope sender, and delivery with the per-user
// record, on the memory, mbox and Maildir stores.

#include "posthorn/pop3d/bulletins.h"

#include <sys/stat.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "pop3d/bulletin_text.h"
#include "pop3d_test_util.h"
#include "posthorn/store/maildir.h"
#include "posthorn/store/mbox.h"
#include "posthorn/store/memory_store.h"

namespace posthorn::pop3d {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::TempDir;
using testing::WriteFile;

const char kBulletin[] =
    "From admin Mon Jan  1 00:00:00 2024\n"
    "From: Admin <admin@example.org>\n"
    "To: everyone@example.org,\n"
    "    more@example.org\n"
    "Status: RO\n"
    "X-Status: A\n"
    "Subject: outage\n"
    "\n"
    "The server is down tonight.\n"
    "Status: this body line stays\n"
    "To: so does this one\n";

std::vector<std::uint64_t> Numbers(const std::vector<Bulletin>& bulletins) {
  std::vector<std::uint64_t> numbers;
  for (const Bulletin& b : bulletins) numbers.push_back(b.number);
  return numbers;
}

// ---- RewriteBulletin ------------------------------------------------------

TEST(RewriteBulletin, RewritesToDropsStatusAndFromLine) {
  EXPECT_EQ(RewriteBulletin(kBulletin, "alice", "pop.example.org"),
            "From: Admin <admin@example.org>\n"
            "To: alice@pop.example.org\n"
            "Subject: outage\n"
            "\n"
            "The server is down tonight.\n"
            "Status: this body line stays\n"
            "To: so does this one\n");
}

TEST(RewriteBulletin, KeepsCrlfAndUsesItForItsOwnLines) {
  EXPECT_EQ(RewriteBulletin("Subject: s\r\nto: x\r\n\r\nbody\r\n", "bob", "h"),
            "Subject: s\r\nTo: bob@h\r\n\r\nbody\r\n");
  EXPECT_EQ(RewriteBulletin("Subject: s\r\n\r\nbody\r\n", "bob", "h"),
            "Subject: s\r\nTo: bob@h\r\n\r\nbody\r\n");
}

TEST(RewriteBulletin, AddsToWhenMissingAndDropsDuplicates) {
  EXPECT_EQ(RewriteBulletin("Subject: s\n\nb\n", "u", "h"),
            "Subject: s\nTo: u@h\n\nb\n");
  EXPECT_EQ(RewriteBulletin("To: a\nSubject: s\nTO : b\n c\n\nb\n", "u", "h"),
            "To: u@h\nSubject: s\n\nb\n");
}

TEST(RewriteBulletin, TextWithoutHeaderGetsOneAndAnEmptyLine) {
  EXPECT_EQ(RewriteBulletin("The server is down.\nBye\n", "u", "h"),
            "To: u@h\n\nThe server is down.\nBye\n");
  EXPECT_EQ(RewriteBulletin("\nbody\n", "u", "h"), "To: u@h\n\nbody\n");
  EXPECT_EQ(RewriteBulletin("", "u", "h"), "To: u@h\n");
}

TEST(RewriteBulletin, HeaderWithoutLineEndOrBody) {
  EXPECT_EQ(RewriteBulletin("Subject: s", "u", "h"), "Subject: s\nTo: u@h\n");
  EXPECT_EQ(RewriteBulletin("Subject: s\nStatus: R", "u", "h"),
            "Subject: s\nTo: u@h\n");
}

TEST(RewriteBulletin, OnlyALeadingFromLineIsDropped) {
  EXPECT_EQ(RewriteBulletin("Subject: s\n\nFrom here on\n", "u", "h"),
            "Subject: s\nTo: u@h\n\nFrom here on\n");
}

// ---- BulletinSender -------------------------------------------------------

TEST(BulletinSender, SimpleAddressesOnly) {
  EXPECT_EQ(detail::BulletinSender(kBulletin), "admin@example.org");
  EXPECT_EQ(detail::BulletinSender("From: root@h.example\n\n"), "root@h.example");
  EXPECT_EQ(detail::BulletinSender("from:\n <x@y>\n\n"), "x@y");
  EXPECT_EQ(detail::BulletinSender("Subject: s\n\n"), "MAILER-DAEMON");
  EXPECT_EQ(detail::BulletinSender("From: a@b, c@d\n\n"), "MAILER-DAEMON");
  EXPECT_EQ(detail::BulletinSender("From: \"x y\"@b\n\n"), "MAILER-DAEMON");
  EXPECT_EQ(detail::BulletinSender("From: a@b (Admin)\n\n"), "MAILER-DAEMON");
  EXPECT_EQ(detail::BulletinSender("From: <a@b\n\n"), "MAILER-DAEMON");
  EXPECT_EQ(detail::BulletinSender("From: root\n\n"), "MAILER-DAEMON");
  EXPECT_EQ(detail::BulletinSender("Subject: s\n\nFrom: a@b\n"),
            "MAILER-DAEMON");  // the body is not the header
}

// ---- ListBulletins --------------------------------------------------------

TEST(ListBulletins, MissingFolderMeansNone) {
  TempDir dir;
  std::vector<std::string> warnings;
  auto list = ListBulletins(dir.File("nothing-here"), &warnings);
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_TRUE(list->empty());
  EXPECT_TRUE(warnings.empty());
}

TEST(ListBulletins, AFileInsteadOfAFolderIsAnError) {
  TempDir dir;
  WriteFile(dir.File("file"), "x");
  EXPECT_FALSE(ListBulletins(dir.File("file"), nullptr).ok());
}

TEST(ListBulletins, NumericOrderAndBadNamesSkipped) {
  TempDir dir;
  for (const char* name : {"00010.ten", "2.two", "00001.one", "x.y", "12",
                           "12.", ".5", "1a.b", "99999999999999999999.big"}) {
    WriteFile(dir.File(name), "Subject: s\n\nb\n");
  }
  std::vector<std::string> warnings;
  auto list = ListBulletins(dir.path(), &warnings);
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_THAT(Numbers(*list), ElementsAre(1, 2, 10));
  EXPECT_EQ((*list)[0].path, dir.File("00001.one"));
  EXPECT_EQ(warnings.size(), 6u);
  for (const auto& warning : warnings) {
    EXPECT_THAT(warning, HasSubstr("name is not NNNNN.name"));
  }
}

TEST(ListBulletins, UnsafeFilesAreSkipped) {
  TempDir dir;
  WriteFile(dir.File("00001.good"), "Subject: s\n\nb\n");
  WriteFile(dir.path() + "-secret", "secret mail\n");
  ASSERT_EQ(::symlink((dir.path() + "-secret").c_str(),
                      dir.File("00002.link").c_str()),
            0);
  WriteFile(dir.File("00003.linked"), "x\n");
  ASSERT_EQ(::link(dir.File("00003.linked").c_str(),
                   dir.File("other-name").c_str()),
            0);
  ASSERT_EQ(::mkdir(dir.File("00004.dir").c_str(), 0700), 0);
  ASSERT_EQ(::mkfifo(dir.File("00005.fifo").c_str(), 0600), 0);
  WriteFile(dir.File("00006.huge"), std::string(kMaxBulletinSize + 1, 'x'));
  WriteFile(dir.File("00007.limit"), std::string(kMaxBulletinSize, 'x'));
  std::vector<std::string> warnings;
  auto list = ListBulletins(dir.path(), &warnings);
  ::unlink((dir.path() + "-secret").c_str());
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_THAT(Numbers(*list), ElementsAre(1, 7));
  const std::string all = ::testing::PrintToString(warnings);
  EXPECT_THAT(all, HasSubstr("00002.link: is a symbolic link"));
  EXPECT_THAT(all, HasSubstr("00003.linked: has more than one link"));
  EXPECT_THAT(all, HasSubstr("00004.dir: not a regular file"));
  EXPECT_THAT(all, HasSubstr("00005.fifo: not a regular file"));
  EXPECT_THAT(all, HasSubstr("00006.huge: larger than"));
}

// ---- DeliverBulletins -----------------------------------------------------

// The messages of `user`'s maildrop as read by a POP session.
std::vector<std::string> Messages(store::Mailstore& store,
                                  std::string_view user) {
  std::vector<std::string> texts;
  auto session = store.OpenSession(user);
  EXPECT_TRUE(session.ok()) << session.status();
  if (!session.ok()) return texts;
  for (std::size_t i = 0; i < (*session)->messages().size(); ++i) {
    auto reader = (*session)->Read(i);
    EXPECT_TRUE(reader.ok());
    auto text = store::ReadAll(**reader);
    EXPECT_TRUE(text.ok());
    texts.push_back(*text);
  }
  return texts;
}

enum class StoreKind { kMemory, kMbox, kMaildir };

class DeliverBulletinsTest : public ::testing::TestWithParam<StoreKind> {
 protected:
  void SetUp() override {
    ASSERT_EQ(::mkdir(bulletins_.c_str(), 0700), 0);
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
  }

  std::size_t Deliver(std::string_view user) {
    auto delivered = DeliverBulletins(*store_, bulletins_, user,
                                      "pop.example.org", &warnings_);
    EXPECT_TRUE(delivered.ok()) << delivered.status();
    return delivered.ok() ? *delivered : 0;
  }

  TempDir dir_;
  std::string bulletins_ = dir_.File("bulletins");
  std::string spool_ = dir_.File("spool");
  std::unique_ptr<store::Mailstore> store_;
  std::vector<std::string> warnings_;
};

TEST_P(DeliverBulletinsTest, NewUserGetsOnlyTheNewestThenEachNewOneOnce) {
  WriteFile(bulletins_ + "/00001.old", "Subject: old\n\nold\n");
  WriteFile(bulletins_ + "/00002.new", kBulletin);
  EXPECT_EQ(Deliver("alice"), 1u);
  auto texts = Messages(*store_, "alice");
  ASSERT_EQ(texts.size(), 1u);
  EXPECT_EQ(texts[0],
            "From: Admin <admin@example.org>\r\n"
            "To: alice@pop.example.org\r\n"
            "Subject: outage\r\n"
            "\r\n"
            "The server is down tonight.\r\n"
            "Status: this body line stays\r\n"
            "To: so does this one\r\n");
  EXPECT_EQ(*store_->ReadUserNote("alice", "bulletin"), "2");

  EXPECT_EQ(Deliver("alice"), 0u);  // nothing new
  WriteFile(bulletins_ + "/00003.third", "Subject: third\r\n\r\nthird\r\n");
  WriteFile(bulletins_ + "/00004.fourth", "Subject: fourth\n\nFrom me\n");
  EXPECT_EQ(Deliver("alice"), 2u);
  EXPECT_EQ(Deliver("alice"), 0u);
  texts = Messages(*store_, "alice");
  ASSERT_EQ(texts.size(), 3u);
  EXPECT_EQ(texts[1], "Subject: third\r\nTo: alice@pop.example.org\r\n\r\nthird\r\n");
  EXPECT_EQ(texts[2], "Subject: fourth\r\nTo: alice@pop.example.org\r\n\r\nFrom me\r\n");
  EXPECT_EQ(*store_->ReadUserNote("alice", "bulletin"), "4");

  // Another new user still gets only the newest.
  EXPECT_EQ(Deliver("bob"), 1u);
  texts = Messages(*store_, "bob");
  ASSERT_EQ(texts.size(), 1u);
  EXPECT_THAT(texts[0], HasSubstr("To: bob@pop.example.org\r\n"));
  EXPECT_THAT(texts[0], HasSubstr("Subject: fourth"));
}

TEST_P(DeliverBulletinsTest, NewUserWithoutBulletinsGetsAllLaterOnes) {
  EXPECT_EQ(Deliver("carol"), 0u);
  WriteFile(bulletins_ + "/1.a", "Subject: a\n\na\n");
  WriteFile(bulletins_ + "/2.b", "Subject: b\n\nb\n");
  EXPECT_EQ(Deliver("carol"), 2u);
}

TEST_P(DeliverBulletinsTest, SkippedFilesAreNotDeliveredAndLogged) {
  EXPECT_EQ(Deliver("dave"), 0u);
  WriteFile(dir_.File("secret"), "Subject: secret\n\nsecret\n");
  ASSERT_EQ(::symlink(dir_.File("secret").c_str(),
                      (bulletins_ + "/00005.evil").c_str()),
            0);
  WriteFile(bulletins_ + "/bogus", "Subject: bogus\n\nb\n");
  WriteFile(bulletins_ + "/00006.empty", "");
  WriteFile(bulletins_ + "/00003.fine", "Subject: fine\n\nfine\n");
  EXPECT_EQ(Deliver("dave"), 1u);
  auto texts = Messages(*store_, "dave");
  ASSERT_EQ(texts.size(), 1u);
  EXPECT_THAT(texts[0], HasSubstr("Subject: fine"));
  const std::string all = ::testing::PrintToString(warnings_);
  EXPECT_THAT(all, HasSubstr("00005.evil: is a symbolic link"));
  EXPECT_THAT(all, HasSubstr("bogus: name is not NNNNN.name"));
  EXPECT_THAT(all, HasSubstr("00006.empty: is empty"));
  EXPECT_EQ(*store_->ReadUserNote("dave", "bulletin"), "6");
}

TEST_P(DeliverBulletinsTest, DamagedRecordCountsAsNewUser) {
  ASSERT_TRUE(store_->WriteUserNote("erin", "bulletin", "garbage").ok());
  WriteFile(bulletins_ + "/1.a", "Subject: a\n\na\n");
  WriteFile(bulletins_ + "/2.b", "Subject: b\n\nb\n");
  EXPECT_EQ(Deliver("erin"), 1u);
  EXPECT_EQ(*store_->ReadUserNote("erin", "bulletin"), "2");
}

TEST_P(DeliverBulletinsTest, BadUserNameIsRefusedBeforeAnything) {
  WriteFile(bulletins_ + "/1.a", "Subject: a\n\na\n");
  const auto before = testing::TreeOf(spool_);
  for (const std::string& user : {std::string("../x"), std::string("a/b"),
                                  std::string(), std::string("a\0b", 3)}) {
    EXPECT_FALSE(DeliverBulletins(*store_, bulletins_, user, "h", nullptr).ok());
  }
  EXPECT_EQ(testing::TreeOf(spool_), before);
}

INSTANTIATE_TEST_SUITE_P(Stores, DeliverBulletinsTest,
                         ::testing::Values(StoreKind::kMemory, StoreKind::kMbox,
                                           StoreKind::kMaildir));

}  // namespace
}  // namespace posthorn::pop3d
