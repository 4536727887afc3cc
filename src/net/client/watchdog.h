// net/client/watchdog.h — a re-armable deadline for the client drivers.
//
// SendMessage (send_message.cpp) and FetchMaildrop (pop3_fetch.cpp) bound
// every wait the same way: arm the watchdog before an operation, and when
// the time runs out it runs `on_expire` (which cancels the transport, so the
// pending read or write completes with an error). Re-arming or disarming
// first makes an earlier deadline harmless.
//
// The timer's handler holds only the shared state, so a completion that is
// already queued when the Watchdog goes out of scope finds a stale
// generation and does nothing.

#ifndef POSTHORN_SRC_NET_CLIENT_WATCHDOG_H_
#define POSTHORN_SRC_NET_CLIENT_WATCHDOG_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>

#include <asio/any_io_executor.hpp>
#include <asio/steady_timer.hpp>

namespace posthorn::net {

class Watchdog {
 public:
  Watchdog(const asio::any_io_executor& executor,
           std::function<void()> on_expire);
  ~Watchdog();
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  // Runs on_expire after `after` unless Arm or Disarm is called first.
  void Arm(std::chrono::steady_clock::duration after);
  // Cancels the deadline; a handler already queued does nothing.
  void Disarm();
  // True when the last Arm ran out (reset by the next Arm).
  bool expired() const { return state_->expired; }

 private:
  struct State {
    std::function<void()> on_expire;
    std::uint64_t generation = 0;
    bool expired = false;
  };
  asio::steady_timer timer_;
  std::shared_ptr<State> state_;
};

}  // namespace posthorn::net

#endif  // POSTHORN_SRC_NET_CLIENT_WATCHDOG_H_
