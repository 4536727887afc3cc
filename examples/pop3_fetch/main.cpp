// pop3_fetch — downloads a POP3 maildrop into a folder with
// net::FetchMaildrop.
//
// SYNOPSIS
//   pop3_fetch [--stls | --tls] [--apop] [--plaintext-auth] [--delete]
//              [--cafile FILE] [--insecure] [--timeout SECONDS]
//              [--max-size OCTETS] --user USER HOST:PORT DIR
//
// DESCRIPTION
//   Logs in as USER (the password or APOP secret from $POP3_PASSWORD, else
//   one line of standard input), lists the maildrop and writes every
//   message to DIR/<uid>.eml (temporary file, fsync, rename; the uid made
//   safe for a file name), exactly as the server stores it (CRLF line
//   ends). A message whose file exists already is not downloaded again,
//   so a re-run fetches only new mail. --delete removes from the server
//   what is safely in DIR (written now or before); the server applies
//   that at QUIT, and on any error nothing is deleted. Prints one line per
//   message written or failed, then a summary:
//     pop3_fetch: 127.0.0.1:1100: 3 messages, 2 stored (1234 octets),
//     1 skipped, 0 failed, 3 deleted
//
//   --stls requires STLS (RFC 2595); --tls is implicit TLS (port 995).
//   The certificate is checked against the system store (plus --cafile)
//   and the host name unless --insecure. USER/PASS or AUTH PLAIN need TLS
//   unless --plaintext-auth (e.g. on loopback); --apop sends an MD5
//   digest of the greeting's timestamp and the secret instead.
//   --max-size leaves larger messages (by LIST size) on the server.
//
// SECURITY
//   The password is never taken from the command line (visible in ps).
//   File names come from the server's uids only through the escape of
//   folder_sink.h: a uid like "../x" becomes "%2E.%2Fx.eml".
//
// EXIT STATUS (sysexits.h)
//   0 every wanted message stored; 75 EX_TEMPFAIL a network problem, a
//   timeout, a server error or a message that failed (try later); 77
//   EX_NOPERM login refused; 69 EX_UNAVAILABLE STLS or a plaintext login
//   not possible; 73 EX_CANTCREAT DIR unusable; 64 EX_USAGE bad arguments;
//   70 EX_SOFTWARE other.

#include <sysexits.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "fmt/format.h"
#include "folder_sink.h"
#include "posthorn/net/pop3_fetch.h"

namespace posthorn::examples {
namespace {

constexpr std::string_view kUsage =
    "usage: pop3_fetch [--stls | --tls] [--apop] [--plaintext-auth]\n"
    "                  [--delete] [--cafile FILE] [--insecure]\n"
    "                  [--timeout SECONDS] [--max-size OCTETS]\n"
    "                  --user USER HOST:PORT DIR\n"
    "\n"
    "Downloads every message of the maildrop to DIR/<uid>.eml (messages\n"
    "already there are skipped); --delete removes what is stored from the\n"
    "server. The password comes from $POP3_PASSWORD or one stdin line.\n"
    "Exit: 0 done, 75 try later, 77 login refused, 69 TLS or plaintext\n"
    "login not possible, 73 DIR unusable, 64 usage.\n";

// The longest password line read from stdin.
constexpr std::size_t kMaxPasswordLine = 1024;

[[noreturn]] void UsageError(std::string_view why) {
  std::fprintf(stderr, "pop3_fetch: %.*s\n%.*s", static_cast<int>(why.size()),
               why.data(), static_cast<int>(kUsage.size()), kUsage.data());
  std::exit(EX_USAGE);
}

std::uint64_t ParseNumber(std::string_view flag, std::string_view text,
                          std::uint64_t max) {
  const std::string copy(text);
  char* end = nullptr;
  errno = 0;
  const unsigned long long value = std::strtoull(copy.c_str(), &end, 10);
  if (copy.empty() || copy.front() == '-' || end != copy.c_str() + copy.size() ||
      errno != 0 || value == 0 || value > max) {
    UsageError(fmt::format("bad {} \"{}\"", flag, text));
  }
  return value;
}

struct Config {
  net::FetchOptions options;
  std::string folder;
};

Config ParseArguments(int argc, char** argv) {
  Config config;
  bool stls = false;
  bool tls = false;
  std::string server;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const auto value = [&]() -> std::string_view {
      if (i + 1 >= argc) UsageError(fmt::format("{} needs a value", arg));
      return argv[++i];
    };
    if (arg == "--help" || arg == "-h") {
      std::fwrite(kUsage.data(), 1, kUsage.size(), stdout);
      std::exit(0);
    } else if (arg == "--stls") {
      stls = true;
    } else if (arg == "--tls") {
      tls = true;
    } else if (arg == "--apop") {
      config.options.apop = true;
    } else if (arg == "--plaintext-auth") {
      config.options.allow_plaintext_auth = true;
    } else if (arg == "--delete") {
      config.options.delete_after = true;
    } else if (arg == "--cafile") {
      config.options.ca_file = value();
    } else if (arg == "--insecure") {
      config.options.verify_peer = false;
    } else if (arg == "--user") {
      config.options.user = value();
    } else if (arg == "--timeout") {
      config.options.timeout =
          std::chrono::seconds(ParseNumber(arg, value(), 86400));
    } else if (arg == "--max-size") {
      config.options.max_message_size =
          ParseNumber(arg, value(), std::uint64_t{1} << 40);
    } else if (arg.size() > 1 && arg.front() == '-') {
      UsageError(fmt::format("unknown option \"{}\"", arg));
    } else if (server.empty()) {
      server = arg;
    } else if (config.folder.empty()) {
      config.folder = arg;
    } else {
      UsageError("too many arguments");
    }
  }
  if (stls && tls) UsageError("--stls and --tls exclude each other");
  if (config.options.user.empty()) UsageError("--user is required");
  if (server.empty() || config.folder.empty()) {
    UsageError("HOST:PORT and DIR are required");
  }
  config.options.server = server;
  config.options.security = tls    ? net::FetchOptions::Security::kImplicitTls
                            : stls ? net::FetchOptions::Security::kStls
                                   : net::FetchOptions::Security::kNone;
  return config;
}

// $POP3_PASSWORD, else the first line of stdin (without its line end).
std::string ReadPassword() {
  if (const char* env = std::getenv("POP3_PASSWORD"); env != nullptr) {
    return env;
  }
  std::string line;
  int c;
  while ((c = std::getchar()) != EOF && c != '\n') {
    if (line.size() >= kMaxPasswordLine) {
      std::fprintf(stderr, "pop3_fetch: password line too long\n");
      std::exit(EX_USAGE);
    }
    line += static_cast<char>(c);
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

int ExitCodeFor(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kUnauthenticated:
      return EX_NOPERM;
    case absl::StatusCode::kInvalidArgument:
      return EX_USAGE;
    case absl::StatusCode::kFailedPrecondition:
      return EX_UNAVAILABLE;
    case absl::StatusCode::kInternal:
      return EX_SOFTWARE;
    default:
      return EX_TEMPFAIL;
  }
}

int Main(int argc, char** argv) {
  Config config = ParseArguments(argc, argv);
  std::signal(SIGPIPE, SIG_IGN);
  config.options.password = ReadPassword();

  absl::StatusOr<FolderSink> sink = FolderSink::Open(config.folder);
  if (!sink.ok()) {
    std::fprintf(stderr, "pop3_fetch: %s\n",
                 std::string(sink.status().message()).c_str());
    return EX_CANTCREAT;
  }
  absl::StatusOr<net::FetchResult> result =
      net::FetchMaildrop(config.options, *sink);
  if (!result.ok()) {
    std::fprintf(stderr, "pop3_fetch: %s\n",
                 std::string(result.status().message()).c_str());
    if (result.status().code() == absl::StatusCode::kFailedPrecondition) {
      std::fprintf(stderr,
                   "pop3_fetch: (see --stls, --tls, --apop, "
                   "--plaintext-auth)\n");
    }
    return ExitCodeFor(result.status());
  }
  for (const net::FetchedMessage& message : result->details) {
    const std::string id =
        message.info.uid.empty() ? "-" : message.info.uid;
    switch (message.state) {
      case net::FetchedMessage::State::kStored:
        std::printf("stored %llu %s (%llu octets)%s\n",
                    static_cast<unsigned long long>(message.info.number),
                    id.c_str(),
                    static_cast<unsigned long long>(message.octets),
                    message.deleted ? ", deleted" : "");
        break;
      case net::FetchedMessage::State::kFailed:
        std::printf("failed %llu %s: %s\n",
                    static_cast<unsigned long long>(message.info.number),
                    id.c_str(), std::string(message.error.message()).c_str());
        break;
      case net::FetchedMessage::State::kTooLarge:
        std::printf("too large %llu %s (%llu octets)\n",
                    static_cast<unsigned long long>(message.info.number),
                    id.c_str(),
                    static_cast<unsigned long long>(message.info.size));
        break;
      default:
        break;  // already stored or skipped: not news
    }
  }
  std::printf(
      "pop3_fetch: %s: %zu messages, %zu stored (%llu octets), %zu "
      "skipped, %zu failed, %zu deleted%s\n",
      config.options.server.c_str(), result->messages, result->stored,
      static_cast<unsigned long long>(result->octets), result->skipped,
      result->failed, result->deleted,
      result->uids_usable ? "" : " (server uids unusable)");
  std::fflush(stdout);
  return result->failed == 0 ? 0 : EX_TEMPFAIL;
}

}  // namespace
}  // namespace posthorn::examples

int main(int argc, char** argv) {
  return posthorn::examples::Main(argc, argv);
}
