// Tests for posthorn/pop3/response.h and the strict SASL helpers.

#include "posthorn/pop3/response.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "pop3/syntax/sasl.h"

namespace posthorn::pop3 {
namespace {

TEST(Pop3Response, AppendStatusLine) {
  std::string out;
  AppendStatusLine(true, "", "2 320", &out);
  AppendStatusLine(true, "", "", &out);
  AppendStatusLine(false, kCodeInUse, "maildrop locked", &out);
  AppendStatusLine(false, "", "evil\r\n+OK injected\0", &out);
  EXPECT_EQ(out,
            "+OK 2 320\r\n+OK\r\n-ERR [IN-USE] maildrop locked\r\n"
            "-ERR evil  +OK injected\r\n");
}

TEST(Pop3Response, ParseStatusLine) {
  auto r = ParseStatusLine("+OK 2 320");
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->ok());
  EXPECT_EQ(r->text, "2 320");
  r = ParseStatusLine("-ERR [SYS/TEMP] try later");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, Status::kErr);
  EXPECT_EQ(r->code, "SYS/TEMP");
  EXPECT_EQ(r->text, "try later");
  r = ParseStatusLine("-ERR [not a code");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->code, "");
  EXPECT_EQ(r->text, "[not a code");
  r = ParseStatusLine("-ERR [a//b] x");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->code, "");
  r = ParseStatusLine("+ ");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, Status::kContinuation);
  EXPECT_EQ(r->text, "");
  r = ParseStatusLine("+ YWJj");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->text, "YWJj");
  EXPECT_TRUE(ParseStatusLine("+OK"));
  EXPECT_TRUE(ParseStatusLine("-ERR"));
  EXPECT_FALSE(ParseStatusLine("+OKAY"));
  EXPECT_FALSE(ParseStatusLine("OK"));
  EXPECT_FALSE(ParseStatusLine(""));
  EXPECT_FALSE(ParseStatusLine("-ERROR"));
}

TEST(Pop3Response, IsResponseCode) {
  EXPECT_TRUE(IsResponseCode("IN-USE"));
  EXPECT_TRUE(IsResponseCode("SYS/TEMP"));
  EXPECT_FALSE(IsResponseCode(""));
  EXPECT_FALSE(IsResponseCode("/X"));
  EXPECT_FALSE(IsResponseCode("X/"));
  EXPECT_FALSE(IsResponseCode("A B"));
  EXPECT_FALSE(IsResponseCode("A]"));
}

TEST(Pop3Sasl, StrictBase64) {
  std::string out;
  EXPECT_TRUE(internal::DecodeBase64Strict("AHVzZXIAcGFzcw==", &out));
  EXPECT_EQ(out, std::string("\0user\0pass", 10));
  EXPECT_TRUE(internal::DecodeBase64Strict("", &out));
  EXPECT_EQ(out, "");
  EXPECT_FALSE(internal::DecodeBase64Strict("AHVzZXIAcGFzcw", &out));
  EXPECT_FALSE(internal::DecodeBase64Strict("AHVz ZXIA", &out));
  EXPECT_FALSE(internal::DecodeBase64Strict("YR==", &out));  // pad bits
  EXPECT_FALSE(internal::DecodeBase64Strict("Y=Fh", &out));
  EXPECT_FALSE(internal::DecodeBase64Strict("====", &out));
  for (const std::string& s : std::vector<std::string>{
           "", "a", "ab", "abc", "abcd", std::string("\0\xff", 2)}) {
    std::string enc;
    internal::EncodeBase64(s, &enc);
    ASSERT_TRUE(internal::DecodeBase64Strict(enc, &out)) << enc;
    EXPECT_EQ(out, s);
  }
}

TEST(Pop3Sasl, SplitPlain) {
  internal::PlainMessage m;
  EXPECT_TRUE(internal::SplitPlain(std::string_view("z\0u\0p", 5), &m));
  EXPECT_EQ(m.authzid, "z");
  EXPECT_EQ(m.authcid, "u");
  EXPECT_EQ(m.password, "p");
  EXPECT_FALSE(internal::SplitPlain(std::string_view("\0\0p", 3), &m));
  EXPECT_FALSE(internal::SplitPlain("nonul", &m));
  EXPECT_FALSE(internal::SplitPlain(std::string_view("a\0b\0c\0d", 7), &m));
}

}  // namespace
}  // namespace posthorn::pop3
