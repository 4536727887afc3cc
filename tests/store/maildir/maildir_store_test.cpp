// tests/store/maildir/maildir_store_test.cpp — what the Maildir backend
// does on disk (posthorn/store/maildir.h): layout and modes, names, LF
// content, new/ -> cur/, strays left alone, foreign files measured, tmp/
// clean-up, the commit journal, files removed by other programs.
// The behaviour every backend shares is in tests/store/conformance.

#include <sys/stat.h>
#include <unistd.h>
#include <utime.h>


#include "maildir_test_util.h"
#include "posthorn/store/status.h"

namespace posthorn::store::testing {
namespace {

const std::string kText = "Subject: hi\r\n\r\nline one\r\nline two\r\n";

class MaildirStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = MakeTestMaildir(dir_.path());
    ASSERT_NE(store_, nullptr);
  }
  std::string UserDir(const std::string& sub = "") const {
    return dir_.path() + "/alice" + (sub.empty() ? "" : "/" + sub);
  }
  std::unique_ptr<MaildropSession> Open() {
    auto session = store_->OpenSession("alice");
    EXPECT_TRUE(session.ok()) << session.status();
    return session.ok() ? std::move(*session) : nullptr;
  }
  std::size_t CountMessages() {
    auto session = Open();
    return session ? session->messages().size() : 0;
  }

  TempDir dir_;
  std::unique_ptr<Mailstore> store_;
};

TEST_F(MaildirStoreTest, RootMustBeAFolder) {
  EXPECT_FALSE(MakeMaildirStore(
      {.root_dir = dir_.path() + "/missing", .hostname = "h", .fsync = true}).ok());
  WriteText(dir_.path() + "/file", "x");
  EXPECT_FALSE(MakeMaildirStore(
      {.root_dir = dir_.path() + "/file", .hostname = "h", .fsync = true}).ok());
}

TEST_F(MaildirStoreTest, DeliveryCreatesMaildirAndWritesLfFile) {
  ASSERT_TRUE(DeliverText(*store_, "alice", kText).ok());
  for (const char* sub : {"", "tmp", "new", "cur"}) {
    struct stat st;
    ASSERT_EQ(::lstat(UserDir(sub).c_str(), &st), 0) << sub;
    EXPECT_TRUE(S_ISDIR(st.st_mode));
    EXPECT_EQ(st.st_mode & 07777, 0700u) << sub;
  }
  EXPECT_TRUE(Names(UserDir("tmp")).empty());
  auto names = Names(UserDir("new"));
  ASSERT_EQ(names.size(), 1u);
  const std::string lf = "Subject: hi\n\nline one\nline two\n";
  // <sec>.M<usec>P<pid>Q<n>.test.example,S=<LF bytes>,W=<CRLF bytes>
  const std::string suffix = ".test.example,S=" + std::to_string(lf.size()) +
                             ",W=" + std::to_string(kText.size());
  EXPECT_TRUE(names[0].ends_with(suffix)) << names[0];
  EXPECT_LT(names[0].find(".M"), names[0].find('P')) << names[0];
  EXPECT_LT(names[0].find('P'), names[0].find('Q')) << names[0];
  EXPECT_TRUE(names[0][0] >= '1' && names[0][0] <= '9') << names[0];
  EXPECT_EQ(FileText(UserDir("new/" + names[0])), lf);
  struct stat st;
  ASSERT_EQ(::stat(UserDir("new/" + names[0]).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
}

TEST_F(MaildirStoreTest, HostnameSeparatorsAreEscapedInNames) {
  auto store = MakeMaildirStore(
      {.root_dir = dir_.path(), .hostname = "bad/host:name"});
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE(DeliverText(**store, "alice", kText).ok());
  auto names = Names(UserDir("new"));
  ASSERT_EQ(names.size(), 1u);
  EXPECT_NE(names[0].find(".bad\\057host\\072name,S="), std::string::npos)
      << names[0];
}

TEST_F(MaildirStoreTest, EmptyMessageIsRefusedAndLeavesNothing) {
  EXPECT_EQ(DeliverText(*store_, "alice", "").code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Names(UserDir("tmp")).empty());
  EXPECT_TRUE(Names(UserDir("new")).empty());
}

TEST_F(MaildirStoreTest, CommitMovesKeptMessagesToCur) {
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(DeliverText(*store_, "alice", kText).ok());
  }
  std::vector<std::string> uids;
  {
    auto session = Open();
    ASSERT_NE(session, nullptr);
    for (const auto& m : session->messages()) uids.push_back(m.uid);
    const std::size_t deleted[] = {1};
    ASSERT_TRUE(session->Commit(deleted).ok());
  }
  EXPECT_TRUE(Names(UserDir("new")).empty());
  auto cur = Names(UserDir("cur"));
  ASSERT_EQ(cur.size(), 2u);
  for (const auto& name : cur) {
    EXPECT_TRUE(name.ends_with(":2,")) << name;
  }
  EXPECT_EQ(Names(UserDir("")).size(), 4u);  // tmp new cur .pop.lock
  auto session = Open();
  ASSERT_NE(session, nullptr);
  ASSERT_EQ(session->messages().size(), 2u);
  EXPECT_EQ(session->messages()[0].uid, uids[0]);
  EXPECT_EQ(session->messages()[1].uid, uids[2]);
  EXPECT_EQ(ReadWhole(*session, 1), kText);
}

TEST_F(MaildirStoreTest, StraysAreSkippedAndLeftAlone) {
  ASSERT_TRUE(DeliverText(*store_, "alice", kText).ok());
  std::string good = Names(UserDir("new"))[0];
  // Strays of every kind, in new/ and cur/.
  WriteText(UserDir("new/garbage"), "Subject: no\n\n");
  WriteText(UserDir("cur/#junk~"), "Subject: no\n\n");
  WriteText(UserDir("new/.hidden"), "Subject: no\n\n");
  WriteText(UserDir("new/1700000000.empty.host"), "");
  ASSERT_EQ(::mkdir(UserDir("new/1700000001.folder").c_str(), 0700), 0);
  WriteText(UserDir("new/1700000001.folder/inner"), "x\n");
  WriteText(dir_.path() + "/secret", "Subject: secret\n\nroot only\n");
  ASSERT_EQ(::symlink((dir_.path() + "/secret").c_str(),
                      UserDir("new/1700000002.symlink.host").c_str()),
            0);
  ASSERT_EQ(::link((dir_.path() + "/secret").c_str(),
                   UserDir("cur/1700000003.hardlink.host:2,").c_str()),
            0);
  auto before_new = Names(UserDir("new"));
  auto before_cur = Names(UserDir("cur"));
  {
    auto session = Open();
    ASSERT_NE(session, nullptr);
    ASSERT_EQ(session->messages().size(), 1u);
    EXPECT_EQ(ReadWhole(*session, 0), kText);
    ASSERT_TRUE(session->Commit({}).ok());
  }
  // The good message moved to cur/; every stray is where it was.
  auto after_new = Names(UserDir("new"));
  auto after_cur = Names(UserDir("cur"));
  before_new.erase(std::find(before_new.begin(), before_new.end(), good));
  EXPECT_EQ(after_new, before_new);
  before_cur.push_back(good + ":2,");
  std::sort(before_cur.begin(), before_cur.end());
  EXPECT_EQ(after_cur, before_cur);
  EXPECT_EQ(FileText(UserDir("new/1700000001.folder/inner")), "x\n");
  // Deleting the only message leaves the strays too.
  auto session = Open();
  ASSERT_NE(session, nullptr);
  ASSERT_EQ(session->messages().size(), 1u);
  const std::size_t deleted[] = {0};
  ASSERT_TRUE(session->Commit(deleted).ok());
  EXPECT_EQ(Names(UserDir("new")), after_new);
  EXPECT_EQ(Names(UserDir("cur")).size(), after_cur.size() - 1);
}

TEST_F(MaildirStoreTest, ForeignFilesAreMeasuredAndOrderedByTime) {
  ASSERT_TRUE(DeliverText(*store_, "alice", kText).ok());  // now
  // Older messages from other programs: no sizes, one with CRLF on disk,
  // one whose S= does not match the file (edited since).
  WriteText(UserDir("cur/1000000000_0.77.other,U=1:2,S"), "A: 1\n\nx\n");
  WriteText(UserDir("new/1000000001.M5P6Q7.other"), "A: 2\r\n\r\ny\r\n");
  WriteText(UserDir("new/1000000002.M1P1Q1.other,S=999,W=999"), "A: 3\n");
  auto session = Open();
  ASSERT_NE(session, nullptr);
  ASSERT_EQ(session->messages().size(), 4u);
  EXPECT_EQ(ReadWhole(*session, 0), "A: 1\r\n\r\nx\r\n");
  EXPECT_EQ(session->messages()[0].size, 11u);
  EXPECT_EQ(session->messages()[0].uid, "1000000000_0.77.other,U=1");
  EXPECT_EQ(ReadWhole(*session, 1), "A: 2\r\n\r\ny\r\n");
  EXPECT_EQ(session->messages()[1].size, 11u);
  EXPECT_EQ(ReadWhole(*session, 2), "A: 3\r\n");
  EXPECT_EQ(session->messages()[2].size, 6u);
  EXPECT_EQ(ReadWhole(*session, 3), kText);
}

TEST_F(MaildirStoreTest, SameBaseInNewAndCurGetsDistinctUids) {
  ASSERT_TRUE(DeliverText(*store_, "alice", kText).ok());
  std::string name = Names(UserDir("new"))[0];
  WriteText(UserDir("cur/" + name + ":2,S"), "Subject: copy\n\n");
  auto session = Open();
  ASSERT_NE(session, nullptr);
  ASSERT_EQ(session->messages().size(), 2u);
  EXPECT_NE(session->messages()[0].uid, session->messages()[1].uid);
}

TEST_F(MaildirStoreTest, OldTmpFilesAreRemovedYoungOnesKept) {
  ASSERT_TRUE(DeliverText(*store_, "alice", kText).ok());
  WriteText(UserDir("tmp/1.M1P1Q1.crashed"), "Subject: half");
  WriteText(UserDir("tmp/2.M1P1Q1.in-progress"), "Subject: half");
  struct utimbuf old_times = {.actime = ::time(nullptr) - 37 * 3600,
                              .modtime = ::time(nullptr) - 37 * 3600};
  ASSERT_EQ(::utime(UserDir("tmp/1.M1P1Q1.crashed").c_str(), &old_times), 0);
  EXPECT_EQ(CountMessages(), 1u);
  EXPECT_EQ(Names(UserDir("tmp")),
            std::vector<std::string>{"2.M1P1Q1.in-progress"});
}

TEST_F(MaildirStoreTest, InterruptedCommitIsFinishedByNextSession) {
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(DeliverText(*store_, "alice", kText).ok());
  }
  auto names = Names(UserDir("new"));
  // As if a Commit() deleting message 2 was killed right after its journal;
  // lines naming other places are ignored.
  WriteText(UserDir(".pop.commit"),
            "new/" + names[1] + "\n../../secret\nnew/../../secret\n"
            "cur/.pop.lock\nnew/1700000001.folder\n");
  ASSERT_EQ(::mkdir(UserDir("new/1700000001.folder").c_str(), 0700), 0);
  WriteText(dir_.path() + "/secret", "keep me\n");
  auto session = Open();
  ASSERT_NE(session, nullptr);
  EXPECT_EQ(session->messages().size(), 2u);
  EXPECT_FALSE(std::filesystem::exists(UserDir(".pop.commit")));
  EXPECT_EQ(FileText(dir_.path() + "/secret"), "keep me\n");
  EXPECT_TRUE(std::filesystem::exists(UserDir(".pop.lock")));
  EXPECT_TRUE(std::filesystem::is_directory(UserDir("new/1700000001.folder")));
}

TEST_F(MaildirStoreTest, MessageRemovedByAnotherProgramIsNotFound) {
  ASSERT_TRUE(DeliverText(*store_, "alice", kText).ok());
  ASSERT_TRUE(DeliverText(*store_, "alice", kText).ok());
  auto session = Open();
  ASSERT_NE(session, nullptr);
  auto names = Names(UserDir("new"));
  ASSERT_EQ(names.size(), 2u);
  ASSERT_EQ(::unlink(UserDir("new/" + names[0]).c_str()), 0);
  auto reader = session->Read(0);
  ASSERT_FALSE(reader.ok());
  EXPECT_EQ(reader.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(reader.status().message().find(names[0]), std::string::npos);
  // Moved to cur/ by a mail reader: still found.
  ASSERT_EQ(::rename(UserDir("new/" + names[1]).c_str(),
                     UserDir("cur/" + names[1] + ":2,").c_str()),
            0);
  EXPECT_EQ(ReadWhole(*session, 1), kText);
  // Commit copes with both.
  const std::size_t deleted[] = {0};
  EXPECT_TRUE(session->Commit(deleted).ok());
  EXPECT_EQ(CountMessages(), 1u);
}

TEST_F(MaildirStoreTest, LockIsSharedWithOtherStoreObjects) {
  auto other = MakeTestMaildir(dir_.path());
  ASSERT_NE(other, nullptr);
  auto first = Open();
  ASSERT_NE(first, nullptr);
  auto second = other->OpenSession("alice");
  ASSERT_FALSE(second.ok());
  EXPECT_TRUE(IsInUse(second.status()));
  // Delivery through the other object is not blocked.
  EXPECT_TRUE(DeliverText(*other, "alice", kText).ok());
}

TEST_F(MaildirStoreTest, NotesAreDotFilesBesideTheMaildir) {
  ASSERT_TRUE(store_->WriteUserNote("alice", "last", "42").ok());
  EXPECT_EQ(FileText(UserDir(".last.note")), "42");
  EXPECT_EQ(CountMessages(), 0u);
}

TEST_F(MaildirStoreTest, SymlinkedUserFolderIsRefused) {
  ASSERT_EQ(::mkdir((dir_.path() + "/elsewhere").c_str(), 0700), 0);
  ASSERT_EQ(::symlink((dir_.path() + "/elsewhere").c_str(),
                      (dir_.path() + "/mallory").c_str()),
            0);
  EXPECT_FALSE(DeliverText(*store_, "mallory", kText).ok());
  EXPECT_TRUE(Names(dir_.path() + "/elsewhere").empty());
}

}  // namespace
}  // namespace posthorn::store::testing
