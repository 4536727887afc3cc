// mta::BuildDsn, StatusFromReply, ShouldNotify: the notices are parsed back
// with posthorn's own MIME parser and their parts and fields checked.
#include "posthorn/mta/dsn.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "posthorn/message/header.h"
#include "posthorn/message/mime.h"

namespace posthorn::mta {
namespace {

const absl::Time kArrival = absl::FromCivil(
    absl::CivilSecond(2026, 11, 26, 9, 0, 45), absl::UTCTimeZone());

const std::string kOriginal =
    "Received: from client by example.org; Thu, 26 Nov 2026 09:00:45 +0000\r\n"
    "From: Alice <alice@example.org>\r\n"
    "To: bob@example.net, carol@example.com\r\n"
    "Subject: lunch?\r\n"
    "\r\n"
    "Shall we?\r\n"
    "..a line with dots stays as it is\r\n";

store::QueueEnvelope Envelope() {
  store::QueueEnvelope e;
  e.id = "0M4Y7B2K3Z00010A3X2C";
  e.sender = "alice@example.org";
  e.envid = "QQ+2B314";
  e.arrival = kArrival;
  store::QueuedRecipient bob;
  bob.address = "bob@example.net";
  bob.orcpt = "rfc822;Bob+2BTag@example.net";
  store::QueuedRecipient carol;
  carol.address = "carol@example.com";
  e.recipients = {bob, carol};
  return e;
}

DsnOptions Options() {
  DsnOptions o;
  o.hostname = "mail.example.org";
  o.now = kArrival + absl::Hours(5);
  return o;
}

DsnRecipient About(std::size_t index, DsnAction action, std::string reply,
                   std::string remote_mta = "") {
  DsnRecipient r;
  r.index = index;
  r.action = action;
  r.reply = std::move(reply);
  r.remote_mta = std::move(remote_mta);
  return r;
}

using Fields = std::vector<std::pair<std::string, std::string>>;

// The "Name: value" lines of one block of a delivery-status body.
std::vector<Fields> StatusBlocks(std::string_view body) {
  std::vector<Fields> blocks(1);
  while (!body.empty()) {
    std::size_t end = body.find("\r\n");
    std::string_view line = body.substr(0, end);
    body.remove_prefix(end == std::string_view::npos ? body.size() : end + 2);
    if (line.empty()) {
      if (!blocks.back().empty()) blocks.emplace_back();
      continue;
    }
    const std::size_t colon = line.find(':');
    EXPECT_NE(colon, std::string_view::npos) << line;
    if (colon == std::string_view::npos) continue;
    std::string_view value = line.substr(colon + 1);
    while (value.starts_with(' ')) value.remove_prefix(1);
    blocks.back().emplace_back(std::string(line.substr(0, colon)),
                               std::string(value));
  }
  if (blocks.back().empty()) blocks.pop_back();
  return blocks;
}

std::string Get(const Fields& fields, std::string_view name) {
  for (const auto& [n, v] : fields) {
    if (n == name) return v;
  }
  return "<absent>";
}

std::string Header(const message::MimePart& part, std::string_view name) {
  const message::HeaderField* f = part.headers.Find(name);
  return f == nullptr ? "<absent>" : f->Unfolded();
}

absl::StatusOr<std::string> Build(const store::QueueEnvelope& e,
                                  const std::vector<DsnRecipient>& about,
                                  const std::string& original,
                                  const DsnOptions& o) {
  store::StringReader reader(original);
  return BuildDsn(e, about, reader, o);
}

void ExpectCrlfOnly(std::string_view dsn) {
  for (std::size_t i = 0; i < dsn.size(); ++i) {
    if (dsn[i] == '\n') {
      ASSERT_TRUE(i > 0 && dsn[i - 1] == '\r') << "bare LF at " << i;
    }
    if (dsn[i] == '\r') {
      ASSERT_TRUE(i + 1 < dsn.size() && dsn[i + 1] == '\n')
          << "bare CR at " << i;
    }
  }
}

TEST(Dsn, BounceHasThreePartsAndTheReportFields) {
  std::vector<DsnRecipient> about(2);
  about[0] =
      About(0, DsnAction::kFailed, "550 5.1.1 <bob@example.net>: user unknown",
            "mx.example.net");
  about[1] = About(1, DsnAction::kFailed, "554 transaction failed");
  auto dsn = Build(Envelope(), about, kOriginal, Options());
  ASSERT_TRUE(dsn.ok()) << dsn.status();
  ExpectCrlfOnly(*dsn);

  auto msg = message::ParseMessage(*dsn);
  ASSERT_TRUE(msg.ok()) << msg.status();
  EXPECT_TRUE(msg->defects().empty());
  const message::MimePart& root = msg->root();
  EXPECT_EQ(Header(root, "From"),
            "Mail Delivery System <MAILER-DAEMON@mail.example.org>");
  EXPECT_EQ(Header(root, "To"), "<alice@example.org>");
  EXPECT_EQ(Header(root, "Subject"), "Undelivered Mail Returned to Sender");
  EXPECT_EQ(Header(root, "Auto-Submitted"), "auto-replied");
  EXPECT_EQ(Header(root, "Date"), "Thu, 26 Nov 2026 14:00:45 +0000");
  EXPECT_NE(Header(root, "Message-ID").find("@mail.example.org>"),
            std::string::npos);
  EXPECT_EQ(Header(root, "MIME-Version"), "1.0");
  ASSERT_TRUE(root.content_type.Is("multipart", "report"));
  const std::string* report_type =
      root.content_type.parameters.Find("report-type");
  ASSERT_NE(report_type, nullptr);
  EXPECT_EQ(*report_type, "delivery-status");
  ASSERT_EQ(root.children.size(), 3u);

  const message::MimePart& human = root.children[0];
  EXPECT_TRUE(human.content_type.Is("text", "plain"));
  EXPECT_NE(human.body.find("mail.example.org"), std::string::npos);
  EXPECT_NE(human.body.find("<bob@example.net>: failed: 550 5.1.1"),
            std::string::npos)
      << human.body;
  EXPECT_NE(human.body.find("(remote host mx.example.net)"), std::string::npos);

  const message::MimePart& report = root.children[1];
  EXPECT_TRUE(report.content_type.Is("message", "delivery-status"));
  auto blocks = StatusBlocks(report.body);
  ASSERT_EQ(blocks.size(), 3u) << report.body;
  EXPECT_EQ(Get(blocks[0], "Reporting-MTA"), "dns; mail.example.org");
  EXPECT_EQ(Get(blocks[0], "Original-Envelope-Id"), "QQ+314");
  EXPECT_EQ(Get(blocks[0], "Arrival-Date"), "Thu, 26 Nov 2026 09:00:45 +0000");
  EXPECT_EQ(Get(blocks[1], "Original-Recipient"),
            "rfc822; Bob+Tag@example.net");
  EXPECT_EQ(Get(blocks[1], "Final-Recipient"), "rfc822; bob@example.net");
  EXPECT_EQ(Get(blocks[1], "Action"), "failed");
  EXPECT_EQ(Get(blocks[1], "Status"), "5.1.1");
  EXPECT_EQ(Get(blocks[1], "Remote-MTA"), "dns; mx.example.net");
  EXPECT_EQ(Get(blocks[1], "Diagnostic-Code"),
            "smtp; 550 5.1.1 <bob@example.net>: user unknown");
  EXPECT_EQ(Get(blocks[1], "Will-Retry-Until"), "<absent>");
  EXPECT_EQ(Get(blocks[2], "Original-Recipient"), "<absent>");
  EXPECT_EQ(Get(blocks[2], "Final-Recipient"), "rfc822; carol@example.com");
  EXPECT_EQ(Get(blocks[2], "Status"), "5.0.0");
  EXPECT_EQ(Get(blocks[2], "Remote-MTA"), "<absent>");

  const message::MimePart& returned = root.children[2];
  EXPECT_TRUE(returned.content_type.Is("message", "rfc822"));
  EXPECT_EQ(returned.body, kOriginal);  // copied byte for byte
  ASSERT_EQ(returned.children.size(), 1u);
  EXPECT_EQ(Header(returned.children[0], "Subject"), "lunch?");
}

TEST(Dsn, RetHdrsReturnsTheHeaderSectionOnly) {
  auto e = Envelope();
  e.ret_headers_only = true;
  auto dsn = Build(e, {About(0, DsnAction::kFailed, "550 5.1.1 no")}, kOriginal,
                   Options());
  ASSERT_TRUE(dsn.ok()) << dsn.status();
  auto msg = message::ParseMessage(*dsn);
  ASSERT_TRUE(msg.ok());
  ASSERT_EQ(msg->root().children.size(), 3u);
  const message::MimePart& part = msg->root().children[2];
  EXPECT_TRUE(part.content_type.Is("text", "rfc822-headers"));
  EXPECT_EQ(part.body, kOriginal.substr(0, kOriginal.find("\r\n\r\n") + 2));
  EXPECT_EQ(dsn->find("Shall we?"), std::string::npos);
}

TEST(Dsn, LargeMessageReturnsHeadersOnly) {
  std::string big = kOriginal;
  for (int i = 0; i < 20000; ++i) big += "0123456789 filler line\r\n";
  auto o = Options();
  o.max_returned_bytes = 64 * 1024;
  auto dsn = Build(Envelope(),
                   {About(1, DsnAction::kFailed, "552 5.3.4 too big")}, big, o);
  ASSERT_TRUE(dsn.ok()) << dsn.status();
  EXPECT_LT(dsn->size(), 8192u);
  auto msg = message::ParseMessage(*dsn);
  ASSERT_TRUE(msg.ok());
  ASSERT_EQ(msg->root().children.size(), 3u);
  EXPECT_TRUE(
      msg->root().children[2].content_type.Is("text", "rfc822-headers"));
  EXPECT_EQ(msg->root().children[2].body,
            kOriginal.substr(0, kOriginal.find("\r\n\r\n") + 2));

  // The same message under the limit is returned whole.
  o.max_returned_bytes = big.size();
  dsn = Build(Envelope(), {About(1, DsnAction::kFailed, "552 5.3.4 too big")},
              big, o);
  ASSERT_TRUE(dsn.ok());
  msg = message::ParseMessage(*dsn);
  ASSERT_TRUE(msg.ok());
  EXPECT_EQ(msg->root().children[2].body, big);
}

TEST(Dsn, DelayNotice) {
  auto o = Options();
  o.retry_until = kArrival + absl::Hours(24 * 5);
  auto dsn = Build(
      Envelope(),
      {About(0, DsnAction::kDelayed,
             "451 4.4.1 connect to [192.0.2.1]:25: refused", "192.0.2.1")},
      kOriginal, o);
  ASSERT_TRUE(dsn.ok());
  auto msg = message::ParseMessage(*dsn);
  ASSERT_TRUE(msg.ok());
  EXPECT_EQ(Header(msg->root(), "Subject"),
            "Delayed Mail (still being retried)");
  auto blocks = StatusBlocks(msg->root().children[1].body);
  ASSERT_EQ(blocks.size(), 2u);
  EXPECT_EQ(Get(blocks[1], "Action"), "delayed");
  EXPECT_EQ(Get(blocks[1], "Status"), "4.4.1");
  EXPECT_EQ(Get(blocks[1], "Will-Retry-Until"),
            "Tue, 1 Dec 2026 09:00:45 +0000");
  EXPECT_NE(msg->root().children[0].body.find("Tue, 1 Dec 2026"),
            std::string::npos);
}

TEST(Dsn, SuccessNoticeAndMixedActions) {
  auto dsn = Build(
      Envelope(),
      {About(1, DsnAction::kDelivered, "250 2.0.0 delivered to maildrop")},
      kOriginal, Options());
  ASSERT_TRUE(dsn.ok());
  auto msg = message::ParseMessage(*dsn);
  ASSERT_TRUE(msg.ok());
  EXPECT_EQ(Header(msg->root(), "Subject"), "Successful Mail Delivery Report");
  auto blocks = StatusBlocks(msg->root().children[1].body);
  ASSERT_EQ(blocks.size(), 2u);
  EXPECT_EQ(Get(blocks[1], "Action"), "delivered");
  EXPECT_EQ(Get(blocks[1], "Status"), "2.0.0");

  dsn = Build(Envelope(),
              {About(1, DsnAction::kDelivered, "250 ok"),
               About(0, DsnAction::kFailed, "")},
              kOriginal, Options());
  ASSERT_TRUE(dsn.ok());
  msg = message::ParseMessage(*dsn);
  ASSERT_TRUE(msg.ok());
  EXPECT_EQ(Header(msg->root(), "Subject"),
            "Undelivered Mail Returned to Sender");
  blocks = StatusBlocks(msg->root().children[1].body);
  ASSERT_EQ(blocks.size(), 3u);
  EXPECT_EQ(Get(blocks[2], "Status"), "5.0.0");  // no reply: from the action
  EXPECT_EQ(Get(blocks[2], "Diagnostic-Code"), "<absent>");
}

TEST(Dsn, BoundaryNeverOccursInTheOriginal) {
  // An original that quotes boundaries of earlier notices.
  std::string original = "Subject: fwd\r\n\r\n";
  for (int i = 0; i < 50; ++i) {
    original += "--=_posthorn_" + std::to_string(i) + "\r\n";
  }
  auto dsn = Build(Envelope(), {About(0, DsnAction::kFailed, "550 5.1.1 no")},
                   original, Options());
  ASSERT_TRUE(dsn.ok());
  auto msg = message::ParseMessage(*dsn);
  ASSERT_TRUE(msg.ok());
  ASSERT_EQ(msg->root().children.size(), 3u);
  const std::string* boundary =
      msg->root().content_type.parameters.Find("boundary");
  ASSERT_NE(boundary, nullptr);
  EXPECT_EQ(original.find(*boundary), std::string::npos);
  EXPECT_EQ(msg->root().children[2].body, original);
}

TEST(Dsn, EightBitOriginalIsCopiedAndLabelled) {
  const std::string original =
      "Subject: =?utf-8?q?gr=C3=BC=C3=9Fe?=\r\n\r\nGr\xc3\xbc\xc3\x9f"
      "e aus K\xc3\xb6ln\r\nlast line without end";
  auto dsn = Build(Envelope(), {About(0, DsnAction::kFailed, "550 5.1.1 no")},
                   original, Options());
  ASSERT_TRUE(dsn.ok());
  auto msg = message::ParseMessage(*dsn);
  ASSERT_TRUE(msg.ok());
  EXPECT_EQ(msg->root().encoding, message::TransferEncoding::k8Bit);
  const message::MimePart& part = msg->root().children[2];
  EXPECT_EQ(part.encoding, message::TransferEncoding::k8Bit);
  EXPECT_EQ(part.body, original);
}

TEST(Dsn, NoHeaderSeparatorInHeadersOnlyMode) {
  auto e = Envelope();
  e.ret_headers_only = true;
  const std::string original = "Subject: only headers\r\nX-A: b\r\n";
  auto dsn =
      Build(e, {About(0, DsnAction::kFailed, "550 no")}, original, Options());
  ASSERT_TRUE(dsn.ok());
  auto msg = message::ParseMessage(*dsn);
  ASSERT_TRUE(msg.ok());
  EXPECT_EQ(msg->root().children[2].body, original);
}

TEST(Dsn, ReplyTextCannotBreakTheReport) {
  auto dsn = Build(Envelope(),
                   {About(0, DsnAction::kFailed,
                          "550-5.7.1 first line\r\n550 5.7.1 Status: 2.0.0",
                          "mx\r\nX-Injected: yes")},
                   kOriginal, Options());
  ASSERT_TRUE(dsn.ok());
  ExpectCrlfOnly(*dsn);
  auto msg = message::ParseMessage(*dsn);
  ASSERT_TRUE(msg.ok());
  auto blocks = StatusBlocks(msg->root().children[1].body);
  ASSERT_EQ(blocks.size(), 2u);
  EXPECT_EQ(Get(blocks[1], "Status"), "5.7.1");
  EXPECT_EQ(Get(blocks[1], "X-Injected"), "<absent>");
}

TEST(Dsn, Errors) {
  store::StringReader reader(kOriginal);
  EXPECT_EQ(BuildDsn(Envelope(), {}, reader, Options()).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(BuildDsn(Envelope(), {About(2, DsnAction::kFailed, "")}, reader,
                     Options())
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);

  class Broken : public store::MessageReader {
   public:
    absl::StatusOr<std::size_t> Read(std::span<char>) override {
      return absl::DataLossError("disk gone");
    }
  } broken;
  EXPECT_EQ(BuildDsn(Envelope(), {About(0, DsnAction::kFailed, "")}, broken,
                     Options())
                .status()
                .code(),
            absl::StatusCode::kDataLoss);
}

TEST(StatusFromReply, Forms) {
  EXPECT_EQ(StatusFromReply("550 5.1.1 user unknown"), "5.1.1");
  EXPECT_EQ(StatusFromReply("550-5.1.1 first\r\n550 5.1.1 second"), "5.1.1");
  EXPECT_EQ(StatusFromReply("452 4.2.2 mailbox full"), "4.2.2");
  EXPECT_EQ(StatusFromReply("250 2.0.0 Ok"), "2.0.0");
  EXPECT_EQ(StatusFromReply("554 transaction failed"), "5.0.0");
  EXPECT_EQ(StatusFromReply("421"), "4.0.0");
  EXPECT_EQ(StatusFromReply("250 ok"), "2.0.0");
  // An enhanced code of another class than the reply is not believed.
  EXPECT_EQ(StatusFromReply("550 2.0.0 odd"), "5.0.0");
  EXPECT_EQ(StatusFromReply("550 5.1.1234 bad"), "5.0.0");
  EXPECT_EQ(StatusFromReply("mailbox is full"), "");
  EXPECT_EQ(StatusFromReply(""), "");
  EXPECT_EQ(StatusFromReply("354 go ahead"), "");
}

TEST(ShouldNotify, NeverTheNullSender) {
  store::QueueEnvelope e;
  e.sender = "";
  EXPECT_FALSE(ShouldNotify(e));
  e.sender = "<>";
  EXPECT_FALSE(ShouldNotify(e));
  e.sender = "alice@example.org";
  EXPECT_TRUE(ShouldNotify(e));
}

}  // namespace
}  // namespace posthorn::mta
