// Tests of posthorn/message/date.h.

#include "posthorn/message/date.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "message/fields/guarded_input.h"

namespace posthorn::message {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Not;
using testing::GuardedInput;

std::vector<DefectKind> Kinds(const Defects& d) {
  std::vector<DefectKind> k;
  for (const Defect& x : d) k.push_back(x.kind);
  return k;
}

std::optional<absl::Time> Parse(std::string_view value, Defects* d = nullptr) {
  GuardedInput in(value);
  return ParseDate(in.view(), d);
}

// The instant of a civil time written with a UTC offset in minutes.
absl::Time At(int y, int mo, int d, int h, int mi, int s,
              int offset_minutes = 0) {
  return absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, s),
                         absl::UTCTimeZone()) -
         absl::Minutes(offset_minutes);
}

// ---- RFC 5322 Appendix A.

TEST(DateRfc5322, A1AndA2Dates) {
  Defects d;
  EXPECT_EQ(Parse("Fri, 21 Nov 1997 09:55:06 -0600", &d),
            At(1997, 11, 21, 9, 55, 6, -360));
  EXPECT_EQ(Parse("Tue, 1 Jul 2003 10:52:37 +0200", &d),
            At(2003, 7, 1, 10, 52, 37, 120));
  EXPECT_EQ(Parse("Thu, 13 Feb 1969 23:32:54 -0330", &d),
            At(1969, 2, 13, 23, 32, 54, -210));
  EXPECT_EQ(Parse("Fri, 21 Nov 1997 10:01:10 -0600", &d),
            At(1997, 11, 21, 10, 1, 10, -360));
  EXPECT_EQ(Parse("Fri, 21 Nov 1997 11:00:00 -0600", &d),
            At(1997, 11, 21, 11, 0, 0, -360));
  EXPECT_THAT(d, IsEmpty());
}

TEST(DateRfc5322, A3ResentDate) {
  Defects d;
  EXPECT_EQ(Parse(" Mon, 24 Nov 1997 14:22:01 -0800", &d),
            At(1997, 11, 24, 14, 22, 1, -480));
  EXPECT_THAT(d, IsEmpty());
}

TEST(DateRfc5322, A4TraceDatesWithoutDayOfWeek) {
  Defects d;
  EXPECT_EQ(Parse("  21 Nov 1997 10:05:43 -0600", &d),
            At(1997, 11, 21, 10, 5, 43, -360));
  EXPECT_EQ(Parse(" 21 Nov 1997 10:01:22 -0600", &d),
            At(1997, 11, 21, 10, 1, 22, -360));
  EXPECT_THAT(d, IsEmpty());
}

TEST(DateRfc5322, A5FoldedWithComment) {
  Defects d;
  EXPECT_EQ(Parse("Thu,\r\n      13\r\n        Feb\r\n          1969\r\n"
                  "      23:32\r\n               -0330 (Newfoundland Time)",
                  &d),
            At(1969, 2, 13, 23, 32, 0, -210));
  // Missing seconds are obsolete syntax.
  EXPECT_THAT(Kinds(d), ElementsAre(DefectKind::kObsoleteDateSyntax));
}

TEST(DateRfc5322, A62ObsoleteDates) {
  Defects d;
  EXPECT_EQ(Parse("21 Nov 97 09:55:06 GMT", &d),
            At(1997, 11, 21, 9, 55, 6));
  EXPECT_THAT(Kinds(d), ElementsAre(DefectKind::kObsoleteDateSyntax));
  d.clear();
  EXPECT_EQ(Parse("Thu, 13 Feb 1969 23:32 -0330 (Newfoundland Time)", &d),
            At(1969, 2, 13, 23, 32, 0, -210));
  EXPECT_THAT(Kinds(d), ElementsAre(DefectKind::kObsoleteDateSyntax));
}

TEST(DateRfc5322, A63ObsoleteWhiteSpaceAndComments) {
  Defects d;
  EXPECT_EQ(Parse("Fri, 21\r\n Nov 1997 09(comment):   55  :  06 -0600", &d),
            At(1997, 11, 21, 9, 55, 6, -360));
  EXPECT_THAT(Kinds(d), ElementsAre(DefectKind::kObsoleteDateSyntax));
  d.clear();
  EXPECT_EQ(Parse("Friday, 21 Nov 1997 09(comment):   55  :  06 -0600", &d),
            At(1997, 11, 21, 9, 55, 6, -360));
}

// ---- The seed guide (RFC 822 era mail).

TEST(DateSeed, CybercursosDates) {
  Defects d;
  EXPECT_EQ(Parse("Sat, 22 May 98 04:22:28 GMT", &d),
            At(1998, 5, 22, 4, 22, 28));
  EXPECT_THAT(Kinds(d), ElementsAre(DefectKind::kObsoleteDateSyntax));
  d.clear();
  EXPECT_EQ(Parse("Fri, 15 May 1998 19:45:37 +0000", &d),
            At(1998, 5, 15, 19, 45, 37));
  EXPECT_EQ(Parse("Fri, 15 May 1998 19:47:54 +0200", &d),
            At(1998, 5, 15, 19, 47, 54, 120));
  EXPECT_THAT(d, IsEmpty());
}

// ---- Years.

TEST(DateYears, TwoAndThreeDigitYears) {
  EXPECT_EQ(Parse("1 Jan 00 00:00:00 +0000"), At(2000, 1, 1, 0, 0, 0));
  EXPECT_EQ(Parse("1 Jan 49 00:00:00 +0000"), At(2049, 1, 1, 0, 0, 0));
  EXPECT_EQ(Parse("1 Jan 50 00:00:00 +0000"), At(1950, 1, 1, 0, 0, 0));
  EXPECT_EQ(Parse("1 Jan 99 00:00:00 +0000"), At(1999, 1, 1, 0, 0, 0));
  EXPECT_EQ(Parse("1 Jan 103 00:00:00 +0000"), At(2003, 1, 1, 0, 0, 0));
  EXPECT_EQ(Parse("1 Jan 1899 00:00:00 +0000"), At(1899, 1, 1, 0, 0, 0));
  EXPECT_EQ(Parse("31 Dec 9999 23:59:59 +0000"),
            At(9999, 12, 31, 23, 59, 59));
  Defects d;
  EXPECT_EQ(Parse("1 Jan 2 00:00:00 +0000", &d), std::nullopt);
  EXPECT_EQ(Parse("1 Jan 12345 00:00:00 +0000", &d), std::nullopt);
  EXPECT_THAT(Kinds(d), Contains(DefectKind::kInvalidDate));
}

// ---- Zones.

TEST(DateZones, ObsoleteZoneNames) {
  struct Case {
    std::string_view zone;
    int minutes;
  };
  const Case cases[] = {{"UT", 0},       {"GMT", 0},     {"EST", -300},
                        {"EDT", -240},   {"CST", -360},  {"CDT", -300},
                        {"MST", -420},   {"MDT", -360},  {"PST", -480},
                        {"PDT", -420},   {"gmt", 0},     {"pdt", -420}};
  for (const Case& c : cases) {
    Defects d;
    const std::string v =
        "Tue, 1 Jul 2003 10:52:37 " + std::string(c.zone);
    EXPECT_EQ(Parse(v, &d), At(2003, 7, 1, 10, 52, 37, c.minutes)) << v;
    EXPECT_THAT(Kinds(d), ElementsAre(DefectKind::kObsoleteDateSyntax)) << v;
  }
}

TEST(DateZones, MilitaryZonesAreMinusZero) {
  for (char z : std::string_view("AIKMNYZaz")) {
    Defects d;
    const std::string v = std::string("Tue, 1 Jul 2003 10:52:37 ") + z;
    EXPECT_EQ(Parse(v, &d), At(2003, 7, 1, 10, 52, 37)) << v;
    EXPECT_THAT(Kinds(d), ElementsAre(DefectKind::kObsoleteDateSyntax)) << v;
  }
  Defects d;
  // "J" is not a military zone: an unknown name, taken as UTC too.
  EXPECT_EQ(Parse("Tue, 1 Jul 2003 10:52:37 J", &d),
            At(2003, 7, 1, 10, 52, 37));
}

TEST(DateZones, OffsetIsReported) {
  int offset = 1;
  Defects d;
  EXPECT_EQ(ParseDate("Tue, 1 Jul 2003 10:52:37 -0330", &offset, &d),
            At(2003, 7, 1, 10, 52, 37, -210));
  EXPECT_EQ(offset, -210 * 60);
  EXPECT_EQ(ParseDate("Tue, 1 Jul 2003 10:52:37 +1400", &offset, &d),
            At(2003, 7, 1, 10, 52, 37, 14 * 60));
  EXPECT_EQ(offset, 14 * 3600);
  EXPECT_THAT(d, IsEmpty());
}

TEST(DateZones, TrailingZoneCommentAndName) {
  Defects d;
  EXPECT_EQ(Parse("Tue, 1 Jul 2003 10:52:37 +0200 (CEST)", &d),
            At(2003, 7, 1, 10, 52, 37, 120));
  EXPECT_THAT(d, IsEmpty());
  EXPECT_EQ(Parse("Tue, 1 Jul 2003 10:52:37 -0500 EST", &d),
            At(2003, 7, 1, 10, 52, 37, -300));
  EXPECT_THAT(Kinds(d), ElementsAre(DefectKind::kObsoleteDateSyntax));
}

TEST(DateZones, MissingZoneIsUtc) {
  Defects d;
  EXPECT_EQ(Parse("Tue, 1 Jul 2003 10:52:37", &d),
            At(2003, 7, 1, 10, 52, 37));
  EXPECT_THAT(Kinds(d), ElementsAre(DefectKind::kObsoleteDateSyntax));
}

// ---- Other lenient forms.

TEST(DateLenient, OtherForms) {
  Defects d;
  // asctime, as in mbox "From " lines.
  EXPECT_EQ(Parse("Tue May 19 15:22:05 1998", &d),
            At(1998, 5, 19, 15, 22, 5));
  EXPECT_EQ(Parse("Fri, Nov 21 1997 09:55:06 -0600", &d),
            At(1997, 11, 21, 9, 55, 6, -360));
  EXPECT_EQ(Parse("21-Nov-1997 09:55:06 -0600", &d),
            At(1997, 11, 21, 9, 55, 6, -360));
  EXPECT_EQ(Parse("Tue 1 Jul 2003 10:52:37 +0200", &d),
            At(2003, 7, 1, 10, 52, 37, 120));
  EXPECT_EQ(Parse("Tue, 1 July 2003 9:52:37 +02:00", &d),
            At(2003, 7, 1, 9, 52, 37, 120));
  EXPECT_EQ(Parse("tue, 01 jul 2003 10:52:37 +0200", &d),
            At(2003, 7, 1, 10, 52, 37, 120));
  EXPECT_EQ(Parse("Sat, 31 Dec 2016 23:59:60 +0000", &d),
            At(2016, 12, 31, 23, 59, 59));
  EXPECT_THAT(Kinds(d), Not(Contains(DefectKind::kInvalidDate)));
  // A day-of-week that does not match the date is ignored.
  d.clear();
  EXPECT_EQ(Parse("Mon, 1 Jul 2003 10:52:37 +0200", &d),
            At(2003, 7, 1, 10, 52, 37, 120));
  EXPECT_THAT(d, IsEmpty());
}

TEST(DateLenient, TrailingTextIsRecorded) {
  Defects d;
  EXPECT_EQ(Parse("Tue, 1 Jul 2003 10:52:37 +0200 +0300", &d),
            At(2003, 7, 1, 10, 52, 37, 120));
  EXPECT_THAT(Kinds(d), ElementsAre(DefectKind::kInvalidDate));
}

// ---- Invalid dates.

TEST(DateInvalid, OutOfRangeAndGarbage) {
  const std::string_view cases[] = {
      "",
      "   ",
      "garbage",
      "Tue,",
      "Tue, 1 Jul",
      "Tue, 1 Jul 2003",
      "Tue, 1 Jul 2003 10",
      "Tue, 1 Jul 2003 10:",
      "Tue, 1 Foo 2003 10:52:37 +0200",     // month name
      "Tue, 13 13 2003 10:52:37 +0200",     // month 13
      "Sun, 30 Feb 2003 10:52:37 +0200",    // Feb 30
      "Sun, 29 Feb 2003 10:52:37 +0200",    // not a leap year
      "Thu, 29 Feb 1900 10:52:37 +0200",    // not a leap year either
      "Thu, 31 Apr 2003 10:52:37 +0200",
      "Tue, 0 Jul 2003 10:52:37 +0200",
      "Tue, 32 Jul 2003 10:52:37 +0200",
      "Tue, 1 Jul 2003 25:52:37 +0200",     // hour 25
      "Tue, 1 Jul 2003 24:00:00 +0200",
      "Tue, 1 Jul 2003 10:60:37 +0200",     // minute 60
      "Tue, 1 Jul 2003 10:52:61 +0200",
      "Tue, 1 Jul 2003 10:52:37 +0260",     // zone minutes
      "Tue, 1 Jul 2003 10:52:37 +02",
      "Tue, 1 Jul 2003 10:52:37 +020000",
      "Tue, 1 Jul 2003 10:5:37 +0200",
      "Tue, 1 Jul 2003 10:52:3 +0200",
      "Tue, 123 Jul 2003 10:52:37 +0200",
      "Xyz, 1 Jul 2003 10:52:37 +0200",
      "1 Jul 2003 10:52:37 @",
      "99999999999999999999 Jul 2003 10:52:37 +0200",
  };
  for (std::string_view v : cases) {
    Defects d;
    EXPECT_EQ(Parse(v, &d), std::nullopt) << v;
    EXPECT_THAT(Kinds(d), Contains(DefectKind::kInvalidDate)) << v;
  }
  EXPECT_NE(Parse("Sun, 29 Feb 2004 10:52:37 +0200"), std::nullopt);
  EXPECT_NE(Parse("Tue, 29 Feb 2000 10:52:37 +0200"), std::nullopt);
}

TEST(DateInvalid, DefectOffsetsIncludeTheBaseOffset) {
  Defects d;
  EXPECT_EQ(ParseDate("1 Jul 2003 25:00:00 +0000", &d, 50), std::nullopt);
  EXPECT_THAT(d, ElementsAre(Defect{DefectKind::kInvalidDate, 61}));
}

// ---- Formatting.

TEST(DateFormat, Rfc5322Form) {
  EXPECT_EQ(FormatDate(At(2003, 7, 1, 10, 52, 37, 120),
                       absl::FixedTimeZone(7200)),
            "Tue, 1 Jul 2003 10:52:37 +0200");
  EXPECT_EQ(FormatDate(At(1997, 11, 21, 9, 55, 6, -360),
                       absl::FixedTimeZone(-6 * 3600)),
            "Fri, 21 Nov 1997 09:55:06 -0600");
  EXPECT_EQ(FormatDate(At(1969, 2, 13, 23, 32, 54, -210),
                       absl::FixedTimeZone(-210 * 60)),
            "Thu, 13 Feb 1969 23:32:54 -0330");
  EXPECT_EQ(FormatDate(absl::UnixEpoch(), absl::UTCTimeZone()),
            "Thu, 1 Jan 1970 00:00:00 +0000");
  EXPECT_EQ(FormatDate(At(2024, 2, 29, 12, 0, 0), absl::UTCTimeZone()),
            "Thu, 29 Feb 2024 12:00:00 +0000");
  // Sub-second parts are dropped, not rounded.
  EXPECT_EQ(FormatDate(absl::UnixEpoch() - absl::Milliseconds(1),
                       absl::UTCTimeZone()),
            "Wed, 31 Dec 1969 23:59:59 +0000");
}

TEST(DateFormat, RoundTripThroughParseDate) {
  const int offsets[] = {0, 3600, -3600, 7200, 19800, -12600, 50400,
                         -43200, 1050 /* 17.5 minutes: truncated */};
  // A simple LCG walks instants from 1900 to 2100.
  std::uint64_t x = 12345;
  for (int i = 0; i < 2000; ++i) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    const std::int64_t secs =
        -2208988800 + static_cast<std::int64_t>(x >> 33) % 6311433600;
    const absl::Time t = absl::FromUnixSeconds(secs);
    const int off = offsets[i % 9];
    const std::string text = FormatDate(t, absl::FixedTimeZone(off));
    Defects d;
    int parsed_offset = 0;
    EXPECT_EQ(ParseDate(text, &parsed_offset, &d), t) << text;
    EXPECT_EQ(parsed_offset, off / 60 * 60) << text;
    EXPECT_THAT(d, IsEmpty()) << text;
  }
}

// ---- Bounds.

TEST(DateBounds, EveryPrefixStaysInBounds) {
  const std::string_view inputs[] = {
      "Fri, 21\r\n Nov 1997 09(comment):   55  :  06 -0600 (x)",
      "Thu, 13 Feb 1969 23:32 -0330 (Newfoundland Time",
      "Tue May 19 15:22:05 1998",
      "21-Nov-97 09:55:06 +02:00 EST",
  };
  for (std::string_view full : inputs) {
    for (std::size_t n = 0; n <= full.size(); ++n) {
      GuardedInput in(full.substr(0, n));
      Defects d;
      (void)ParseDate(in.view(), &d, 3);
      for (const Defect& x : d) {
        EXPECT_GE(x.offset, 3u);
        EXPECT_LE(x.offset, 3u + n);
      }
    }
  }
}

}  // namespace
}  // namespace posthorn::message
