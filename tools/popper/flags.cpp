// tools/popper/flags.cpp — popper's flag table, and getopt_long over an
// option string built from it.

#include "tools/popper/flags.h"

#include <getopt.h>

#include <cstdio>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include "fmt/format.h"
#include "posthorn/net/smtp_server.h"
#include "tools/common/args.h"
#include "tools/common/exit_codes.h"

namespace posthorn::tools {
namespace {

// The synopsis; the flag lines come from kFlags.
constexpr char kSynopsis[] =
    "usage: popper [-s] [-d] [-D] [-b dir] [-T seconds] [-t file] "
    "[-C conf]\n"
    "              [-l addr:port]... [-L addr:port]...\n"
    "              [--tls-cert file --tls-key file]\n"
    "  no -l, -L or -D: one session on stdin/stdout (inetd)\n"
    "flags:\n";

// Every flag getopt is told about; the parser refuses what is not here.
constexpr FlagSpec kFlags[] = {
    {"-s", "", "one Stats: log line per session"},
    {"-d", "", "protocol log (trace file, or stderr without -t)"},
    {"-D", "", "daemon on the config's pop3_listen / pop3_tls_listen"},
    {"-l", "addr:port", "daemon listening there (\"127.0.0.1:110\", "
                        "\"[::1]:110\")"},
    {"-L", "addr:port", "the same with implicit TLS (pop3s)"},
    {"-b", "dir", "bulletin folder (files NNNNN.name)"},
    {"-T", "seconds", "inactivity timeout, 1 to 31536000"},
    {"-t", "file", "trace file: every log line appended"},
    {"-C", "file", "configuration file"},
    {"--tls-cert", "file", "PEM certificate chain for STLS and -L"},
    {"--tls-key", "file", "PEM private key for STLS and -L"},
    {"-k", "", "Kerberos: refused"},
    {"-h", "", "this text"},
    {"--help", "", "this text"},
};

constexpr std::uint64_t kMaxTimeoutSeconds = 365ULL * 24 * 3600;

// getopt_long's value for the long option at kFlags[i].
constexpr int kLongBase = 1000;

std::nullopt_t Usage(std::string_view problem) {
  fmt::print(stderr, "popper: {}\n{}", problem, PopperUsage());
  return std::nullopt;
}

bool IsLetter(const FlagSpec& spec) {
  return spec.flag.size() == 2 && spec.flag[0] == '-' && spec.flag[1] != '-';
}

// getopt's view of kFlags: "+:" (stop at the first operand, report a
// missing value as ':') and the letters, the long options from the "--"
// rows. The names live as long as the object.
struct GetoptTable {
  std::string letters = "+:";
  std::vector<std::string> names;
  std::vector<struct option> longs;

  GetoptTable() {
    names.reserve(std::size(kFlags));
    for (std::size_t i = 0; i < std::size(kFlags); ++i) {
      const FlagSpec& spec = kFlags[i];
      const bool value = !spec.value_name.empty();
      if (IsLetter(spec)) {
        letters += spec.flag[1];
        if (value) letters += ':';
      } else if (spec.flag.starts_with("--")) {
        names.emplace_back(spec.flag.substr(2));
        longs.push_back({names.back().c_str(),
                         value ? required_argument : no_argument, nullptr,
                         kLongBase + static_cast<int>(i)});
      }
    }
    longs.push_back({nullptr, 0, nullptr, 0});
  }
};

// The table name of what getopt_long returned: "-s", "--tls-cert".
std::string FlagName(int option) {
  if (option >= kLongBase &&
      option < kLongBase + static_cast<int>(std::size(kFlags))) {
    return std::string(kFlags[option - kLongBase].flag);
  }
  return fmt::format("-{}", static_cast<char>(option));
}

}  // namespace

std::span<const FlagSpec> PopperFlagSpecs() { return kFlags; }

std::string_view PopperUsage() {
  static const std::string text =
      std::string(kSynopsis) + FormatFlagHelp(kFlags);
  return text;
}

std::optional<PopperFlags> ParsePopperCommandLine(int argc, char** argv) {
  static const GetoptTable table;
  PopperFlags flags;
  ::opterr = 0;  // our own messages
  ::optind = 0;  // 0: glibc starts over (the tests parse many times)
  int option;
  while ((option = ::getopt_long(argc, argv, table.letters.c_str(),
                                 table.longs.data(), nullptr)) != -1) {
    if (option == ':') {
      if (::optopt > 0 && ::optopt < kLongBase) {
        return Usage(fmt::format("-{} needs a value",
                                 static_cast<char>(::optopt)));
      }
      return Usage(fmt::format("{} needs a value", argv[::optind - 1]));
    }
    if (option == '?') {
      if (::optopt > 0 && ::optopt < kLongBase && ::optopt != '?') {
        return Usage(fmt::format("unknown flag -{}",
                                 static_cast<char>(::optopt)));
      }
      return Usage(fmt::format("unknown flag \"{}\"", argv[::optind - 1]));
    }
    const std::string name = FlagName(option);
    if (FindFlag(kFlags, name) == nullptr) {
      return Usage(fmt::format("unknown flag {}", name));
    }
    const std::string_view value = ::optarg != nullptr ? ::optarg : "";
    if (name == "-s") {
      flags.stats = true;
    } else if (name == "-d") {
      flags.debug = true;
    } else if (name == "-D") {
      flags.daemon = true;
    } else if (name == "-k") {
      fmt::print(stderr, "{}\n", kKerberosRefused);
      return std::nullopt;
    } else if (name == "-h" || name == "--help") {
      flags.help = true;
      return flags;
    } else if (name == "-b") {
      flags.bulletin_dir = std::string(value);
    } else if (name == "-t") {
      flags.trace_file = std::string(value);
    } else if (name == "-C") {
      flags.config = std::string(value);
    } else if (name == "-T") {
      const auto seconds = ParseUnsigned(value, kMaxTimeoutSeconds);
      if (!seconds || *seconds == 0) {
        return Usage(fmt::format("-T \"{}\": a number of seconds "
                                 "(1 to {})",
                                 value, kMaxTimeoutSeconds));
      }
      flags.timeout = std::chrono::seconds(*seconds);
    } else if (name == "-l" || name == "-L") {
      auto endpoint = net::ParseEndpoint(value);
      if (!endpoint.ok()) {
        return Usage(fmt::format("{}: {}", name,
                                 StatusText(endpoint.status())));
      }
      (name == "-l" ? flags.listen : flags.listen_tls)
          .push_back(std::string(value));
    } else if (name == "--tls-cert") {
      flags.tls_cert = std::string(value);
    } else if (name == "--tls-key") {
      flags.tls_key = std::string(value);
    } else {
      return Usage(fmt::format("unknown flag {}", name));
    }
  }
  if (::optind < argc) {
    return Usage(fmt::format("unexpected argument \"{}\"", argv[::optind]));
  }
  if (flags.tls_cert.has_value() != flags.tls_key.has_value()) {
    return Usage("--tls-cert and --tls-key go together");
  }
  if (flags.tls_cert && (flags.tls_cert->empty() || flags.tls_key->empty())) {
    return Usage("--tls-cert and --tls-key need file names");
  }
  return flags;
}

}  // namespace posthorn::tools
