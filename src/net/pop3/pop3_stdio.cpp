// ServePop3OnStdio: one POP3 session on two descriptors (inetd, popper
// without -l).
//
// inetd hands popper a connected TCP socket as descriptors 0 and 1. Then
// the socket is used as one (TcpTransport on a dup): the peer address is
// known and STLS works when options.tls is set. Pipes, terminals and
// differing descriptors get the plain StdioTransport: no TLS (a pipe
// cannot carry a handshake), peer "".

#include <sys/socket.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <exception>
#include <memory>
#include <optional>
#include <string_view>
#include <utility>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/signal_set.hpp>
#include <asio/steady_timer.hpp>
#include <asio/thread_pool.hpp>

#include "absl/status/status.h"
#include "fmt/format.h"
#include "net/pop3/pop3_connection.h"
#include "net/transport/stdio_transport.h"
#include "net/transport/tcp_transport.h"
#include "net/transport/tls_context.h"
#include "posthorn/net/pop3_server.h"

namespace posthorn::net {
namespace {

// The socket family of in_fd when in_fd and out_fd are the same connected
// stream socket (AF_INET, AF_INET6 or AF_UNIX); nullopt otherwise.
std::optional<int> StreamSocketFamily(int in_fd, int out_fd) {
  struct stat in_stat {};
  if (::fstat(in_fd, &in_stat) != 0 || !S_ISSOCK(in_stat.st_mode)) {
    return std::nullopt;
  }
  if (out_fd != in_fd) {
    struct stat out_stat {};
    if (::fstat(out_fd, &out_stat) != 0 || out_stat.st_dev != in_stat.st_dev ||
        out_stat.st_ino != in_stat.st_ino) {
      return std::nullopt;
    }
  }
  int type = 0;
  socklen_t length = sizeof type;
  if (::getsockopt(in_fd, SOL_SOCKET, SO_TYPE, &type, &length) != 0 ||
      type != SOCK_STREAM) {
    return std::nullopt;
  }
  sockaddr_storage address{};
  length = sizeof address;
  if (::getsockname(in_fd, reinterpret_cast<sockaddr*>(&address), &length) !=
      0) {
    return std::nullopt;
  }
  const int family = address.ss_family;
  if (family != AF_INET && family != AF_INET6 && family != AF_UNIX) {
    return std::nullopt;
  }
  return family;
}

// A TcpTransport on an inherited socket whose peer comes from
// getpeername() (asio's tcp endpoint cannot describe an AF_UNIX peer).
class InheritedSocketTransport final : public Transport {
 public:
  InheritedSocketTransport(asio::ip::tcp::socket socket, Peer peer)
      : inner_(std::move(socket)), peer_(std::move(peer)) {}

  asio::awaitable<IoResult> ReadSome(char* data, std::size_t size) override {
    return inner_.ReadSome(data, size);
  }
  asio::awaitable<std::error_code> WriteAll(std::string_view data) override {
    return inner_.WriteAll(data);
  }
  bool CanStartTls() const override { return inner_.CanStartTls(); }
  asio::awaitable<std::error_code> ServerHandshake(
      asio::ssl::context& context) override {
    return inner_.ServerHandshake(context);
  }
  void Cancel() override { inner_.Cancel(); }
  void ShutdownSend() override { inner_.ShutdownSend(); }
  void Close() override { inner_.Close(); }
  Peer peer() const override { return peer_; }

 private:
  TcpTransport inner_;
  Peer peer_;
};

absl::StatusOr<std::unique_ptr<Transport>> OpenSocket(asio::io_context& io,
                                                      int fd, int family) {
  const int copy = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (copy < 0) {
    return absl::InvalidArgumentError(
        fmt::format("descriptor {}: {}", fd, std::strerror(errno)));
  }
  // The protocol object only tells asio the address family; an AF_UNIX
  // socket (a socketpair in tests) reads and writes the same way.
  asio::ip::tcp::socket socket(io);
  std::error_code ec;
  socket.assign(family == AF_INET6 ? asio::ip::tcp::v6() : asio::ip::tcp::v4(),
                copy, ec);
  if (ec) {
    ::close(copy);
    return absl::InternalError(
        fmt::format("descriptor {}: {}", fd, ec.message()));
  }
  if (family != AF_UNIX) SetConnectionOptions(socket);
  return std::unique_ptr<Transport>(std::make_unique<InheritedSocketTransport>(
      std::move(socket), PeerOfDescriptor(fd)));
}

}  // namespace

absl::Status ServePop3OnStdio(const Pop3ServerOptions& options,
                              Pop3Handler* handler, int in_fd, int out_fd) {
  if (handler == nullptr) {
    return absl::InvalidArgumentError("ServePop3OnStdio needs a handler");
  }
  if (options.idle_timeout.count() <= 0) {
    return absl::InvalidArgumentError("idle_timeout must be positive");
  }
  if (options.worker_threads < 1) {
    return absl::InvalidArgumentError("worker_threads must be at least 1");
  }
  try {
    asio::io_context io(1);
    asio::thread_pool pool(static_cast<std::size_t>(options.worker_threads));
    Pop3Shared shared;
    shared.options = &options;
    shared.session_options = options.session;
    shared.session_options.tls_available = false;
    shared.session_options.tls_active = false;
    shared.handler = handler;
    shared.pool = pool.get_executor();

    std::unique_ptr<asio::ssl::context> tls;
    std::unique_ptr<Transport> transport;
    if (const auto family = StreamSocketFamily(in_fd, out_fd)) {
      auto socket = OpenSocket(io, in_fd, *family);
      if (!socket.ok()) return socket.status();
      transport = std::move(*socket);
      if (options.tls) {
        auto context = MakeServerTlsContext(*options.tls);
        if (!context.ok()) return context.status();
        tls = std::move(*context);
        shared.tls = tls.get();
        shared.session_options.tls_available = true;
      }
    } else {
      auto stdio = StdioTransport::Open(io.get_executor(), in_fd, out_fd);
      if (!stdio.ok()) return stdio.status();
      transport = std::move(*stdio);
    }

    std::optional<asio::signal_set> signals;
    asio::steady_timer grace(io);
    auto connection = std::make_shared<Pop3Connection>(
        shared, io.get_executor(), std::move(transport),
        Pop3Connection::Mode::kPlain, [&signals, &grace](Pop3Connection*) {
          std::error_code ignored;
          if (signals) signals->cancel(ignored);
          grace.cancel();
        });
    if (options.handle_signals) {
      signals.emplace(io, SIGTERM, SIGINT);
      signals->async_wait(
          [&grace, &options,
           weak = std::weak_ptr<Pop3Connection>(connection)](
              const std::error_code& ec, int) {
            if (ec) return;
            auto alive = weak.lock();
            if (!alive) return;
            alive->RequestShutdown();
            grace.expires_after(options.shutdown_grace);
            grace.async_wait([weak](const std::error_code& timer_ec) {
              if (timer_ec) return;
              if (auto still = weak.lock()) still->ForceClose();
            });
          });
    }
    shared.active.fetch_add(1);
    shared.connections_accepted.fetch_add(1);
    asio::co_spawn(io, Pop3Connection::Run(std::move(connection)),
                   [](std::exception_ptr) {});
    io.run();
  } catch (const std::exception& e) {
    return absl::InternalError(fmt::format("stdio session: {}", e.what()));
  }
  return absl::OkStatus();
}

}  // namespace posthorn::net
