// send_mail — sends one message over SMTP with net::SendMessage.
//
// SYNOPSIS
//   send_mail --server HOST:PORT --from ADDR --to ADDR [--to ADDR ...]
//             [--starttls] [--tls-required] [--insecure] [--cafile FILE]
//             [--auth USER:PASS] [--plaintext-auth] [--helo NAME]
//             [--timeout SECONDS] FILE
//
// DESCRIPTION
//   Reads the message from FILE ("-" = stdin; LF line ends are sent as
//   CRLF, CRLF stays CRLF), sends it in one transaction and prints one
//   line per recipient and the final reply:
//     rcpt <b@example.net>: 250 2.1.5 Ok
//     final: 250 2.0.0 Ok: queued as ...
//   --starttls uses STARTTLS when the server offers it; --tls-required
//   fails (permanently) rather than send in plaintext. The certificate is
//   verified against the system store (plus --cafile) and the host name,
//   unless --insecure. --auth sends AUTH PLAIN/LOGIN, only over TLS
//   unless --plaintext-auth. --from "" sends the null path <>.
//
// EXIT STATUS (sysexits.h)
//   0 accepted (for at least one recipient); 75 EX_TEMPFAIL transient
//   (4xx, connection refused or lost, timeout: try later); 69
//   EX_UNAVAILABLE permanent (5xx); 65 EX_DATAERR a bad address; 66
//   EX_NOINPUT FILE unreadable; 64 EX_USAGE bad arguments; 70 other.

#include <sysexits.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "fmt/format.h"
#include "posthorn/net/send_message.h"
#include "posthorn/net/smtp_server.h"
#include "posthorn/smtp/client_session.h"
#include "posthorn/smtp/reply.h"

namespace posthorn::examples {
namespace {

constexpr std::string_view kUsage =
    "usage: send_mail --server HOST:PORT --from ADDR --to ADDR [--to ADDR...]\n"
    "                 [--starttls] [--tls-required] [--insecure]\n"
    "                 [--cafile FILE] [--auth USER:PASS] [--plaintext-auth]\n"
    "                 [--helo NAME] [--timeout SECONDS] FILE\n"
    "\n"
    "Sends FILE (\"-\" = stdin; LF line ends become CRLF) to the server and\n"
    "prints each recipient's reply and the final reply.\n"
    "Exit: 0 accepted, 75 try later, 69 refused, 65 bad address,\n"
    "66 FILE unreadable, 64 usage.\n";

// The message is read and sent in pieces of this size.
constexpr std::size_t kReadChunk = 64 * 1024;

[[noreturn]] void UsageError(std::string_view why) {
  std::fprintf(stderr, "send_mail: %.*s\n%.*s", static_cast<int>(why.size()),
               why.data(), static_cast<int>(kUsage.size()), kUsage.data());
  std::exit(EX_USAGE);
}

struct Config {
  std::string host;
  std::uint16_t port = 0;
  smtp::ClientEnvelope envelope;
  net::SendOptions options;
  std::string file;
  bool from_given = false;
};

Config ParseArguments(int argc, char** argv) {
  Config config;
  config.options.client.body_input = wire::EncoderInput::kLfToCrlf;
  bool starttls = false;
  bool tls_required = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const auto value = [&]() -> std::string_view {
      if (i + 1 >= argc) UsageError(fmt::format("{} needs a value", arg));
      return argv[++i];
    };
    if (arg == "--help" || arg == "-h") {
      std::fwrite(kUsage.data(), 1, kUsage.size(), stdout);
      std::exit(0);
    } else if (arg == "--server") {
      auto endpoint = net::ParseEndpoint(value());
      if (!endpoint.ok() || endpoint->second == 0) {
        UsageError("--server needs HOST:PORT");
      }
      config.host = endpoint->first;
      config.port = endpoint->second;
    } else if (arg == "--from") {
      config.envelope.mail_from = value();
      config.from_given = true;
    } else if (arg == "--to") {
      config.envelope.recipients.push_back(
          smtp::ClientRecipient{std::string(value()), {}, {}});
    } else if (arg == "--starttls") {
      starttls = true;
    } else if (arg == "--tls-required") {
      tls_required = true;
    } else if (arg == "--insecure") {
      config.options.verify_certificate = false;
    } else if (arg == "--cafile") {
      config.options.ca_file = value();
    } else if (arg == "--auth") {
      const std::string_view credential = value();
      const std::size_t colon = credential.find(':');
      if (colon == std::string_view::npos || colon == 0) {
        UsageError("--auth needs USER:PASS");
      }
      config.options.client.credentials = smtp::ClientCredentials{
          std::string(credential.substr(0, colon)),
          std::string(credential.substr(colon + 1)), {}};
    } else if (arg == "--plaintext-auth") {
      config.options.client.allow_plaintext_auth = true;
    } else if (arg == "--helo") {
      config.options.client.helo_name = value();
    } else if (arg == "--timeout") {
      const std::string text(value());
      char* end = nullptr;
      const long seconds = std::strtol(text.c_str(), &end, 10);
      if (end == text.c_str() || *end != '\0' || seconds <= 0 ||
          seconds > 86400) {
        UsageError("bad --timeout");
      }
      config.options.connect_timeout = std::chrono::seconds(seconds);
      config.options.reply_timeout = std::chrono::seconds(seconds);
    } else if (arg.size() > 1 && arg.front() == '-') {
      UsageError(fmt::format("unknown option \"{}\"", arg));
    } else if (config.file.empty()) {
      config.file = arg;
    } else {
      UsageError("only one FILE");
    }
  }
  if (config.host.empty()) UsageError("--server is required");
  if (!config.from_given) UsageError("--from is required");
  if (config.envelope.recipients.empty()) UsageError("--to is required");
  if (config.file.empty()) UsageError("FILE is required (\"-\" for stdin)");
  config.options.client.tls = tls_required ? smtp::TlsMode::kRequired
                              : starttls   ? smtp::TlsMode::kOpportunistic
                                           : smtp::TlsMode::kNone;
  return config;
}

std::string Describe(const smtp::Reply& reply) {
  std::string out = std::to_string(reply.code);
  if (!reply.enhanced.empty()) out += " " + reply.enhanced;
  for (std::size_t i = 0; i < reply.lines.size(); ++i) {
    out += i == 0 ? " " : " / ";
    out += reply.lines[i];
  }
  return out;
}

int Main(int argc, char** argv) {
  Config config = ParseArguments(argc, argv);
  std::signal(SIGPIPE, SIG_IGN);

  std::FILE* input = config.file == "-" ? stdin
                                        : std::fopen(config.file.c_str(), "rb");
  if (input == nullptr) {
    std::fprintf(stderr, "send_mail: %s: %s\n", config.file.c_str(),
                 std::strerror(errno));
    return EX_NOINPUT;
  }
  std::vector<char> buffer(kReadChunk);
  net::BodyReader reader = [&]() -> absl::StatusOr<std::string_view> {
    const std::size_t n = std::fread(buffer.data(), 1, buffer.size(), input);
    if (n == 0 && std::ferror(input)) {
      return absl::DataLossError(fmt::format("reading {}: {}", config.file,
                                             std::strerror(errno)));
    }
    return std::string_view(buffer.data(), n);
  };
  auto result = net::SendMessage(config.host, config.port, config.envelope,
                                 reader, config.options);
  if (input != stdin) std::fclose(input);

  if (!result.ok()) {
    std::fprintf(stderr, "send_mail: %s\n",
                 std::string(result.status().message()).c_str());
    switch (result.status().code()) {
      case absl::StatusCode::kInvalidArgument: return EX_DATAERR;
      case absl::StatusCode::kDataLoss: return EX_IOERR;
      default: return EX_SOFTWARE;
    }
  }
  for (const smtp::RecipientResult& recipient : result->recipients) {
    std::printf("rcpt <%s>: %s\n", recipient.address.c_str(),
                Describe(recipient.reply).c_str());
  }
  std::printf("final: %s\n", Describe(result->reply).c_str());
  std::fflush(stdout);
  switch (result->outcome) {
    case smtp::Outcome::kOk: return 0;
    case smtp::Outcome::kTransient: return EX_TEMPFAIL;
    case smtp::Outcome::kPermanent: return EX_UNAVAILABLE;
  }
  return EX_SOFTWARE;
}

}  // namespace
}  // namespace posthorn::examples

int main(int argc, char** argv) {
  return posthorn::examples::Main(argc, argv);
}
