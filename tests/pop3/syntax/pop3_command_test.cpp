// Tests for posthorn/pop3/command.h: every keyword, the argument shapes,
// the hostile message numbers of issue 5, limits and the client's
// FormatCommand.

#include "posthorn/pop3/command.h"

#include <cstdint>
#include <limits>
#include <string>
#include <variant>

#include "gtest/gtest.h"

namespace posthorn::pop3 {
namespace {

Command Ok(std::string_view line, const CommandLimits& limits = {}) {
  auto r = ParseCommand(line, limits);
  if (auto* e = std::get_if<CommandError>(&r)) {
    ADD_FAILURE() << "'" << line << "' refused: " << e->message;
    return {};
  }
  return std::get<Command>(r);
}

CommandError Bad(std::string_view line, const CommandLimits& limits = {}) {
  auto r = ParseCommand(line, limits);
  if (std::holds_alternative<Command>(r)) {
    ADD_FAILURE() << "'" << line << "' accepted";
    return {CommandError::Kind::kSyntax, ""};
  }
  return std::get<CommandError>(r);
}

TEST(Pop3Command, EveryKeywordCaseInsensitive) {
  const std::pair<std::string_view, Verb> cases[] = {
      {"STAT", Verb::kStat}, {"stat", Verb::kStat}, {"NoOp", Verb::kNoop},
      {"LAST", Verb::kLast}, {"RSET", Verb::kRset}, {"QUIT", Verb::kQuit},
      {"CAPA", Verb::kCapa}, {"STLS", Verb::kStls}, {"LIST", Verb::kList},
      {"UIDL", Verb::kUidl}, {"AUTH", Verb::kAuth},
  };
  for (const auto& [line, verb] : cases) {
    EXPECT_EQ(Ok(line).verb, verb) << line;
    EXPECT_EQ(VerbName(verb).size() >= 3, true);
  }
  EXPECT_EQ(VerbName(Verb::kTop), "TOP");
}

TEST(Pop3Command, Arguments) {
  Command c = Ok("USER mrose");
  EXPECT_EQ(c.verb, Verb::kUser);
  EXPECT_EQ(c.argument, "mrose");
  c = Ok("PASS my secret  with spaces ");
  EXPECT_EQ(c.argument, "my secret  with spaces ");
  c = Ok("APOP mrose c4c9334bac560ecc979e58001b3e22fb");
  EXPECT_EQ(c.argument, "mrose");
  EXPECT_EQ(c.argument2, "c4c9334bac560ecc979e58001b3e22fb");
  c = Ok("AUTH PLAIN AHVzZXIAcGFzcw==");
  EXPECT_EQ(c.argument, "PLAIN");
  EXPECT_EQ(c.argument2, "AHVzZXIAcGFzcw==");
  c = Ok("TOP 1 10");
  EXPECT_EQ(c.message, 1u);
  EXPECT_EQ(c.top_lines, 10u);
  c = Ok("LIST");
  EXPECT_FALSE(c.has_message);
  c = Ok("LIST 2");
  EXPECT_TRUE(c.has_message);
  EXPECT_EQ(c.message, 2u);
  c = Ok("RETR 007");
  EXPECT_EQ(c.message, 7u);
  // Views point into the line.
  const std::string line = "USER someone";
  c = Ok(line);
  EXPECT_EQ(c.argument.data(), line.data() + 5);
}

TEST(Pop3Command, HostileMessageNumbers) {
  for (std::string_view line :
       {"RETR -1", "RETR 1x", "RETR +1", "RETR 1.0", "RETR 0x1", "RETR ",
        "DELE -0", "LIST +2", "UIDL 1e3", "TOP x 1"}) {
    const CommandError e = Bad(line);
    EXPECT_TRUE(e.kind == CommandError::Kind::kBadMessageNumber ||
                e.kind == CommandError::Kind::kSyntax)
        << line;
  }
  // Out of range numbers parse (the session says "no such message").
  EXPECT_EQ(Ok("RETR 0").message, 0u);
  EXPECT_EQ(Ok("RETR 4294967296").message, 4294967296u);
  EXPECT_EQ(Ok("RETR 99999999999999999999").message,
            std::numeric_limits<std::uint64_t>::max());
  EXPECT_EQ(Ok("RETR 18446744073709551615").message,
            std::numeric_limits<std::uint64_t>::max());
  EXPECT_EQ(Ok("RETR 18446744073709551616").message,
            std::numeric_limits<std::uint64_t>::max());
  EXPECT_EQ(Ok("TOP 1 4294967295").top_lines, 4294967295u);
  EXPECT_EQ(Bad("TOP 1 4294967296").message, "invalid line count");
  EXPECT_EQ(Bad("TOP 1 99999999999").message, "invalid line count");
  EXPECT_EQ(Bad("TOP 1 -1").message, "invalid line count");
  EXPECT_EQ(Bad("TOP 1").message, "usage: TOP msg lines");
  EXPECT_EQ(Bad("TOP 1 2 3").message, "usage: TOP msg lines");
}

TEST(Pop3Command, SeparatorsAndCharacters) {
  EXPECT_EQ(Bad("").kind, CommandError::Kind::kEmpty);
  EXPECT_EQ(Bad("XTND").kind, CommandError::Kind::kUnknownCommand);
  EXPECT_EQ(Bad("ST").kind, CommandError::Kind::kUnknownCommand);
  EXPECT_EQ(Bad("STATS").kind, CommandError::Kind::kUnknownCommand);
  EXPECT_EQ(Bad(" STAT").kind, CommandError::Kind::kSyntax);
  EXPECT_EQ(Bad("RETR  1").kind, CommandError::Kind::kSyntax);
  EXPECT_EQ(Bad("STAT\tx").kind, CommandError::Kind::kBadCharacter);
  EXPECT_EQ(Bad(std::string_view("USER a\0b", 8)).kind,
            CommandError::Kind::kBadCharacter);
  EXPECT_EQ(Bad("USER \xc3\xa9").kind, CommandError::Kind::kBadCharacter);
  EXPECT_EQ(Bad("USER a\r").kind, CommandError::Kind::kBadCharacter);
  EXPECT_EQ(Bad("NOOP x").message, "no arguments allowed");
  EXPECT_EQ(Bad("USER").message, "usage: USER name");
  EXPECT_EQ(Bad("USER ").message, "missing argument");
  EXPECT_EQ(Bad("USER a b").message, "usage: USER name");
  EXPECT_EQ(Bad("PASS").message, "missing password");
  EXPECT_EQ(Bad("APOP a 123").message, "APOP digest must be 32 hex digits");
  EXPECT_EQ(Bad("APOP a c4c9334bac560ecc979e58001b3e22fg").message,
            "APOP digest must be 32 hex digits");
  EXPECT_EQ(Bad("AUTH PLAIN a b").kind, CommandError::Kind::kSyntax);
  // LENIENCY: trailing spaces.
  EXPECT_EQ(Ok("STAT   ").verb, Verb::kStat);
  EXPECT_EQ(Ok("RETR 1 ").message, 1u);
  EXPECT_EQ(Ok("AUTH").argument, "");
}

TEST(Pop3Command, Limits) {
  CommandLimits limits;
  limits.max_user_name = 4;
  limits.max_argument = 8;
  EXPECT_EQ(Ok("USER abcd", limits).argument, "abcd");
  EXPECT_EQ(Bad("USER abcde", limits).kind,
            CommandError::Kind::kArgumentTooLong);
  EXPECT_EQ(Bad("APOP abcde c4c9334bac560ecc979e58001b3e22fb", limits).kind,
            CommandError::Kind::kArgumentTooLong);
  EXPECT_EQ(Ok("PASS 12345678", limits).argument, "12345678");
  EXPECT_EQ(Bad("PASS 123456789", limits).kind,
            CommandError::Kind::kArgumentTooLong);
  EXPECT_EQ(Bad("AUTH PLAIN 123456789", limits).kind,
            CommandError::Kind::kArgumentTooLong);
}

TEST(Pop3Command, ErrorTextsNeverEchoTheLine) {
  for (std::string_view line : {"EVIL\x01", "USER <script>", "XYZW evil"}) {
    auto r = ParseCommand(line);
    if (auto* e = std::get_if<CommandError>(&r)) {
      EXPECT_EQ(e->message.find("evil"), std::string::npos);
      EXPECT_EQ(e->message.find('\r'), std::string::npos);
    }
  }
}

TEST(Pop3Command, FormatCommand) {
  EXPECT_EQ(FormatCommand(Verb::kStat), "STAT\r\n");
  EXPECT_EQ(FormatCommand(Verb::kRetr, "1"), "RETR 1\r\n");
  EXPECT_EQ(FormatCommand(Verb::kTop, "1", "0"), "TOP 1 0\r\n");
  // Round trip through the parser.
  const std::string line = FormatCommand(Verb::kApop, "u", std::string(32, 'a'));
  EXPECT_EQ(Ok(std::string_view(line).substr(0, line.size() - 2)).verb,
            Verb::kApop);
}

TEST(Pop3Command, ParseDecimal) {
  std::uint64_t v = 0;
  EXPECT_TRUE(ParseDecimal("0", &v));
  EXPECT_EQ(v, 0u);
  EXPECT_FALSE(ParseDecimal("", &v));
  EXPECT_FALSE(ParseDecimal("-1", &v));
  EXPECT_FALSE(ParseDecimal("+1", &v));
  EXPECT_TRUE(ParseDecimal(std::string(1000, '9'), &v));
  EXPECT_EQ(v, std::numeric_limits<std::uint64_t>::max());
}

}  // namespace
}  // namespace posthorn::pop3
