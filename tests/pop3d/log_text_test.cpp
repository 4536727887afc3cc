// tests/pop3d/log_text_test.cpp — EscapeForLog and FormatStatsLine.

#include <string>

#include "gtest/gtest.h"
#include "posthorn/pop3d/pop3_service.h"

namespace posthorn::pop3d {
namespace {

TEST(EscapeForLog, KeepsPrintableAscii) {
  EXPECT_EQ(EscapeForLog("alice from 127.0.0.1 (apop)"),
            "alice from 127.0.0.1 (apop)");
  EXPECT_EQ(EscapeForLog(""), "");
}

TEST(EscapeForLog, EscapesControlsBackslashAndHighBytes) {
  EXPECT_EQ(EscapeForLog(std::string("x\r\nStats: forged", 16)),
            "x\\x0D\\x0AStats: forged");
  EXPECT_EQ(EscapeForLog(std::string("a\0b", 3)), "a\\x00b");
  EXPECT_EQ(EscapeForLog("a\\x0Ab"), "a\\x5Cx0Ab");  // not ambiguous
  EXPECT_EQ(EscapeForLog("\x1b[31m\x7f\xff"), "\\x1B[31m\\x7F\\xFF");
  EXPECT_EQ(EscapeForLog("tab\there"), "tab\\x09here");
}

TEST(EscapeForLog, CutsLongInputAndMarksTheCut) {
  const std::string long_text(1000, 'a');
  EXPECT_EQ(EscapeForLog(long_text), std::string(200, 'a') + "...");
  EXPECT_EQ(EscapeForLog(long_text, 5), "aaaaa...");
  EXPECT_EQ(EscapeForLog("abcde", 5), "abcde");  // exactly the limit
  // The bound applies to input octets: escaped output stays bounded.
  const std::string newlines(10000, '\n');
  EXPECT_EQ(EscapeForLog(newlines, 10).size(), 4u * 10 + 3);
}

TEST(FormatStatsLine, QpopperFormat) {
  net::Pop3SessionSummary summary;
  summary.user = "alice";
  summary.logged_in = true;
  summary.deleted_messages = 2;
  summary.deleted_octets = 320;
  summary.left_messages = 5;
  summary.left_octets = 1200;
  EXPECT_EQ(FormatStatsLine(summary), "Stats: alice 2 320 5 1200");
  summary.deleted_messages = 0;
  summary.deleted_octets = 0;
  summary.left_messages = 0;
  summary.left_octets = 0;
  EXPECT_EQ(FormatStatsLine(summary), "Stats: alice 0 0 0 0");
}

TEST(FormatStatsLine, EscapesTheUserName) {
  net::Pop3SessionSummary summary;
  summary.user = "x\nStats: forged";
  const std::string line = FormatStatsLine(summary);
  EXPECT_EQ(line.find('\n'), std::string::npos);
  EXPECT_EQ(line, "Stats: x\\x0AStats: forged 0 0 0 0");
}

}  // namespace
}  // namespace posthorn::pop3d
