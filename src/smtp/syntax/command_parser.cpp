// ParseCommand(): one SMTP command line (RFC 5321 4.1.1) to a Command.
//
// The success path allocates nothing: every field of Command is a view into
// the line or a plain value. Only a CommandError (its human text) allocates.
//
// Reply codes chosen for refusals (each names its reason in the text):
//   500 5.5.2  empty line, unknown verb, NUL / control / 8-bit in the verb
//   501 5.5.4  bad argument syntax; NUL / control / 8-bit in the arguments
//              (also a non-ASCII path without SMTPUTF8); bad parameter value;
//              duplicate parameter
//   501 5.5.2  AUTH initial response that is not base64
//   501 5.1.7  bad reverse path (MAIL), 501 5.1.3 bad forward path (RCPT);
//              "Path too long" over 256 octets (RFC 5321 4.5.3.1.10)
//   553 5.1.7 / 553 5.1.3  local part over 64 or domain over 255 octets
//              (mailbox name not allowed, RFC 5321 4.5.3.1.1 / 4.5.3.1.2)
//   555 5.5.4  unknown ESMTP parameter, or one not valid on this verb

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "fmt/format.h"
#include "posthorn/smtp/command.h"
#include "smtp/syntax/char_class.h"
#include "smtp/syntax/esmtp_params.h"
#include "smtp/syntax/path_syntax.h"

namespace posthorn::smtp {
namespace {

using namespace syntax_internal;  // NOLINT: internal helpers of this area

// RFC 3030: chunk-size = 1*DIGIT; refused beyond 2^63 (and 20 digits).
constexpr std::uint64_t kMaxBdatSize = std::uint64_t{1} << 63;
constexpr std::size_t kMaxBdatDigits = 20;
// RFC 4954 4: sasl-mech = 1*20(UPPER-ALPHA / DIGIT / "-" / "_")
constexpr std::size_t kMaxSaslMech = 20;
// Longest parameter keyword echoed back in a reply.
constexpr std::size_t kMaxEchoedKeyword = 32;

using Result = std::variant<Command, CommandError>;

Result Error(int code, std::string_view enhanced, std::string message) {
  return CommandError{code, enhanced, std::move(message)};
}

constexpr std::uint32_t Key(const char (&s)[5]) {
  return (static_cast<std::uint32_t>(s[0]) << 24) |
         (static_cast<std::uint32_t>(s[1]) << 16) |
         (static_cast<std::uint32_t>(s[2]) << 8) |
         static_cast<std::uint32_t>(s[3]);
}

// Verbs are case-insensitive: letters are folded with | 0x20 into one
// 32-bit key and dispatched by a switch.
std::optional<Verb> LookupVerb(std::string_view w) {
  if (w.size() == 4) {
    std::uint32_t k = 0;
    for (char c : w) {
      if (!Is(c, kAlpha)) return std::nullopt;
      k = (k << 8) |
          static_cast<std::uint32_t>(static_cast<unsigned char>(c) | 0x20u);
    }
    switch (k) {
      case Key("helo"):
        return Verb::kHelo;
      case Key("ehlo"):
        return Verb::kEhlo;
      case Key("mail"):
        return Verb::kMail;
      case Key("rcpt"):
        return Verb::kRcpt;
      case Key("data"):
        return Verb::kData;
      case Key("bdat"):
        return Verb::kBdat;
      case Key("rset"):
        return Verb::kRset;
      case Key("noop"):
        return Verb::kNoop;
      case Key("quit"):
        return Verb::kQuit;
      case Key("vrfy"):
        return Verb::kVrfy;
      case Key("expn"):
        return Verb::kExpn;
      case Key("help"):
        return Verb::kHelp;
      case Key("etrn"):
        return Verb::kEtrn;
      case Key("auth"):
        return Verb::kAuth;
      default:
        return std::nullopt;
    }
  }
  if (w.size() == 8 && EqualsLower(w, "starttls")) return Verb::kStartTls;
  return std::nullopt;
}

std::string PathMessage(Verb verb, const PathError& e) {
  const char* what = verb == Verb::kMail ? "Bad sender address syntax"
                                         : "Bad recipient address syntax";
  if (e.has_char) return fmt::format("{}: '{}' {}", what, e.ch, e.text);
  return fmt::format("{}: {}", what, e.text);
}

Result PathFailure(Verb verb, const PathError& e) {
  std::string_view enhanced = verb == Verb::kMail ? "5.1.7" : "5.1.3";
  return Error(e.code, enhanced, PathMessage(verb, e));
}

Result ParamFailure(const ParamError& e) {
  if (e.keyword.empty()) return Error(e.code, e.enhanced, e.text);
  return Error(
      e.code, e.enhanced,
      fmt::format("{}: {}", e.text, e.keyword.substr(0, kMaxEchoedKeyword)));
}

// MAIL FROM:<reverse-path> [SP Mail-parameters]
// RCPT TO:<forward-path> [SP Rcpt-parameters]
// `args` is the line after the verb and its spaces, trailing spaces trimmed.
Result ParseMailOrRcpt(Command* cmd, std::string_view args,
                       const CommandOptions& options) {
  const bool mail = cmd->verb == Verb::kMail;
  const std::string_view keyword = mail ? "from:" : "to:";
  if (args.size() < keyword.size() ||
      !EqualsLower(args.substr(0, keyword.size()), keyword)) {
    return Error(
        501, "5.5.4",
        mail ? "Syntax: MAIL FROM:<address>" : "Syntax: RCPT TO:<address>");
  }
  std::size_t pos = keyword.size();
  // LENIENCY: "MAIL FROM: <a@b>" (spaces after the colon).
  while (pos < args.size() && args[pos] == ' ') ++pos;
  if (pos == args.size()) {
    return Error(
        501, "5.5.4",
        mail ? "Syntax: MAIL FROM:<address>" : "Syntax: RCPT TO:<address>");
  }
  PathError path_error;
  if (args[pos] != '<') {
    path_error.text = "address must be in angle brackets";
    return PathFailure(cmd->verb, path_error);
  }
  if (!ParsePath(args, &pos, mail ? PathKind::kReverse : PathKind::kForward,
                 &cmd->path, &path_error)) {
    return PathFailure(cmd->verb, path_error);
  }
  const std::string_view rest = args.substr(pos);
  if (!rest.empty() && rest.front() != ' ') {
    if (Is(rest.front(), kEightBit)) {
      path_error.text = "8-bit character not allowed here";
    } else {
      path_error.text = "not allowed here";
      path_error.ch = rest.front();
      path_error.has_char = true;
    }
    return PathFailure(cmd->verb, path_error);
  }
  ParamError param_error;
  bool utf8_allowed;
  if (mail) {
    if (!ParseMailParams(rest, &cmd->mail, &param_error)) {
      return ParamFailure(param_error);
    }
    utf8_allowed = cmd->mail.smtputf8;
  } else {
    if (!ParseRcptParams(rest, &cmd->rcpt, &param_error)) {
      return ParamFailure(param_error);
    }
    utf8_allowed = options.smtputf8;
  }
  if (cmd->path.utf8 && !utf8_allowed) {
    // RFC 6531 3.4: non-ASCII addresses only in an SMTPUTF8 transaction.
    return Error(501, "5.5.4",
                 fmt::format("{}: non-ASCII address without SMTPUTF8",
                             mail ? "Bad sender address syntax"
                                  : "Bad recipient address syntax"));
  }
  return std::move(*cmd);
}

// RFC 1985: "ETRN" SP [ "@" / "#" ] domain-or-queue
bool IsEtrnArgument(std::string_view arg) {
  if (arg.empty()) return false;
  if (arg.front() == '#') {
    if (arg.size() < 2) return false;
    return arg.find(' ') == std::string_view::npos;
  }
  if (arg.front() == '@') arg.remove_prefix(1);
  return IsValidDomain(arg);
}

// RFC 4954 4: "AUTH" SP sasl-mech [SP initial-response]
//   initial-response = base64 / "="
Result ParseAuth(Command* cmd, std::string_view args) {
  const std::size_t sp = args.find(' ');
  const std::string_view mech = args.substr(0, sp);
  bool mech_ok = !mech.empty() && mech.size() <= kMaxSaslMech;
  for (char c : mech) mech_ok = mech_ok && Is(c, kSaslMech);
  if (!mech_ok) {
    return Error(501, "5.5.4", "Syntax: AUTH mechanism [initial-response]");
  }
  cmd->argument = mech;
  if (sp != std::string_view::npos) {
    std::size_t i = sp;
    while (i < args.size() && args[i] == ' ') ++i;
    const std::string_view initial = args.substr(i);
    if (initial.find(' ') != std::string_view::npos) {
      return Error(501, "5.5.4", "Syntax: AUTH mechanism [initial-response]");
    }
    for (char c : initial) {
      if (!Is(c, kBase64)) {
        return Error(501, "5.5.2", "Invalid base64 data in initial response");
      }
    }
    cmd->auth_initial_response = initial;
  }
  return std::move(*cmd);
}

// RFC 3030: "BDAT" SP chunk-size [ SP end-marker ]
//   chunk-size = 1*DIGIT
//   end-marker = "LAST"
Result ParseBdat(Command* cmd, std::string_view args) {
  std::size_t i = 0;
  std::uint64_t size = 0;
  while (i < args.size() && Is(args[i], kDigit)) {
    if (i >= kMaxBdatDigits) {
      return Error(501, "5.5.4", "Invalid BDAT chunk size");
    }
    const auto d = static_cast<std::uint64_t>(args[i] - '0');
    if (size > (kMaxBdatSize - d) / 10) {
      return Error(501, "5.5.4", "Invalid BDAT chunk size");
    }
    size = size * 10 + d;
    ++i;
  }
  if (i == 0) return Error(501, "5.5.4", "Syntax: BDAT size [LAST]");
  std::string_view rest = args.substr(i);
  if (!rest.empty()) {
    if (rest.front() != ' ')
      return Error(501, "5.5.4", "Syntax: BDAT size [LAST]");
    while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
    if (!EqualsLower(rest, "last")) {
      return Error(501, "5.5.4", "Syntax: BDAT size [LAST]");
    }
    cmd->bdat_last = true;
  }
  cmd->bdat_size = size;
  return std::move(*cmd);
}

}  // namespace

std::string_view VerbName(Verb verb) {
  switch (verb) {
    case Verb::kHelo:
      return "HELO";
    case Verb::kEhlo:
      return "EHLO";
    case Verb::kMail:
      return "MAIL";
    case Verb::kRcpt:
      return "RCPT";
    case Verb::kData:
      return "DATA";
    case Verb::kBdat:
      return "BDAT";
    case Verb::kRset:
      return "RSET";
    case Verb::kNoop:
      return "NOOP";
    case Verb::kQuit:
      return "QUIT";
    case Verb::kVrfy:
      return "VRFY";
    case Verb::kExpn:
      return "EXPN";
    case Verb::kHelp:
      return "HELP";
    case Verb::kEtrn:
      return "ETRN";
    case Verb::kStartTls:
      return "STARTTLS";
    case Verb::kAuth:
      return "AUTH";
  }
  return "?";
}

std::variant<Command, CommandError> ParseCommand(
    std::string_view line, const CommandOptions& options) {
  if (line.empty()) return Error(500, "5.5.2", "Error: bad syntax");
  std::size_t sp = line.find(' ');
  if (sp == std::string_view::npos) sp = line.size();
  const std::string_view word = line.substr(0, sp);
  if (word.empty()) return Error(500, "5.5.2", "Error: bad syntax");
  for (char c : word) {
    if (c == '\0') {
      return Error(500, "5.5.2", "Error: NUL character in command");
    }
    if (Is(c, kControl)) {
      return Error(500, "5.5.2", "Error: control character in command");
    }
    if (Is(c, kEightBit)) {
      return Error(500, "5.5.2", "Error: 8-bit character in command");
    }
  }
  const std::optional<Verb> verb = LookupVerb(word);
  if (!verb) return Error(500, "5.5.2", "Error: command not recognized");

  // One pass over the arguments for bytes never allowed in a command.
  bool eight_bit = false;
  for (std::size_t i = sp; i < line.size(); ++i) {
    const auto cls = kCharClass[static_cast<unsigned char>(line[i])];
    if (cls & (kControl | kEightBit)) {
      if (cls & kEightBit) {
        eight_bit = true;
      } else {
        return Error(501, "5.5.4",
                     line[i] == '\0' ? "NUL character in arguments"
                                     : "Control character in arguments");
      }
    }
  }
  std::size_t begin = sp;
  while (begin < line.size() && line[begin] == ' ') ++begin;
  std::size_t end = line.size();
  while (end > begin && line[end - 1] == ' ') --end;  // trailing spaces
  const std::string_view args = line.substr(begin, end - begin);

  Command cmd{};
  cmd.verb = *verb;
  if (eight_bit && *verb != Verb::kMail && *verb != Verb::kRcpt) {
    return Error(501, "5.5.4", "8-bit character in arguments");
  }
  switch (*verb) {
    case Verb::kHelo:
    case Verb::kEhlo: {
      const std::string_view name = VerbName(*verb);
      if (args.empty()) {
        return Error(501, "5.5.4", fmt::format("Syntax: {} hostname", name));
      }
      if (!options.lenient_helo && !IsValidDomain(args)) {
        return Error(501, "5.5.4", fmt::format("Invalid {} hostname", name));
      }
      cmd.argument = args;
      return cmd;
    }
    case Verb::kMail:
    case Verb::kRcpt:
      return ParseMailOrRcpt(&cmd, args, options);
    case Verb::kData:
    case Verb::kRset:
    case Verb::kQuit:
    case Verb::kStartTls:
      if (!args.empty()) {
        return Error(
            501, "5.5.4",
            fmt::format("Syntax: {} takes no arguments", VerbName(*verb)));
      }
      return cmd;
    case Verb::kNoop:
    case Verb::kHelp:
      cmd.argument = args;
      return cmd;
    case Verb::kVrfy:
    case Verb::kExpn:
      if (args.empty()) {
        return Error(501, "5.5.4",
                     fmt::format("Syntax: {} address", VerbName(*verb)));
      }
      cmd.argument = args;
      return cmd;
    case Verb::kEtrn:
      if (!IsEtrnArgument(args)) {
        return Error(501, "5.5.4", "Syntax: ETRN domain");
      }
      cmd.argument = args;
      return cmd;
    case Verb::kAuth:
      return ParseAuth(&cmd, args);
    case Verb::kBdat:
      return ParseBdat(&cmd, args);
  }
  return Error(500, "5.5.2", "Error: command not recognized");
}

}  // namespace posthorn::smtp
