// Tests of posthorn/message/message_id.h.

#include "posthorn/message/message_id.h"

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

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using testing::GuardedInput;

std::vector<DefectKind> Kinds(const Defects& d) {
  std::vector<DefectKind> k;
  for (const Defect& x : d) k.push_back(x.kind);
  return k;
}

// True when `part` lies inside `whole` (a view, not a copy).
bool ViewsInto(std::string_view part, std::string_view whole) {
  return part.data() >= whole.data() &&
         part.data() + part.size() <= whole.data() + whole.size();
}

// ---- RFC 5322 Appendix A.

TEST(MessageIdRfc5322, AppendixAMessageIds) {
  const std::string_view ids[] = {
      "<1234@local.machine.example>",      // A.1.1, A.2, A.6.2
      "<5678.21-Nov-1997@example.com>",    // A.1.2, A.6.1
      "<testabcd.1234@silly.example>",     // A.1.3
      "<3456@example.net>",                // A.2
      "<abcd.1234@local.machine.test>",    // A.2
      "<78910@example.net>",               // A.3
      "<1234@local.node.example>",         // A.4
  };
  for (std::string_view id : ids) {
    const std::string value = " " + std::string(id);
    Defects d;
    const auto parsed = ParseMessageId(value, &d);
    ASSERT_TRUE(parsed.has_value()) << id;
    EXPECT_EQ(*parsed, id);
    EXPECT_TRUE(ViewsInto(*parsed, value));
    EXPECT_THAT(d, IsEmpty()) << id;
  }
}

TEST(MessageIdRfc5322, A2InReplyToAndReferences) {
  Defects d;
  EXPECT_THAT(ParseMessageIdList(" <1234@local.machine.example>", &d),
              ElementsAre("<1234@local.machine.example>"));
  EXPECT_THAT(ParseMessageIdList(
                  " <1234@local.machine.example> <3456@example.net>", &d),
              ElementsAre("<1234@local.machine.example>",
                          "<3456@example.net>"));
  EXPECT_THAT(d, IsEmpty());
}

TEST(MessageIdRfc5322, A5LeadingWhiteSpace) {
  Defects d;
  EXPECT_EQ(ParseMessageId("              <testabcd.1234@silly.test>", &d),
            "<testabcd.1234@silly.test>");
  EXPECT_THAT(d, IsEmpty());
}

TEST(MessageIdRfc5322, A63ObsoleteIdIsKeptAsWritten) {
  Defects d;
  EXPECT_EQ(ParseMessageId("<1234   @   local(blah)  .machine .example>", &d),
            "<1234   @   local(blah)  .machine .example>");
  EXPECT_THAT(Kinds(d), ElementsAre(DefectKind::kInvalidMessageId));
}

TEST(MessageIdSeed, Cybercursos) {
  Defects d;
  EXPECT_EQ(ParseMessageId("<355C9B60.324F78E1@cybercursos.net>", &d),
            "<355C9B60.324F78E1@cybercursos.net>");
  EXPECT_EQ(ParseMessageId("<355C9C49.53722DA@cybercursos.net>", &d),
            "<355C9C49.53722DA@cybercursos.net>");
  EXPECT_THAT(d, IsEmpty());
}

// ---- Lenient forms.

TEST(MessageIdLenient, CommentsAndLiterals) {
  Defects d;
  EXPECT_EQ(ParseMessageId("(a comment) <a@b> (another)\r\n ", &d), "<a@b>");
  EXPECT_EQ(ParseMessageId("<x.y@[192.0.2.1]>", &d), "<x.y@[192.0.2.1]>");
  EXPECT_THAT(d, IsEmpty());
}

TEST(MessageIdLenient, MissingBrackets) {
  Defects d;
  EXPECT_EQ(ParseMessageId("abc@example.com", &d), "abc@example.com");
  EXPECT_THAT(Kinds(d), ElementsAre(DefectKind::kInvalidMessageId));
}

TEST(MessageIdLenient, BrokenIds) {
  Defects d;
  EXPECT_EQ(ParseMessageId("<no-at-sign>", &d), "<no-at-sign>");
  EXPECT_THAT(Kinds(d), ElementsAre(DefectKind::kInvalidMessageId));
  d.clear();
  EXPECT_EQ(ParseMessageId("<abc@example.com  ", &d), "<abc@example.com");
  EXPECT_THAT(Kinds(d), ElementsAre(DefectKind::kInvalidMessageId));
  d.clear();
  EXPECT_EQ(ParseMessageId("<>", &d), std::nullopt);
  EXPECT_EQ(ParseMessageId("", &d), std::nullopt);
  EXPECT_EQ(ParseMessageId("  (only a comment) ", &d), std::nullopt);
  EXPECT_EQ(d.size(), 3u);
  d.clear();
  EXPECT_EQ(ParseMessageId("<a@b> trailing", &d), "<a@b>");
  EXPECT_THAT(Kinds(d), ElementsAre(DefectKind::kInvalidMessageId));
}

TEST(MessageIdList, ObsoletePhrasesAreSkipped) {
  Defects d;
  const std::string value =
      "<a@b> \"Your message of\" Tue, 1 Jul <c@d>,\r\n <e@f>";
  const auto ids = ParseMessageIdList(value, &d);
  EXPECT_THAT(ids, ElementsAre("<a@b>", "<c@d>", "<e@f>"));
  for (std::string_view id : ids) EXPECT_TRUE(ViewsInto(id, value));
  EXPECT_THAT(d, IsEmpty());
}

TEST(MessageIdList, BareIdsAndEmptyValues) {
  Defects d;
  EXPECT_THAT(ParseMessageIdList("<a@b> c@d", &d),
              ElementsAre("<a@b>", "c@d"));
  EXPECT_THAT(Kinds(d), ElementsAre(DefectKind::kInvalidMessageId));
  d.clear();
  EXPECT_THAT(ParseMessageIdList("", &d), IsEmpty());
  EXPECT_THAT(d, IsEmpty());
  EXPECT_THAT(ParseMessageIdList("just words", &d), IsEmpty());
  EXPECT_THAT(Kinds(d), ElementsAre(DefectKind::kInvalidMessageId));
}

// ---- MakeMessageId.

TEST(MakeMessageId, Format) {
  const absl::Time t = absl::FromCivil(
      absl::CivilSecond(2026, 11, 25, 15, 23, 1), absl::UTCTimeZone());
  EXPECT_EQ(MakeMessageId(t, 0x3f2a9c1b7dull, "host"),
            "<20261125152301.3f2a9c1b7d@host>");
  EXPECT_EQ(MakeMessageId(absl::UnixEpoch(), 0, "mail.example.com"),
            "<19700101000000.0@mail.example.com>");
  EXPECT_EQ(MakeMessageId(t, ~0ull, "[192.0.2.1]"),
            "<20261125152301.ffffffffffffffff@[192.0.2.1]>");
  EXPECT_EQ(MakeMessageId(t, 1, ""), "<20261125152301.1@localhost>");
  EXPECT_EQ(MakeMessageId(t, 1, "bad host"), "<20261125152301.1@localhost>");
  EXPECT_EQ(MakeMessageId(t, 1, "a>b"), "<20261125152301.1@localhost>");
}

TEST(MakeMessageId, ParsesBackWithoutDefects) {
  for (std::uint64_t r : {0ull, 1ull, 0xdeadbeefull, ~0ull}) {
    const std::string id =
        MakeMessageId(absl::FromUnixSeconds(1700000000), r, "x.example");
    Defects d;
    EXPECT_EQ(ParseMessageId(id, &d), id);
    EXPECT_THAT(d, IsEmpty());
  }
}

// ---- Bounds.

TEST(MessageIdBounds, EveryPrefixStaysInBounds) {
  const std::string_view inputs[] = {
      "(c) <1234   @   local(blah)  .machine .example> (x",
      "<a@b> \"phrase\\\" <c@d> e@f, <",
  };
  for (std::string_view full : inputs) {
    for (std::size_t n = 0; n <= full.size(); ++n) {
      GuardedInput in(full.substr(0, n));
      Defects d;
      const auto one = ParseMessageId(in.view(), &d, 9);
      if (one) {
        EXPECT_TRUE(ViewsInto(*one, in.view()));
      }
      for (std::string_view id : ParseMessageIdList(in.view(), &d, 9)) {
        EXPECT_TRUE(ViewsInto(id, in.view()));
      }
      for (const Defect& x : d) {
        EXPECT_GE(x.offset, 9u);
        EXPECT_LE(x.offset, 9u + n);
      }
    }
  }
}

}  // namespace
}  // namespace posthorn::message
