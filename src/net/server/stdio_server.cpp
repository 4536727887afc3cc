// ServeSmtpOnStdio: one session on two descriptors (inetd, sendmail -bs).

#include <csignal>
#include <exception>
#include <memory>
#include <optional>
#include <utility>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>
#include <asio/steady_timer.hpp>

#include "absl/status/status.h"
#include "fmt/format.h"
#include "net/server/connection.h"
#include "net/transport/stdio_transport.h"
#include "posthorn/net/smtp_server.h"

namespace posthorn::net {

absl::Status ServeSmtpOnStdio(const SmtpServerOptions& options,
                              SmtpHandler* handler, int in_fd, int out_fd) {
  if (handler == nullptr) {
    return absl::InvalidArgumentError("ServeSmtpOnStdio needs a handler");
  }
  if (options.idle_timeout.count() <= 0) {
    return absl::InvalidArgumentError("idle_timeout must be positive");
  }
  if (absl::Status limits = options.session.limits.Validate(); !limits.ok()) {
    return limits;
  }
  try {
    asio::io_context io(1);
    ServerShared shared;
    shared.options = &options;
    shared.session_options = options.session;
    shared.session_options.tls_available = false;  // see the header
    shared.session_options.tls_active = false;
    shared.handler = handler;

    auto transport = StdioTransport::Open(io.get_executor(), in_fd, out_fd);
    if (!transport.ok()) return transport.status();

    std::optional<asio::signal_set> signals;
    asio::steady_timer grace(io);
    auto connection = std::make_shared<Connection>(
        shared, io.get_executor(), std::move(*transport),
        Connection::Mode::kPlain, [&signals, &grace](Connection*) {
          std::error_code ignored;
          if (signals) signals->cancel(ignored);
          grace.cancel();
        });
    if (options.handle_signals) {
      signals.emplace(io, SIGTERM, SIGINT);
      signals->async_wait(
          [&grace, &options, weak = std::weak_ptr<Connection>(connection)](
              const std::error_code& ec, int) {
            if (ec) return;
            auto alive = weak.lock();
            if (!alive) return;
            alive->RequestShutdown();
            // A transaction in DATA may finish until shutdown_grace.
            grace.expires_after(options.shutdown_grace);
            grace.async_wait([weak](const std::error_code& timer_ec) {
              if (timer_ec) return;
              if (auto still = weak.lock()) still->ForceClose();
            });
          });
    }
    shared.active.fetch_add(1);
    shared.connections_accepted.fetch_add(1);
    asio::co_spawn(io, Connection::Run(std::move(connection)),
                   [](std::exception_ptr) {});
    io.run();
  } catch (const std::exception& e) {
    return absl::InternalError(fmt::format("stdio session: {}", e.what()));
  }
  return absl::OkStatus();
}

}  // namespace posthorn::net
