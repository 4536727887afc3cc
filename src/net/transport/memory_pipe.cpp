// In-process pipe: see memory_pipe.h and posthorn/net/memory_stream.h.

#include "net/transport/memory_pipe.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include <asio/error.hpp>
#include <asio/post.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace posthorn::net {

void MemoryStream::Pipe::RingServer() {
  asio::post(server_executor_, [self = shared_from_this()] {
    std::lock_guard<std::mutex> lock(self->mu);
    if (self->server_waiter != nullptr) self->server_waiter->cancel();
  });
}

// ---------------------------------------------------------------------------
// Server end.

MemoryTransport::MemoryTransport(std::shared_ptr<MemoryStream::Pipe> pipe,
                                 Peer peer,
                                 const asio::any_io_executor& executor)
    : pipe_(std::move(pipe)), peer_(std::move(peer)), bell_(executor) {}

MemoryTransport::~MemoryTransport() {
  Close();
  std::lock_guard<std::mutex> lock(pipe_->mu);
  pipe_->server_waiter = nullptr;
}

asio::awaitable<bool> MemoryTransport::Wait() {
  {
    std::lock_guard<std::mutex> lock(pipe_->mu);
    pipe_->server_waiter = &bell_;
  }
  waiting_ = true;
  bell_.expires_at(asio::steady_timer::time_point::max());
  std::error_code ec;
  co_await bell_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  waiting_ = false;
  {
    std::lock_guard<std::mutex> lock(pipe_->mu);
    pipe_->server_waiter = nullptr;
  }
  if (cancelled_) {
    cancelled_ = false;
    co_return false;
  }
  co_return true;
}

asio::awaitable<IoResult> MemoryTransport::ReadSome(char* data,
                                                    std::size_t size) {
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(pipe_->mu);
      std::string& in = pipe_->to_server;
      if (!in.empty()) {
        const std::size_t n = std::min(size, in.size());
        std::memcpy(data, in.data(), n);
        in.erase(0, n);
        pipe_->client_cv.notify_all();  // room for a waiting writer
        co_return IoResult{{}, n};
      }
      if (pipe_->client_write_closed || pipe_->server_closed) {
        co_return IoResult{asio::error::eof, 0};
      }
    }
    if (!co_await Wait()) co_return IoResult{asio::error::operation_aborted, 0};
  }
}

asio::awaitable<std::error_code> MemoryTransport::WriteAll(
    std::string_view data) {
  while (!data.empty()) {
    {
      std::lock_guard<std::mutex> lock(pipe_->mu);
      if (pipe_->client_gone || pipe_->server_closed) {
        co_return asio::error::broken_pipe;
      }
      std::string& out = pipe_->to_client;
      const std::size_t room = kMemoryPipeCapacity - std::min(
                                   kMemoryPipeCapacity, out.size());
      const std::size_t n = std::min(room, data.size());
      out.append(data.substr(0, n));
      data.remove_prefix(n);
      if (n > 0) pipe_->client_cv.notify_all();
      if (data.empty()) break;
    }
    if (!co_await Wait()) co_return asio::error::operation_aborted;
  }
  co_return std::error_code();
}

void MemoryTransport::Cancel() {
  // Like a socket: only a pending operation is cancelled.
  if (!waiting_) return;
  cancelled_ = true;
  bell_.cancel();
}

void MemoryTransport::ShutdownSend() {
  std::lock_guard<std::mutex> lock(pipe_->mu);
  pipe_->server_closed = true;
  pipe_->client_cv.notify_all();
}

void MemoryTransport::Close() {
  Cancel();
  ShutdownSend();
}

// ---------------------------------------------------------------------------
// Client end.

MemoryStream::MemoryStream(std::shared_ptr<Pipe> pipe)
    : pipe_(std::move(pipe)) {}

MemoryStream::~MemoryStream() {
  {
    std::lock_guard<std::mutex> lock(pipe_->mu);
    pipe_->client_write_closed = true;
    pipe_->client_gone = true;
  }
  pipe_->RingServer();
}

absl::Status MemoryStream::Write(std::string_view bytes,
                                 std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!bytes.empty()) {
    {
      std::unique_lock<std::mutex> lock(pipe_->mu);
      if (pipe_->client_write_closed) {
        return absl::FailedPreconditionError("write after CloseWrite()");
      }
      const bool room = pipe_->client_cv.wait_until(lock, deadline, [&] {
        return pipe_->server_closed ||
               pipe_->to_server.size() < kMemoryPipeCapacity;
      });
      if (pipe_->server_closed) {
        return absl::FailedPreconditionError("the server closed");
      }
      if (!room) return absl::DeadlineExceededError("pipe full");
      const std::size_t n = std::min(
          kMemoryPipeCapacity - pipe_->to_server.size(), bytes.size());
      pipe_->to_server.append(bytes.substr(0, n));
      bytes.remove_prefix(n);
    }
    pipe_->RingServer();
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> MemoryStream::Read(
    std::chrono::milliseconds timeout) {
  if (!pending_.empty()) return std::exchange(pending_, std::string());
  std::string out;
  {
    std::unique_lock<std::mutex> lock(pipe_->mu);
    const bool ready = pipe_->client_cv.wait_for(lock, timeout, [&] {
      return pipe_->server_closed || !pipe_->to_client.empty();
    });
    if (!ready) return absl::DeadlineExceededError("nothing from the server");
    out.swap(pipe_->to_client);
  }
  pipe_->RingServer();  // room for a waiting server write
  return out;
}

absl::StatusOr<std::string> MemoryStream::ReadUntil(
    std::string_view needle, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string got = std::exchange(pending_, std::string());
  for (;;) {
    const std::size_t at = got.find(needle);
    if (at != std::string::npos) {
      pending_ = got.substr(at + needle.size());
      got.resize(at + needle.size());
      return got;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      pending_ = std::move(got);
      return absl::DeadlineExceededError("timeout waiting for the server");
    }
    auto more = Read(left);
    if (!more.ok()) {
      pending_ = std::move(got);
      return more.status();
    }
    if (more->empty()) {
      pending_ = std::move(got);
      return absl::NotFoundError("the server closed the connection");
    }
    got += *more;
  }
}

absl::StatusOr<std::string> MemoryStream::ReadToEnd(
    std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string got = std::exchange(pending_, std::string());
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      pending_ = std::move(got);
      return absl::DeadlineExceededError("the server did not close");
    }
    auto more = Read(left);
    if (!more.ok()) {
      pending_ = std::move(got);
      return more.status();
    }
    if (more->empty()) return got;
    got += *more;
  }
}

void MemoryStream::CloseWrite() {
  {
    std::lock_guard<std::mutex> lock(pipe_->mu);
    pipe_->client_write_closed = true;
  }
  pipe_->RingServer();
}

}  // namespace posthorn::net
