// FetchMaildrop: one POP3 session over TCP (STLS or implicit TLS
// optional) that downloads a maildrop into a FetchSink, driving
// pop3::ClientSession. See posthorn/net/pop3_fetch.h.
//
// The session, in commands:
//   greeting, CAPA, [STLS, CAPA], login        (pop3::ClientSession)
//   UIDL, LIST                                 (pipelined when offered)
//   RETR n ..., and after each RETR whose End() returned OK: DELE n
//     (when delete_after); with PIPELINING at most kMaxInFlight of these
//     are outstanding, else one at a time
//   QUIT                                       (after every answer)
//
// Whatever goes wrong on the way ends the loop and drops the connection
// without QUIT, so the server's UPDATE never runs and nothing is deleted
// (RFC 1939 section 6). Every wait is bounded by options.timeout.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include <asio/co_spawn.hpp>
#include <asio/connect.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>
#include <openssl/evp.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "fmt/format.h"
#include "net/client/watchdog.h"
#include "net/transport/tcp_transport.h"
#include "net/transport/tls_context.h"
#include "posthorn/net/pop3_fetch.h"
#include "posthorn/net/smtp_server.h"  // ParseEndpoint
#include "posthorn/pop3/client_session.h"

namespace posthorn::net {
namespace {

// Server bytes are read in pieces of this size; a message reaches the sink
// in chunks no larger than one piece.
constexpr std::size_t kReadBuffer = 16 * 1024;
// RETR and DELE commands outstanding at once when the server offers
// PIPELINING. Bounded so the commands we write can never fill both socket
// buffers while the server is busy writing answers to us (a write/write
// deadlock: we write all output before we read).
constexpr std::size_t kMaxInFlight = 16;
// RFC 1939 section 7: a unique-id is 1 to 70 characters 0x21..0x7E.
constexpr std::size_t kMaxUidLength = 70;

bool IsValidUid(std::string_view uid) {
  if (uid.empty() || uid.size() > kMaxUidLength) return false;
  return std::all_of(uid.begin(), uid.end(), [](char c) {
    return c >= 0x21 && c <= 0x7e;
  });
}

// "-ERR [IN-USE] maildrop locked", as the server sent it.
std::string DescribeResponse(const pop3::Response& response) {
  std::string out = response.ok() ? "+OK" : "-ERR";
  if (!response.code.empty()) out += fmt::format(" [{}]", response.code);
  if (!response.text.empty()) out += " " + response.text;
  return out;
}

pop3::ClientOptions MakeClientOptions(const FetchOptions& options) {
  pop3::ClientOptions client;
  client.tls = options.security == FetchOptions::Security::kStls
                   ? pop3::TlsMode::kRequired
                   : pop3::TlsMode::kNone;
  client.tls_active =
      options.security == FetchOptions::Security::kImplicitTls;
  client.credentials.user = options.user;
  client.credentials.password = options.password;
  if (options.apop) {
    client.auth = pop3::AuthMethod::kApop;
    client.credentials.apop_digest =
        [secret = options.password](std::string_view timestamp) {
          return ApopDigestHex(timestamp, secret);
        };
  }
  client.allow_plaintext_auth = options.allow_plaintext_auth;
  return client;
}

class Fetcher {
 public:
  Fetcher(asio::io_context& io, std::string host, std::uint16_t port,
          const FetchOptions& options, FetchSink& sink,
          asio::ssl::context* tls)
      : io_(io),
        host_(std::move(host)),
        port_(port),
        options_(options),
        sink_(sink),
        tls_(tls),
        client_(MakeClientOptions(options)) {}

  asio::awaitable<absl::StatusOr<FetchResult>> Run() {
    auto result = co_await Session();
    // A message still open here was cut short by a local failure.
    AbortCurrent(result.ok() ? absl::AbortedError("session ended")
                             : result.status());
    if (transport_) transport_->Close();
    co_return result;
  }

 private:
  // The RETR being answered (the front of retrievals_).
  struct Current {
    bool begun = false;
    std::uint64_t octets = 0;
    absl::Status sink_error;
  };

  asio::awaitable<absl::StatusOr<FetchResult>> Session();
  asio::awaitable<absl::Status> Connect();
  asio::awaitable<absl::Status> Handshake();
  asio::awaitable<bool> Flush();
  asio::awaitable<void> StartTls();
  // Runs after every Receive(); false when the loop must stop.
  asio::awaitable<bool> HandleEvents();

  void OnReady();
  void OnDone(const pop3::ClientEvent& event);
  void OnListing(const pop3::ClientEvent& event);
  void StartDownloads();
  // Sends queued DELEs, then RETRs, while the window allows.
  void Pump();
  void OnData(std::string_view data);
  void OnRetrieved(const pop3::ClientEvent& event);
  void OnDeleted(const pop3::ClientEvent& event);
  void QueueDelete(std::size_t index);
  void MaybeQuit();
  void AbortCurrent(const absl::Status& why);
  void Lost(absl::Status why);
  absl::Status SessionError() const;
  FetchResult Summary();
  std::string Where() const { return options_.server; }

  asio::io_context& io_;
  std::string host_;
  std::uint16_t port_;
  const FetchOptions& options_;
  FetchSink& sink_;
  asio::ssl::context* tls_;
  pop3::ClientSession client_;
  std::unique_ptr<TcpTransport> transport_;

  // Listing.
  int listings_pending_ = 0;
  std::vector<pop3::ListEntry> list_;
  std::vector<pop3::ListEntry> uidl_;
  bool uidl_ok_ = false;
  bool list_ok_ = false;
  bool uids_usable_ = true;

  // Downloads.
  std::vector<FetchedMessage> details_;
  std::vector<bool> dele_accepted_;
  std::unordered_map<std::uint64_t, std::size_t> index_of_;  // number ->
  std::deque<std::size_t> to_fetch_;
  std::deque<std::size_t> retrievals_;  // RETR sent, answers in order
  std::deque<std::size_t> to_delete_;   // DELE not sent yet
  std::size_t in_flight_ = 0;           // RETR + DELE sent, not answered
  Current current_;
  bool downloads_started_ = false;
  bool quit_sent_ = false;
  bool committed_ = false;  // QUIT answered +OK

  absl::Status fatal_;  // a local reason to stop (size limit, LIST -ERR)
  bool closed_ = false;
};

asio::awaitable<absl::Status> Fetcher::Connect() {
  asio::ip::tcp::resolver resolver(io_);
  asio::ip::tcp::socket socket(io_);
  Watchdog watchdog(io_.get_executor(), [&] {
    resolver.cancel();
    std::error_code ignored;
    socket.close(ignored);
  });
  watchdog.Arm(options_.timeout);
  std::error_code ec;
  const auto endpoints = co_await resolver.async_resolve(
      host_, std::to_string(port_),
      asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    watchdog.Disarm();
    if (watchdog.expired()) {
      co_return absl::DeadlineExceededError(
          fmt::format("cannot resolve {}: timed out", host_));
    }
    co_return absl::UnavailableError(
        fmt::format("cannot resolve {}: {}", host_, ec.message()));
  }
  co_await asio::async_connect(socket, endpoints,
                               asio::redirect_error(asio::use_awaitable, ec));
  watchdog.Disarm();
  if (watchdog.expired()) {
    co_return absl::DeadlineExceededError(
        fmt::format("connect to {}: timed out", Where()));
  }
  if (ec) {
    co_return absl::UnavailableError(
        fmt::format("connect to {}: {}", Where(), ec.message()));
  }
  SetConnectionOptions(socket);
  transport_ = std::make_unique<TcpTransport>(std::move(socket));
  co_return absl::OkStatus();
}

asio::awaitable<absl::Status> Fetcher::Handshake() {
  if (tls_ == nullptr) {
    co_return absl::InternalError("TLS needed but no TLS context");
  }
  Watchdog watchdog(io_.get_executor(), [this] { transport_->Cancel(); });
  watchdog.Arm(options_.timeout);
  const std::error_code ec =
      co_await transport_->ClientHandshake(*tls_, host_, options_.verify_peer);
  watchdog.Disarm();
  if (watchdog.expired()) {
    co_return absl::DeadlineExceededError("TLS handshake timed out");
  }
  if (ec) {
    co_return absl::UnavailableError(
        fmt::format("TLS handshake failed: {}", TlsErrorText(ec)));
  }
  co_return absl::OkStatus();
}

asio::awaitable<bool> Fetcher::Flush() {
  if (!client_.has_output()) co_return true;
  const std::string out = client_.TakeOutput();
  Watchdog watchdog(io_.get_executor(), [this] { transport_->Cancel(); });
  watchdog.Arm(options_.timeout);
  const std::error_code ec = co_await transport_->WriteAll(out);
  watchdog.Disarm();
  if (watchdog.expired()) {
    Lost(absl::DeadlineExceededError(
        fmt::format("write timed out after {} s", options_.timeout.count())));
    co_return false;
  }
  if (ec) {
    Lost(absl::UnavailableError(fmt::format("write failed: {}",
                                            TlsErrorText(ec))));
    co_return false;
  }
  co_return true;
}

asio::awaitable<void> Fetcher::StartTls() {
  // The STLS command went out with an earlier flush; the server's "+OK"
  // is what brought us here, so nothing of ours is pending.
  const absl::Status status = co_await Handshake();
  if (!status.ok()) {
    Lost(status);
    co_return;
  }
  client_.OnTlsStarted();
}

// The connection is gone (or must be given up): the session fails the
// outstanding commands, which aborts the message in progress.
void Fetcher::Lost(absl::Status why) {
  if (!retrievals_.empty()) {
    why = absl::Status(
        why.code(),
        fmt::format("{} (during RETR {})", std::string(why.message()),
                    details_[retrievals_.front()].info.number));
  }
  client_.OnConnectionLost(std::move(why));
}

asio::awaitable<bool> Fetcher::HandleEvents() {
  while (fatal_.ok()) {
    std::optional<pop3::ClientEvent> event = client_.NextEvent();
    if (!event) break;
    switch (event->kind) {
      case pop3::ClientEventKind::kReady:
        OnReady();
        break;
      case pop3::ClientEventKind::kStartTls:
        if (!co_await Flush()) break;
        co_await StartTls();
        break;
      case pop3::ClientEventKind::kMessageData:
        OnData(event->data);
        break;
      case pop3::ClientEventKind::kDone:
        OnDone(*event);
        break;
      case pop3::ClientEventKind::kClosed:
        closed_ = true;
        break;
    }
  }
  co_return !closed_ && fatal_.ok();
}

void Fetcher::OnReady() {
  listings_pending_ = 2;
  // UIDL first: a server without it answers -ERR and LIST still runs.
  (void)client_.Uidl();
  (void)client_.List();
}

void Fetcher::OnDone(const pop3::ClientEvent& event) {
  switch (event.verb) {
    case pop3::Verb::kUidl:
    case pop3::Verb::kList:
      OnListing(event);
      break;
    case pop3::Verb::kRetr:
      OnRetrieved(event);
      break;
    case pop3::Verb::kDele:
      OnDeleted(event);
      break;
    case pop3::Verb::kQuit:
      committed_ = event.ok;
      break;
    default:
      break;
  }
}

void Fetcher::OnListing(const pop3::ClientEvent& event) {
  if (!client_.status().ok()) return;  // the session failed: nothing to do
  if (event.verb == pop3::Verb::kUidl) {
    uidl_ok_ = event.ok;
    if (event.ok) uidl_ = event.listing;
  } else {
    list_ok_ = event.ok;
    if (event.ok) {
      list_ = event.listing;
    } else {
      fatal_ = absl::UnavailableError(fmt::format(
          "{}: LIST refused: {}", Where(), DescribeResponse(event.response)));
      return;
    }
  }
  if (--listings_pending_ == 0) StartDownloads();
}

void Fetcher::StartDownloads() {
  downloads_started_ = true;
  // Unique-ids by message number, used only if all of them are valid and
  // distinct (RFC 1939 section 7): a caller may name files after them.
  std::unordered_map<std::uint64_t, std::string> uid_of;
  std::unordered_set<std::string> seen;
  uids_usable_ = uidl_ok_;
  for (const pop3::ListEntry& entry : uidl_) {
    if (!IsValidUid(entry.uid) || !seen.insert(entry.uid).second ||
        !uid_of.emplace(entry.number, entry.uid).second) {
      uids_usable_ = false;
    }
  }
  if (!uids_usable_) uid_of.clear();

  details_.reserve(list_.size());
  for (const pop3::ListEntry& entry : list_) {
    if (entry.number == 0 || index_of_.count(entry.number) != 0) continue;
    FetchedMessage message;
    message.info.number = entry.number;
    message.info.size = entry.size;
    if (auto it = uid_of.find(entry.number); it != uid_of.end()) {
      message.info.uid = it->second;
    }
    index_of_[entry.number] = details_.size();
    details_.push_back(std::move(message));
  }
  dele_accepted_.assign(details_.size(), false);

  for (std::size_t i = 0; i < details_.size(); ++i) {
    FetchedMessage& message = details_[i];
    if (options_.max_message_size != 0 &&
        message.info.size > options_.max_message_size) {
      message.state = FetchedMessage::State::kTooLarge;
      continue;
    }
    switch (sink_.Consider(message.info)) {
      case FetchSink::Decision::kFetch:
        to_fetch_.push_back(i);
        break;
      case FetchSink::Decision::kSkip:
        message.state = FetchedMessage::State::kSkipped;
        break;
      case FetchSink::Decision::kAlreadyStored:
        // Without a uid the sink cannot know which message it has: that
        // one is left alone rather than deleted on a guess.
        if (message.info.uid.empty()) {
          message.state = FetchedMessage::State::kSkipped;
        } else {
          message.state = FetchedMessage::State::kAlreadyStored;
          QueueDelete(i);
        }
        break;
    }
  }
  Pump();
  MaybeQuit();
}

void Fetcher::Pump() {
  const std::size_t window =
      client_.capabilities().pipelining ? kMaxInFlight : 1;
  while (in_flight_ < window) {
    if (!to_delete_.empty()) {
      const std::size_t index = to_delete_.front();
      to_delete_.pop_front();
      if (!client_.Delete(details_[index].info.number).ok()) return;
    } else if (!to_fetch_.empty()) {
      const std::size_t index = to_fetch_.front();
      to_fetch_.pop_front();
      if (!client_.Retrieve(details_[index].info.number).ok()) return;
      retrievals_.push_back(index);
    } else {
      return;
    }
    ++in_flight_;
  }
}

void Fetcher::QueueDelete(std::size_t index) {
  if (options_.delete_after) to_delete_.push_back(index);
}

void Fetcher::MaybeQuit() {
  if (quit_sent_ || !downloads_started_ || !to_fetch_.empty() ||
      !to_delete_.empty() || in_flight_ != 0) {
    return;
  }
  quit_sent_ = true;
  client_.Quit();  // every DELE has been answered
}

void Fetcher::OnData(std::string_view data) {
  if (retrievals_.empty()) return;  // TOP is never sent; defensive
  const MessageInfo& info = details_[retrievals_.front()].info;
  if (!current_.begun) {
    current_.begun = true;
    current_.sink_error = sink_.Begin(info);
  }
  current_.octets += data.size();
  if (options_.max_message_size != 0 &&
      current_.octets > options_.max_message_size) {
    // LIST said it fits; the content says otherwise. The only way to stop
    // a RETR is to drop the connection (no QUIT: nothing is deleted).
    fatal_ = absl::ResourceExhaustedError(fmt::format(
        "{}: message {} exceeds max_message_size ({} octets) although "
        "LIST gave {}",
        Where(), info.number, options_.max_message_size, info.size));
    AbortCurrent(fatal_);
    return;
  }
  if (current_.sink_error.ok()) current_.sink_error = sink_.Write(data);
}

void Fetcher::AbortCurrent(const absl::Status& why) {
  if (retrievals_.empty()) return;
  FetchedMessage& message = details_[retrievals_.front()];
  if (current_.begun) sink_.Abort(why);
  message.state = FetchedMessage::State::kFailed;
  message.error = why;
  retrievals_.pop_front();
  current_ = Current{};
}

void Fetcher::OnRetrieved(const pop3::ClientEvent& event) {
  if (retrievals_.empty()) return;
  --in_flight_;
  if (!client_.status().ok()) {
    // The session failed with this RETR outstanding (lost connection,
    // timeout, truncated response): the message is incomplete.
    AbortCurrent(client_.status());
    return;
  }
  if (!event.ok) {
    AbortCurrent(absl::UnavailableError(
        fmt::format("RETR {} refused: {}", event.message,
                    DescribeResponse(event.response))));
  } else {
    const std::size_t index = retrievals_.front();
    retrievals_.pop_front();
    FetchedMessage& message = details_[index];
    Current done = std::exchange(current_, Current{});
    if (!done.begun) done.sink_error = sink_.Begin(message.info);  // empty
    message.octets = done.octets;
    if (!done.sink_error.ok()) {
      sink_.Abort(done.sink_error);
      message.state = FetchedMessage::State::kFailed;
      message.error = done.sink_error;
    } else if (absl::Status end = sink_.End(); !end.ok()) {
      message.state = FetchedMessage::State::kFailed;
      message.error = end;
    } else {
      message.state = FetchedMessage::State::kStored;
      QueueDelete(index);
    }
  }
  Pump();
  MaybeQuit();
}

void Fetcher::OnDeleted(const pop3::ClientEvent& event) {
  if (!client_.status().ok()) return;
  --in_flight_;
  if (const auto it = index_of_.find(event.message); it != index_of_.end()) {
    if (event.ok) {
      dele_accepted_[it->second] = true;
    } else {
      details_[it->second].error = absl::UnavailableError(
          fmt::format("DELE {} refused: {}", event.message,
                      DescribeResponse(event.response)));
    }
  }
  Pump();
  MaybeQuit();
}

absl::Status Fetcher::SessionError() const {
  const absl::Status status = client_.status();
  std::string text = fmt::format("{}: {}", Where(), std::string(status.message()));
  if (const auto& response = client_.failure_response(); response) {
    text += ": " + DescribeResponse(*response);
  }
  return absl::Status(status.code(), text);
}

FetchResult Fetcher::Summary() {
  FetchResult result;
  result.messages = details_.size();
  result.uids_usable = uids_usable_;
  result.tls = client_.tls_active();
  for (std::size_t i = 0; i < details_.size(); ++i) {
    FetchedMessage& message = details_[i];
    message.deleted = committed_ && dele_accepted_[i];
    if (message.deleted) ++result.deleted;
    switch (message.state) {
      case FetchedMessage::State::kStored:
        ++result.stored;
        result.octets += message.octets;
        break;
      case FetchedMessage::State::kFailed:
        ++result.failed;
        break;
      default:
        ++result.skipped;
        break;
    }
  }
  result.details = std::move(details_);
  return result;
}

asio::awaitable<absl::StatusOr<FetchResult>> Fetcher::Session() {
  if (absl::Status status = co_await Connect(); !status.ok()) {
    co_return status;
  }
  if (options_.security == FetchOptions::Security::kImplicitTls) {
    // RFC 8314: the handshake comes before the greeting.
    if (absl::Status status = co_await Handshake(); !status.ok()) {
      co_return absl::Status(
          status.code(),
          fmt::format("{}: {}", Where(), std::string(status.message())));
    }
  }
  auto buffer = std::make_unique<char[]>(kReadBuffer);
  Watchdog watchdog(io_.get_executor(), [this] { transport_->Cancel(); });
  for (;;) {
    if (!co_await HandleEvents()) break;
    if (!co_await Flush()) continue;  // the session now reports the loss
    watchdog.Arm(options_.timeout);
    const IoResult read = co_await transport_->ReadSome(buffer.get(),
                                                        kReadBuffer);
    watchdog.Disarm();
    if (read.ec) {
      if (watchdog.expired()) {
        Lost(absl::DeadlineExceededError(fmt::format(
            "no response within {} s", options_.timeout.count())));
      } else if (read.ec == asio::error::eof) {
        Lost(absl::UnavailableError("the server closed the connection"));
      } else {
        Lost(absl::UnavailableError(
            fmt::format("read failed: {}", TlsErrorText(read.ec))));
      }
      continue;
    }
    // Consumes everything (after "+OK" to STLS the rest is discarded on
    // purpose, RFC 2595 / CVE-2011-0411).
    client_.Receive(std::string_view(buffer.get(), read.bytes));
  }
  if (!fatal_.ok()) co_return fatal_;
  if (!client_.status().ok()) co_return SessionError();
  if (!committed_) {
    co_return absl::UnavailableError(
        fmt::format("{}: the session ended without QUIT", Where()));
  }
  co_return Summary();
}

absl::StatusOr<std::pair<std::string, std::uint16_t>> CheckOptions(
    const FetchOptions& options) {
  auto endpoint = ParseEndpoint(options.server);
  if (!endpoint.ok()) return endpoint.status();
  if (endpoint->second == 0) {
    return absl::InvalidArgumentError(
        fmt::format("bad server \"{}\": port 0", options.server));
  }
  if (options.user.empty()) return absl::InvalidArgumentError("no user");
  if (options.timeout.count() <= 0) {
    return absl::InvalidArgumentError("timeout must be positive");
  }
  return endpoint;
}

}  // namespace

FetchSink::Decision FetchSink::Consider(const MessageInfo& message) {
  (void)message;
  return Decision::kFetch;
}

void FetchSink::Abort(const absl::Status& why) { (void)why; }

std::string ApopDigestHex(std::string_view timestamp,
                          std::string_view secret) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_MD_CTX* context = EVP_MD_CTX_new();
  if (context == nullptr ||
      EVP_DigestInit_ex(context, EVP_md5(), nullptr) != 1 ||
      EVP_DigestUpdate(context, timestamp.data(), timestamp.size()) != 1 ||
      EVP_DigestUpdate(context, secret.data(), secret.size()) != 1 ||
      EVP_DigestFinal_ex(context, digest, &length) != 1) {
    EVP_MD_CTX_free(context);
    return {};  // no MD5 (FIPS mode): the server refuses the empty digest
  }
  EVP_MD_CTX_free(context);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(length * 2);
  for (unsigned int i = 0; i < length; ++i) {
    hex += kHex[digest[i] >> 4];
    hex += kHex[digest[i] & 0x0f];
  }
  return hex;
}

absl::StatusOr<FetchResult> FetchMaildrop(const FetchOptions& options,
                                          FetchSink& sink) {
  auto endpoint = CheckOptions(options);
  if (!endpoint.ok()) return endpoint.status();
  try {
    std::unique_ptr<asio::ssl::context> tls;
    if (options.security != FetchOptions::Security::kNone) {
      auto context = MakeClientTlsContext(options.verify_peer,
                                          options.ca_file);
      if (!context.ok()) return context.status();
      tls = std::move(*context);
    }
    asio::io_context io(1);
    Fetcher fetcher(io, endpoint->first, endpoint->second, options, sink,
                    tls.get());
    std::optional<absl::StatusOr<FetchResult>> outcome;
    std::exception_ptr failure;
    asio::co_spawn(io, fetcher.Run(),
                   [&](std::exception_ptr e,
                       absl::StatusOr<FetchResult> result) {
                     failure = e;
                     if (!e) outcome = std::move(result);
                   });
    io.run();
    if (failure) std::rethrow_exception(failure);
    if (!outcome) return absl::InternalError("FetchMaildrop did not finish");
    return std::move(*outcome);
  } catch (const std::exception& e) {
    return absl::InternalError(fmt::format("FetchMaildrop: {}", e.what()));
  }
}

}  // namespace posthorn::net
