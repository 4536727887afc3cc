// tools/popper/flags.cpp — getopt_long over popper's flags.

#include "tools/popper/flags.h"

#include <getopt.h>

#include <cstdio>
#include <string_view>

#include "fmt/format.h"
#include "posthorn/net/smtp_server.h"
#include "tools/common/args.h"
#include "tools/common/exit_codes.h"

namespace posthorn::tools {
namespace {

constexpr char kUsage[] =
    "usage: popper [-s] [-d] [-D] [-b dir] [-T seconds] [-t file] "
    "[-C conf]\n"
    "              [-l addr:port]... [-L addr:port]... "
    "[--tls-cert file --tls-key file]\n"
    "  no -l/-L/-D: one session on stdin/stdout (inetd)\n"
    "  -l addr:port  listen (\"127.0.0.1:110\", \"[::1]:110\"); "
    "-L: implicit TLS\n"
    "  -D            listen on the config's pop3_listen / pop3_tls_listen\n"
    "  -s stats line per session, -d protocol log, -b bulletin folder,\n"
    "  -T idle timeout, -t trace file, -C config file\n";

constexpr std::uint64_t kMaxTimeoutSeconds = 365ULL * 24 * 3600;

enum LongOption : int { kTlsCert = 1000, kTlsKey };

std::nullopt_t Usage(std::string_view problem) {
  fmt::print(stderr, "popper: {}\n{}", problem, kUsage);
  return std::nullopt;
}

}  // namespace

std::optional<PopperFlags> ParsePopperFlags(int argc, char** argv) {
  static const struct option kLong[] = {
      {"tls-cert", required_argument, nullptr, kTlsCert},
      {"tls-key", required_argument, nullptr, kTlsKey},
      {nullptr, 0, nullptr, 0},
  };
  PopperFlags flags;
  ::opterr = 0;  // our own messages
  ::optind = 1;
  int option;
  // '+': stop at the first operand (popper takes none: a usage error).
  while ((option = ::getopt_long(argc, argv, "+:sdDkb:T:t:C:l:L:", kLong,
                                 nullptr)) != -1) {
    const std::string_view value = ::optarg != nullptr ? ::optarg : "";
    switch (option) {
      case 's': flags.stats = true; break;
      case 'd': flags.debug = true; break;
      case 'D': flags.daemon = true; break;
      case 'k':
        fmt::print(stderr, "{}\n", kKerberosRefused);
        return std::nullopt;
      case 'b': flags.bulletin_dir = std::string(value); break;
      case 't': flags.trace_file = std::string(value); break;
      case 'C': flags.config = std::string(value); break;
      case 'T': {
        const auto seconds = ParseUnsigned(value, kMaxTimeoutSeconds);
        if (!seconds || *seconds == 0) {
          return Usage(fmt::format("-T \"{}\": a number of seconds "
                                   "(1 to {})",
                                   value, kMaxTimeoutSeconds));
        }
        flags.timeout = std::chrono::seconds(*seconds);
        break;
      }
      case 'l':
      case 'L': {
        auto endpoint = net::ParseEndpoint(value);
        if (!endpoint.ok()) {
          return Usage(fmt::format("-{}: {}", static_cast<char>(option),
                                   StatusText(endpoint.status())));
        }
        (option == 'l' ? flags.listen : flags.listen_tls)
            .push_back(std::string(value));
        break;
      }
      case kTlsCert: flags.tls_cert = std::string(value); break;
      case kTlsKey: flags.tls_key = std::string(value); break;
      case ':':
        if (::optopt != 0) {
          return Usage(fmt::format("-{} needs a value",
                                   static_cast<char>(::optopt)));
        }
        return Usage(fmt::format("{} needs a value", argv[::optind - 1]));
      default:
        if (::optopt != 0 && ::optopt != '?') {
          return Usage(fmt::format("unknown flag -{}",
                                   static_cast<char>(::optopt)));
        }
        return Usage(fmt::format("unknown flag \"{}\"", argv[::optind - 1]));
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
