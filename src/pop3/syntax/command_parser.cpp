// POP3 command lines; see posthorn/pop3/command.h.
//
// One table row per keyword says which arguments it takes; one small
// function per argument shape checks them. Nothing is allocated on
// success: the Command's views point into the caller's line.

#include <array>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <variant>

#include "posthorn/pop3/command.h"

namespace posthorn::pop3 {
namespace {

// RFC 1939 section 3: "keywords and arguments consist of printable ASCII
// characters".
bool IsVchar(char c) { return c > 0x20 && c < 0x7f; }

char Upper(char c) { return c >= 'a' && c <= 'z' ? char(c - 'a' + 'A') : c; }

enum class Shape : std::uint8_t {
  kNone,          // no argument
  kName,          // USER name
  kRestOfLine,    // PASS string (spaces are part of it)
  kNameDigest,    // APOP name digest
  kMechanism,     // AUTH [mechanism [initial-response]]
  kOptionalMsg,   // LIST [msg], UIDL [msg]
  kMsg,           // RETR msg, DELE msg
  kMsgLines,      // TOP msg n
};

struct Row {
  std::string_view name;
  Verb verb;
  Shape shape;
};

constexpr std::array<Row, 16> kTable = {{
    {"USER", Verb::kUser, Shape::kName},
    {"PASS", Verb::kPass, Shape::kRestOfLine},
    {"APOP", Verb::kApop, Shape::kNameDigest},
    {"AUTH", Verb::kAuth, Shape::kMechanism},
    {"STLS", Verb::kStls, Shape::kNone},
    {"STAT", Verb::kStat, Shape::kNone},
    {"LIST", Verb::kList, Shape::kOptionalMsg},
    {"RETR", Verb::kRetr, Shape::kMsg},
    {"DELE", Verb::kDele, Shape::kMsg},
    {"NOOP", Verb::kNoop, Shape::kNone},
    {"LAST", Verb::kLast, Shape::kNone},
    {"RSET", Verb::kRset, Shape::kNone},
    {"TOP", Verb::kTop, Shape::kMsgLines},
    {"UIDL", Verb::kUidl, Shape::kOptionalMsg},
    {"CAPA", Verb::kCapa, Shape::kNone},
    {"QUIT", Verb::kQuit, Shape::kNone},
}};

CommandError Error(CommandError::Kind kind, std::string_view text) {
  return CommandError{kind, std::string(text)};
}

const Row* FindKeyword(std::string_view word) {
  if (word.size() < 3 || word.size() > 4) return nullptr;
  for (const Row& row : kTable) {
    if (row.name.size() != word.size()) continue;
    bool same = true;
    for (std::size_t i = 0; i < word.size() && same; ++i) {
      same = Upper(word[i]) == row.name[i];
    }
    if (same) return &row;
  }
  return nullptr;
}

// Splits "a b c" at single SPs. False on an empty token (two SPs).
struct Tokens {
  std::array<std::string_view, 3> items;
  std::size_t count = 0;
  bool too_many = false;
};
bool Split(std::string_view args, Tokens* out) {
  while (!args.empty()) {
    const std::size_t sp = args.find(' ');
    const std::string_view token = args.substr(0, sp);
    if (token.empty()) return false;
    if (out->count == out->items.size()) {
      out->too_many = true;
      return true;
    }
    out->items[out->count++] = token;
    if (sp == std::string_view::npos) break;
    args.remove_prefix(sp + 1);
    if (args.empty()) return false;  // a trailing SP was trimmed before
  }
  return true;
}

bool IsHex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
         (c >= 'A' && c <= 'F');
}

}  // namespace

std::string_view VerbName(Verb verb) {
  for (const Row& row : kTable) {
    if (row.verb == verb) return row.name;
  }
  return "?";
}

// msg = 1*DIGIT, saturating instead of overflowing.
bool ParseDecimal(std::string_view text, std::uint64_t* value) {
  if (text.empty()) return false;
  constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();
  std::uint64_t v = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') return false;
    const auto digit = static_cast<std::uint64_t>(c - '0');
    v = v > (kMax - digit) / 10 ? kMax : v * 10 + digit;
  }
  *value = v;
  return true;
}

std::variant<Command, CommandError> ParseCommand(std::string_view line,
                                                 const CommandLimits& limits) {
  using Kind = CommandError::Kind;
  if (line.empty()) return Error(Kind::kEmpty, "empty command");
  for (const char c : line) {
    if (c != ' ' && !IsVchar(c)) {
      return Error(Kind::kBadCharacter,
                   "invalid character in command (printable ASCII only)");
    }
  }
  const std::size_t sp = line.find(' ');
  const Row* row = FindKeyword(line.substr(0, sp));
  if (row == nullptr) {
    return Error(line[0] == ' ' ? Kind::kSyntax : Kind::kUnknownCommand,
                 "unknown command");
  }
  Command cmd;
  cmd.verb = row->verb;
  std::string_view args =
      sp == std::string_view::npos ? std::string_view() : line.substr(sp + 1);

  // PASS keeps its argument verbatim (RFC 1939 section 7 / 9).
  if (row->shape == Shape::kRestOfLine) {
    if (args.empty()) return Error(Kind::kSyntax, "missing password");
    if (args.size() > limits.max_argument) {
      return Error(Kind::kArgumentTooLong, "password too long");
    }
    cmd.argument = args;
    return cmd;
  }
  // LENIENCY: trailing spaces (see the header).
  while (!args.empty() && args.back() == ' ') args.remove_suffix(1);
  if (sp != std::string_view::npos && args.empty() &&
      row->shape != Shape::kNone && row->shape != Shape::kOptionalMsg &&
      row->shape != Shape::kMechanism) {
    return Error(Kind::kSyntax, "missing argument");
  }
  Tokens tokens;
  if (!Split(args, &tokens)) {
    return Error(Kind::kSyntax, "arguments must be separated by one space");
  }
  for (std::size_t i = 0; i < tokens.count; ++i) {
    if (tokens.items[i].size() > limits.max_argument) {
      return Error(Kind::kArgumentTooLong, "argument too long");
    }
  }
  const std::size_t n = tokens.too_many ? tokens.items.size() + 1 : tokens.count;
  auto want = [&](std::size_t min, std::size_t max) {
    return n >= min && n <= max;
  };
  auto message = [&](std::string_view text, std::uint64_t* out) {
    return ParseDecimal(text, out);
  };

  switch (row->shape) {
    case Shape::kNone:
      if (!want(0, 0)) return Error(Kind::kSyntax, "no arguments allowed");
      return cmd;
    case Shape::kName:
      if (!want(1, 1)) return Error(Kind::kSyntax, "usage: USER name");
      if (tokens.items[0].size() > limits.max_user_name) {
        return Error(Kind::kArgumentTooLong, "user name too long");
      }
      cmd.argument = tokens.items[0];
      return cmd;
    case Shape::kNameDigest: {
      if (!want(2, 2)) return Error(Kind::kSyntax, "usage: APOP name digest");
      if (tokens.items[0].size() > limits.max_user_name) {
        return Error(Kind::kArgumentTooLong, "user name too long");
      }
      const std::string_view digest = tokens.items[1];
      bool hex = digest.size() == 32;
      for (std::size_t i = 0; hex && i < digest.size(); ++i) {
        hex = IsHex(digest[i]);
      }
      if (!hex) {
        return Error(Kind::kSyntax, "APOP digest must be 32 hex digits");
      }
      cmd.argument = tokens.items[0];
      cmd.argument2 = digest;
      return cmd;
    }
    case Shape::kMechanism:
      // "AUTH" alone lists the mechanisms (RFC 1734 practice).
      if (!want(0, 2)) {
        return Error(Kind::kSyntax, "usage: AUTH mechanism [initial-response]");
      }
      if (n >= 1) cmd.argument = tokens.items[0];
      if (n == 2) cmd.argument2 = tokens.items[1];
      return cmd;
    case Shape::kOptionalMsg:
      if (!want(0, 1)) return Error(Kind::kSyntax, "too many arguments");
      if (n == 1) {
        if (!message(tokens.items[0], &cmd.message)) {
          return Error(Kind::kBadMessageNumber, "invalid message number");
        }
        cmd.has_message = true;
      }
      return cmd;
    case Shape::kMsg:
      if (!want(1, 1)) return Error(Kind::kSyntax, "one message number required");
      if (!message(tokens.items[0], &cmd.message)) {
        return Error(Kind::kBadMessageNumber, "invalid message number");
      }
      cmd.has_message = true;
      return cmd;
    case Shape::kMsgLines:
      if (!want(2, 2)) return Error(Kind::kSyntax, "usage: TOP msg lines");
      if (!message(tokens.items[0], &cmd.message)) {
        return Error(Kind::kBadMessageNumber, "invalid message number");
      }
      cmd.has_message = true;
      // No message has 2^32 lines: a larger count is a client bug or a
      // probe, answered like a bad number, never taken as "everything".
      if (!ParseDecimal(tokens.items[1], &cmd.top_lines) ||
          cmd.top_lines > kMaxTopLines) {
        return Error(Kind::kSyntax, "invalid line count");
      }
      return cmd;
    case Shape::kRestOfLine:
      break;
  }
  return Error(Kind::kSyntax, "syntax error");
}

std::string FormatCommand(Verb verb, std::string_view argument,
                          std::string_view argument2) {
  std::string line(VerbName(verb));
  if (!argument.empty()) {
    line += ' ';
    line.append(argument.data(), argument.size());
  }
  if (!argument2.empty()) {
    line += ' ';
    line.append(argument2.data(), argument2.size());
  }
  line += "\r\n";
  return line;
}

}  // namespace posthorn::pop3
