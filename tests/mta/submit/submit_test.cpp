// mta::Submission into a real file queue (fsync off) in a temporary folder:
// cron and git send-email style input, -t and Bcc, the lone dot, byte-exact
// CRLF input, every split of the input, limits and errors (nothing queued).
#include "posthorn/mta/submit.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <string>
#include <vector>

#include "posthorn/store/message_reader.h"
#include "posthorn/store/queue.h"

namespace posthorn::mta {
namespace {

const absl::Time kNow = absl::FromCivil(
    absl::CivilSecond(2026, 11, 26, 9, 0, 45), absl::UTCTimeZone());
constexpr char kDate[] = "Thu, 26 Nov 2026 09:00:45 +0000";

class SubmitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* tmp = getenv("TMPDIR");
    std::string pattern =
        std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") +
        "/submit_test.XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    auto queue = store::MakeFileQueue({.dir = dir_ + "/q", .fsync = false});
    ASSERT_TRUE(queue.ok()) << queue.status();
    queue_ = std::move(*queue);
  }
  void TearDown() override {
    queue_.reset();
    std::filesystem::remove_all(dir_);
  }

  SubmitOptions Options() const {
    SubmitOptions o;
    o.hostname = "box.example.org";
    o.login_name = "root";
    o.now = kNow;
    return o;
  }

  struct Result {
    absl::StatusOr<std::string> id = absl::UnknownError("not run");
    absl::Status feed;
    std::string data;  // the queued bytes, the queue id replaced by "QID"
    store::QueueEnvelope envelope;
  };

  // Submits `input` cut at `cuts`; reads the queued message back.
  Result Submit(const SubmitOptions& o, std::string_view input,
                const std::vector<std::size_t>& cuts = {}) {
    Result r;
    Submission sub(o, queue_.get());
    std::size_t at = 0;
    for (std::size_t cut : cuts) {
      r.feed = sub.Feed(input.substr(at, cut - at));
      if (!r.feed.ok()) break;
      at = cut;
    }
    if (r.feed.ok()) r.feed = sub.Feed(input.substr(at));
    r.id = sub.Finish();
    if (!r.id.ok()) return r;
    r.envelope = sub.envelope();
    auto lease = queue_->Lease(*r.id);
    EXPECT_TRUE(lease.ok()) << lease.status();
    if (!lease.ok()) return r;
    auto reader = (*lease)->OpenData();
    EXPECT_TRUE(reader.ok());
    auto data = store::ReadAll(**reader);
    EXPECT_TRUE(data.ok());
    r.data = *data;
    for (std::size_t p; (p = r.data.find(*r.id)) != std::string::npos;) {
      r.data.replace(p, r.id->size(), "QID");
    }
    EXPECT_EQ(r.envelope.size, data->size());
    return r;
  }

  // Whole, then split at every offset (or every `stride`th): same bytes.
  Result SubmitAllSplits(const SubmitOptions& o, std::string_view input,
                         std::size_t stride = 1) {
    Result whole = Submit(o, input);
    for (std::size_t cut = 0; cut <= input.size(); cut += stride) {
      Result split = Submit(o, input, {cut});
      EXPECT_EQ(split.data, whole.data) << "split at " << cut;
      EXPECT_EQ(split.id.ok(), whole.id.ok()) << "split at " << cut;
      if (split.data != whole.data) break;
    }
    std::vector<std::size_t> every;
    for (std::size_t i = 1; i < input.size() && input.size() < 2048; ++i) {
      every.push_back(i);
    }
    EXPECT_EQ(Submit(o, input, every).data, whole.data) << "byte by byte";
    return whole;
  }

  std::size_t Queued() {
    auto list = queue_->List();
    EXPECT_TRUE(list.ok());
    return list.ok() ? list->size() : 0;
  }

  std::string Received() const {
    return std::string(
               "Received: (from root@localhost)\r\n\tby box.example.org "
               "(posthorn) id QID; ") +
           kDate + "\r\n";
  }

  std::string dir_;
  std::unique_ptr<store::Queue> queue_;
};

TEST_F(SubmitTest, CronMessage) {
  auto o = Options();
  o.recipients = {"root"};
  Result r = SubmitAllSplits(
      o,
      "Subject: Cron <root@box> run-parts /etc/cron.daily\n"
      "To: root\n"
      "Content-Type: text/plain; charset=UTF-8\n"
      "\n"
      "/etc/cron.daily/logrotate:\n"
      "error: skipping\n");
  ASSERT_TRUE(r.id.ok()) << r.id.status();
  EXPECT_EQ(r.data, Received() +
                        "Subject: Cron <root@box> run-parts /etc/cron.daily\r\n"
                        "To: root\r\n"
                        "Content-Type: text/plain; charset=UTF-8\r\n"
                        "Date: " +
                        kDate +
                        "\r\n"
                        "Message-ID: <20261126090045.QID@box.example.org>\r\n"
                        "From: <root@box.example.org>\r\n"
                        "\r\n"
                        "/etc/cron.daily/logrotate:\r\n"
                        "error: skipping\r\n");
  EXPECT_EQ(r.envelope.sender, "root@box.example.org");
  ASSERT_EQ(r.envelope.recipients.size(), 1u);
  EXPECT_EQ(r.envelope.recipients[0].address, "root");  // stays local
  EXPECT_EQ(r.envelope.arrival, kNow);
  EXPECT_EQ(r.envelope.id, *r.id);
}

TEST_F(SubmitTest, GitSendEmailStyle) {
  auto o = Options();
  o.login_name = "alice";
  o.sender = "alice@example.org";
  o.extract_recipients = true;
  o.ignore_dots = true;
  const std::string header =
      "From: Alice <alice@example.org>\n"
      "To: Bob <bob@example.net>\n"
      "Cc: \"Carol, Dev\" <carol@example.com>,\n"
      " list@lists.example.org\n"
      "Subject: [PATCH 1/2] fix\n"
      "Date: Thu, 26 Nov 2026 10:00:00 +0100\n"
      "Message-ID: <20261126090000.1-alice@example.org>\n"
      "X-Mailer: git-send-email 2.39.2\n"
      "MIME-Version: 1.0\n"
      "Content-Transfer-Encoding: 8bit\n"
      "\n";
  const std::string body = "---\n.\n..\n";
  Result r = SubmitAllSplits(o, header + body);
  ASSERT_TRUE(r.id.ok()) << r.id.status();
  std::string expected =
      "Received: (from alice@localhost)\r\n\tby box.example.org (posthorn) id "
      "QID; " +
      std::string(kDate) + "\r\n";
  for (char c : header + body) {
    if (c == '\n') expected += '\r';
    expected += c;
  }
  EXPECT_EQ(r.data, expected);  // nothing added, nothing duplicated
  std::vector<std::string> rcpts;
  for (const auto& q : r.envelope.recipients) rcpts.push_back(q.address);
  EXPECT_EQ(rcpts, (std::vector<std::string>{"bob@example.net",
                                             "carol@example.com",
                                             "list@lists.example.org"}));
  EXPECT_EQ(r.envelope.sender, "alice@example.org");
}

TEST_F(SubmitTest, ExtractRecipientsRemovesBccAndAddsArguments) {
  auto o = Options();
  o.extract_recipients = true;
  o.recipients = {"extra@example.net", "bob@example.net"};
  Result r = SubmitAllSplits(o,
                             "To: bob@example.net\n"
                             "Bcc: hidden@example.com,\n"
                             "\tfriends: x@example.com, y@example.com;\n"
                             "Subject: hi\n"
                             "\n"
                             "Bcc: this is the body\n");
  ASSERT_TRUE(r.id.ok()) << r.id.status();
  EXPECT_EQ(r.data.find("hidden"), std::string::npos);
  EXPECT_EQ(r.data.find("x@example.com"), std::string::npos);
  EXPECT_NE(r.data.find("\r\n\r\nBcc: this is the body\r\n"),
            std::string::npos);
  std::vector<std::string> rcpts;
  for (const auto& q : r.envelope.recipients) rcpts.push_back(q.address);
  EXPECT_EQ(rcpts,
            (std::vector<std::string>{"extra@example.net", "bob@example.net",
                                      "hidden@example.com", "x@example.com",
                                      "y@example.com"}));
}

TEST_F(SubmitTest, BccKeptWithoutExtraction) {
  auto o = Options();
  o.recipients = {"bob@example.net"};
  Result r = Submit(o, "Bcc: carol@example.com\n\nhi\n");
  ASSERT_TRUE(r.id.ok());
  EXPECT_NE(r.data.find("Bcc: carol@example.com\r\n"), std::string::npos);
  ASSERT_EQ(r.envelope.recipients.size(), 1u);
}

TEST_F(SubmitTest, LoneDotEndsInputWithoutDashI) {
  auto o = Options();
  o.recipients = {"bob@example.net"};
  const std::string in =
      "Date: x\nMessage-ID: <a@b>\nFrom: a@b\n\n"
      "one\n..two\n.three\n. \n.\nignored\n";
  Result r = SubmitAllSplits(o, in);
  ASSERT_TRUE(r.id.ok());
  EXPECT_EQ(r.data, Received() +
                        "Date: x\r\nMessage-ID: <a@b>\r\nFrom: a@b\r\n\r\n"
                        "one\r\n..two\r\n.three\r\n. \r\n");
  // CRLF dot line, and the dot as the unended last line.
  EXPECT_EQ(SubmitAllSplits(o, "Date: x\r\nMessage-ID: <a@b>\r\nFrom: a@b\r\n"
                               "\r\nbody\r\n.\r\nignored")
                .data,
            Received() + "Date: x\r\nMessage-ID: <a@b>\r\nFrom: a@b\r\n\r\n"
                         "body\r\n");
  EXPECT_EQ(
      SubmitAllSplits(o, "Date: x\nMessage-ID: <a@b>\nFrom: a@b\n\nbody\n.")
          .data,
      Received() + "Date: x\r\nMessage-ID: <a@b>\r\nFrom: a@b\r\n\r\nbody\r\n");
  // A dot line in the header section ends the message there.
  Result early = SubmitAllSplits(o, "Subject: x\n.\nTo: late\n");
  ASSERT_TRUE(early.id.ok());
  EXPECT_EQ(early.data.find("late"), std::string::npos);
  EXPECT_NE(early.data.find("Subject: x\r\nDate: "), std::string::npos);
}

TEST_F(SubmitTest, LoneDotIsDataWithDashI) {
  auto o = Options();
  o.recipients = {"bob@example.net"};
  o.ignore_dots = true;
  Result r = SubmitAllSplits(o,
                             "Date: x\nMessage-ID: <a@b>\nFrom: a@b\n\n"
                             "one\n.\n..\nlast\n");
  ASSERT_TRUE(r.id.ok());
  EXPECT_EQ(r.data, Received() +
                        "Date: x\r\nMessage-ID: <a@b>\r\nFrom: a@b\r\n\r\n"
                        "one\r\n.\r\n..\r\nlast\r\n");
}

TEST_F(SubmitTest, CrlfInputKeptByteExact) {
  auto o = Options();
  o.recipients = {"bob@example.net"};
  const std::string in =
      "From: Alice <alice@example.org>\r\n"
      "To: bob@example.net\r\n"
      "Date: Thu, 26 Nov 2026 10:00:00 +0100\r\n"
      "Message-Id: <1@example.org>\r\n"
      "\r\n"
      "a bare\rCR stays, tabs\tand 8-bit \xc3\xa4 too\r\n"
      "\r\n"
      "last line without end";
  Result r = SubmitAllSplits(o, in);
  ASSERT_TRUE(r.id.ok());
  EXPECT_EQ(r.data, Received() + in + "\r\n");
}

TEST_F(SubmitTest, HeaderOnlyMessageAndEmptyInput) {
  auto o = Options();
  o.recipients = {"bob@example.net"};
  Result r = SubmitAllSplits(o, "Subject: only a header\n");
  ASSERT_TRUE(r.id.ok());
  EXPECT_EQ(r.data, Received() + "Subject: only a header\r\nDate: " + kDate +
                        "\r\nMessage-ID: <20261126090045.QID@box.example.org>"
                        "\r\nFrom: <root@box.example.org>\r\n");
  Result empty = Submit(o, "");
  ASSERT_TRUE(empty.id.ok());
  EXPECT_EQ(empty.data, Received() + "Date: " + kDate +
                            "\r\nMessage-ID: "
                            "<20261126090045.QID@box.example.org>\r\n"
                            "From: <root@box.example.org>\r\n");
}

TEST_F(SubmitTest, SendersAndFullName) {
  auto o = Options();
  o.recipients = {"bob@example.net"};
  o.sender = "<>";
  Result r = Submit(o, "Subject: x\n\n");
  ASSERT_TRUE(r.id.ok());
  EXPECT_EQ(r.envelope.sender, "");
  EXPECT_NE(r.data.find("From: <MAILER-DAEMON@box.example.org>\r\n"),
            std::string::npos);

  o.sender = "daemon";
  o.full_name = "Backup Daemon";
  r = Submit(o, "Subject: x\n\n");
  ASSERT_TRUE(r.id.ok());
  EXPECT_EQ(r.envelope.sender, "daemon@box.example.org");
  EXPECT_NE(r.data.find("From: Backup Daemon <daemon@box.example.org>\r\n"),
            std::string::npos);

  o.sender = "<carol@example.com>";
  r = Submit(o, "Subject: x\n\n");
  ASSERT_TRUE(r.id.ok());
  EXPECT_EQ(r.envelope.sender, "carol@example.com");

  o.sender = "bad sender\r\nX: y";
  Submission bad(o, queue_.get());
  EXPECT_EQ(bad.Feed("x").code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(SubmitTest, RecipientErrors) {
  auto o = Options();
  {
    Submission sub(o, queue_.get());
    absl::Status s = sub.Feed("Subject: x\n\n");
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(s.message(), "no recipient addresses");
    EXPECT_EQ(sub.Finish().status(), s);
  }
  o.extract_recipients = true;
  Result none = Submit(o, "Subject: no To here\n\nbody\n");
  EXPECT_EQ(none.id.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(none.id.status().message(), "no recipient addresses");

  o.extract_recipients = false;
  for (const char* bad : {"not an address", "a@", "@example.org", "a@b@c",
                          "x\n@example.org", "<>"}) {
    o.recipients = {"ok@example.org", bad};
    Result r = Submit(o, "Subject: x\n\n");
    EXPECT_EQ(r.id.status().code(), absl::StatusCode::kInvalidArgument)
        << bad;
    EXPECT_NE(r.id.status().message().find("not a valid recipient"),
              std::string::npos);
  }
  o.recipients = {"Bob Smith <bob@example.net>", "BOB@example.net",
                  "carol@[192.0.2.1]"};
  Result ok = Submit(o, "Subject: x\n\n");
  ASSERT_TRUE(ok.id.ok()) << ok.id.status();
  ASSERT_EQ(ok.envelope.recipients.size(), 2u);
  EXPECT_EQ(ok.envelope.recipients[0].address, "bob@example.net");
  EXPECT_EQ(ok.envelope.recipients[1].address, "carol@[192.0.2.1]");
  EXPECT_EQ(Queued(), 1u);  // only the last one
}

TEST_F(SubmitTest, RecipientLimit) {
  auto o = Options();
  o.recipient_limit = 2;
  o.recipients = {"a@example.org", "b@example.org", "c@example.org"};
  EXPECT_EQ(Submit(o, "\n").id.status().code(),
            absl::StatusCode::kResourceExhausted);
  o.recipients = {"a@example.org"};
  o.extract_recipients = true;
  EXPECT_EQ(Submit(o, "To: b@example.org, c@example.org\n\n").id.status().code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(Queued(), 0u);
}

TEST_F(SubmitTest, SizeLimitQueuesNothing) {
  auto o = Options();
  o.recipients = {"bob@example.net"};
  o.message_size_limit = 4096;
  std::string body;
  for (int i = 0; i < 200; ++i) body += "0123456789012345678901234567890\n";
  Submission sub(o, queue_.get());
  absl::Status s = sub.Feed("Subject: big\n\n");
  EXPECT_TRUE(s.ok());
  for (int i = 0; i < 10 && s.ok(); ++i) s = sub.Feed(body);
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(sub.Feed("more").code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(sub.Finish().status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(Queued(), 0u);

  // Just under the limit is fine.
  o.message_size_limit = 100000;
  Result r = Submit(o, "Subject: big\n\n" + body);
  EXPECT_TRUE(r.id.ok()) << r.id.status();
  EXPECT_EQ(Queued(), 1u);
}

TEST_F(SubmitTest, HugeHeaderSectionIsRefused) {
  auto o = Options();
  o.recipients = {"bob@example.net"};
  o.message_size_limit = 0;  // none: the header bound still holds
  Submission sub(o, queue_.get());
  absl::Status s;
  const std::string field = "X-Filler: " + std::string(1000, 'x') + "\n";
  for (int i = 0; i < 2000 && s.ok(); ++i) s = sub.Feed(field);
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_FALSE(sub.Finish().ok());
  EXPECT_EQ(Queued(), 0u);
}

TEST_F(SubmitTest, WithoutFinishNothingIsQueued) {
  auto o = Options();
  o.recipients = {"bob@example.net"};
  {
    Submission sub(o, queue_.get());
    ASSERT_TRUE(sub.Feed("Subject: x\n\nbody started\n").ok());
  }
  EXPECT_EQ(Queued(), 0u);
  std::error_code ec;
  std::size_t leftovers = 0;
  for (const auto& e :
       std::filesystem::directory_iterator(dir_ + "/q/tmp", ec)) {
    (void)e;
    ++leftovers;
  }
  EXPECT_EQ(leftovers, 0u);
}

TEST_F(SubmitTest, LongBodyStreamsInChunks) {
  auto o = Options();
  o.recipients = {"bob@example.net"};
  o.message_size_limit = 0;
  std::string in = "Subject: long\n\n";
  for (int i = 0; i < 40000; ++i) in += "line " + std::to_string(i) + "\n";
  Result r = SubmitAllSplits(o, in, 99991);
  ASSERT_TRUE(r.id.ok());
  EXPECT_NE(r.data.find("\r\nline 39999\r\n"), std::string::npos);
  EXPECT_EQ(r.data.find("\n\n"), std::string::npos);
}

// -V, -R, -N: ENVID and RET on the envelope, NOTIFY on every recipient
// (command line and -t), as the queue stores them.
TEST_F(SubmitTest, DsnFieldsAreQueued) {
  auto o = Options();
  o.recipients = {"root", "bob@example.net"};
  o.extract_recipients = true;
  o.envid = "cron-1234";
  o.ret_headers_only = true;
  o.notify_success = true;
  o.notify_failure = true;
  o.notify_delay = false;
  Result r = Submit(o, "To: carol@example.com\n\nbody\n");
  ASSERT_TRUE(r.id.ok()) << r.id.status();
  auto lease = queue_->Lease(*r.id);
  ASSERT_TRUE(lease.ok()) << lease.status();
  const store::QueueEnvelope& e = (*lease)->envelope();
  EXPECT_EQ(e.envid, "cron-1234");
  EXPECT_TRUE(e.ret_headers_only);
  ASSERT_EQ(e.recipients.size(), 3u);
  for (const store::QueuedRecipient& rcpt : e.recipients) {
    EXPECT_TRUE(rcpt.notify_success) << rcpt.address;
    EXPECT_TRUE(rcpt.notify_failure) << rcpt.address;
    EXPECT_FALSE(rcpt.notify_delay) << rcpt.address;
  }
}

// Without -N/-R/-V: what NOTIFY and RET absent mean (RFC 3461).
TEST_F(SubmitTest, DsnDefaults) {
  auto o = Options();
  o.recipients = {"root"};
  Result r = Submit(o, "Subject: x\n\nbody\n");
  ASSERT_TRUE(r.id.ok()) << r.id.status();
  auto lease = queue_->Lease(*r.id);
  ASSERT_TRUE(lease.ok()) << lease.status();
  const store::QueueEnvelope& e = (*lease)->envelope();
  EXPECT_EQ(e.envid, "");
  EXPECT_FALSE(e.ret_headers_only);
  ASSERT_EQ(e.recipients.size(), 1u);
  EXPECT_FALSE(e.recipients[0].notify_success);
  EXPECT_TRUE(e.recipients[0].notify_failure);
  EXPECT_TRUE(e.recipients[0].notify_delay);
}

TEST(ParseSubmissionRecipientTest, MailboxesAndLocalNames) {
  EXPECT_EQ(ParseSubmissionRecipient("alice"), "alice");
  EXPECT_EQ(ParseSubmissionRecipient(" bob@example.net "), "bob@example.net");
  EXPECT_EQ(ParseSubmissionRecipient("Bob <bob@example.net>"),
            "bob@example.net");
  EXPECT_EQ(ParseSubmissionRecipient("first.last@a.test"), "first.last@a.test");
  for (const char* bad : {"a@b@a.test", "a b@a.test", "@a.test", "a@", "",
                          "a..b", ".a", "<>", "a@b\n", "Bob <>"}) {
    EXPECT_EQ(ParseSubmissionRecipient(bad), std::nullopt) << bad;
  }
}

TEST_F(SubmitTest, MalformedCommandLineRecipientQueuesNothing) {
  for (const char* bad : {"a@b@a.test", "a b@a.test", "@a.test", "a@"}) {
    auto o = Options();
    o.recipients = {"root", bad};
    Result r = Submit(o, "Subject: x\n\nbody\n");
    EXPECT_TRUE(absl::IsInvalidArgument(r.id.status())) << bad;
  }
  EXPECT_EQ(Queued(), 0u);
}

}  // namespace
}  // namespace posthorn::mta
