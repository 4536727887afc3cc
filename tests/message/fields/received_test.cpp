// Tests of posthorn/message/received.h.

#include "posthorn/message/received.h"

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "message/fields/guarded_input.h"

namespace posthorn::message {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Pair;
using testing::GuardedInput;

std::vector<DefectKind> Kinds(const Defects& d) {
  std::vector<DefectKind> k;
  for (const Defect& x : d) k.push_back(x.kind);
  return k;
}

absl::Time At(int y, int mo, int d, int h, int mi, int s, int off_min) {
  return absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, s),
                         absl::UTCTimeZone()) -
         absl::Minutes(off_min);
}

ReceivedField Parse(std::string_view value, Defects* d = nullptr) {
  GuardedInput in(value);
  return ParseReceived(in.view(), d);
}

// ---- RFC 5322 Appendix A.4.

TEST(ReceivedRfc5322, A4FullStamp) {
  Defects d;
  const ReceivedField r = Parse(
      "from x.y.test\r\n   by example.net\r\n   via TCP\r\n   with ESMTP\r\n"
      "   id ABC12345\r\n   for <mary@example.net>;  21 Nov 1997 10:05:43 "
      "-0600",
      &d);
  EXPECT_EQ(r.from, "x.y.test");
  EXPECT_EQ(r.by, "example.net");
  EXPECT_EQ(r.via, "TCP");
  EXPECT_EQ(r.with, "ESMTP");
  EXPECT_EQ(r.id, "ABC12345");
  EXPECT_EQ(r.for_path, "<mary@example.net>");
  EXPECT_THAT(r.other, IsEmpty());
  EXPECT_EQ(r.date, At(1997, 11, 21, 10, 5, 43, -360));
  EXPECT_THAT(d, IsEmpty());
}

TEST(ReceivedRfc5322, A4ShortStamp) {
  Defects d;
  const ReceivedField r =
      Parse("from node.example by x.y.test; 21 Nov 1997 10:01:22 -0600", &d);
  EXPECT_EQ(r.from, "node.example");
  EXPECT_EQ(r.by, "x.y.test");
  EXPECT_EQ(r.with, "");
  EXPECT_EQ(r.date, At(1997, 11, 21, 10, 1, 22, -360));
  EXPECT_THAT(d, IsEmpty());
}

// ---- The seed guide.

TEST(ReceivedSeed, AppleInternetMailServer) {
  Defects d;
  const ReceivedField r = Parse(
      "from cybercursos.net (64.66.177.193) by cybercursos.net\r\n"
      "        with ESMTMP (Apple Internet Mail Server 1.1); Fri, 15 May 1998 "
      "19:51:46 +0200",
      &d);
  EXPECT_EQ(r.from, "cybercursos.net (64.66.177.193)");
  EXPECT_EQ(r.by, "cybercursos.net");
  EXPECT_EQ(r.with, "ESMTMP (Apple Internet Mail Server 1.1)");
  EXPECT_EQ(r.date, At(1998, 5, 15, 19, 51, 46, 120));
  EXPECT_THAT(d, IsEmpty());
}

// ---- What today's servers write.

TEST(ReceivedModern, PostfixStamp) {
  Defects d;
  const ReceivedField r = Parse(
      "from mail.example.com (mail.example.com [192.0.2.1])\r\n"
      "\tby mx.example.net (Postfix) with ESMTPS id 4ABC123\r\n"
      "\tfor <user@example.net>; Tue, 1 Jul 2003 10:52:37 +0200 (CEST)",
      &d);
  EXPECT_EQ(r.from, "mail.example.com (mail.example.com [192.0.2.1])");
  EXPECT_EQ(r.by, "mx.example.net (Postfix)");
  EXPECT_EQ(r.with, "ESMTPS");
  EXPECT_EQ(r.id, "4ABC123");
  EXPECT_EQ(r.for_path, "<user@example.net>");
  EXPECT_EQ(r.date, At(2003, 7, 1, 10, 52, 37, 120));
  EXPECT_THAT(d, IsEmpty());
}

TEST(ReceivedModern, NestedCommentsWithSemicolons) {
  const ReceivedField r = Parse(
      "from a (b; (c; d)) by e with SMTP; Tue, 1 Jul 2003 10:52:37 +0000");
  EXPECT_EQ(r.from, "a (b; (c; d))");
  EXPECT_EQ(r.by, "e");
  EXPECT_EQ(r.date, At(2003, 7, 1, 10, 52, 37, 0));
}

TEST(ReceivedModern, UnknownClausesGoToOther) {
  const ReceivedField r =
      Parse("from a by b with SMTP xyz 42 id Q1 by again;"
            " Tue, 1 Jul 2003 10:52:37 +0000");
  EXPECT_EQ(r.with, "SMTP");
  EXPECT_EQ(r.id, "Q1");
  EXPECT_EQ(r.by, "b");
  EXPECT_THAT(r.other, ElementsAre(Pair("xyz", "42"), Pair("by", "again")));
}

TEST(ReceivedModern, ClauseNamesAreCaseInsensitive) {
  const ReceivedField r =
      Parse("FROM a BY b WITH c; Tue, 1 Jul 2003 10:52:37 +0000");
  EXPECT_EQ(r.from, "a");
  EXPECT_EQ(r.by, "b");
  EXPECT_EQ(r.with, "c");
}

// ---- Obsolete and broken forms.

TEST(ReceivedBroken, NoDate) {
  Defects d;
  const ReceivedField r = Parse("from foo by bar", &d);
  EXPECT_EQ(r.from, "foo");
  EXPECT_EQ(r.by, "bar");
  EXPECT_EQ(r.date, std::nullopt);
  EXPECT_THAT(Kinds(d), ElementsAre(DefectKind::kInvalidDate));
}

TEST(ReceivedBroken, BadDate) {
  Defects d;
  const ReceivedField r = Parse("by bar; yesterday", &d);
  EXPECT_EQ(r.by, "bar");
  EXPECT_EQ(r.date, std::nullopt);
  EXPECT_THAT(Kinds(d), ElementsAre(DefectKind::kInvalidDate));
}

TEST(ReceivedBroken, ValueWithSeveralWords) {
  const ReceivedField r =
      Parse("from foo bar by baz; Tue, 1 Jul 2003 10:52:37 +0000");
  EXPECT_EQ(r.from, "foo bar");
  EXPECT_EQ(r.by, "baz");
}

TEST(ReceivedBroken, Empty) {
  Defects d;
  const ReceivedField r = Parse("", &d);
  EXPECT_EQ(r.from, "");
  EXPECT_EQ(r.date, std::nullopt);
}

TEST(ReceivedBounds, EveryPrefixStaysInBounds) {
  const std::string_view full =
      "from a (b; (c\\) d)) by \"q;\" <x@y> [1.2.3.4] with SMTP;"
      " Tue, 1 Jul 2003 10:52:37 +0000 (x";
  for (std::size_t n = 0; n <= full.size(); ++n) {
    GuardedInput in(full.substr(0, n));
    Defects d;
    (void)ParseReceived(in.view(), &d, 11);
    for (const Defect& x : d) {
      EXPECT_GE(x.offset, 11u);
      EXPECT_LE(x.offset, 11u + n);
    }
  }
}

}  // namespace
}  // namespace posthorn::message
