// tools/sendmail/flags.cpp — sendmail's flag grammar (getopt-like letters
// with sendmail's multi-letter -b, -o and -q values) and argv[0] names.

#include "tools/sendmail/flags.h"

#include <cstdio>
#include <string>
#include <string_view>

#include "absl/strings/ascii.h"
#include "fmt/format.h"
#include "tools/common/args.h"
#include "tools/common/config.h"

namespace posthorn::tools {
namespace {

constexpr char kUsage[] =
    "usage: sendmail [-t] [-i|-oi] [-f sender] [-F name] [-odb|-odi|-odq]\n"
    "                [-v] [-C conf] [-N notify] [-R full|hdrs] [-V envid]\n"
    "                [--] [recipient...] < message\n"
    "       sendmail -bd [-q<interval>]    SMTP daemon, queue runs\n"
    "       sendmail -bs                   one SMTP session on stdin/stdout\n"
    "       sendmail -q[<interval>|R<domain>|I<id>]  run the queue\n"
    "       sendmail -bp (mailq)           list the queue\n"
    "       sendmail -bi (newaliases)      rebuild the alias database\n"
    "       sendmail -bv address...        show how addresses are delivered\n"
    "       sendmail -bh (hoststat) | -bH (purgestat)   host status\n"
    "       praliases [name...] | mailstats\n"
    "  -t recipients from To/Cc/Bcc, -f/-r envelope sender (<> = null),\n"
    "  -F full name, -i/-oi a lone '.' is data, -odq queue only, -odi\n"
    "  deliver before exiting, -odb deliver in the background (default),\n"
    "  -v log to stderr, -C config file, -h/--help this text\n";

// Longest -V envid (RFC 3461 4.4 allows 100 characters).
constexpr std::size_t kMaxEnvidLength = 100;
constexpr std::uint64_t kMaxHopCount = 1000000;

std::string BaseName(std::string_view path) {
  const std::size_t slash = path.rfind('/');
  return std::string(slash == std::string_view::npos ? path
                                                     : path.substr(slash + 1));
}

class Parser {
 public:
  Parser(int argc, const char* const* argv) : argc_(argc), argv_(argv) {}

  std::optional<SendmailFlags> Run();

 private:
  bool Usage(std::string_view problem) {
    fmt::print(stderr, "{}: {}\n{}", flags_.program, problem, kUsage);
    return false;
  }
  // The value of a flag: the rest of this argument, else the next one.
  std::optional<std::string> Value(char letter, std::string_view rest) {
    if (!rest.empty()) return std::string(rest);
    if (index_ + 1 < argc_) return std::string(argv_[++index_]);
    Usage(fmt::format("-{} needs a value", letter));
    return std::nullopt;
  }
  // One argument starting with '-'; false after a usage error.
  bool Flag(std::string_view arg);
  bool Mode(std::string_view value);
  bool Option(std::string_view value);
  bool Queue(std::string_view value);
  bool Notify(const std::string& value);

  int argc_;
  const char* const* argv_;
  int index_ = 1;
  SendmailFlags flags_;
  std::optional<SendmailMode> b_mode_;
  bool help_ = false;
};

bool Parser::Mode(std::string_view value) {
  struct Letter {
    std::string_view letter;
    SendmailMode mode;
  };
  static constexpr Letter kModes[] = {
      {"d", SendmailMode::kDaemon},     {"s", SendmailMode::kSmtpStdio},
      {"p", SendmailMode::kListQueue},  {"i", SendmailMode::kNewAliases},
      {"v", SendmailMode::kVerify},     {"h", SendmailMode::kHostStat},
      {"H", SendmailMode::kPurgeStat},  {"m", SendmailMode::kSubmit},
  };
  for (const Letter& m : kModes) {
    if (m.letter == value) {
      b_mode_ = m.mode;
      return true;
    }
  }
  return Usage(fmt::format("unknown mode -b{}", value));
}

// -o options: the sendmail.cf options scripts still pass.
bool Parser::Option(std::string_view value) {
  if (value == "i") {
    flags_.ignore_dots = true;
  } else if (value == "db" || value == "dd") {
    flags_.delivery = DeliveryMode::kBackground;
  } else if (value == "di") {
    flags_.delivery = DeliveryMode::kInteractive;
  } else if (value == "dq") {
    flags_.delivery = DeliveryMode::kQueueOnly;
  } else if (value == "em" || value == "ee" || value == "ep" ||
             value == "eq" || value == "ew" || value == "m" || value == "s") {
    // Error reporting mode, "me too", "save from": no meaning here.
  } else {
    return Usage(fmt::format("unknown option -o{}", value));
  }
  return true;
}

bool Parser::Queue(std::string_view value) {
  flags_.queue_run = true;
  if (value.empty()) return true;
  if (value.front() == 'R' || value.front() == 'I') {
    const std::string_view what = value.substr(1);
    if (what.empty() || what.find_first_of(" \t/") != std::string_view::npos) {
      return Usage(fmt::format("-q{} needs a {} attached (-q{}example.org)",
                               value.front(),
                               value.front() == 'R' ? "domain" : "queue id",
                               value.front()));
    }
    (value.front() == 'R' ? flags_.queue_domain : flags_.queue_id) =
        std::string(what);
    return true;
  }
  auto interval = ParseQueueInterval(value);
  if (!interval) {
    return Usage(fmt::format(
        "-q{}: an interval (-q30m, -q10s, -q1h), -qR<domain> or -qI<id>",
        value));
  }
  flags_.queue_interval = interval;
  return true;
}

bool Parser::Notify(const std::string& value) {
  const std::string lower = absl::AsciiStrToLower(value);
  if (lower != "never") {
    std::string_view rest = lower;
    while (true) {
      const std::size_t comma = rest.find(',');
      const std::string_view item = rest.substr(0, comma);
      if (item != "success" && item != "failure" && item != "delay") {
        return Usage(fmt::format(
            "-N {}: never, or a list of success, failure, delay", value));
      }
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
  flags_.notify = lower;
  return true;
}

bool Parser::Flag(std::string_view arg) {
  // Letters may be grouped ("-ti"); a letter taking a value takes the
  // rest of the argument (or the next one).
  for (std::size_t i = 1; i < arg.size(); ++i) {
    const char letter = arg[i];
    const std::string_view rest = arg.substr(i + 1);
    switch (letter) {
      case 'i': flags_.ignore_dots = true; continue;
      case 't': flags_.extract_recipients = true; continue;
      case 'v': flags_.verbose = true; continue;
      case 'U': continue;  // initial submission: the default here
      case 'b': {
        if (rest.empty()) return Usage("-b needs a mode (-bd, -bp, ...)");
        return Mode(rest);
      }
      case 'o': {
        auto value = Value(letter, rest);
        return value && Option(*value);
      }
      case 'q': return Queue(rest);
      case 'h': {
        // -hN / -h N: sendmail's hop count; -h alone: help.
        if (!rest.empty()) {
          if (!ParseUnsigned(rest, kMaxHopCount)) {
            return Usage(fmt::format("-h{}: a hop count", rest));
          }
          return true;
        }
        if (index_ + 1 < argc_ &&
            ParseUnsigned(argv_[index_ + 1], kMaxHopCount)) {
          ++index_;
          return true;
        }
        help_ = true;
        return true;
      }
      default: break;
    }
    // Letters that take a value.
    if (letter != 'C' && letter != 'f' && letter != 'r' && letter != 'F' &&
        letter != 'B' && letter != 'N' && letter != 'R' && letter != 'V') {
      if (i == 1) return Usage(fmt::format("unknown flag \"{}\"", arg));
      return Usage(fmt::format("unknown flag -{} in \"{}\"", letter, arg));
    }
    auto value = Value(letter, rest);
    if (!value) return false;
    switch (letter) {
      case 'C': flags_.config = *value; break;
      case 'f':
      case 'r':
        if (value->find_first_of("\r\n") != std::string::npos) {
          return Usage(fmt::format("-{}: a line break in the sender", letter));
        }
        flags_.sender = *value;
        break;
      case 'F':
        if (value->find_first_of("\r\n") != std::string::npos) {
          return Usage("-F: a line break in the name");
        }
        flags_.full_name = *value;
        break;
      case 'B': {
        const std::string body = absl::AsciiStrToUpper(*value);
        if (body != "7BIT" && body != "8BITMIME") {
          return Usage(fmt::format("-B {}: 7BIT or 8BITMIME", *value));
        }
        break;  // the queue keeps bytes as they are: nothing to record
      }
      case 'N':
        if (!Notify(*value)) return false;
        break;
      case 'R': {
        const std::string ret = absl::AsciiStrToLower(*value);
        if (ret != "full" && ret != "hdrs") {
          return Usage(fmt::format("-R {}: full or hdrs", *value));
        }
        flags_.ret_headers_only = ret == "hdrs";
        break;
      }
      case 'V':
        if (value->empty() || value->size() > kMaxEnvidLength) {
          return Usage(fmt::format("-V: 1 to {} characters", kMaxEnvidLength));
        }
        for (const char c : *value) {
          if (c <= 0x20 || c >= 0x7f) {
            return Usage("-V: printable characters without spaces");
          }
        }
        flags_.envid = *value;
        break;
      default: break;
    }
    return true;
  }
  return true;
}

std::optional<SendmailFlags> Parser::Run() {
  const std::string name = argc_ > 0 ? BaseName(argv_[0]) : "sendmail";
  struct Name {
    std::string_view name;
    SendmailMode mode;
  };
  static constexpr Name kNames[] = {
      {"mailq", SendmailMode::kListQueue},
      {"newaliases", SendmailMode::kNewAliases},
      {"praliases", SendmailMode::kPrintAliases},
      {"hoststat", SendmailMode::kHostStat},
      {"purgestat", SendmailMode::kPurgeStat},
      {"mailstats", SendmailMode::kMailStats},
  };
  std::optional<SendmailMode> name_mode;
  for (const Name& n : kNames) {
    if (n.name == name) name_mode = n.mode;
  }
  flags_.program = name_mode ? name : "sendmail";

  for (; index_ < argc_; ++index_) {
    const std::string_view arg = argv_[index_];
    if (arg == "--") {
      ++index_;
      break;
    }
    if (arg == "--help") {
      help_ = true;
      continue;
    }
    if (arg.size() < 2 || arg.front() != '-') break;
    if (arg[1] == '-') {
      Usage(fmt::format("unknown flag \"{}\"", arg));
      return std::nullopt;
    }
    if (!Flag(arg)) return std::nullopt;
  }
  for (; index_ < argc_; ++index_) flags_.arguments.emplace_back(argv_[index_]);

  if (help_) {
    flags_.mode = SendmailMode::kHelp;
    return flags_;
  }
  if (name_mode) {
    flags_.mode = *name_mode;
  } else if (b_mode_) {
    flags_.mode = *b_mode_;
  } else if (flags_.queue_run) {
    flags_.mode = SendmailMode::kQueueRun;
  }
  if (flags_.mode == SendmailMode::kSubmit && flags_.queue_run) {
    // "-bm -q": sendmail runs the queue.
    flags_.mode = SendmailMode::kQueueRun;
  }
  if (flags_.mode == SendmailMode::kDaemon &&
      (!flags_.queue_domain.empty() || !flags_.queue_id.empty())) {
    Usage("-bd takes -q<interval>, not -qR or -qI");
    return std::nullopt;
  }
  if (flags_.mode == SendmailMode::kQueueRun && flags_.queue_interval &&
      (!flags_.queue_domain.empty() || !flags_.queue_id.empty())) {
    Usage("one of -q<interval>, -qR<domain>, -qI<id>");
    return std::nullopt;
  }
  const bool takes_arguments = flags_.mode == SendmailMode::kSubmit ||
                               flags_.mode == SendmailMode::kVerify ||
                               flags_.mode == SendmailMode::kPrintAliases;
  if (!takes_arguments && !flags_.arguments.empty()) {
    Usage(fmt::format("unexpected argument \"{}\"", flags_.arguments.front()));
    return std::nullopt;
  }
  if (flags_.mode == SendmailMode::kVerify && flags_.arguments.empty()) {
    Usage("-bv needs addresses");
    return std::nullopt;
  }
  if (flags_.mode == SendmailMode::kSubmit && flags_.arguments.empty() &&
      !flags_.extract_recipients) {
    Usage("no recipients (give them, or -t to take them from the header)");
    return std::nullopt;
  }
  return flags_;
}

}  // namespace

std::string_view SendmailUsage() { return kUsage; }

std::optional<SendmailFlags> ParseSendmailFlags(int argc,
                                                const char* const* argv) {
  return Parser(argc, argv).Run();
}

std::optional<std::chrono::seconds> ParseQueueInterval(std::string_view text) {
  auto duration = ParseDuration(text);
  if (!duration.ok() || duration->count() < 1) return std::nullopt;
  return *duration;
}

}  // namespace posthorn::tools
