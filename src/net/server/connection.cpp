// One SMTP server connection: see connection.h.

#include "net/server/connection.h"

#include <algorithm>
#include <chrono>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <asio/error.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>

#include "absl/status/status.h"
#include "posthorn/smtp/reply.h"

namespace posthorn::net {
namespace {

// Reply text must be one line of printable text.
std::string ReplyText(std::string_view text) {
  std::string out(text.substr(0, kMaxStatusText));
  for (char& c : out) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) c = ' ';
  }
  return out;
}

// The kinds HandleEvents() answers (always, on every path).
bool AnswersItself(smtp::EventKind kind) {
  switch (kind) {
    case smtp::EventKind::kMailFrom:
    case smtp::EventKind::kRcptTo:
    case smtp::EventKind::kDataStart:
    case smtp::EventKind::kMessageEnd:
    case smtp::EventKind::kAuth:
    case smtp::EventKind::kVrfy:
    case smtp::EventKind::kExpn:
    case smtp::EventKind::kEtrn:
      return true;
    default:
      return false;
  }
}

// A status message "5.4.6 Too many hops" names its own enhanced code
// (RFC 3463): used, with the rest as the text, when its class matches the
// reply code's class ('4' or '5'); otherwise the message is plain text.
std::optional<smtp::Reply> ReplyWithOwnCode(int code, std::string_view text) {
  const std::size_t space = text.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  const std::string_view enhanced = text.substr(0, space);
  if (!smtp::IsEnhancedStatusCode(enhanced) ||
      enhanced.front() != static_cast<char>('0' + code / 100)) {
    return std::nullopt;
  }
  const std::string_view rest = text.substr(space + 1);
  if (rest.find_first_not_of(' ') == std::string_view::npos) {
    return std::nullopt;
  }
  return smtp::MakeReply(code, enhanced, rest);
}

}  // namespace

smtp::Reply ReplyForCommitError(const absl::Status& status) {
  const std::string text = ReplyText(std::string(status.message()));
  const int code = [&] {
    switch (status.code()) {
      case absl::StatusCode::kResourceExhausted:
        return 452;
      case absl::StatusCode::kPermissionDenied:
      case absl::StatusCode::kInvalidArgument:
        return 554;
      default:
        return 451;
    }
  }();
  if (auto own = ReplyWithOwnCode(code, text)) return *std::move(own);
  switch (status.code()) {
    case absl::StatusCode::kResourceExhausted:  // disk full, quota
      return smtp::MakeReply(452, "4.3.1",
                             text.empty() ? "Insufficient system storage"
                                          : text);
    case absl::StatusCode::kPermissionDenied:  // policy: refused for good
      return smtp::MakeReply(554, "5.7.1",
                             text.empty() ? "Message refused" : text);
    case absl::StatusCode::kInvalidArgument:  // content refused for good
      return smtp::MakeReply(554, "5.6.0",
                             text.empty() ? "Message content refused" : text);
    default:
      return smtp::MakeReply(
          451, "4.3.0",
          text.empty() ? "Local error in processing" : "Error: " + text);
  }
}

Connection::Connection(ServerShared& shared,
                       const asio::any_io_executor& executor,
                       std::unique_ptr<Transport> transport, Mode mode,
                       std::function<void(Connection*)> on_finished)
    : shared_(shared),
      options_(*shared.options),
      transport_(std::move(transport)),
      mode_(mode),
      on_finished_(std::move(on_finished)),
      session_([&] {
        smtp::ServerOptions session_options = shared.session_options;
        if (mode == Mode::kImplicitTls) {
          session_options.tls_active = true;
          session_options.tls_available = false;
        }
        // A pipe or a descriptor pair cannot switch to TLS: do not offer it.
        if (!transport_->CanStartTls()) session_options.tls_available = false;
        return session_options;
      }()),
      watchdog_(executor),
      counted_(mode != Mode::kBusy) {}

Connection::~Connection() = default;

asio::awaitable<void> Connection::Run(std::shared_ptr<Connection> self) {
  try {
    co_await self->Serve();
  } catch (const std::exception&) {
    // A handler threw (they should not); drop the connection, keep the
    // server running.
  }
  self->Finish();
}

void Connection::Finish() {
  if (finished_) return;
  finished_ = true;
  watchdog_.cancel();
  if (penalty_timer_) penalty_timer_->cancel();
  AbortMessage();
  transport_->Close();
  if (counted_) shared_.active.fetch_sub(1, std::memory_order_relaxed);
  if (on_finished_) on_finished_(this);
}

void Connection::RequestShutdown() {
  shutdown_requested_ = true;
  // Only a session waiting for a command is interrupted; one in DATA (or
  // writing) notices the flag at the top of its loop.
  if (reading_ && !in_data_) transport_->Cancel();
}

void Connection::ForceClose() {
  force_closed_ = true;
  if (penalty_timer_) penalty_timer_->cancel();
  transport_->Cancel();
  transport_->Close();
}

void Connection::EnsureBuffer() {
  // Not zeroed: the memset would cost more than the read that fills it.
  if (!buffer_) {
    buffer_ = std::make_unique_for_overwrite<char[]>(kReadBufferSize);
  }
}

// ---------------------------------------------------------------------------
// Watchdog.

void Connection::ArmWatchdog(Clock::time_point at) {
  armed_ = at;
  watchdog_.expires_at(at);
  watchdog_.async_wait([self = shared_from_this()](const std::error_code& ec) {
    self->OnWatchdog(ec);
  });
}

void Connection::SetDeadline(Clock::time_point deadline) {
  deadline_ = deadline;
  // expires_at() cancels the pending wait (its handler sees
  // operation_aborted and returns) before the new one starts.
  if (deadline < armed_) ArmWatchdog(deadline);
}

void Connection::OnWatchdog(const std::error_code& ec) {
  if (ec == asio::error::operation_aborted || finished_) return;
  const auto now = Clock::now();
  if (now < deadline_) {
    ArmWatchdog(deadline_);
    return;
  }
  timed_out_ = true;
  armed_ = Clock::time_point::max();
  if (penalty_timer_) penalty_timer_->cancel();
  transport_->Cancel();
}

void Connection::SetReadDeadline() {
  auto deadline = last_reply_ + options_.idle_timeout;  // per command
  if (in_data_) {
    // Silence for idle_timeout, or a rate under data_min_rate once the
    // grace period is over: data_bytes_ bytes "pay" for bytes/rate seconds.
    deadline = last_read_ + options_.idle_timeout;
    if (options_.data_min_rate > 0) {
      const auto paid = std::chrono::duration_cast<Clock::duration>(
          std::chrono::duration<double>(
              static_cast<double>(data_bytes_) /
              static_cast<double>(options_.data_min_rate)));
      const Clock::duration grace = options_.data_rate_grace;
      deadline = std::min(deadline, data_start_ + std::max(grace, paid));
    }
  }
  SetDeadline(deadline);
}

// ---------------------------------------------------------------------------
// The loop.

asio::awaitable<void> Connection::Serve() {
  peer_ = transport_->peer();
  const auto start = Clock::now();
  last_reply_ = start;
  last_read_ = start;
  deadline_ = start + options_.idle_timeout;  // connect to first command
  ArmWatchdog(deadline_);

  if (mode_ == Mode::kImplicitTls) {
    if (shared_.tls == nullptr) co_return;
    const std::error_code ec =
        co_await transport_->ServerHandshake(*shared_.tls);
    if (ec || force_closed_) co_return;
  }
  if (mode_ == Mode::kBusy) {
    session_.StartRefused(
        smtp::MakeReply(421, "4.3.2", "Too many connections"));
  } else if (auto refusal = shared_.handler->OnConnect(peer_)) {
    session_.StartRefused(std::move(*refusal));
  } else if (options_.greet_pause.count() > 0) {
    if (!co_await GreetPause()) co_return;
  } else {
    session_.Start();
  }

  for (;;) {
    if (!co_await Flush() || force_closed_) co_return;
    if (session_.closed()) {
      co_await Linger();
      co_return;
    }
    if (timed_out_) {
      timed_out_ = false;
      session_.OnTimeout();
      HandleEvents();  // a transaction in DATA becomes kMessageAborted
      continue;
    }
    if (shutdown_requested_ && !in_data_) {
      session_.OnShutdown();
      HandleEvents();
      continue;
    }
    EnsureBuffer();
    SetReadDeadline();
    reading_ = true;
    const IoResult read =
        co_await transport_->ReadSome(buffer_.get(), kReadBufferSize);
    reading_ = false;
    if (force_closed_) co_return;
    if (read.ec) {
      // Cancelled by the watchdog or by Stop(): the top of the loop says
      // 421. Anything else is the end of the connection.
      if (read.ec == asio::error::operation_aborted &&
          (timed_out_ || shutdown_requested_)) {
        continue;
      }
      session_.OnEof();
      HandleEvents();
      co_return;
    }
    last_read_ = Clock::now();
    if (in_data_) data_bytes_ += read.bytes;
    if (!co_await Feed(std::string_view(buffer_.get(), read.bytes))) {
      co_return;
    }
  }
}

asio::awaitable<bool> Connection::GreetPause() {
  // Reads with the pause as deadline: the watchdog cancels the read when
  // the client kept quiet, which is the polite case.
  EnsureBuffer();
  SetDeadline(Clock::now() + options_.greet_pause);
  reading_ = true;
  const IoResult read =
      co_await transport_->ReadSome(buffer_.get(), kReadBufferSize);
  reading_ = false;
  if (force_closed_) co_return false;
  if (!read.ec) {
    // Bytes before the greeting: the session answers 554 5.5.0 and closes.
    (void)session_.Receive(std::string_view(buffer_.get(), read.bytes));
    HandleEvents();
    co_return true;
  }
  if (read.ec != asio::error::operation_aborted) co_return false;  // EOF
  if (shutdown_requested_ && !timed_out_) {
    session_.StartRefused(
        smtp::MakeReply(421, "4.3.2", "Service shutting down"));
    co_return true;
  }
  timed_out_ = false;
  session_.Start();
  SetDeadline(Clock::now() + options_.idle_timeout);
  co_return true;
}

asio::awaitable<bool> Connection::Flush() {
  if (!session_.has_output()) co_return true;
  if (session_.penalty() && options_.error_penalty.count() > 0) {
    // Postfix's smtpd_error_sleep_time: slow a misbehaving client down.
    if (!penalty_timer_) penalty_timer_.emplace(watchdog_.get_executor());
    penalty_timer_->expires_after(options_.error_penalty);
    std::error_code ignored;
    co_await penalty_timer_->async_wait(
        asio::redirect_error(asio::use_awaitable, ignored));
    if (force_closed_) co_return false;
  }
  const std::string out = session_.TakeOutput();
  SetDeadline(Clock::now() + options_.idle_timeout);
  const std::error_code ec = co_await transport_->WriteAll(out);
  if (ec) co_return false;
  last_reply_ = Clock::now();
  co_return true;
}

asio::awaitable<bool> Connection::Feed(std::string_view chunk) {
  while (!chunk.empty()) {
    const std::size_t used = session_.Receive(chunk);
    chunk.remove_prefix(used);
    if (HandleEvents()) {
      // RFC 3207 5 / CVE-2011-0411: nothing received before the handshake
      // may be used after it. The session dropped its buffer; drop ours.
      chunk = {};
      if (!co_await Flush()) co_return false;
      if (shared_.tls == nullptr || !transport_->CanStartTls()) {
        co_return false;  // the session offered TLS we cannot do
      }
      SetDeadline(Clock::now() + options_.idle_timeout);
      const std::error_code ec =
          co_await transport_->ServerHandshake(*shared_.tls);
      if (ec || force_closed_) co_return false;
      session_.OnTlsStarted();
      last_reply_ = Clock::now();
      co_return true;
    }
    if (session_.closed()) break;
    // Every event was answered, so a session that took nothing cannot make
    // progress on these bytes; drop them rather than spin.
    if (used == 0) break;
  }
  co_return true;
}

asio::awaitable<void> Connection::Linger() {
  transport_->ShutdownSend();
  EnsureBuffer();
  SetDeadline(Clock::now() +
              (shutdown_requested_ ? kShutdownLingerTime : kLingerTime));
  std::size_t drained = 0;
  while (drained < kLingerBytes && !force_closed_ && !timed_out_) {
    const IoResult read =
        co_await transport_->ReadSome(buffer_.get(), kReadBufferSize);
    if (read.ec) break;
    drained += read.bytes;
  }
}

// ---------------------------------------------------------------------------
// Events.

bool Connection::HandleEvents() {
  bool start_tls = false;
  SmtpHandler& handler = *shared_.handler;
  while (auto event = session_.NextEvent()) {
    switch (event->kind) {
      case smtp::EventKind::kHelo:
      case smtp::EventKind::kQuit:
        break;
      case smtp::EventKind::kMailFrom:
        session_.Answer(
            handler.OnMailFrom(peer_, session_, event->path, event->mail));
        break;
      case smtp::EventKind::kRcptTo:
        session_.Answer(
            handler.OnRcptTo(peer_, session_, event->path, event->rcpt));
        break;
      case smtp::EventKind::kDataStart: {
        AbortMessage();
        sink_ = handler.OpenMessage(peer_, session_);
        if (sink_ == nullptr) {
          session_.Answer(smtp::Verdict::Reject(smtp::MakeReply(
              451, "4.3.0", "Cannot accept the message now")));
          break;
        }
        sink_status_ = absl::OkStatus();
        in_data_ = true;
        data_start_ = Clock::now();
        data_bytes_ = 0;
        session_.Answer(smtp::Verdict::Accept());
        break;
      }
      case smtp::EventKind::kMessageData:
        // After a failed Write() the rest is read and dropped; the error
        // is the reply at the end of the data.
        if (sink_ != nullptr && sink_status_.ok()) {
          sink_status_ = sink_->Write(event->data);
        }
        break;
      case smtp::EventKind::kMessageEnd:
        HandleMessageEnd();
        break;
      case smtp::EventKind::kMessageAborted:
      case smtp::EventKind::kReset:
        AbortMessage();
        break;
      case smtp::EventKind::kStartTls:
        start_tls = true;
        break;
      case smtp::EventKind::kAuth:
        session_.Answer(handler.OnAuth(peer_, event->mechanism,
                                       event->authzid, event->username,
                                       event->password));
        break;
      case smtp::EventKind::kVrfy:
        session_.Answer(handler.OnVrfy(peer_, event->argument));
        break;
      case smtp::EventKind::kExpn:
        session_.Answer(handler.OnExpn(peer_, event->argument));
        break;
      case smtp::EventKind::kEtrn:
        session_.Answer(handler.OnEtrn(peer_, event->argument));
        break;
    }
    // An event that needs an answer and got none above would stall the
    // session; refuse it. (Answer() may already have produced the next
    // event, so waiting_for_answer() cannot tell.)
    if (event->needs_answer && !AnswersItself(event->kind)) {
      session_.Answer(smtp::Verdict::Reject(
          smtp::MakeReply(451, "4.3.0", "Local error in processing")));
    }
  }
  return start_tls;
}

void Connection::HandleMessageEnd() {
  in_data_ = false;
  if (sink_ == nullptr) {
    session_.Answer(smtp::Verdict::Reject(
        smtp::MakeReply(451, "4.3.0", "Local error in processing")));
    return;
  }
  std::unique_ptr<MessageSink> sink = std::move(sink_);
  if (!sink_status_.ok()) {
    sink->Abort();
    session_.Answer(smtp::Verdict::Reject(ReplyForCommitError(sink_status_)));
    return;
  }
  absl::StatusOr<std::string> committed = sink->Commit(session_.envelope());
  if (!committed.ok()) {
    sink->Abort();
    session_.Answer(
        smtp::Verdict::Reject(ReplyForCommitError(committed.status())));
    return;
  }
  shared_.messages_accepted.fetch_add(1, std::memory_order_relaxed);
  const std::string text = ReplyText(*committed);
  session_.Answer(smtp::Verdict::Accept(
      smtp::MakeReply(250, "2.0.0", text.empty() ? "Ok" : text)));
}

void Connection::AbortMessage() {
  in_data_ = false;
  if (sink_ != nullptr) {
    sink_->Abort();
    sink_.reset();
  }
}

}  // namespace posthorn::net
