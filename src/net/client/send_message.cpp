// SendMessage: one SMTP transaction over TCP (STARTTLS optional), driving
// smtp::ClientSession. See posthorn/net/send_message.h.
//
// Every wait is bounded: resolve + connect by connect_timeout, each reply
// (and each write, and the TLS handshake) by reply_timeout. Whatever goes
// wrong on the network side becomes a kTransient TransactionResult with a
// synthetic 4xx reply, so the caller only has to look at the outcome.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <asio/co_spawn.hpp>
#include <asio/connect.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "fmt/format.h"
#include "net/client/watchdog.h"
#include "net/transport/tcp_transport.h"
#include "net/transport/tls_context.h"
#include "posthorn/net/send_message.h"
#include "posthorn/smtp/reply.h"

namespace posthorn::net {
namespace {

// The body goes to the session in slices of this size; each slice is
// written out before the next is read, so memory stays bounded.
constexpr std::size_t kBodyChunk = 64 * 1024;
// Server replies are read in pieces of this size.
constexpr std::size_t kClientReadBuffer = 16 * 1024;

smtp::TransactionResult Failure(const smtp::ClientEnvelope& envelope,
                                smtp::Reply reply, smtp::Outcome outcome) {
  smtp::TransactionResult result;
  result.outcome = outcome;
  result.reply = std::move(reply);
  for (const smtp::ClientRecipient& recipient : envelope.recipients) {
    result.recipients.push_back(
        smtp::RecipientResult{recipient.address, result.reply, outcome});
  }
  return result;
}

smtp::TransactionResult Transient(const smtp::ClientEnvelope& envelope,
                                  std::string_view enhanced,
                                  std::string text) {
  return Failure(envelope, smtp::MakeReply(421, enhanced, text),
                 smtp::Outcome::kTransient);
}

class Sender {
 public:
  Sender(asio::io_context& io, std::string_view host, std::uint16_t port,
         const smtp::ClientEnvelope& envelope, BodyReader body,
         const SendOptions& options, asio::ssl::context* tls)
      : io_(io),
        host_(host),
        port_(port),
        envelope_(envelope),
        body_(std::move(body)),
        options_(options),
        tls_(tls),
        client_(options.client) {}

  asio::awaitable<absl::StatusOr<smtp::TransactionResult>> Run() {
    auto result = co_await Session();
    if (transport_) transport_->Close();
    co_return result;
  }

 private:
  asio::awaitable<absl::StatusOr<smtp::TransactionResult>> Session();
  asio::awaitable<bool> Connect();
  asio::awaitable<bool> Flush();
  // Runs after every Receive(); false when the loop must stop.
  asio::awaitable<bool> HandleEvents();
  asio::awaitable<bool> SendBody();
  asio::awaitable<bool> StartTls();
  void Lost(absl::Status why) {
    lost_ = true;
    client_.OnConnectionLost(std::move(why));
  }
  smtp::TransactionResult EndedEarly() const;

  asio::io_context& io_;
  std::string host_;
  std::uint16_t port_;
  const smtp::ClientEnvelope& envelope_;
  BodyReader body_;
  const SendOptions& options_;
  asio::ssl::context* tls_;
  smtp::ClientSession client_;
  std::unique_ptr<TcpTransport> transport_;
  std::optional<smtp::TransactionResult> connect_failure_;
  std::optional<smtp::TransactionResult> result_;
  absl::Status local_error_;
  bool started_ = false;
  bool closed_ = false;
  bool lost_ = false;  // the connection is gone; only events remain
};

asio::awaitable<bool> Sender::Connect() {
  asio::ip::tcp::resolver resolver(io_);
  asio::ip::tcp::socket socket(io_);
  Watchdog watchdog(io_.get_executor(), [&] {
    resolver.cancel();
    std::error_code ignored;
    socket.close(ignored);
  });
  watchdog.Arm(options_.connect_timeout);
  const std::string where = fmt::format("{}:{}", host_, port_);
  std::error_code ec;
  const auto endpoints = co_await resolver.async_resolve(
      host_, std::to_string(port_),
      asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    watchdog.Disarm();
    connect_failure_ = Transient(
        envelope_, "4.4.3",
        watchdog.expired()
            ? fmt::format("cannot resolve {}: timed out", host_)
            : fmt::format("cannot resolve {}: {}", host_, ec.message()));
    co_return false;
  }
  co_await asio::async_connect(socket, endpoints,
                               asio::redirect_error(asio::use_awaitable, ec));
  watchdog.Disarm();
  if (ec || watchdog.expired()) {
    connect_failure_ = Transient(
        envelope_, "4.4.1",
        watchdog.expired()
            ? fmt::format("connect to {}: timed out", where)
            : fmt::format("connect to {}: {}", where, ec.message()));
    co_return false;
  }
  SetConnectionOptions(socket);
  transport_ = std::make_unique<TcpTransport>(std::move(socket));
  co_return true;
}

asio::awaitable<bool> Sender::Flush() {
  if (!client_.has_output()) co_return true;
  const std::string out = client_.TakeOutput();
  Watchdog watchdog(io_.get_executor(), [this] { transport_->Cancel(); });
  watchdog.Arm(options_.reply_timeout);
  const std::error_code ec = co_await transport_->WriteAll(out);
  watchdog.Disarm();
  if (ec) {
    Lost(absl::UnavailableError(
        watchdog.expired() ? std::string("write timed out")
                           : fmt::format("write failed: {}", ec.message())));
    co_return false;
  }
  co_return true;
}

asio::awaitable<bool> Sender::StartTls() {
  if (tls_ == nullptr) {
    Lost(absl::FailedPreconditionError("STARTTLS without a TLS context"));
    co_return true;  // let the session report it
  }
  Watchdog watchdog(io_.get_executor(), [this] { transport_->Cancel(); });
  watchdog.Arm(options_.reply_timeout);
  const std::error_code ec = co_await transport_->ClientHandshake(
      *tls_, host_, options_.verify_certificate);
  watchdog.Disarm();
  if (ec) {
    // RFC 3207 6 / Postfix: a failed handshake is a temporary failure.
    Lost(absl::UnavailableError(
        watchdog.expired()
            ? std::string("TLS handshake timed out")
            : fmt::format("TLS handshake failed: {}", TlsErrorText(ec))));
    co_return true;
  }
  client_.OnTlsStarted();
  co_return true;
}

asio::awaitable<bool> Sender::SendBody() {
  for (;;) {
    absl::StatusOr<std::string_view> chunk = body_();
    if (!chunk.ok()) {
      // The message cannot be completed: drop the connection without the
      // final "." so the server discards what it has.
      local_error_ = chunk.status();
      co_return false;
    }
    if (chunk->empty()) break;
    while (!chunk->empty()) {
      const std::size_t n = std::min(kBodyChunk, chunk->size());
      client_.SendBody(chunk->substr(0, n));
      chunk->remove_prefix(n);
      if (!co_await Flush()) co_return true;
    }
  }
  client_.EndBody();
  co_await Flush();  // a failure is reported through the session
  co_return true;
}

asio::awaitable<bool> Sender::HandleEvents() {
  while (auto event = client_.NextEvent()) {
    switch (event->kind) {
      case smtp::ClientEventKind::kReady:
        if (started_) {
          client_.Quit();
          break;
        }
        started_ = true;
        if (absl::Status status = client_.StartTransaction(envelope_);
            !status.ok()) {
          if (status.code() == absl::StatusCode::kInvalidArgument) {
            local_error_ = status;  // the caller's mistake: not a result
          } else {
            result_ = Failure(
                envelope_,
                smtp::MakeReply(554, "5.5.0", std::string(status.message())),
                smtp::Outcome::kPermanent);
          }
          client_.Quit();
        }
        break;
      case smtp::ClientEventKind::kStartTls:
        co_await StartTls();
        break;
      case smtp::ClientEventKind::kSendBody:
        if (!co_await SendBody()) co_return false;
        break;
      case smtp::ClientEventKind::kTransactionDone:
        result_ = client_.result();
        client_.Quit();
        break;
      case smtp::ClientEventKind::kClosed:
        closed_ = true;
        break;
    }
  }
  co_return !closed_;
}

smtp::TransactionResult Sender::EndedEarly() const {
  // The session ended before a transaction result: a refusing greeting,
  // TLS required but not possible, AUTH refused, or the connection lost.
  const smtp::TransactionResult& partial = client_.result();
  if (partial.reply.code != 0) return partial;
  const smtp::Reply& greeting = client_.greeting();
  if (greeting.permanent()) {
    return Failure(envelope_, greeting, smtp::Outcome::kPermanent);
  }
  if (greeting.transient()) {
    return Failure(envelope_, greeting, smtp::Outcome::kTransient);
  }
  const absl::Status status = client_.status();
  switch (status.code()) {
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kUnauthenticated:
      return Failure(
          envelope_,
          smtp::MakeReply(530, "5.7.0", std::string(status.message())),
          smtp::Outcome::kPermanent);
    default:
      return Transient(envelope_, "4.4.2",
                       status.ok() ? std::string("connection closed early")
                                   : std::string(status.message()));
  }
}

asio::awaitable<absl::StatusOr<smtp::TransactionResult>> Sender::Session() {
  if (!co_await Connect()) co_return *connect_failure_;
  if (options_.client.tls_active) {
    // Implicit TLS (RFC 8314): the handshake comes before the greeting.
    Watchdog watchdog(io_.get_executor(), [this] { transport_->Cancel(); });
    watchdog.Arm(options_.reply_timeout);
    const std::error_code ec =
        tls_ == nullptr ? asio::error::operation_not_supported
                        : co_await transport_->ClientHandshake(
                              *tls_, host_, options_.verify_certificate);
    watchdog.Disarm();
    if (ec) {
      co_return Transient(
          envelope_, "4.7.0",
          watchdog.expired()
              ? std::string("TLS handshake timed out")
              : fmt::format("TLS handshake failed: {}", TlsErrorText(ec)));
    }
  }
  auto buffer = std::make_unique<char[]>(kClientReadBuffer);
  Watchdog watchdog(io_.get_executor(), [this] { transport_->Cancel(); });
  for (;;) {
    if (!co_await HandleEvents() || lost_) break;
    if (!co_await Flush()) continue;  // the session now reports the loss
    watchdog.Arm(options_.reply_timeout);
    const IoResult read =
        co_await transport_->ReadSome(buffer.get(), kClientReadBuffer);
    watchdog.Disarm();
    if (read.ec) {
      if (watchdog.expired()) {
        Lost(absl::DeadlineExceededError(fmt::format(
            "no reply within {} s", options_.reply_timeout.count())));
      } else if (read.ec == asio::error::eof) {
        Lost(absl::UnavailableError("the server closed the connection"));
      } else {
        Lost(absl::UnavailableError(
            fmt::format("read failed: {}", TlsErrorText(read.ec))));
      }
      continue;
    }
    // Consumes everything (after STARTTLS's 220 the rest is discarded on
    // purpose, RFC 3207 5), so no bytes are kept here.
    const std::size_t used =
        client_.Receive(std::string_view(buffer.get(), read.bytes));
    (void)used;
  }
  if (!local_error_.ok()) co_return local_error_;
  if (result_) co_return *result_;
  co_return EndedEarly();
}

absl::Status CheckArguments(std::string_view host, std::uint16_t port,
                            const smtp::ClientEnvelope& envelope) {
  if (host.empty()) return absl::InvalidArgumentError("empty host");
  if (port == 0) return absl::InvalidArgumentError("port 0");
  if (envelope.recipients.empty()) {
    return absl::InvalidArgumentError("no recipient");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<smtp::TransactionResult> SendMessage(
    std::string_view host, std::uint16_t port,
    const smtp::ClientEnvelope& envelope, BodyReader body,
    const SendOptions& options) {
  if (absl::Status status = CheckArguments(host, port, envelope);
      !status.ok()) {
    return status;
  }
  if (!body) return absl::InvalidArgumentError("no body reader");
  try {
    std::unique_ptr<asio::ssl::context> tls;
    if (options.client.tls != smtp::TlsMode::kNone ||
        options.client.tls_active) {
      auto context = MakeClientTlsContext(options.verify_certificate,
                                          options.ca_file);
      if (!context.ok()) return context.status();
      tls = std::move(*context);
    }
    asio::io_context io(1);
    Sender sender(io, host, port, envelope, std::move(body), options,
                  tls.get());
    std::optional<absl::StatusOr<smtp::TransactionResult>> outcome;
    std::exception_ptr failure;
    asio::co_spawn(io, sender.Run(),
                   [&](std::exception_ptr e,
                       absl::StatusOr<smtp::TransactionResult> result) {
                     failure = e;
                     if (!e) outcome = std::move(result);
                   });
    io.run();
    if (failure) std::rethrow_exception(failure);
    if (!outcome) return absl::InternalError("SendMessage did not finish");
    return std::move(*outcome);
  } catch (const std::exception& e) {
    return absl::InternalError(fmt::format("SendMessage: {}", e.what()));
  }
}

absl::StatusOr<smtp::TransactionResult> SendMessage(
    std::string_view host, std::uint16_t port,
    const smtp::ClientEnvelope& envelope, std::string_view message,
    const SendOptions& options) {
  if (absl::Status status = CheckArguments(host, port, envelope);
      !status.ok()) {
    return status;
  }
  smtp::ClientEnvelope sized = envelope;
  if (!sized.size && options.client.body_input == wire::EncoderInput::kCrlf) {
    sized.size = message.size();  // RFC 1870: the hint lets a server say 552
  }
  bool sent = false;
  BodyReader reader = [&]() -> absl::StatusOr<std::string_view> {
    if (sent) return std::string_view();
    sent = true;
    return message;
  };
  return SendMessage(host, port, sized, std::move(reader), options);
}

}  // namespace posthorn::net
