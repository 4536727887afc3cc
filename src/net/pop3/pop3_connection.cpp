// One POP3 server connection: see pop3_connection.h.

#include "net/pop3/pop3_connection.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <exception>
#include <memory>
#include <numeric>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <asio/co_spawn.hpp>
#include <asio/error.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>

#include "absl/status/status.h"
#include "fmt/format.h"
#include "net/pop3/apop_timestamp.h"
#include "posthorn/pop3/response.h"

namespace posthorn::net {
namespace {

// Passwords should not outlive their use in freed heap memory.
void Wipe(std::string* secret) {
  volatile char* p = secret->data();
  for (std::size_t i = 0; i < secret->size(); ++i) p[i] = 0;
  secret->clear();
}

bool CountsAsFailedLogin(const pop3::LoginFailure& failure) {
  return failure.code.empty() || failure.code == pop3::kCodeAuth;
}

}  // namespace

Pop3Connection::Pop3Connection(Pop3Shared& shared,
                               const asio::any_io_executor& executor,
                               std::unique_ptr<Transport> transport,
                               Mode mode,
                               std::function<void(Pop3Connection*)> on_finished)
    : shared_(shared),
      options_(*shared.options),
      transport_(std::move(transport)),
      mode_(mode),
      on_finished_(std::move(on_finished)),
      session_([&] {
        pop3::ServerOptions session_options = shared.session_options;
        if (mode == Mode::kImplicitTls) {
          session_options.tls_active = true;
          session_options.tls_available = false;
        }
        // A pipe cannot switch to TLS: do not offer it.
        if (!transport_->CanStartTls()) session_options.tls_available = false;
        session_options.apop_timestamp =
            shared.options->apop && mode != Mode::kBusy
                ? MakeApopTimestamp(session_options.hostname)
                : std::string();
        return session_options;
      }()),
      peer_(transport_->peer()),
      log_(&shared.options->protocol_log, peer_),
      watchdog_(executor),
      delay_timer_(executor),
      counted_(mode != Mode::kBusy) {}

Pop3Connection::~Pop3Connection() = default;

template <typename Fn>
auto Pop3Connection::OnPool(Fn fn) -> asio::awaitable<decltype(fn())> {
  using Result = decltype(fn());
  // co_spawn's completion runs on this coroutine's executor again.
  co_return co_await asio::co_spawn(
      shared_.pool, [&fn]() -> asio::awaitable<Result> { co_return fn(); },
      asio::use_awaitable);
}

asio::awaitable<void> Pop3Connection::Run(
    std::shared_ptr<Pop3Connection> self) {
  try {
    co_await self->Serve();
  } catch (const std::exception& e) {
    // A handler or maildrop threw (they should not): drop the connection,
    // keep the server running.
    self->SetEnd(absl::InternalError(fmt::format("exception: {}", e.what())));
  }
  try {
    co_await self->EndSession();
  } catch (const std::exception&) {
  }
  self->Finish();
}

void Pop3Connection::SetEnd(absl::Status status) {
  if (!end_) end_ = std::move(status);
}

void Pop3Connection::Finish() {
  if (finished_) return;
  finished_ = true;
  watchdog_.cancel();
  delay_timer_.cancel();
  transport_->Close();
  if (counted_) shared_.active.fetch_sub(1, std::memory_order_relaxed);
  if (on_finished_) on_finished_(this);
}

void Pop3Connection::RequestShutdown() {
  shutdown_requested_ = true;
  // Only a session waiting for a command is interrupted; a busy one sees
  // the flag when it is done.
  if (reading_) transport_->Cancel();
}

void Pop3Connection::ForceClose() {
  force_closed_ = true;
  delay_timer_.cancel();
  transport_->Cancel();
  transport_->Close();
}

void Pop3Connection::EnsureBuffer() {
  if (!buffer_) {
    buffer_ = std::make_unique_for_overwrite<char[]>(kPop3ReadBufferSize);
  }
}

// ---------------------------------------------------------------------------
// Watchdog.

void Pop3Connection::ArmWatchdog(Clock::time_point at) {
  armed_ = at;
  watchdog_.expires_at(at);
  watchdog_.async_wait(
      [self = shared_from_this()](const std::error_code& ec) {
        self->OnWatchdog(ec);
      });
}

void Pop3Connection::SetDeadline(Clock::time_point deadline) {
  deadline_ = deadline;
  if (deadline < armed_) ArmWatchdog(deadline);
}

void Pop3Connection::OnWatchdog(const std::error_code& ec) {
  if (ec == asio::error::operation_aborted || finished_) return;
  if (Clock::now() < deadline_) {
    ArmWatchdog(deadline_);
    return;
  }
  timed_out_ = true;
  armed_ = Clock::time_point::max();
  transport_->Cancel();
}

// ---------------------------------------------------------------------------
// The loop.

asio::awaitable<bool> Pop3Connection::Greet() {
  if (mode_ == Mode::kImplicitTls) {
    if (shared_.tls == nullptr) co_return false;
    const std::error_code ec =
        co_await transport_->ServerHandshake(*shared_.tls);
    if (ec || force_closed_) {
      SetEnd(absl::UnavailableError(
          fmt::format("TLS handshake failed: {}", ec.message())));
      co_return false;
    }
  }
  if (mode_ == Mode::kBusy) {
    session_ended_ = true;  // no session, no OnSessionEnd
    co_await WriteRaw("-ERR [SYS/TEMP] too many connections\r\n");
    co_return false;
  }
  if (auto refusal = shared_.handler->OnConnect(peer_)) {
    std::string line;
    pop3::AppendStatusLine(false, pop3::kCodeSysTemp, *refusal, &line);
    SetEnd(absl::PermissionDeniedError(*refusal));
    co_await WriteRaw(line);
    co_return false;
  }
  session_.Start();
  co_return true;
}

asio::awaitable<void> Pop3Connection::Serve() {
  const auto start = Clock::now();
  last_reply_ = start;
  deadline_ = start + options_.idle_timeout;  // connect to first command
  ArmWatchdog(deadline_);

  if (!co_await Greet()) {
    if (!force_closed_) {
      co_await EndSession();
      co_await Linger();
    }
    co_return;
  }

  for (;;) {
    if (!co_await Flush() || force_closed_) co_return;
    if (session_.closed()) {
      co_await EndSession();
      co_await Linger();
      co_return;
    }
    if (timed_out_) {
      timed_out_ = false;
      SetEnd(absl::DeadlineExceededError("idle timeout"));
      session_.OnTimeout();  // "-ERR autologout timer expired", kAborted
      if (!co_await HandleEvents()) co_return;
      continue;
    }
    if (shutdown_requested_) {
      // Nothing is deleted by a shutdown: the session ends as if the
      // client had gone, then the client is told why.
      SetEnd(absl::CancelledError("server shutting down"));
      session_.OnEof();
      if (!co_await HandleEvents()) co_return;
      co_await WriteRaw("-ERR [SYS/TEMP] server shutting down\r\n");
      co_await EndSession();
      co_await Linger();
      co_return;
    }
    EnsureBuffer();
    SetDeadline(last_reply_ + options_.idle_timeout);
    reading_ = true;
    const IoResult read =
        co_await transport_->ReadSome(buffer_.get(), kPop3ReadBufferSize);
    reading_ = false;
    if (force_closed_) co_return;
    if (read.ec) {
      // Cancelled by the watchdog or by Stop(): the top of the loop
      // answers. Anything else is the end of the connection.
      if (read.ec == asio::error::operation_aborted &&
          (timed_out_ || shutdown_requested_)) {
        continue;
      }
      SetEnd(absl::UnavailableError(
          read.ec == asio::error::eof
              ? std::string("connection closed by the client")
              : fmt::format("read failed: {}", read.ec.message())));
      session_.OnEof();
      co_await HandleEvents();
      co_return;
    }
    if (!co_await Feed(std::string_view(buffer_.get(), read.bytes))) {
      co_return;
    }
  }
}

asio::awaitable<bool> Pop3Connection::Flush() {
  if (!session_.has_output()) co_return true;
  session_.TakeOutput(&output_);  // swaps buffers
  log_.ServerBytes(output_);
  SetDeadline(Clock::now() + options_.idle_timeout);
  const std::error_code ec = co_await transport_->WriteAll(output_);
  output_.clear();
  // The buffers grow to a message chunk during RETR; do not keep that
  // much for an idle session (but do keep it while the retrieval runs:
  // a fresh large allocation per chunk costs page faults).
  if (!retrieving_ && output_.capacity() > kFlushThreshold) {
    std::string().swap(output_);
  }
  if (ec) {
    SetEnd(timed_out_ ? absl::DeadlineExceededError("write timeout")
                      : absl::UnavailableError(
                            fmt::format("write failed: {}", ec.message())));
    co_return false;
  }
  last_reply_ = Clock::now();
  co_return true;
}

asio::awaitable<bool> Pop3Connection::WriteRaw(std::string_view line) {
  log_.ServerLine(line);
  SetDeadline(Clock::now() + options_.idle_timeout);
  const std::error_code ec = co_await transport_->WriteAll(line);
  co_return !ec;
}

asio::awaitable<bool> Pop3Connection::Feed(std::string_view chunk) {
  int stalled = 0;
  while (!chunk.empty()) {
    // One line per Receive(): the driver can flush between commands and
    // stop right after STLS.
    const void* lf = std::memchr(chunk.data(), '\n', chunk.size());
    const std::size_t line_length =
        lf == nullptr ? chunk.size()
                      : static_cast<std::size_t>(
                            static_cast<const char*>(lf) - chunk.data()) +
                            1;
    const std::size_t used = session_.Receive(chunk.substr(0, line_length));
    log_.ClientBytes(chunk.substr(0, used));
    chunk.remove_prefix(used);
    if (!co_await HandleEvents()) co_return false;
    if (start_tls_requested_) {
      // RFC 2595 / CVE-2011-0411: nothing received before the handshake
      // may be used after it. The session dropped its buffer; drop ours.
      start_tls_requested_ = false;
      co_return co_await StartTls();
    }
    if (session_.closed() || shutdown_requested_ || force_closed_) {
      co_return true;  // the rest is not read any more
    }
    // Every event was answered, so a session that keeps taking nothing
    // cannot make progress on these bytes: drop them rather than spin.
    stalled = used == 0 ? stalled + 1 : 0;
    if (stalled > 1) co_return true;
    if (session_.output().size() >= kFlushThreshold) {
      if (!co_await Flush()) co_return false;
    }
  }
  co_return true;
}

asio::awaitable<bool> Pop3Connection::StartTls() {
  if (!co_await Flush()) co_return false;  // "+OK Begin TLS negotiation"
  if (shared_.tls == nullptr || !transport_->CanStartTls()) {
    SetEnd(absl::InternalError("STLS offered without TLS"));
    co_return false;
  }
  SetDeadline(Clock::now() + options_.idle_timeout);
  const std::error_code ec =
      co_await transport_->ServerHandshake(*shared_.tls);
  if (ec || force_closed_) {
    SetEnd(absl::UnavailableError(
        fmt::format("TLS handshake failed: {}", ec.message())));
    co_return false;
  }
  session_.OnTlsStarted();
  log_.Reset();
  last_reply_ = Clock::now();
  co_return true;
}

asio::awaitable<void> Pop3Connection::Linger() {
  transport_->ShutdownSend();
  EnsureBuffer();
  SetDeadline(Clock::now() + (shutdown_requested_ ? kPop3ShutdownLingerTime
                                                  : kPop3LingerTime));
  std::size_t drained = 0;
  while (drained < kPop3LingerBytes && !force_closed_ && !timed_out_) {
    const IoResult read =
        co_await transport_->ReadSome(buffer_.get(), kPop3ReadBufferSize);
    if (read.ec) break;
    drained += read.bytes;
  }
}

// ---------------------------------------------------------------------------
// Events.

asio::awaitable<bool> Pop3Connection::HandleEvents() {
  while (auto event = session_.NextEvent()) {
    switch (event->kind) {
      case pop3::EventKind::kLogin:
        co_await Login(*event);
        break;
      case pop3::EventKind::kRetrieve: {
        const bool alive = co_await Retrieve(event->index, event->top_lines);
        retrieving_ = false;
        if (!alive) co_return false;
        break;
      }
      case pop3::EventKind::kUpdate:
        co_await Update(std::vector<std::size_t>(event->deleted.begin(),
                                                 event->deleted.end()));
        break;
      case pop3::EventKind::kAborted:
        SetEnd(event->reason.ok() ? absl::AbortedError("session aborted")
                                  : event->reason);
        co_await DropMaildrop();
        break;
      case pop3::EventKind::kStartTls:
        start_tls_requested_ = true;
        break;
      case pop3::EventKind::kQuit:
        SetEnd(absl::OkStatus());
        break;
    }
  }
  co_return true;
}

asio::awaitable<void> Pop3Connection::Login(const pop3::Event& event) {
  // The event's views die with the next session call: copy first.
  Pop3LoginRequest request;
  request.peer = peer_;
  request.mechanism = event.mechanism;
  request.user = std::string(event.user);
  request.password = std::string(event.password);
  request.authzid = std::string(event.authzid);
  request.apop_timestamp = std::string(event.apop_timestamp);
  request.tls = session_.tls_active();

  ClearDeadline();  // the server is the slow side now
  Pop3LoginResult result = co_await OnPool(
      [this, &request] { return shared_.handler->Login(request); });
  Wipe(&request.password);

  if (result.maildrop != nullptr) {
    const std::size_t messages = result.listing.sizes.size();
    const std::uint64_t octets =
        std::accumulate(result.listing.sizes.begin(),
                        result.listing.sizes.end(), std::uint64_t{0});
    const absl::Status accepted =
        session_.AcceptLogin(std::move(result.listing));
    if (!accepted.ok()) {
      // A listing the session refuses (bad uids): the store is at fault.
      session_.RejectLogin(pop3::LoginFailure{std::string(pop3::kCodeSysTemp),
                                              "cannot open maildrop"});
      std::unique_ptr<Pop3Maildrop> doomed = std::move(result.maildrop);
      co_await OnPool([&doomed] { doomed.reset(); });
      co_return;
    }
    maildrop_ = std::move(result.maildrop);
    user_ = std::move(request.user);
    logged_in_ = true;
    listing_messages_ = messages;
    listing_octets_ = octets;
    co_return;
  }
  if (CountsAsFailedLogin(result.failure) &&
      options_.failed_login_delay.count() > 0 && !force_closed_) {
    // A timer, not a sleep: the loop serves the others meanwhile.
    delay_timer_.expires_after(options_.failed_login_delay);
    std::error_code ignored;
    co_await delay_timer_.async_wait(
        asio::redirect_error(asio::use_awaitable, ignored));
  }
  session_.RejectLogin(result.failure);
}

asio::awaitable<bool> Pop3Connection::Retrieve(
    std::size_t index, std::optional<std::uint64_t> top_lines) {
  // Earlier pipelined responses go first, so the log sees the status line
  // of this retrieval as the next one.
  if (!co_await Flush()) co_return false;
  if (maildrop_ == nullptr) {
    session_.FailMessage(absl::FailedPreconditionError("no maildrop"));
    co_return true;
  }
  ClearDeadline();
  const absl::Status opened = co_await OnPool(
      [this, index, top_lines] {
        return maildrop_->OpenMessage(index, top_lines);
      });
  if (!opened.ok()) {
    session_.FailMessage(opened);  // "-ERR [SYS/TEMP] cannot read ..."
    co_return true;
  }
  log_.ExpectMessageBody();
  // Two buffers: while one chunk is written to the client the pool reads
  // the next into the other, so the disk and the network overlap and the
  // pool round trip (a thread wake-up each way) costs no throughput.
  std::unique_ptr<char[]> buffers[2] = {
      std::make_unique_for_overwrite<char[]>(kMessageChunk),
      std::make_unique_for_overwrite<char[]>(kMessageChunk)};
  using namespace asio::experimental::awaitable_operators;  // a && b
  int current = 0;
  ClearDeadline();
  retrieving_ = true;
  ChunkRead read = co_await ReadChunk(buffers[current].get());
  for (;;) {
    if (force_closed_) co_return false;
    if (!read.status.ok()) {
      // Before any data: "-ERR", the session goes on; after: the session
      // closes without the final "." (a failed download, never a
      // truncated message taken for whole).
      session_.FailMessage(read.status);
      co_return true;
    }
    bool more = true;
    if (read.bytes > 0) {
      more = session_.SendMessageData(
          std::string_view(buffers[current].get(), read.bytes));
    }
    if (read.eof || !more) {
      session_.EndMessageData();
      co_return true;
    }
    current = 1 - current;
    auto [flushed, next] =
        co_await (Flush() && ReadChunk(buffers[current].get()));
    if (!flushed) co_return false;
    read = std::move(next);
  }
}

asio::awaitable<ChunkRead> Pop3Connection::ReadChunk(char* buffer) {
  // Fills the whole buffer: one pool round trip per kMessageChunk, not
  // per ReadMessage() call.
  co_return co_await OnPool([this, buffer] {
    ChunkRead out;
    while (out.bytes < kMessageChunk) {
      absl::StatusOr<std::size_t> n = maildrop_->ReadMessage(
          std::span<char>(buffer + out.bytes, kMessageChunk - out.bytes));
      if (!n.ok()) {
        out.status = n.status();
        return out;
      }
      if (*n == 0) {
        out.eof = true;
        break;
      }
      out.bytes += std::min(*n, kMessageChunk - out.bytes);
    }
    return out;
  });
}

asio::awaitable<void> Pop3Connection::Update(
    std::vector<std::size_t> deleted) {
  absl::Status status = absl::InternalError("no maildrop");
  if (maildrop_ != nullptr) {
    ClearDeadline();
    status = co_await OnPool(
        [this, &deleted] { return maildrop_->Update(deleted); });
  }
  updated_ = status.ok();
  SetEnd(status);
  session_.AnswerUpdate(status);
  co_await DropMaildrop();
}

asio::awaitable<void> Pop3Connection::DropMaildrop() {
  if (maildrop_ == nullptr) co_return;
  // Its destructor may unlock and close files: the pool's work.
  std::unique_ptr<Pop3Maildrop> doomed = std::move(maildrop_);
  co_await OnPool([&doomed] { doomed.reset(); });
}

asio::awaitable<void> Pop3Connection::EndSession() {
  if (session_ended_) co_return;
  session_ended_ = true;
  co_await DropMaildrop();
  Pop3SessionSummary summary;
  summary.peer = peer_;
  summary.user = user_;
  summary.logged_in = logged_in_;
  summary.updated = updated_;
  summary.tls = session_.tls_active();
  if (logged_in_) {
    summary.deleted_messages = session_.deleted_count();
    summary.deleted_octets = session_.deleted_octets();
    summary.left_messages = listing_messages_;
    summary.left_octets = listing_octets_;
    if (updated_) {
      summary.left_messages -=
          std::min(summary.left_messages, summary.deleted_messages);
      summary.left_octets -=
          std::min(summary.left_octets, summary.deleted_octets);
    }
  }
  summary.end = end_ ? *end_ : absl::UnknownError("connection ended");
  co_await OnPool(
      [this, &summary] { shared_.handler->OnSessionEnd(summary); });
}

}  // namespace posthorn::net
