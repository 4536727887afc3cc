// tests/store/conformance/mailstore_conformance.cpp — the cases every
// Mailstore backend must pass; see mailstore_conformance.h.

#include "mailstore_conformance.h"

#include <stdlib.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <set>

#include "posthorn/store/message_reader.h"
#include "posthorn/store/status.h"

namespace posthorn::store::testing {

std::string BackendName(const ::testing::TestParamInfo<Backend>& info) {
  return info.param.name;
}

std::string Crlf(const std::string& lf_text) {
  std::string out;
  for (char c : lf_text) {
    if (c == '\n') out.push_back('\r');
    out.push_back(c);
  }
  return out;
}

void MailstoreTestBase::SetUp() {
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern =
      std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") +
      "/posthorn-conformance-XXXXXX";
  ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
  temp_dir_ = pattern;
  store_ = GetParam().make(temp_dir_);
  ASSERT_NE(store_, nullptr);
}

void MailstoreTestBase::TearDown() {
  store_.reset();
  if (!temp_dir_.empty()) std::filesystem::remove_all(temp_dir_);
}

absl::Status MailstoreTestBase::Deliver(const std::string& user,
                                        const std::string& text) {
  StringReader source(text);
  return store_->Deliver(
      user, {.envelope_sender = "sender@example.org", .arrival = absl::Now()},
      source);
}

void MailstoreTestBase::DeliverOk(const std::string& user,
                                  const std::string& text) {
  absl::Status status = Deliver(user, text);
  ASSERT_TRUE(status.ok()) << status;
}

std::unique_ptr<MaildropSession> MailstoreTestBase::Open(
    const std::string& user) {
  auto session = store_->OpenSession(user);
  EXPECT_TRUE(session.ok()) << session.status();
  if (!session.ok()) return nullptr;
  return std::move(*session);
}

namespace {

std::string Drain(MessageReader& reader, std::size_t buffer_size) {
  std::string out;
  std::string buffer(buffer_size, '\0');
  for (;;) {
    auto n = reader.Read(std::span<char>(buffer.data(), buffer.size()));
    EXPECT_TRUE(n.ok()) << n.status();
    if (!n.ok() || *n == 0) break;
    EXPECT_LE(*n, buffer.size());
    out.append(buffer.data(), *n);
  }
  return out;
}

}  // namespace

std::string MailstoreTestBase::ReadMessage(MaildropSession& session,
                                           std::size_t index,
                                           std::size_t buffer_size) {
  auto reader = session.Read(index);
  EXPECT_TRUE(reader.ok()) << reader.status();
  if (!reader.ok()) return "<read failed>";
  return Drain(**reader, buffer_size);
}

std::string MailstoreTestBase::ReadTopOf(MaildropSession& session,
                                         std::size_t index,
                                         std::uint64_t body_lines) {
  auto reader = session.ReadTop(index, body_lines);
  EXPECT_TRUE(reader.ok()) << reader.status();
  if (!reader.ok()) return "<read failed>";
  return Drain(**reader, 16384);
}

std::vector<std::string> MailstoreTestBase::ReadEverything(
    const std::string& user) {
  std::vector<std::string> out;
  auto session = Open(user);
  if (session == nullptr) return out;
  for (std::size_t i = 0; i < session->messages().size(); ++i) {
    out.push_back(ReadMessage(*session, i));
  }
  return out;
}

std::vector<std::string> MailstoreTestBase::ListTempDir() const {
  std::vector<std::string> paths;
  for (const auto& entry :
       std::filesystem::recursive_directory_iterator(temp_dir_)) {
    paths.push_back(entry.path().string());
  }
  std::sort(paths.begin(), paths.end());
  return paths;
}

namespace {

std::string Numbered(int n) {
  return "From: a@example.org\nSubject: message " + std::to_string(n) +
         "\n\nBody of message " + std::to_string(n) + ".\nSecond line.\n";
}

bool IsGoodUid(const std::string& uid) {
  if (uid.empty() || uid.size() > 70) return false;
  return std::all_of(uid.begin(), uid.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u >= 0x21 && u <= 0x7E;
  });
}

std::vector<std::string> UidsOf(const MaildropSession& session) {
  std::vector<std::string> uids;
  for (const auto& m : session.messages()) uids.push_back(m.uid);
  return uids;
}

}  // namespace

TEST_P(MailstoreConformanceTest, MissingMaildropIsEmpty) {
  auto session = Open("alice");
  ASSERT_NE(session, nullptr);
  EXPECT_TRUE(session->messages().empty());
  EXPECT_TRUE(session->Commit({}).ok());
  EXPECT_TRUE(ReadEverything("alice").empty());
}

TEST_P(MailstoreConformanceTest, DeliveredMessagesReadBackByteExact) {
  constexpr int kCount = 7;
  for (int i = 0; i < kCount; ++i) DeliverOk("alice", Numbered(i));
  auto session = Open("alice");
  ASSERT_NE(session, nullptr);
  ASSERT_EQ(session->messages().size(), static_cast<std::size_t>(kCount));
  for (int i = 0; i < kCount; ++i) {
    std::string expected = Crlf(Numbered(i));
    EXPECT_EQ(ReadMessage(*session, i), expected) << "message " << i;
    EXPECT_EQ(session->messages()[i].size, expected.size()) << "message " << i;
    // Tiny buffers must give the same bytes.
    EXPECT_EQ(ReadMessage(*session, i, 1), expected);
    EXPECT_EQ(ReadMessage(*session, i, 3), expected);
  }
}

TEST_P(MailstoreConformanceTest, LfAndCrlfInputAreStoredAlike) {
  const std::string lf = "Subject: same\n\nline one\nline two\n";
  DeliverOk("alice", lf);
  DeliverOk("alice", Crlf(lf));
  auto session = Open("alice");
  ASSERT_NE(session, nullptr);
  ASSERT_EQ(session->messages().size(), 2u);
  EXPECT_EQ(ReadMessage(*session, 0), Crlf(lf));
  EXPECT_EQ(ReadMessage(*session, 1), Crlf(lf));
  EXPECT_EQ(session->messages()[0].size, session->messages()[1].size);
}

TEST_P(MailstoreConformanceTest, MissingFinalNewlineIsAdded) {
  DeliverOk("alice", "Subject: x\n\nno newline at the end");
  DeliverOk("alice", "Subject: y\r\n\r\nno CRLF at the end");
  auto session = Open("alice");
  ASSERT_NE(session, nullptr);
  ASSERT_EQ(session->messages().size(), 2u);
  EXPECT_EQ(ReadMessage(*session, 0),
            "Subject: x\r\n\r\nno newline at the end\r\n");
  EXPECT_EQ(ReadMessage(*session, 1),
            "Subject: y\r\n\r\nno CRLF at the end\r\n");
  EXPECT_EQ(session->messages()[0].size,
            std::string("Subject: x\r\n\r\nno newline at the end\r\n").size());
}

TEST_P(MailstoreConformanceTest, FromLinesRoundTripExactly) {
  const std::string text =
      "Subject: quoting\n\nFrom here on\n>From there\n>>From everywhere\n"
      "From\n>From\nFrom: not a header\n\nFrom the last paragraph\n";
  DeliverOk("alice", text);
  DeliverOk("alice", Numbered(2));  // a neighbour to confuse a parser
  auto session = Open("alice");
  ASSERT_NE(session, nullptr);
  ASSERT_EQ(session->messages().size(), 2u);
  EXPECT_EQ(ReadMessage(*session, 0), Crlf(text));
  EXPECT_EQ(session->messages()[0].size, Crlf(text).size());
  EXPECT_EQ(ReadMessage(*session, 1), Crlf(Numbered(2)));
}

TEST_P(MailstoreConformanceTest, TopGivesHeaderBlankLineAndBodyLines) {
  const std::string header = "From: a@example.org\nSubject: top\n";
  const std::string body = "one\ntwo\n\nfour\nfive\n";
  DeliverOk("alice", header + "\n" + body);
  auto session = Open("alice");
  ASSERT_NE(session, nullptr);
  EXPECT_EQ(ReadTopOf(*session, 0, 0), Crlf(header + "\n"));
  EXPECT_EQ(ReadTopOf(*session, 0, 2), Crlf(header + "\none\ntwo\n"));
  EXPECT_EQ(ReadTopOf(*session, 0, 3), Crlf(header + "\none\ntwo\n\n"));
  EXPECT_EQ(ReadTopOf(*session, 0, 5), Crlf(header + "\n" + body));
  EXPECT_EQ(ReadTopOf(*session, 0, 1000), Crlf(header + "\n" + body));
}

TEST_P(MailstoreConformanceTest, MessageWithoutBlankLineIsAllHeader) {
  const std::string text = "Subject: no body\nX-Other: yes\n";
  DeliverOk("alice", text);
  auto session = Open("alice");
  ASSERT_NE(session, nullptr);
  EXPECT_EQ(ReadMessage(*session, 0), Crlf(text));
  EXPECT_EQ(ReadTopOf(*session, 0, 0), Crlf(text));
  EXPECT_EQ(ReadTopOf(*session, 0, 10), Crlf(text));
}

TEST_P(MailstoreConformanceTest, IdenticalMessagesGetDistinctGoodUids) {
  const std::string text = "Subject: twin\n\nsame bytes\n";
  for (int i = 0; i < 3; ++i) DeliverOk("alice", text);
  auto session = Open("alice");
  ASSERT_NE(session, nullptr);
  auto uids = UidsOf(*session);
  ASSERT_EQ(uids.size(), 3u);
  std::set<std::string> unique(uids.begin(), uids.end());
  EXPECT_EQ(unique.size(), 3u);
  for (const auto& uid : uids) EXPECT_TRUE(IsGoodUid(uid)) << uid;
}

TEST_P(MailstoreConformanceTest, UidsAreStableAcrossSessionsAndDeletions) {
  for (int i = 0; i < 5; ++i) DeliverOk("alice", Numbered(i));
  std::vector<std::string> first;
  {
    auto session = Open("alice");
    ASSERT_NE(session, nullptr);
    first = UidsOf(*session);
  }
  {
    auto session = Open("alice");
    ASSERT_NE(session, nullptr);
    EXPECT_EQ(UidsOf(*session), first);
    const std::size_t deleted[] = {1, 3};
    ASSERT_TRUE(session->Commit(deleted).ok());
  }
  auto session = Open("alice");
  ASSERT_NE(session, nullptr);
  EXPECT_EQ(UidsOf(*session),
            (std::vector<std::string>{first[0], first[2], first[4]}));
}

TEST_P(MailstoreConformanceTest, XUidlHeaderIsNotTheUid) {
  const std::string text = "X-UIDL: chosen-by-sender\nSubject: x\n\nbody\n";
  DeliverOk("alice", text);
  DeliverOk("alice", text);
  auto session = Open("alice");
  ASSERT_NE(session, nullptr);
  auto uids = UidsOf(*session);
  ASSERT_EQ(uids.size(), 2u);
  EXPECT_NE(uids[0], uids[1]);
  for (const auto& uid : uids) EXPECT_NE(uid, "chosen-by-sender");
  EXPECT_EQ(ReadMessage(*session, 0), Crlf(text));  // the header stays data
}

TEST_P(MailstoreConformanceTest, SecondSessionIsInUseUntilFirstEnds) {
  DeliverOk("alice", Numbered(1));
  auto first = Open("alice");
  ASSERT_NE(first, nullptr);
  auto second = store_->OpenSession("alice");
  ASSERT_FALSE(second.ok());
  EXPECT_TRUE(IsInUse(second.status())) << second.status();
  // Another user's maildrop is independent.
  EXPECT_TRUE(store_->OpenSession("bob").ok());
  ASSERT_TRUE(first->Commit({}).ok());
  auto third = store_->OpenSession("alice");
  ASSERT_TRUE(third.ok()) << third.status();
  third->reset();
  EXPECT_TRUE(store_->OpenSession("alice").ok());  // released by destruction
}

TEST_P(MailstoreConformanceTest, DestroyingSessionWithoutCommitDeletesNothing) {
  for (int i = 0; i < 3; ++i) DeliverOk("alice", Numbered(i));
  {
    auto session = Open("alice");
    ASSERT_NE(session, nullptr);
    ASSERT_EQ(session->messages().size(), 3u);
    ReadMessage(*session, 1);
  }
  EXPECT_EQ(ReadEverything("alice"),
            (std::vector<std::string>{Crlf(Numbered(0)), Crlf(Numbered(1)),
                                      Crlf(Numbered(2))}));
}

TEST_P(MailstoreConformanceTest, CommitDeletesExactlyTheListed) {
  for (int i = 0; i < 6; ++i) DeliverOk("alice", Numbered(i));
  {
    auto session = Open("alice");
    ASSERT_NE(session, nullptr);
    const std::size_t deleted[] = {4, 0, 2};  // any order
    ASSERT_TRUE(session->Commit(deleted).ok());
  }
  EXPECT_EQ(ReadEverything("alice"),
            (std::vector<std::string>{Crlf(Numbered(1)), Crlf(Numbered(3)),
                                      Crlf(Numbered(5))}));
  {
    auto session = Open("alice");
    ASSERT_NE(session, nullptr);
    const std::size_t all[] = {0, 1, 2};
    ASSERT_TRUE(session->Commit(all).ok());
  }
  EXPECT_TRUE(ReadEverything("alice").empty());
}

TEST_P(MailstoreConformanceTest, BadCommitIndexesChangeNothing) {
  for (int i = 0; i < 2; ++i) DeliverOk("alice", Numbered(i));
  {
    auto session = Open("alice");
    ASSERT_NE(session, nullptr);
    const std::size_t out_of_range[] = {0, 7};
    EXPECT_FALSE(session->Commit(out_of_range).ok());
  }
  {
    auto session = Open("alice");  // the lock was released
    ASSERT_NE(session, nullptr);
    ASSERT_EQ(session->messages().size(), 2u);
    const std::size_t repeated[] = {1, 1};
    EXPECT_FALSE(session->Commit(repeated).ok());
  }
  EXPECT_EQ(ReadEverything("alice").size(), 2u);
}

TEST_P(MailstoreConformanceTest, MailDeliveredDuringSessionIsKept) {
  DeliverOk("alice", Numbered(0));
  DeliverOk("alice", Numbered(1));
  {
    auto session = Open("alice");
    ASSERT_NE(session, nullptr);
    ASSERT_EQ(session->messages().size(), 2u);
    DeliverOk("alice", Numbered(2));  // never waits for the session
    EXPECT_EQ(session->messages().size(), 2u);
    const std::size_t deleted[] = {0};
    ASSERT_TRUE(session->Commit(deleted).ok());
  }
  EXPECT_EQ(ReadEverything("alice"),
            (std::vector<std::string>{Crlf(Numbered(1)), Crlf(Numbered(2))}));
}

TEST_P(MailstoreConformanceTest, BadUserNamesAreRefusedAndCreateNothing) {
  const std::string bad_names[] = {"",       "../x",     "a/b",
                                   std::string("a\0b", 3), ".hidden",
                                   std::string(65, 'a'),   "-rf",
                                   "a b",    "..",       "/etc"};
  auto before = ListTempDir();
  for (const auto& user : bad_names) {
    SCOPED_TRACE("user '" + user + "'");
    EXPECT_EQ(Deliver(user, Numbered(1)).code(),
              absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(store_->OpenSession(user).status().code(),
              absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(store_->ReadUserNote(user, "last").status().code(),
              absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(store_->WriteUserNote(user, "last", "1").code(),
              absl::StatusCode::kInvalidArgument);
  }
  EXPECT_EQ(ListTempDir(), before);
  // The longest good name works.
  DeliverOk(std::string(64, 'a'), Numbered(1));
  EXPECT_EQ(ReadEverything(std::string(64, 'a')).size(), 1u);
}

TEST_P(MailstoreConformanceTest, UserNotesRoundTrip) {
  EXPECT_EQ(store_->ReadUserNote("alice", "last-bulletin").status().code(),
            absl::StatusCode::kNotFound);
  ASSERT_TRUE(store_->WriteUserNote("alice", "last-bulletin", "17").ok());
  EXPECT_EQ(*store_->ReadUserNote("alice", "last-bulletin"), "17");
  ASSERT_TRUE(store_->WriteUserNote("alice", "last-bulletin", "18").ok());
  EXPECT_EQ(*store_->ReadUserNote("alice", "last-bulletin"), "18");
  EXPECT_EQ(store_->ReadUserNote("bob", "last-bulletin").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->ReadUserNote("alice", "other").status().code(),
            absl::StatusCode::kNotFound);
  std::string big(4096, 'v');
  ASSERT_TRUE(store_->WriteUserNote("alice", "big_1", big).ok());
  EXPECT_EQ(*store_->ReadUserNote("alice", "big_1"), big);
  EXPECT_EQ(store_->WriteUserNote("alice", "big_1", big + "v").code(),
            absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(store_->WriteUserNote("alice", "empty", "").ok());
  EXPECT_EQ(*store_->ReadUserNote("alice", "empty"), "");
  // Notes do not show up as messages.
  EXPECT_TRUE(ReadEverything("alice").empty());
}

TEST_P(MailstoreConformanceTest, BadNoteKeysAreRefused) {
  const std::string bad_keys[] = {"",   "Upper", "a/b", "../x", "a.b",
                                  "a b", std::string(33, 'k'),
                                  std::string("a\0b", 3)};
  auto before = ListTempDir();
  for (const auto& key : bad_keys) {
    SCOPED_TRACE("key '" + key + "'");
    EXPECT_EQ(store_->WriteUserNote("alice", key, "x").code(),
              absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(store_->ReadUserNote("alice", key).status().code(),
              absl::StatusCode::kInvalidArgument);
  }
  EXPECT_EQ(ListTempDir(), before);
  EXPECT_TRUE(store_->WriteUserNote("alice", std::string(32, 'k'), "x").ok());
}

TEST_P(MailstoreConformanceTest, EightBitBytesAndLongLinesAreIntact) {
  std::string eight_bit = "Subject: bytes\n\n";
  for (int c = 1; c < 256; ++c) {
    if (c != '\n' && c != '\r') eight_bit.push_back(static_cast<char>(c));
  }
  eight_bit += "\n";
  std::string long_line = "Subject: long\n\n" + std::string(1 << 20, 'x') +
                          "\nshort\n" + std::string(70000, 'y') + "\n";
  DeliverOk("alice", eight_bit);
  DeliverOk("alice", long_line);
  auto session = Open("alice");
  ASSERT_NE(session, nullptr);
  ASSERT_EQ(session->messages().size(), 2u);
  EXPECT_EQ(ReadMessage(*session, 0), Crlf(eight_bit));
  std::string got = ReadMessage(*session, 1);
  EXPECT_EQ(got.size(), Crlf(long_line).size());
  EXPECT_TRUE(got == Crlf(long_line));  // no 1 MB diff on failure
  EXPECT_EQ(session->messages()[1].size, Crlf(long_line).size());
  EXPECT_TRUE(ReadTopOf(*session, 1, 1) ==
              Crlf("Subject: long\n\n" + std::string(1 << 20, 'x') + "\n"));
}

TEST_P(MailstoreConformanceTest, ReadingAfterCommitOrBadIndexFails) {
  DeliverOk("alice", Numbered(0));
  auto session = Open("alice");
  ASSERT_NE(session, nullptr);
  EXPECT_FALSE(session->Read(1).ok());
  EXPECT_FALSE(session->ReadTop(5, 0).ok());
  ASSERT_TRUE(session->Commit({}).ok());
  EXPECT_FALSE(session->Commit({}).ok());  // the session is finished
}

TEST_P(MailstoreConformanceTest, MaildropsOfUsersAreSeparate) {
  DeliverOk("alice", Numbered(1));
  DeliverOk("bob", Numbered(2));
  DeliverOk("Bob.Smith-2_x", Numbered(3));
  EXPECT_EQ(ReadEverything("alice"),
            std::vector<std::string>{Crlf(Numbered(1))});
  EXPECT_EQ(ReadEverything("bob"), std::vector<std::string>{Crlf(Numbered(2))});
  EXPECT_EQ(ReadEverything("Bob.Smith-2_x"),
            std::vector<std::string>{Crlf(Numbered(3))});
}

}  // namespace posthorn::store::testing
