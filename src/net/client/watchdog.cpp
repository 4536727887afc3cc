// net::Watchdog (watchdog.h): a steady_timer whose handler checks a
// generation counter, so only the latest Arm can fire.

#include "net/client/watchdog.h"

#include <system_error>
#include <utility>

namespace posthorn::net {

Watchdog::Watchdog(const asio::any_io_executor& executor,
                   std::function<void()> on_expire)
    : timer_(executor), state_(std::make_shared<State>()) {
  state_->on_expire = std::move(on_expire);
}

Watchdog::~Watchdog() { Disarm(); }

void Watchdog::Arm(std::chrono::steady_clock::duration after) {
  state_->expired = false;
  timer_.expires_after(after);
  timer_.async_wait([state = state_, generation = ++state_->generation](
                        const std::error_code& ec) {
    if (ec || generation != state->generation) return;
    state->expired = true;
    state->on_expire();
  });
}

void Watchdog::Disarm() {
  ++state_->generation;
  timer_.cancel();
}

}  // namespace posthorn::net
