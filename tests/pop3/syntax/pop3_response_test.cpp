// Tests for posthorn/pop3/response.h and the strict SASL helpers.

#include "posthorn/pop3/response.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

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

}  // namespace
}  // namespace posthorn::pop3
