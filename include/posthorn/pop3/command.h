// posthorn/pop3/command.h — POP3 command lines: keywords and arguments.
//
// PURPOSE
//   ParseCommand() turns one command line (without its line end) into a
//   Command whose string_views point into that line, or into a
//   CommandError whose text the server sends after "-ERR ". Message
//   numbers are parsed here (digits only, without overflow); whether a
//   number names an existing, undeleted message is the session's check.
//   FormatCommand() is the client's side.
//
// STANDARDS
//   RFC 1939 section 3 (keyword, single SP between arguments, arguments of
//   printable ASCII), sections 4-7 (the commands), section 9 (PASS: "a POP3
//   server may treat spaces in the argument as part of the password");
//   RFC 1460 LAST; RFC 2449 (CAPA; section 4: a command line is at most 255
//   octets with its CRLF, an argument at most 255 octets); RFC 2595 STLS;
//   RFC 5034 AUTH (sasl-mech SP initial-response, "=" is an empty one).
//
//     command   = keyword *( SP argument ) CRLF
//     keyword   = 3*4 VCHAR     (case-insensitive)
//     argument  = 1*VCHAR       (printable ASCII, no SP)
//     msg       = 1*DIGIT       (RFC 1939: "expressed in base-10")
//
// STRICTNESS
//   - Keywords are case-insensitive; an unknown keyword is kUnknownCommand.
//   - Exactly one SP separates keyword and arguments; an empty argument
//     (two SPs, a leading SP) is a syntax error. LENIENCY: trailing SPs at
//     the end of the line are ignored (telnet users), except for PASS whose
//     argument is the rest of the line verbatim.
//   - Message numbers: decimal digits only. "+1", "-1", "1x", "1.0", " 1"
//     are syntax errors. The value saturates at UINT64_MAX, so
//     "99999999999999999999" is parsed without overflow into a number that
//     names no message. "0" parses (as 0) and names no message either.
//   - TOP n m: m is decimal digits only ("-1" refused); a huge m saturates
//     and means "the whole body".
//   - NUL, control bytes (including a stray CR or LF) and 8-bit bytes are
//     refused anywhere in the line.
//   - Arguments over CommandLimits are refused (kArgumentTooLong); the user
//     name has its own, smaller limit.
//
// LIMITS
//   See CommandLimits. ParseCommand allocates nothing when it succeeds.

#ifndef POSTHORN_POP3_COMMAND_H_
#define POSTHORN_POP3_COMMAND_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

namespace posthorn::pop3 {

enum class Verb : std::uint8_t {
  // AUTHORIZATION
  kUser, kPass, kApop, kAuth, kStls,
  // TRANSACTION
  kStat, kList, kRetr, kDele, kNoop, kLast, kRset, kTop, kUidl,
  // any state
  kCapa, kQuit,
};
// "USER", "STLS", ...
std::string_view VerbName(Verb verb);

// RFC 1939: message numbers are 1-based; the session checks the range.
inline constexpr std::uint64_t kNoMessageNumber = 0;

struct Command {
  Verb verb = Verb::kNoop;
  // USER name, PASS password (rest of the line), APOP name, AUTH mechanism.
  std::string_view argument;
  // APOP digest (32 hex digits), AUTH initial response ("=" = empty).
  std::string_view argument2;
  // LIST / UIDL (optional), RETR, DELE, TOP (required). Saturated at
  // UINT64_MAX. has_message says whether it was given.
  bool has_message = false;
  std::uint64_t message = kNoMessageNumber;
  // TOP's line count, saturated at UINT64_MAX.
  std::uint64_t top_lines = 0;
};

struct CommandError {
  enum class Kind : std::uint8_t {
    kEmpty,            // an empty line
    kUnknownCommand,   // not a POP3 keyword
    kSyntax,           // wrong arguments (missing, extra, malformed)
    kBadMessageNumber, // a message number that is not 1*DIGIT
    kBadCharacter,     // NUL, control or 8-bit byte
    kArgumentTooLong,  // over CommandLimits
  };
  Kind kind;
  // The text after "-ERR " (no CR or LF; never echoes the line).
  std::string message;
};

// TOP's line count: at most this (RFC 1939 leaves it unbounded; a count
// beyond any real message is refused with "-ERR invalid line count").
inline constexpr std::uint64_t kMaxTopLines = 4294967295u;

struct CommandLimits {
  // RFC 2449 section 4: 255 octets per argument.
  std::size_t max_argument = 255;
  // USER / APOP / AUTH names: user names are checked again by the store
  // before they touch a path; this keeps absurd ones out of logs.
  std::size_t max_user_name = 64;
};

// Parses one command line (without CRLF). Views point into `line`.
std::variant<Command, CommandError> ParseCommand(
    std::string_view line, const CommandLimits& limits = {});

// The client's side: "RETR 1\r\n". Arguments must already be valid (the
// client session checks them).
std::string FormatCommand(Verb verb, std::string_view argument = {},
                          std::string_view argument2 = {});

// Parses 1*DIGIT into *value with saturation; false on anything else.
bool ParseDecimal(std::string_view text, std::uint64_t* value);

}  // namespace posthorn::pop3

#endif  // POSTHORN_POP3_COMMAND_H_
