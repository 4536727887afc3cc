// smtp_sink_server — accepts any mail and stores each message in a folder.
//
// SYNOPSIS
//   smtp_sink_server --listen ADDR:PORT [--listen ADDR:PORT ...]
//                    --dir FOLDER [--tls-cert FILE --tls-key FILE]
//                    [--max-size BYTES] [--no-store] [--received]
//                    [--auth USER:PASS] [--plaintext-auth]
//                    [--listen-tls ADDR:PORT] [--hostname NAME]
//                    [--timeout SECONDS] [--max-connections N]
//                    [--threads N]
//
// DESCRIPTION
//   A runnable example of net::SmtpServer. Every sender and recipient is
//   accepted. Each message becomes FOLDER/<name>.eml, exactly the bytes
//   received after dot-unstuffing (with --received, after a Received:
//   line this server adds), plus FOLDER/<name>.eml.env, a JSON object with
//   "mail_from" and "recipients" (see folder_sink.h). 250 is sent only
//   once both files and the folder are fsynced. --no-store counts and
//   discards (load tests); --dir is then optional.
//   Once bound, prints one "listening on ADDR:PORT" line per listener on
//   stdout (flushed): use port 0 and read it. SIGTERM / SIGINT stop it
//   gracefully (exit 0).
//   --tls-cert/--tls-key offer STARTTLS; --listen-tls adds an implicit-TLS
//   listener (printed as "listening on ADDR:PORT tls"). --auth offers AUTH
//   PLAIN/LOGIN with that one credential (over TLS only, unless
//   --plaintext-auth).
//
// EXIT STATUS (sysexits.h)
//   0 stopped by a signal; 64 bad arguments; 66 FOLDER unusable;
//   69 cannot listen; 70 anything else.
//
// SECURITY
//   Not a mail server: it stores whatever arrives from anyone who can
//   connect. Bind it to loopback.

#include <sys/resource.h>
#include <sysexits.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "folder_sink.h"
#include "fmt/format.h"
#include "json_text.h"
#include "posthorn/message/date.h"
#include "posthorn/net/smtp_server.h"
#include "posthorn/smtp/server_session.h"

namespace posthorn::examples {
namespace {

constexpr std::string_view kUsage =
    "usage: smtp_sink_server --listen ADDR:PORT [--listen ADDR:PORT ...]\n"
    "                        --dir FOLDER [--tls-cert FILE --tls-key FILE]\n"
    "                        [--max-size BYTES] [--no-store] [--received]\n"
    "                        [--auth USER:PASS] [--plaintext-auth]\n"
    "                        [--listen-tls ADDR:PORT] [--hostname NAME]\n"
    "                        [--timeout SECONDS] [--max-connections N]\n"
    "                        [--threads N] [--greet-pause MS]\n"
    "\n"
    "Accepts any mail and writes each message to FOLDER/<name>.eml (the\n"
    "bytes received, dot-unstuffed) with its envelope in <name>.eml.env\n"
    "(JSON: mail_from, recipients). Prints \"listening on ADDR:PORT\" per\n"
    "listener; port 0 picks a free port. SIGTERM stops it.\n"
    "  --no-store        count and discard messages (--dir not needed)\n"
    "  --received        prepend a Received: line to each stored message\n"
    "  --max-size BYTES  message size limit (SIZE), 0 = none\n"
    "  --auth USER:PASS  offer AUTH PLAIN/LOGIN with this credential\n"
    "  --plaintext-auth  allow AUTH without TLS\n"
    "  --greet-pause MS  wait before the greeting; a client that talks\n"
    "                    first gets 554 5.5.0 (PREGREET), 0 = greet at once\n";

struct Config {
  net::SmtpServerOptions server;
  std::string dir;
  bool store = true;
  bool received = false;
  std::optional<std::pair<std::string, std::string>> credential;
};

[[noreturn]] void UsageError(std::string_view why) {
  std::fprintf(stderr, "smtp_sink_server: %.*s\n%.*s",
               static_cast<int>(why.size()), why.data(),
               static_cast<int>(kUsage.size()), kUsage.data());
  std::exit(EX_USAGE);
}

std::uint64_t ParseNumber(std::string_view flag, std::string_view text,
                          std::uint64_t max) {
  if (text.empty() || text.size() > 19) UsageError(fmt::format("bad {}", flag));
  std::uint64_t value = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') UsageError(fmt::format("bad {}", flag));
    value = value * 10 + static_cast<std::uint64_t>(c - '0');
  }
  if (value > max) UsageError(fmt::format("{} too large", flag));
  return value;
}

Config ParseArguments(int argc, char** argv) {
  Config config;
  config.server.max_connections = 4096;
  std::optional<std::string> cert;
  std::optional<std::string> key;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const auto value = [&]() -> std::string_view {
      if (i + 1 >= argc) UsageError(fmt::format("{} needs a value", arg));
      return argv[++i];
    };
    if (arg == "--help" || arg == "-h") {
      std::fwrite(kUsage.data(), 1, kUsage.size(), stdout);
      std::exit(0);
    } else if (arg == "--listen") {
      config.server.listen.emplace_back(value());
    } else if (arg == "--listen-tls") {
      config.server.listen_tls.emplace_back(value());
    } else if (arg == "--dir") {
      config.dir = value();
    } else if (arg == "--tls-cert") {
      cert = std::string(value());
    } else if (arg == "--tls-key") {
      key = std::string(value());
    } else if (arg == "--max-size") {
      config.server.session.limits.max_message_size =
          ParseNumber(arg, value(), UINT64_MAX / 2);
    } else if (arg == "--no-store") {
      config.store = false;
    } else if (arg == "--received") {
      config.received = true;
    } else if (arg == "--auth") {
      const std::string_view credential = value();
      const std::size_t colon = credential.find(':');
      if (colon == std::string_view::npos || colon == 0) {
        UsageError("--auth needs USER:PASS");
      }
      config.credential.emplace(credential.substr(0, colon),
                                credential.substr(colon + 1));
    } else if (arg == "--plaintext-auth") {
      config.server.session.allow_plaintext_auth = true;
    } else if (arg == "--hostname") {
      config.server.session.hostname = value();
    } else if (arg == "--timeout") {
      config.server.idle_timeout =
          std::chrono::seconds(ParseNumber(arg, value(), 86400));
      if (config.server.idle_timeout.count() == 0) UsageError("--timeout 0");
    } else if (arg == "--max-connections") {
      config.server.max_connections = ParseNumber(arg, value(), 1'000'000);
      if (config.server.max_connections == 0) UsageError("--max-connections 0");
    } else if (arg == "--greet-pause") {
      config.server.greet_pause =
          std::chrono::milliseconds(ParseNumber(arg, value(), 60'000));
    } else if (arg == "--threads") {
      config.server.io_threads =
          static_cast<int>(ParseNumber(arg, value(), 64));
      if (config.server.io_threads == 0) UsageError("--threads 0");
    } else {
      UsageError(fmt::format("unknown argument \"{}\"", arg));
    }
  }
  if (config.server.listen.empty() && config.server.listen_tls.empty()) {
    UsageError("--listen is required");
  }
  for (const auto* list : {&config.server.listen, &config.server.listen_tls}) {
    for (const std::string& endpoint : *list) {
      if (!net::ParseEndpoint(endpoint).ok()) {
        UsageError(fmt::format("bad listen address \"{}\"", endpoint));
      }
    }
  }
  if (config.store && config.dir.empty()) UsageError("--dir is required");
  if (cert.has_value() != key.has_value()) {
    UsageError("--tls-cert and --tls-key go together");
  }
  if (cert) config.server.tls = net::TlsFiles{*cert, *key};
  if (!config.server.listen_tls.empty() && !cert) {
    UsageError("--listen-tls needs --tls-cert and --tls-key");
  }
  config.server.session.auth_enabled = config.credential.has_value();
  return config;
}

class SinkHandler final : public net::SmtpHandler {
 public:
  SinkHandler(const Config& config, Folder* folder)
      : config_(config), folder_(folder) {}

  smtp::Verdict OnAuth(const net::Peer& /*peer*/,
                       std::string_view /*mechanism*/,
                       std::string_view /*authzid*/, std::string_view username,
                       std::string_view password) override {
    if (config_.credential && username == config_.credential->first &&
        password == config_.credential->second) {
      return smtp::Verdict::Accept();
    }
    return smtp::Verdict::Reject(smtp::MakeReply(
        535, "5.7.8", "Authentication credentials invalid"));
  }

  std::unique_ptr<net::MessageSink> OpenMessage(
      const net::Peer& peer, const smtp::ServerSession& session) override {
    if (!config_.store) return std::make_unique<DiscardMessage>();
    const smtp::Envelope& envelope = session.envelope();
    std::string extra = ", \"helo\": ";
    AppendJsonString(envelope.helo_name, &extra);
    extra += ", \"peer\": ";
    AppendJsonString(peer.address, &extra);
    extra += ", \"protocol\": ";
    AppendJsonString(session.protocol_name(), &extra);
    std::string received;
    if (config_.received) received = ReceivedLine(peer, session);
    auto message = FolderMessage::Create(folder_, received, std::move(extra));
    if (!message.ok()) {
      std::fprintf(stderr, "smtp_sink_server: %s\n",
                   std::string(message.status().message()).c_str());
      return nullptr;  // 451
    }
    return std::move(*message);
  }

 private:
  std::string ReceivedLine(const net::Peer& peer,
                           const smtp::ServerSession& session) const {
    const smtp::Envelope& envelope = session.envelope();
    // RFC 5321 4.1.3: IPv6 address literals carry an "IPv6:" tag.
    const std::string address =
        peer.address.find(':') != std::string::npos ? "IPv6:" + peer.address
                                                    : peer.address;
    const std::string date =
        message::FormatDate(absl::Now(), absl::LocalTimeZone());
    smtp::ReceivedInfo info;
    info.helo_name = envelope.helo_name;
    info.client_address = address;
    info.by_hostname = session.options().hostname;
    info.protocol = session.protocol_name();
    if (envelope.recipients.size() == 1) {
      info.for_recipient = envelope.recipients.front().address;
    }
    info.date = date;
    return smtp::FormatReceived(info);
  }

  const Config& config_;
  Folder* folder_;
};

// 1,000 idle connections need more descriptors than the usual soft limit
// of 1024 leaves once the process has its own; take what the hard limit
// allows.
void RaiseDescriptorLimit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 &&
      limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
  }
}

int Main(int argc, char** argv) {
  Config config = ParseArguments(argc, argv);
  std::signal(SIGPIPE, SIG_IGN);
  RaiseDescriptorLimit();

  std::unique_ptr<Folder> folder;
  if (config.store) {
    auto opened = Folder::Open(config.dir);
    if (!opened.ok()) {
      std::fprintf(stderr, "smtp_sink_server: %s\n",
                   std::string(opened.status().message()).c_str());
      return EX_NOINPUT;
    }
    folder = std::move(*opened);
  }

  SinkHandler handler(config, folder.get());
  const std::size_t plain_listeners = config.server.listen.size();
  auto server = net::SmtpServer::Create(config.server, &handler);
  if (!server.ok()) {
    std::fprintf(stderr, "smtp_sink_server: %s\n",
                 std::string(server.status().message()).c_str());
    const auto code = server.status().code();
    return code == absl::StatusCode::kUnavailable ? EX_UNAVAILABLE
           : code == absl::StatusCode::kInvalidArgument ? EX_USAGE
                                                         : EX_SOFTWARE;
  }
  const std::vector<std::string> endpoints = (*server)->local_endpoints();
  for (std::size_t i = 0; i < endpoints.size(); ++i) {
    std::printf("listening on %s%s\n", endpoints[i].c_str(),
                i < plain_listeners ? "" : " tls");
  }
  std::fflush(stdout);

  const absl::Status run = (*server)->Run();
  const auto connections =
      static_cast<unsigned long long>((*server)->connections_accepted());
  const auto messages =
      static_cast<unsigned long long>((*server)->messages_accepted());
  std::fprintf(stderr, "smtp_sink_server: %llu connections, %llu messages\n",
               connections, messages);
  if (!run.ok()) {
    std::fprintf(stderr, "smtp_sink_server: %s\n",
                 std::string(run.message()).c_str());
    return EX_SOFTWARE;
  }
  return 0;
}

}  // namespace
}  // namespace posthorn::examples

int main(int argc, char** argv) {
  return posthorn::examples::Main(argc, argv);
}
