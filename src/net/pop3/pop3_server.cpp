// Pop3Server: listeners, event-loop threads (one io_context each), the
// worker pool for blocking calls, graceful shutdown. See
// posthorn/net/pop3_server.h.
//
// THREADS
//   Loop 0 runs in the thread that calls Run() and owns the acceptors and
//   the signal set; loops 1..io_threads-1 run in their own threads. An
//   accepted socket is handed to a loop round-robin and lives there until
//   it closes, so a connection never needs a lock; each loop keeps the set
//   of its connections for Stop(). Blocking handler and maildrop calls go
//   to one asio::thread_pool of worker_threads threads.
//
// This is an adapted copy of the SmtpServer machinery
// (src/net/server/smtp_server.cpp): the two differ in the connection
// type, the worker pool and what a busy or stopping server says.

#include <atomic>
#include <chrono>
#include <csignal>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_set>
#include <utility>
#include <vector>

#include <asio/co_spawn.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/ip/v6_only.hpp>
#include <asio/post.hpp>
#include <asio/redirect_error.hpp>
#include <asio/signal_set.hpp>
#include <asio/steady_timer.hpp>
#include <asio/thread_pool.hpp>
#include <asio/use_awaitable.hpp>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "fmt/format.h"
#include "net/pop3/pop3_connection.h"
#include "net/transport/memory_pipe.h"
#include "net/transport/tcp_transport.h"
#include "net/transport/tls_context.h"
#include "posthorn/net/pop3_server.h"

namespace posthorn::net {
namespace {

constexpr int kMaxIoThreads = 64;
constexpr int kMaxWorkerThreads = 256;
// After accept() fails for lack of descriptors or memory, wait this long
// before the next try instead of spinning.
constexpr std::chrono::milliseconds kAcceptBackoff{100};

std::string FormatEndpoint(const asio::ip::tcp::endpoint& endpoint) {
  if (endpoint.address().is_v6()) {
    return fmt::format("[{}]:{}", endpoint.address().to_string(),
                       endpoint.port());
  }
  return fmt::format("{}:{}", endpoint.address().to_string(), endpoint.port());
}

}  // namespace

class Pop3Server::Impl {
 public:
  struct Loop {
    asio::io_context io{1};
    std::optional<asio::executor_work_guard<asio::io_context::executor_type>>
        work;
    std::unordered_set<Pop3Connection*> connections;  // on io's thread
    std::optional<asio::steady_timer> grace_timer;
    bool shutting_down = false;
  };

  struct Listener {
    explicit Listener(asio::io_context& io) : acceptor(io) {}
    asio::ip::tcp::acceptor acceptor;
    bool tls = false;
    std::string endpoint;
  };

  Impl(Pop3ServerOptions options, Pop3Handler* handler)
      : options_(std::move(options)) {
    shared_.options = &options_;
    shared_.session_options = options_.session;
    shared_.handler = handler;
  }

  absl::Status Init();
  absl::Status Bind(const std::string& text, bool tls);
  absl::Status Run();
  void Stop();
  absl::StatusOr<std::unique_ptr<MemoryStream>> ConnectInMemory(Peer peer);

  std::vector<std::string> endpoints() const {
    std::vector<std::string> out;
    for (const auto& listener : listeners_) out.push_back(listener->endpoint);
    return out;
  }
  const Pop3Shared& shared() const { return shared_; }

 private:
  asio::awaitable<void> AcceptLoop(Listener* listener);
  void DoStop();
  void BeginShutdown(Loop* loop);
  Loop& NextLoop() {
    const std::size_t i = next_loop_.fetch_add(1, std::memory_order_relaxed);
    return *loops_[i % loops_.size()];
  }
  // Counts a new connection against max_connections; kBusy when full.
  Pop3Connection::Mode Admit(Pop3Connection::Mode wanted) {
    const std::size_t before =
        shared_.active.fetch_add(1, std::memory_order_relaxed);
    if (before >= options_.max_connections) {
      shared_.active.fetch_sub(1, std::memory_order_relaxed);
      return Pop3Connection::Mode::kBusy;
    }
    shared_.connections_accepted.fetch_add(1, std::memory_order_relaxed);
    return wanted;
  }
  // On the loop's thread.
  void Spawn(Loop* loop, std::unique_ptr<Transport> transport,
             Pop3Connection::Mode mode);

  // Declaration order is destruction order reversed: the io_contexts (and
  // the connections their handlers own) go first, then the worker pool
  // (joined), then what both point to.
  Pop3ServerOptions options_;
  Pop3Shared shared_;
  std::unique_ptr<asio::ssl::context> tls_;
  std::optional<asio::thread_pool> pool_;
  std::vector<std::unique_ptr<Loop>> loops_;
  std::vector<std::unique_ptr<Listener>> listeners_;  // on loops_[0]
  std::optional<asio::signal_set> signals_;
  std::atomic<std::size_t> next_loop_{0};
  std::atomic<bool> stop_requested_{false};
  std::atomic<bool> running_{false};
  bool stopping_ = false;  // loop 0's thread only
};

absl::Status Pop3Server::Impl::Init() {
  if (shared_.handler == nullptr) {
    return absl::InvalidArgumentError("Pop3Server needs a handler");
  }
  if (options_.io_threads < 1 || options_.io_threads > kMaxIoThreads) {
    return absl::InvalidArgumentError(
        fmt::format("io_threads must be 1..{}", kMaxIoThreads));
  }
  if (options_.worker_threads < 1 ||
      options_.worker_threads > kMaxWorkerThreads) {
    return absl::InvalidArgumentError(
        fmt::format("worker_threads must be 1..{}", kMaxWorkerThreads));
  }
  if (options_.max_connections < 1) {
    return absl::InvalidArgumentError("max_connections must be at least 1");
  }
  if (options_.idle_timeout.count() <= 0) {
    return absl::InvalidArgumentError("idle_timeout must be positive");
  }
  if (options_.failed_login_delay.count() < 0) {
    return absl::InvalidArgumentError("failed_login_delay must not be negative");
  }
  if (options_.tls) {
    auto context = MakeServerTlsContext(*options_.tls);
    if (!context.ok()) return context.status();
    tls_ = std::move(*context);
    shared_.tls = tls_.get();
  } else if (!options_.listen_tls.empty()) {
    return absl::InvalidArgumentError("listen_tls needs tls (cert and key)");
  }
  shared_.session_options.tls_available = tls_ != nullptr;
  shared_.session_options.tls_active = false;

  pool_.emplace(static_cast<std::size_t>(options_.worker_threads));
  shared_.pool = pool_->get_executor();
  for (int i = 0; i < options_.io_threads; ++i) {
    loops_.push_back(std::make_unique<Loop>());
    loops_.back()->work.emplace(loops_.back()->io.get_executor());
  }
  for (const std::string& endpoint : options_.listen) {
    if (absl::Status bound = Bind(endpoint, false); !bound.ok()) return bound;
  }
  for (const std::string& endpoint : options_.listen_tls) {
    if (absl::Status bound = Bind(endpoint, true); !bound.ok()) return bound;
  }
  return absl::OkStatus();
}

absl::Status Pop3Server::Impl::Bind(const std::string& text, bool tls) {
  auto parsed = ParseEndpoint(text);
  if (!parsed.ok()) return parsed.status();
  std::error_code ec;
  const asio::ip::address address = asio::ip::make_address(parsed->first, ec);
  if (ec) {
    return absl::InvalidArgumentError(fmt::format(
        "listen {}: the host must be an IP address (0.0.0.0, [::], ...)",
        text));
  }
  const asio::ip::tcp::endpoint endpoint(address, parsed->second);
  auto listener = std::make_unique<Listener>(loops_[0]->io);
  listener->tls = tls;
  asio::ip::tcp::acceptor& acceptor = listener->acceptor;
  const auto fail = [&](std::string_view step) {
    return absl::UnavailableError(
        fmt::format("listen {}: {}: {}", text, step, ec.message()));
  };
  acceptor.open(endpoint.protocol(), ec);
  if (ec) return fail("socket");
  if (address.is_v6()) {
    // "[::]:110" and "0.0.0.0:110" are separate listeners.
    acceptor.set_option(asio::ip::v6_only(true), ec);
    if (ec) return fail("IPV6_V6ONLY");
  }
  acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (ec) return fail("SO_REUSEADDR");
  acceptor.bind(endpoint, ec);
  if (ec) return fail("bind");
  acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return fail("listen");
  const auto local = acceptor.local_endpoint(ec);
  if (ec) return fail("getsockname");
  listener->endpoint = FormatEndpoint(local);
  listeners_.push_back(std::move(listener));
  return absl::OkStatus();
}

absl::Status Pop3Server::Impl::Run() {
  if (running_.exchange(true)) {
    return absl::FailedPreconditionError("Pop3Server::Run() called twice");
  }
  Loop& main = *loops_[0];
  for (const auto& listener : listeners_) {
    asio::co_spawn(main.io, AcceptLoop(listener.get()),
                   [](std::exception_ptr) {});
  }
  if (options_.handle_signals) {
    signals_.emplace(main.io, SIGTERM, SIGINT);
    signals_->async_wait([this](const std::error_code& ec, int) {
      if (!ec) DoStop();
    });
  }
  std::vector<std::thread> threads;
  absl::Status status;
  std::mutex status_mu;
  const auto run = [&](Loop& loop) {
    try {
      loop.io.run();
    } catch (const std::exception& e) {
      std::lock_guard<std::mutex> lock(status_mu);
      status = absl::InternalError(fmt::format("event loop: {}", e.what()));
    }
  };
  for (std::size_t i = 1; i < loops_.size(); ++i) {
    threads.emplace_back([&, loop = loops_[i].get()] { run(*loop); });
  }
  run(main);
  for (std::thread& thread : threads) thread.join();
  return status;
}

asio::awaitable<void> Pop3Server::Impl::AcceptLoop(Listener* listener) {
  for (;;) {
    Loop& loop = NextLoop();
    std::error_code ec;
    asio::ip::tcp::socket socket = co_await listener->acceptor.async_accept(
        loop.io, asio::redirect_error(asio::use_awaitable, ec));
    if (stopping_ || ec == asio::error::operation_aborted) co_return;
    if (ec) {
      // EMFILE, ENFILE, ENOBUFS, ECONNABORTED: the listener is fine, the
      // moment is not.
      asio::steady_timer backoff(listener->acceptor.get_executor(),
                                 kAcceptBackoff);
      co_await backoff.async_wait(
          asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    SetConnectionOptions(socket);
    const Pop3Connection::Mode mode =
        Admit(listener->tls ? Pop3Connection::Mode::kImplicitTls
                            : Pop3Connection::Mode::kPlain);
    asio::post(loop.io, [this, l = &loop, mode,
                         socket = std::move(socket)]() mutable {
      Spawn(l, std::make_unique<TcpTransport>(std::move(socket)), mode);
    });
  }
}

void Pop3Server::Impl::Spawn(Loop* loop, std::unique_ptr<Transport> transport,
                             Pop3Connection::Mode mode) {
  auto connection = std::make_shared<Pop3Connection>(
      shared_, loop->io.get_executor(), std::move(transport), mode,
      [loop](Pop3Connection* done) {
        loop->connections.erase(done);
        if (loop->shutting_down && loop->connections.empty() &&
            loop->grace_timer) {
          loop->grace_timer->cancel();
        }
      });
  loop->connections.insert(connection.get());
  if (loop->shutting_down) connection->RequestShutdown();
  asio::co_spawn(loop->io, Pop3Connection::Run(std::move(connection)),
                 [](std::exception_ptr) {});
}

void Pop3Server::Impl::Stop() {
  if (stop_requested_.exchange(true)) return;
  asio::post(loops_[0]->io, [this] { DoStop(); });
}

void Pop3Server::Impl::DoStop() {
  if (stopping_) return;
  stopping_ = true;
  stop_requested_ = true;
  std::error_code ignored;
  for (const auto& listener : listeners_) listener->acceptor.close(ignored);
  if (signals_) signals_->cancel(ignored);
  for (const auto& loop : loops_) {
    asio::post(loop->io, [this, l = loop.get()] { BeginShutdown(l); });
  }
}

void Pop3Server::Impl::BeginShutdown(Loop* loop) {
  loop->shutting_down = true;
  loop->work.reset();
  const std::vector<Pop3Connection*> connections(loop->connections.begin(),
                                                 loop->connections.end());
  for (Pop3Connection* connection : connections) {
    connection->RequestShutdown();
  }
  if (loop->connections.empty()) return;
  loop->grace_timer.emplace(loop->io, options_.shutdown_grace);
  loop->grace_timer->async_wait([loop](const std::error_code& ec) {
    if (ec) return;  // every connection finished in time
    const std::vector<Pop3Connection*> left(loop->connections.begin(),
                                            loop->connections.end());
    for (Pop3Connection* connection : left) connection->ForceClose();
  });
}

absl::StatusOr<std::unique_ptr<MemoryStream>>
Pop3Server::Impl::ConnectInMemory(Peer peer) {
  if (stop_requested_) {
    return absl::UnavailableError("the server is shutting down");
  }
  Loop& loop = NextLoop();
  auto pipe = std::make_shared<MemoryStream::Pipe>(loop.io.get_executor());
  const Pop3Connection::Mode mode = Admit(Pop3Connection::Mode::kPlain);
  asio::post(loop.io, [this, l = &loop, mode, pipe,
                       peer = std::move(peer)]() mutable {
    Spawn(l,
          std::make_unique<MemoryTransport>(std::move(pipe), std::move(peer),
                                            l->io.get_executor()),
          mode);
  });
  return std::make_unique<MemoryStream>(std::move(pipe));
}

// ---------------------------------------------------------------------------
// Pop3Server.

absl::StatusOr<std::unique_ptr<Pop3Server>> Pop3Server::Create(
    Pop3ServerOptions options, Pop3Handler* handler) {
  auto impl = std::make_unique<Impl>(std::move(options), handler);
  try {
    if (absl::Status status = impl->Init(); !status.ok()) return status;
  } catch (const std::exception& e) {  // asio allocation failures
    return absl::InternalError(fmt::format("Pop3Server: {}", e.what()));
  }
  return std::unique_ptr<Pop3Server>(new Pop3Server(std::move(impl)));
}

Pop3Server::Pop3Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Pop3Server::~Pop3Server() = default;

absl::Status Pop3Server::Run() { return impl_->Run(); }
void Pop3Server::Stop() { impl_->Stop(); }
std::vector<std::string> Pop3Server::local_endpoints() const {
  return impl_->endpoints();
}
std::uint64_t Pop3Server::connections_accepted() const {
  return impl_->shared().connections_accepted.load();
}
std::size_t Pop3Server::active_connections() const {
  return impl_->shared().active.load();
}
absl::StatusOr<std::unique_ptr<MemoryStream>> Pop3Server::ConnectInMemory(
    Peer peer) {
  return impl_->ConnectInMemory(std::move(peer));
}

}  // namespace posthorn::net
