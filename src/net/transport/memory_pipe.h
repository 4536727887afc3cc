// net/transport/memory_pipe.h — the server end of an in-process connection.
//
// MemoryStream::Pipe holds both directions under one mutex. The client end
// (public MemoryStream, any thread) blocks on a condition variable; the
// server end (MemoryTransport, the loop thread) waits on a steady_timer
// that the client "rings" by posting timer.cancel() to the loop's
// executor. Because the server checks the buffer and starts its wait
// without returning to the loop in between, a ring can never be lost.

#ifndef POSTHORN_SRC_NET_TRANSPORT_MEMORY_PIPE_H_
#define POSTHORN_SRC_NET_TRANSPORT_MEMORY_PIPE_H_

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <system_error>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/steady_timer.hpp>

#include "posthorn/net/memory_stream.h"
#include "net/transport/transport.h"

namespace posthorn::net {

class MemoryStream::Pipe : public std::enable_shared_from_this<Pipe> {
 public:
  explicit Pipe(asio::any_io_executor server_executor)
      : server_executor_(std::move(server_executor)) {}

  // Wakes the server end if it waits (called without mu held).
  void RingServer();

  std::mutex mu;
  std::condition_variable client_cv;  // the client end waits on this
  std::string to_server;              // bounded by kMemoryPipeCapacity
  std::string to_client;              // bounded by kMemoryPipeCapacity
  bool client_write_closed = false;   // the server reads EOF after the data
  bool client_gone = false;           // the client end was destroyed
  bool server_closed = false;         // the client reads EOF after the data
  asio::steady_timer* server_waiter = nullptr;  // set while the server waits

 private:
  asio::any_io_executor server_executor_;
};

class MemoryTransport final : public Transport {
 public:
  MemoryTransport(std::shared_ptr<MemoryStream::Pipe> pipe, Peer peer,
                  const asio::any_io_executor& executor);
  ~MemoryTransport() override;

  asio::awaitable<IoResult> ReadSome(char* data, std::size_t size) override;
  asio::awaitable<std::error_code> WriteAll(std::string_view data) override;
  void Cancel() override;
  void ShutdownSend() override;
  void Close() override;
  Peer peer() const override { return peer_; }

 private:
  // Waits for a ring or Cancel(); false when cancelled.
  asio::awaitable<bool> Wait();

  std::shared_ptr<MemoryStream::Pipe> pipe_;
  Peer peer_;
  asio::steady_timer bell_;
  bool waiting_ = false;
  bool cancelled_ = false;
};

}  // namespace posthorn::net

#endif  // POSTHORN_SRC_NET_TRANSPORT_MEMORY_PIPE_H_
