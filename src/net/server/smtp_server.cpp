// SmtpServer: listeners, workers (one io_context per thread), graceful
// shutdown. See posthorn/net/smtp_server.h.
//
// THREADS
//   Worker 0 runs in the thread that calls Run() and owns the acceptors
//   and the signal set; workers 1..io_threads-1 run in their own threads.
//   An accepted socket is handed to a worker round-robin and lives there
//   until it closes, so a connection never needs a lock; each worker keeps
//   the set of its connections for Stop().

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
#include <asio/use_awaitable.hpp>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "fmt/format.h"
#include "net/server/connection.h"
#include "net/transport/memory_pipe.h"
#include "net/transport/tcp_transport.h"
#include "net/transport/tls_context.h"
#include "posthorn/net/smtp_server.h"

namespace posthorn::net {
namespace {

constexpr int kMaxIoThreads = 64;
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

class SmtpServer::Impl {
 public:
  struct Worker {
    asio::io_context io{1};
    std::optional<asio::executor_work_guard<asio::io_context::executor_type>>
        work;
    std::unordered_set<Connection*> connections;  // touched on io's thread
    std::optional<asio::steady_timer> grace_timer;
    bool shutting_down = false;
  };

  struct Listener {
    explicit Listener(asio::io_context& io) : acceptor(io) {}
    asio::ip::tcp::acceptor acceptor;
    bool tls = false;
    std::string endpoint;
  };

  Impl(SmtpServerOptions options, SmtpHandler* handler)
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
  const ServerShared& shared() const { return shared_; }

 private:
  asio::awaitable<void> AcceptLoop(Listener* listener);
  void DoStop();
  void BeginShutdown(Worker* worker);
  Worker& NextWorker() {
    const std::size_t i = next_worker_.fetch_add(1, std::memory_order_relaxed);
    return *workers_[i % workers_.size()];
  }
  // Counts a new connection against max_connections; kBusy when full.
  Connection::Mode Admit(Connection::Mode wanted) {
    const std::size_t before =
        shared_.active.fetch_add(1, std::memory_order_relaxed);
    if (before >= options_.max_connections) {
      shared_.active.fetch_sub(1, std::memory_order_relaxed);
      return Connection::Mode::kBusy;
    }
    shared_.connections_accepted.fetch_add(1, std::memory_order_relaxed);
    return wanted;
  }
  // On the worker's thread.
  void Spawn(Worker* worker, std::unique_ptr<Transport> transport,
             Connection::Mode mode);

  // Declaration order is destruction order reversed: the io_contexts (and
  // the connections their handlers own) go before what they point to.
  SmtpServerOptions options_;
  ServerShared shared_;
  std::unique_ptr<asio::ssl::context> tls_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<std::unique_ptr<Listener>> listeners_;  // on workers_[0]
  std::optional<asio::signal_set> signals_;
  std::atomic<std::size_t> next_worker_{0};
  std::atomic<bool> stop_requested_{false};
  std::atomic<bool> running_{false};
  bool stopping_ = false;  // worker 0's thread only
};

absl::Status SmtpServer::Impl::Init() {
  if (shared_.handler == nullptr) {
    return absl::InvalidArgumentError("SmtpServer needs a handler");
  }
  if (options_.io_threads < 1 || options_.io_threads > kMaxIoThreads) {
    return absl::InvalidArgumentError(
        fmt::format("io_threads must be 1..{}", kMaxIoThreads));
  }
  if (options_.max_connections < 1) {
    return absl::InvalidArgumentError("max_connections must be at least 1");
  }
  if (options_.idle_timeout.count() <= 0) {
    return absl::InvalidArgumentError("idle_timeout must be positive");
  }
  if (absl::Status limits = options_.session.limits.Validate(); !limits.ok()) {
    return limits;
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

  for (int i = 0; i < options_.io_threads; ++i) {
    workers_.push_back(std::make_unique<Worker>());
    workers_.back()->work.emplace(workers_.back()->io.get_executor());
  }
  for (const std::string& endpoint : options_.listen) {
    if (absl::Status bound = Bind(endpoint, false); !bound.ok()) return bound;
  }
  for (const std::string& endpoint : options_.listen_tls) {
    if (absl::Status bound = Bind(endpoint, true); !bound.ok()) return bound;
  }
  return absl::OkStatus();
}

absl::Status SmtpServer::Impl::Bind(const std::string& text, bool tls) {
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
  auto listener = std::make_unique<Listener>(workers_[0]->io);
  listener->tls = tls;
  asio::ip::tcp::acceptor& acceptor = listener->acceptor;
  const auto fail = [&](std::string_view step) {
    return absl::UnavailableError(
        fmt::format("listen {}: {}: {}", text, step, ec.message()));
  };
  acceptor.open(endpoint.protocol(), ec);
  if (ec) return fail("socket");
  if (address.is_v6()) {
    // "[::]:25" and "0.0.0.0:25" are separate listeners, as the config
    // lists them; without V6ONLY the second bind would fail.
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

absl::Status SmtpServer::Impl::Run() {
  if (running_.exchange(true)) {
    return absl::FailedPreconditionError("SmtpServer::Run() called twice");
  }
  Worker& main = *workers_[0];
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
  const auto run = [&](Worker& worker) {
    try {
      worker.io.run();
    } catch (const std::exception& e) {
      std::lock_guard<std::mutex> lock(status_mu);
      status = absl::InternalError(fmt::format("event loop: {}", e.what()));
    }
  };
  for (std::size_t i = 1; i < workers_.size(); ++i) {
    threads.emplace_back([&, worker = workers_[i].get()] { run(*worker); });
  }
  run(main);
  for (std::thread& thread : threads) thread.join();
  return status;
}

asio::awaitable<void> SmtpServer::Impl::AcceptLoop(Listener* listener) {
  for (;;) {
    Worker& worker = NextWorker();
    std::error_code ec;
    asio::ip::tcp::socket socket = co_await listener->acceptor.async_accept(
        worker.io, asio::redirect_error(asio::use_awaitable, ec));
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
    const Connection::Mode mode = Admit(
        listener->tls ? Connection::Mode::kImplicitTls
                      : Connection::Mode::kPlain);
    asio::post(worker.io, [this, w = &worker, mode,
                           socket = std::move(socket)]() mutable {
      Spawn(w, std::make_unique<TcpTransport>(std::move(socket)), mode);
    });
  }
}

void SmtpServer::Impl::Spawn(Worker* worker,
                             std::unique_ptr<Transport> transport,
                             Connection::Mode mode) {
  auto connection = std::make_shared<Connection>(
      shared_, worker->io.get_executor(), std::move(transport), mode,
      [worker](Connection* done) {
        worker->connections.erase(done);
        if (worker->shutting_down && worker->connections.empty() &&
            worker->grace_timer) {
          worker->grace_timer->cancel();
        }
      });
  worker->connections.insert(connection.get());
  if (worker->shutting_down) connection->RequestShutdown();
  asio::co_spawn(worker->io, Connection::Run(std::move(connection)),
                 [](std::exception_ptr) {});
}

void SmtpServer::Impl::Stop() {
  if (stop_requested_.exchange(true)) return;
  asio::post(workers_[0]->io, [this] { DoStop(); });
}

void SmtpServer::Impl::DoStop() {
  if (stopping_) return;
  stopping_ = true;
  stop_requested_ = true;
  std::error_code ignored;
  for (const auto& listener : listeners_) listener->acceptor.close(ignored);
  if (signals_) signals_->cancel(ignored);
  for (const auto& worker : workers_) {
    asio::post(worker->io, [this, w = worker.get()] { BeginShutdown(w); });
  }
}

void SmtpServer::Impl::BeginShutdown(Worker* worker) {
  worker->shutting_down = true;
  worker->work.reset();
  // Copy: a connection may finish (and erase itself) later, never inside
  // RequestShutdown(), but be safe.
  const std::vector<Connection*> connections(worker->connections.begin(),
                                             worker->connections.end());
  for (Connection* connection : connections) connection->RequestShutdown();
  if (worker->connections.empty()) return;
  worker->grace_timer.emplace(worker->io, options_.shutdown_grace);
  worker->grace_timer->async_wait([worker](const std::error_code& ec) {
    if (ec) return;  // every connection finished in time
    const std::vector<Connection*> left(worker->connections.begin(),
                                        worker->connections.end());
    for (Connection* connection : left) connection->ForceClose();
  });
}

absl::StatusOr<std::unique_ptr<MemoryStream>>
SmtpServer::Impl::ConnectInMemory(Peer peer) {
  if (stop_requested_) {
    return absl::UnavailableError("the server is shutting down");
  }
  Worker& worker = NextWorker();
  auto pipe = std::make_shared<MemoryStream::Pipe>(worker.io.get_executor());
  const Connection::Mode mode = Admit(Connection::Mode::kPlain);
  asio::post(worker.io, [this, w = &worker, mode, pipe,
                         peer = std::move(peer)]() mutable {
    Spawn(w,
          std::make_unique<MemoryTransport>(std::move(pipe), std::move(peer),
                                            w->io.get_executor()),
          mode);
  });
  return std::make_unique<MemoryStream>(std::move(pipe));
}

// ---------------------------------------------------------------------------
// SmtpServer.

absl::StatusOr<std::unique_ptr<SmtpServer>> SmtpServer::Create(
    SmtpServerOptions options, SmtpHandler* handler) {
  auto impl = std::make_unique<Impl>(std::move(options), handler);
  try {
    if (absl::Status status = impl->Init(); !status.ok()) return status;
  } catch (const std::exception& e) {  // asio allocation failures
    return absl::InternalError(fmt::format("SmtpServer: {}", e.what()));
  }
  return std::unique_ptr<SmtpServer>(new SmtpServer(std::move(impl)));
}

SmtpServer::SmtpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SmtpServer::~SmtpServer() = default;

absl::Status SmtpServer::Run() { return impl_->Run(); }
void SmtpServer::Stop() { impl_->Stop(); }
std::vector<std::string> SmtpServer::local_endpoints() const {
  return impl_->endpoints();
}
std::uint64_t SmtpServer::connections_accepted() const {
  return impl_->shared().connections_accepted.load();
}
std::uint64_t SmtpServer::messages_accepted() const {
  return impl_->shared().messages_accepted.load();
}
std::size_t SmtpServer::active_connections() const {
  return impl_->shared().active.load();
}
absl::StatusOr<std::unique_ptr<MemoryStream>> SmtpServer::ConnectInMemory(
    Peer peer) {
  return impl_->ConnectInMemory(std::move(peer));
}

}  // namespace posthorn::net
