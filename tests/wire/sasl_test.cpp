// Strict base64 and the PLAIN message shared by the SMTP and POP3 AUTH
// commands (src/wire/internal/sasl.h).

#include "wire/internal/sasl.h"

#include <string>
#include <string_view>
#include <vector>

#include "gtest/gtest.h"

namespace posthorn::wire::internal {
namespace {

TEST(Sasl, StrictBase64AcceptsCanonicalText) {
  std::string out;
  EXPECT_TRUE(DecodeBase64Strict("", &out));
  EXPECT_EQ(out, "");
  EXPECT_TRUE(DecodeBase64Strict("AHUAcA==", &out));
  EXPECT_EQ(out, std::string("\0u\0p", 4));
  EXPECT_TRUE(DecodeBase64Strict("AHVzZXIAcGFzcw==", &out));
  EXPECT_EQ(out, std::string("\0user\0pass", 10));
  EXPECT_TRUE(DecodeBase64Strict("YWJj", &out));
  EXPECT_EQ(out, "abc");
  EXPECT_TRUE(DecodeBase64Strict("YWI=", &out));
  EXPECT_EQ(out, "ab");
}

TEST(Sasl, StrictBase64RefusesEverythingElse) {
  std::string out;
  EXPECT_FALSE(DecodeBase64Strict("YWJ", &out));       // no padding
  EXPECT_FALSE(DecodeBase64Strict("AHVzZXIAcGFzcw", &out));
  EXPECT_FALSE(DecodeBase64Strict("Y===", &out));      // too much padding
  EXPECT_FALSE(DecodeBase64Strict("====", &out));
  EXPECT_FALSE(DecodeBase64Strict("YW=j", &out));      // padding inside
  EXPECT_FALSE(DecodeBase64Strict("Y=Fh", &out));
  EXPECT_FALSE(DecodeBase64Strict("YWJ=YWJj", &out));  // padding not last
  EXPECT_FALSE(DecodeBase64Strict("YWK=", &out));      // non-zero pad bits
  EXPECT_FALSE(DecodeBase64Strict("YR==", &out));
  EXPECT_FALSE(DecodeBase64Strict("YW Jj", &out));     // whitespace
  EXPECT_FALSE(DecodeBase64Strict("YW\nj", &out));
  EXPECT_FALSE(DecodeBase64Strict("AHVz ZXIA", &out));
}

TEST(Sasl, EncodeRoundTrips) {
  std::string out;
  for (const std::string& s : std::vector<std::string>{
           "", "a", "ab", "abc", "abcd", std::string("\0\xff", 2)}) {
    std::string enc;
    EncodeBase64(s, &enc);
    ASSERT_TRUE(DecodeBase64Strict(enc, &out)) << enc;
    EXPECT_EQ(out, s);
  }
  std::string enc;
  EncodeBase64("abc", &enc);
  EXPECT_EQ(enc, "YWJj");
}

TEST(Sasl, SplitPlain) {
  PlainMessage m;
  ASSERT_TRUE(SplitPlain(std::string_view("z\0u\0p", 5), &m));
  EXPECT_EQ(m.authzid, "z");
  EXPECT_EQ(m.authcid, "u");
  EXPECT_EQ(m.password, "p");
  EXPECT_FALSE(SplitPlain(std::string_view("\0\0p", 3), &m));  // no authcid
  EXPECT_FALSE(SplitPlain("up", &m));
  EXPECT_FALSE(SplitPlain("nonul", &m));
  EXPECT_FALSE(SplitPlain(std::string_view("\0u\0p\0", 5), &m));
  EXPECT_FALSE(SplitPlain(std::string_view("a\0b\0c\0d", 7), &m));
}

}  // namespace
}  // namespace posthorn::wire::internal
