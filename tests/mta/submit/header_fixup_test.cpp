// mta::HeaderFixup: added fields, Bcc removal, recipient collection, limits;
// every input is also fed split at every byte offset and byte by byte.
#include "posthorn/mta/header_fixup.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace posthorn::mta {
namespace {

const absl::Time kNow = absl::FromCivil(
    absl::CivilSecond(2026, 11, 26, 9, 0, 45), absl::UTCTimeZone());
constexpr char kDate[] = "Date: Thu, 26 Nov 2026 09:00:45 +0000\r\n";
constexpr char kMessageId[] =
    "Message-ID: <20261126090045.0M4Y7B2K3Z00010A3X2C@example.org>\r\n";

HeaderFixupOptions Options() {
  HeaderFixupOptions o;
  o.hostname = "example.org";
  o.queue_id = "0M4Y7B2K3Z00010A3X2C";
  o.sender = "alice@example.org";
  o.now = kNow;
  return o;
}

struct Result {
  std::string out;
  std::vector<std::string> recipients;
  std::size_t received = 0;
  bool done = false;
};

// Feeds `input` in pieces cut at `cuts` (ascending offsets).
Result Feed(const HeaderFixupOptions& o, std::string_view input,
            const std::vector<std::size_t>& cuts) {
  HeaderFixup fixup(o);
  Result r;
  std::size_t at = 0;
  for (std::size_t cut : cuts) {
    r.out += fixup.Feed(input.substr(at, cut - at));
    at = cut;
  }
  r.out += fixup.Feed(input.substr(at));
  r.out += fixup.Finish();
  r.recipients = fixup.recipients();
  r.received = fixup.received_count();
  r.done = fixup.header_done();
  return r;
}

// The whole input at once, then checks that every split (or every
// `stride`th for long inputs) and byte-by-byte feeding give the same.
Result RunAllSplits(const HeaderFixupOptions& o, std::string_view input,
                    std::size_t stride = 1) {
  Result whole = Feed(o, input, {});
  for (std::size_t cut = 0; cut <= input.size(); cut += stride) {
    Result split = Feed(o, input, {cut});
    EXPECT_EQ(split.out, whole.out) << "split at " << cut;
    EXPECT_EQ(split.recipients, whole.recipients) << "split at " << cut;
    EXPECT_EQ(split.received, whole.received) << "split at " << cut;
    if (split.out != whole.out) break;  // one report is enough
  }
  if (input.size() < 4096) {
    std::vector<std::size_t> every;
    for (std::size_t i = 1; i < input.size(); ++i) every.push_back(i);
    EXPECT_EQ(Feed(o, input, every).out, whole.out) << "byte by byte";
  }
  EXPECT_TRUE(whole.done);
  return whole;
}

TEST(HeaderFixup, CronMessageGetsDateMessageIdFrom) {
  auto o = Options();
  o.sender = "root";
  const std::string in =
      "Subject: Cron <root@box> run-parts /etc/cron.daily\r\n"
      "To: root\r\n"
      "\r\n"
      "Date: in the body is not a field\r\n";
  Result r = RunAllSplits(o, in);
  EXPECT_EQ(r.out,
            std::string("Subject: Cron <root@box> run-parts /etc/cron.daily\r\n"
                        "To: root\r\n") +
                kDate + kMessageId + "From: <root@example.org>\r\n\r\n" +
                "Date: in the body is not a field\r\n");
}

TEST(HeaderFixup, PresentFieldsAreNotAddedAgainWhateverTheirCase) {
  const std::string in =
      "DATE: Wed, 25 Nov 2026 10:00:00 +0100\r\n"
      "message-id: <x@y>\r\n"
      "from : Bob <bob@example.net>\r\n"
      "\r\n"
      "body\r\n";
  EXPECT_EQ(RunAllSplits(Options(), in).out, in);
}

TEST(HeaderFixup, FromWithFullNameNullSenderAndBareLogin) {
  auto o = Options();
  o.full_name = "Alice Example";
  EXPECT_EQ(Feed(o, "Date: x\r\nMessage-ID: <a@b>\r\n\r\n", {}).out,
            "Date: x\r\nMessage-ID: <a@b>\r\n"
            "From: Alice Example <alice@example.org>\r\n\r\n");
  o.full_name = "";
  o.sender = "";
  EXPECT_EQ(Feed(o, "Date: x\r\nMessage-ID: <a@b>\r\n\r\n", {}).out,
            "Date: x\r\nMessage-ID: <a@b>\r\n"
            "From: <MAILER-DAEMON@example.org>\r\n\r\n");
  o.sender = "cron";
  o.full_name = "Cron Daemon\r\nBcc: evil@example.com";  // no injection
  const std::string out =
      Feed(o, "Date: x\r\nMessage-ID: <a@b>\r\n\r\n", {}).out;
  EXPECT_EQ(out.find("\r\nBcc"), std::string::npos) << out;
  EXPECT_NE(out.find("<cron@example.org>\r\n\r\n"), std::string::npos) << out;
}

TEST(HeaderFixup, AddMissingOffPassesEverything) {
  auto o = Options();
  o.add_missing = false;
  const std::string in = "Subject: x\r\n\r\nbody";
  EXPECT_EQ(RunAllSplits(o, in).out, in);
  EXPECT_EQ(RunAllSplits(o, "Subject: x").out, "Subject: x");
}

TEST(HeaderFixup, NoHeaderAtAll) {
  const std::string in = "\r\nJust a body\r\n";
  Result r = RunAllSplits(Options(), in);
  EXPECT_EQ(r.out, std::string(kDate) + kMessageId +
                       "From: <alice@example.org>\r\n\r\nJust a body\r\n");
}

TEST(HeaderFixup, OnlyHeadersGetFieldsAppended) {
  const std::string added =
      std::string(kDate) + kMessageId + "From: <alice@example.org>\r\n";
  EXPECT_EQ(RunAllSplits(Options(), "Subject: x\r\n").out,
            "Subject: x\r\n" + added);
  EXPECT_EQ(RunAllSplits(Options(), "Subject: x\r\n folded").out,
            "Subject: x\r\n folded\r\n" + added);
  EXPECT_EQ(RunAllSplits(Options(), "").out, added);
  // Input ending in the CR of the empty line: still the end of the header.
  EXPECT_EQ(RunAllSplits(Options(), "Subject: x\r\n\r").out,
            "Subject: x\r\n" + added + "\r");
}

TEST(HeaderFixup, BareLfLines) {
  const std::string in = "Subject: x\nTo: a@b\n\nbody\n";
  EXPECT_EQ(RunAllSplits(Options(), in).out,
            std::string("Subject: x\nTo: a@b\n") + kDate + kMessageId +
                "From: <alice@example.org>\r\n\nbody\n");
}

TEST(HeaderFixup, RemovesBccWithContinuationLines) {
  auto o = Options();
  o.remove_bcc = true;
  o.collect_recipients = true;
  const std::string in =
      "From: alice@example.org\r\n"
      "To: Bob <bob@example.net>\r\n"
      "bcc: secret1@example.com,\r\n"
      "\tsecret2@example.com\r\n"
      " , \"Secret Three\" <secret3@example.com>\r\n"
      "Subject: hello\r\n"
      "BCC: secret4@example.com\r\n"
      "\r\n"
      "Bcc: in the body stays\r\n";
  Result r = RunAllSplits(o, in);
  EXPECT_EQ(r.out, std::string("From: alice@example.org\r\n"
                               "To: Bob <bob@example.net>\r\n"
                               "Subject: hello\r\n") +
                       kDate + kMessageId + "\r\nBcc: in the body stays\r\n");
  EXPECT_EQ(r.recipients,
            (std::vector<std::string>{
                "bob@example.net", "secret1@example.com", "secret2@example.com",
                "secret3@example.com", "secret4@example.com"}));
}

TEST(HeaderFixup, BccKeptWithoutRemoveBcc) {
  auto o = Options();
  o.collect_recipients = true;
  const std::string in = "Bcc: x@example.com\r\n\r\n";
  Result r = RunAllSplits(o, in);
  EXPECT_NE(r.out.find("Bcc: x@example.com\r\n"), std::string::npos);
  EXPECT_EQ(r.recipients, std::vector<std::string>{"x@example.com"});
}

TEST(HeaderFixup, CollectsAddressForms) {
  auto o = Options();
  o.collect_recipients = true;
  const std::string in =
      "To: \"Doe, John\" <john@example.com> (the boss), jane@example.com,\r\n"
      "  friends: a@example.org, B <b@example.org>;, root\r\n"
      "Cc: undisclosed-recipients:;\r\n"
      "CC: JOHN@EXAMPLE.COM, c@example.org (comment)\r\n"
      "Reply-To: not-a-recipient@example.org\r\n"
      "From: nor-this@example.org\r\n"
      "\r\n"
      "To: body@example.org\r\n";
  Result r = RunAllSplits(o, in);
  EXPECT_EQ(r.recipients,
            (std::vector<std::string>{"john@example.com", "jane@example.com",
                                      "a@example.org", "b@example.org", "root",
                                      "c@example.org"}));
  EXPECT_EQ(r.out.find("From: <alice"), std::string::npos);  // From present
}

TEST(HeaderFixup, NotCollectedUnlessAsked) {
  Result r = RunAllSplits(Options(), "To: a@b.example\r\n\r\n");
  EXPECT_TRUE(r.recipients.empty());
}

TEST(HeaderFixup, CountsReceivedFields) {
  const std::string in =
      "Received: from a by b; Thu, 26 Nov 2026 09:00:45 +0000\r\n"
      "received: from c\r\n by d; Thu, 26 Nov 2026 09:00:44 +0000\r\n"
      "X-Received: not counted\r\n"
      "RECEIVED : from e by f; Thu, 26 Nov 2026 09:00:43 +0000\r\n"
      "\r\n"
      "Received: body\r\n";
  EXPECT_EQ(RunAllSplits(Options(), in).received, 3u);
}

TEST(HeaderFixup, HeaderDoneOnlyAfterTheEmptyLine) {
  HeaderFixup fixup(Options());
  EXPECT_EQ(fixup.Feed("Subject: x\r\n"), "");  // held: may continue
  EXPECT_FALSE(fixup.header_done());
  EXPECT_EQ(fixup.Feed("\r"), "Subject: x\r\n");
  EXPECT_FALSE(fixup.header_done());
  std::string out = fixup.Feed("\nbody");
  EXPECT_TRUE(fixup.header_done());
  EXPECT_EQ(out, std::string(kDate) + kMessageId +
                     "From: <alice@example.org>\r\n\r\nbody");
  EXPECT_EQ(fixup.Feed("more\r\n"), "more\r\n");
  EXPECT_EQ(fixup.Finish(), "");
}

TEST(HeaderFixup, LongFieldPassesUnchangedAndLaterFieldsAreStillSeen) {
  auto o = Options();
  o.collect_recipients = true;
  o.remove_bcc = true;
  std::string in = "Subject: ";
  for (int i = 0; i < 5000; ++i) in += "word word word\r\n ";
  in += "end\r\n";
  in += "To: " + std::string(70 * 1024, 'x') + "@example.org\r\n";
  in += "Bcc: hidden@example.org, " + std::string(70 * 1024, 'y') + "\r\n";
  in += "Date: Wed, 25 Nov 2026 10:00:00 +0100\r\n";
  in += "To: after@example.org\r\n";
  in += "\r\nbody\r\n";
  Result r = RunAllSplits(o, in, 4099);
  std::string expected = in;
  const std::size_t bcc = expected.find("Bcc: ");
  expected.erase(bcc, expected.find("Date: ") - bcc);
  const std::size_t end = expected.find("\r\n\r\n") + 2;
  expected.insert(end,
                  std::string(kMessageId) + "From: <alice@example.org>\r\n");
  EXPECT_EQ(r.out, expected);
  EXPECT_EQ(r.recipients, std::vector<std::string>{"after@example.org"});
}

TEST(HeaderFixup, LongLineWithoutEndInOneChunk) {
  std::string in = "X-Long: " + std::string(200 * 1024, 'z');
  Result r = RunAllSplits(Options(), in, 65537);
  EXPECT_EQ(r.out,
            in + "\r\n" + kDate + kMessageId + "From: <alice@example.org>\r\n");
}

TEST(HeaderFixup, WithoutQueueIdAMessageIdIsStillMade) {
  auto o = Options();
  o.queue_id = "";
  const std::string out = Feed(o, "\r\n", {}).out;
  EXPECT_NE(out.find("Message-ID: <20261126090045."), std::string::npos);
  EXPECT_NE(out.find("@example.org>\r\n"), std::string::npos);
}

}  // namespace
}  // namespace posthorn::mta
