// tools/sendmail/flags.cpp — sendmail's flag table and grammar (getopt-like
// letters with sendmail's multi-letter -b, -o and -q forms) and argv[0] names.

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

// The synopsis; the flag lines come from kFlags.
constexpr char kSynopsis[] =
    "usage: sendmail [-t] [-i|-oi] [-f sender] [-F name] [-odb|-odi|-odq]\n"
    "                [-v] [-C conf] [-N notify] [-R full|hdrs] [-V envid]\n"
    "                [--] [recipient...] < message\n"
    "       sendmail -bd [-q<interval>] | -bs | -bp | -bi | -bh | -bH\n"
    "       sendmail -bv address...\n"
    "       sendmail -q[<interval>|R<domain>|I<id>]\n"
    "       mailq | newaliases | praliases [name...]\n"
    "       hoststat | purgestat | mailstats\n"
    "flags:\n";

// Every form the parser accepts; the parser refuses what is not here.
constexpr FlagSpec kFlags[] = {
    {"-bd", "", "SMTP daemon in the foreground (queue runs with -q)"},
    {"-bs", "", "one SMTP session on stdin/stdout"},
    {"-bp", "", "list the queue (mailq)"},
    {"-bi", "", "rebuild the alias database (newaliases)"},
    {"-bv", "", "show how the address arguments would be delivered"},
    {"-bh", "", "last connection to each remote host (hoststat)"},
    {"-bH", "", "clear the host status (purgestat)"},
    {"-bm", "", "read a message from stdin and queue it (the default)"},
    {"-q", "[interval]", "run the queue once, or every interval (-q30m)",
     true},
    {"-qR", "domain", "run once for the mail of one domain, due or not",
     true},
    {"-qI", "id", "run once for one queue id, due or not", true},
    {"-t", "", "recipients from To:, Cc:, Bcc: (Bcc: is removed)"},
    {"-i", "", "a line holding only '.' does not end the message"},
    {"-oi", "", "the same as -i"},
    {"-f", "sender", "envelope sender (<> is the null sender)"},
    {"-r", "sender", "the same as -f"},
    {"-F", "name", "full name for an added From:"},
    {"-odb", "", "queue, then deliver in the background (the default)"},
    {"-odd", "", "the same as -odb"},
    {"-odi", "", "deliver before exiting"},
    {"-odq", "", "queue only (the daemon or the next -q delivers)"},
    {"-N", "notify", "DSN notify: never, or success,failure,delay"},
    {"-R", "ret", "DSN return: full or hdrs"},
    {"-V", "envid", "DSN envelope id"},
    {"-B", "type", "7BIT or 8BITMIME (accepted, ignored)"},
    {"-U", "", "initial submission (accepted, ignored)"},
    {"-oem", "", "error mode: mail errors back (accepted, ignored)"},
    {"-oee", "", "error mode: mail errors back (accepted, ignored)"},
    {"-oep", "", "error mode: print errors (accepted, ignored)"},
    {"-oeq", "", "error mode: quiet (accepted, ignored)"},
    {"-oew", "", "error mode: write to the terminal (accepted, ignored)"},
    {"-om", "", "send to me too (accepted, ignored)"},
    {"-os", "", "queue before delivering (accepted; always so)"},
    {"-v", "", "log lines on stderr as well"},
    {"-C", "file", "configuration file"},
    {"-h", "[N]", "with a number: hop count (ignored); alone: this text"},
    {"--help", "", "this text"},
};

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
    fmt::print(stderr, "{}: {}\n{}", flags_.program, problem,
               SendmailUsage());
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
  // The forms below get the table name of the flag ("-bd", "-oi", "-f")
  // after it was found in kFlags.
  bool Mode(const std::string& name);
  bool Option(const std::string& name);
  bool Queue(std::string_view value);
  bool Switch(const std::string& name);
  bool HopCountOrHelp(std::string_view rest);
  bool Valued(const std::string& name, const std::string& value);
  bool Notify(const std::string& value);

  int argc_;
  const char* const* argv_;
  int index_ = 1;
  SendmailFlags flags_;
  std::optional<SendmailMode> b_mode_;
  bool help_ = false;
};

bool Parser::Mode(const std::string& name) {
  struct Form {
    std::string_view name;
    SendmailMode mode;
  };
  static constexpr Form kModes[] = {
      {"-bd", SendmailMode::kDaemon},     {"-bs", SendmailMode::kSmtpStdio},
      {"-bp", SendmailMode::kListQueue},  {"-bi", SendmailMode::kNewAliases},
      {"-bv", SendmailMode::kVerify},     {"-bh", SendmailMode::kHostStat},
      {"-bH", SendmailMode::kPurgeStat},  {"-bm", SendmailMode::kSubmit},
  };
  if (FindFlag(kFlags, name) != nullptr) {
    for (const Form& m : kModes) {
      if (m.name == name) {
        b_mode_ = m.mode;
        return true;
      }
    }
  }
  return Usage(fmt::format("unknown mode {}", name));
}

// -o options: the sendmail.cf options scripts still pass.
bool Parser::Option(const std::string& name) {
  if (FindFlag(kFlags, name) == nullptr) {
    return Usage(fmt::format("unknown option {}", name));
  }
  if (name == "-oi") {
    flags_.ignore_dots = true;
  } else if (name == "-odb" || name == "-odd") {
    flags_.delivery = DeliveryMode::kBackground;
  } else if (name == "-odi") {
    flags_.delivery = DeliveryMode::kInteractive;
  } else if (name == "-odq") {
    flags_.delivery = DeliveryMode::kQueueOnly;
  } else if (name == "-oem" || name == "-oee" || name == "-oep" ||
             name == "-oeq" || name == "-oew" || name == "-om" ||
             name == "-os") {
    // Error reporting mode, "me too", "save from": no meaning here.
  } else {
    return Usage(fmt::format("unknown option {}", name));
  }
  return true;
}

bool Parser::Queue(std::string_view value) {
  const bool selected =
      !value.empty() && (value.front() == 'R' || value.front() == 'I');
  const std::string name =
      selected ? fmt::format("-q{}", value.front()) : std::string("-q");
  if (FindFlag(kFlags, name) == nullptr) {
    return Usage(fmt::format("unknown flag \"-q{}\"", value));
  }
  flags_.queue_run = true;
  if (value.empty()) return true;
  if (selected) {
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

// The letters without a value.
bool Parser::Switch(const std::string& name) {
  if (name == "-i") {
    flags_.ignore_dots = true;
  } else if (name == "-t") {
    flags_.extract_recipients = true;
  } else if (name == "-v") {
    flags_.verbose = true;
  } else if (name == "-U") {
    // Initial submission (RFC 6409): what every submission is here.
  } else {
    return Usage(fmt::format("unknown flag \"{}\"", name));
  }
  return true;
}

// -hN / -h N: sendmail's hop count (accepted, ignored); -h alone: help.
bool Parser::HopCountOrHelp(std::string_view rest) {
  if (!rest.empty()) {
    if (!ParseUnsigned(rest, kMaxHopCount)) {
      return Usage(fmt::format("-h{}: a hop count", rest));
    }
    return true;
  }
  if (index_ + 1 < argc_ && ParseUnsigned(argv_[index_ + 1], kMaxHopCount)) {
    ++index_;
    return true;
  }
  help_ = true;
  return true;
}

// The letters that take a value (attached or the next argument).
bool Parser::Valued(const std::string& name, const std::string& value) {
  if (name == "-C") {
    flags_.config = value;
  } else if (name == "-f" || name == "-r") {
    if (value.find_first_of("\r\n") != std::string::npos) {
      return Usage(fmt::format("{}: a line break in the sender", name));
    }
    flags_.sender = value;
  } else if (name == "-F") {
    if (value.find_first_of("\r\n") != std::string::npos) {
      return Usage("-F: a line break in the name");
    }
    flags_.full_name = value;
  } else if (name == "-B") {
    const std::string body = absl::AsciiStrToUpper(value);
    if (body != "7BIT" && body != "8BITMIME") {
      return Usage(fmt::format("-B {}: 7BIT or 8BITMIME", value));
    }
    // The queue keeps bytes as they are: nothing to record.
  } else if (name == "-N") {
    return Notify(value);
  } else if (name == "-R") {
    const std::string ret = absl::AsciiStrToLower(value);
    if (ret != "full" && ret != "hdrs") {
      return Usage(fmt::format("-R {}: full or hdrs", value));
    }
    flags_.ret_headers_only = ret == "hdrs";
  } else if (name == "-V") {
    if (value.empty() || value.size() > kMaxEnvidLength) {
      return Usage(fmt::format("-V: 1 to {} characters", kMaxEnvidLength));
    }
    for (const char c : value) {
      if (c <= 0x20 || c >= 0x7f) {
        return Usage("-V: printable characters without spaces");
      }
    }
    flags_.envid = value;
  } else {
    return Usage(fmt::format("unknown flag \"{}\"", name));
  }
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
  // rest of the argument (or the next one). -b, -o and -q are the first
  // letter of a longer form ("-bd", "-odq", "-qR...").
  for (std::size_t i = 1; i < arg.size(); ++i) {
    const char letter = arg[i];
    const std::string_view rest = arg.substr(i + 1);
    switch (letter) {
      case 'b':
        if (rest.empty()) return Usage("-b needs a mode (-bd, -bp, ...)");
        return Mode(fmt::format("-b{}", rest));
      case 'o': {
        auto value = Value(letter, rest);
        return value && Option(fmt::format("-o{}", *value));
      }
      case 'q': return Queue(rest);
      default: break;
    }
    const std::string name = fmt::format("-{}", letter);
    const FlagSpec* spec = FindFlag(kFlags, name);
    if (spec == nullptr) {
      if (i == 1) return Usage(fmt::format("unknown flag \"{}\"", arg));
      return Usage(fmt::format("unknown flag -{} in \"{}\"", letter, arg));
    }
    if (spec->value_name.empty()) {
      if (!Switch(name)) return false;
      continue;
    }
    if (name == "-h") return HopCountOrHelp(rest);
    auto value = Value(letter, rest);
    return value && Valued(name, *value);
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
    if (arg.size() < 2 || arg.front() != '-') break;
    if (arg[1] == '-') {
      // Long flags: only --help.
      if (FindFlag(kFlags, arg) == nullptr || arg != "--help") {
        Usage(fmt::format("unknown flag \"{}\"", arg));
        return std::nullopt;
      }
      help_ = true;
      continue;
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

std::span<const FlagSpec> SendmailFlagSpecs() { return kFlags; }

std::string_view SendmailUsage() {
  static const std::string text =
      std::string(kSynopsis) + FormatFlagHelp(kFlags);
  return text;
}

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
