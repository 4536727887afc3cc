// tests/store/maildir/maildir_name_test.cpp — unique names, parsing and
// UIDs (store/maildir/maildir_name.h).

#include "store/maildir/maildir_name.h"

#include <set>
#include <string>

#include "gtest/gtest.h"

namespace posthorn::store::maildir {
namespace {

// "D" + 32 lower-case hex digits (std::regex trips GCC 12 warnings under
// the sanitizers, so patterns are checked by hand).
bool IsDigestUid(const std::string& uid) {
  if (uid.size() != 33 || uid[0] != 'D') return false;
  return uid.find_first_not_of("0123456789abcdef", 1) == std::string::npos;
}

// "<digits>Q<digits>" after the given prefix, then the suffix.
bool HasCounterForm(const std::string& base, const std::string& prefix,
                    const std::string& suffix) {
  if (!base.starts_with(prefix) || !base.ends_with(suffix)) return false;
  std::string middle =
      base.substr(prefix.size(), base.size() - prefix.size() - suffix.size());
  auto q = middle.find('Q');
  return q != std::string::npos && q > 0 && q + 1 < middle.size() &&
         middle.find_first_not_of("0123456789Q") == std::string::npos;
}

TEST(MaildirNameTest, HostSeparatorsAreEscaped) {
  EXPECT_EQ(EscapeHostForMaildir("mx.example.org"), "mx.example.org");
  EXPECT_EQ(EscapeHostForMaildir("a/b:c,d"), "a\\057b\\072c\\054d");
  EXPECT_EQ(EscapeHostForMaildir("sp ace\\"), "sp\\040ace\\134");
  EXPECT_EQ(EscapeHostForMaildir(""), "localhost");
}

TEST(MaildirNameTest, UniqueBasesHaveTheMaildirForm) {
  absl::Time now = absl::FromUnixMicros(1700000000123456);
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    std::string base = MakeUniqueBase(now, "host");
    EXPECT_TRUE(HasCounterForm(base, "1700000000.M123456P", ".host")) << base;
    EXPECT_TRUE(seen.insert(base).second) << base;
  }
}

TEST(MaildirNameTest, ParsesOrderAndSizeFields) {
  auto parsed =
      ParseMessageName("1700000000.M123456P99Q7.host,S=120,W=125:2,S");
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->base, "1700000000.M123456P99Q7.host,S=120,W=125");
  EXPECT_EQ(parsed->seconds, 1700000000u);
  EXPECT_EQ(parsed->microseconds, 123456u);
  EXPECT_EQ(parsed->counter, 7u);
  EXPECT_EQ(parsed->stored_size, 120u);
  EXPECT_EQ(parsed->crlf_size, 125u);
}

TEST(MaildirNameTest, ForeignNamesParseWithoutFields) {
  auto parsed = ParseMessageName("1234567890_0.1234.host,U=5,FMD5=abc:2,S");
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->seconds, 1234567890u);
  EXPECT_FALSE(parsed->stored_size.has_value());
  EXPECT_FALSE(parsed->crlf_size.has_value());
  auto bad_size = ParseMessageName("1.M1P1Q1.h,S=12x,W=");
  ASSERT_TRUE(bad_size.has_value());
  EXPECT_FALSE(bad_size->stored_size.has_value());
  EXPECT_FALSE(bad_size->crlf_size.has_value());
}

TEST(MaildirNameTest, StraysAreNotMessageNames) {
  EXPECT_FALSE(ParseMessageName("").has_value());
  EXPECT_FALSE(ParseMessageName(".hidden").has_value());
  EXPECT_FALSE(ParseMessageName("garbage").has_value());
  EXPECT_FALSE(ParseMessageName("#junk~").has_value());
}

TEST(MaildirNameTest, UidIsBaseOrStableDigest) {
  EXPECT_EQ(UidForBase("1700000000.M1P2Q3.host,S=1,W=2"),
            "1700000000.M1P2Q3.host,S=1,W=2");
  std::string long_base = "1700000000.M1P2Q3." + std::string(80, 'h');
  std::string uid = UidForBase(long_base);
  EXPECT_TRUE(IsDigestUid(uid)) << uid;
  EXPECT_EQ(UidForBase(long_base), uid);  // stable
  EXPECT_NE(UidForBase(long_base + "x"), uid);
  std::string eight_bit = UidForBase("17.M1.h\xe9te");
  EXPECT_TRUE(IsDigestUid(eight_bit)) << eight_bit;
  EXPECT_EQ(UidForBase(std::string(70, '1')), std::string(70, '1'));
  EXPECT_NE(UidForBase(std::string(71, '1')), std::string(71, '1'));
  EXPECT_NE(UidForDuplicate("new/x"), UidForDuplicate("cur/x"));
}

}  // namespace
}  // namespace posthorn::store::maildir
