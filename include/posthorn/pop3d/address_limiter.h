// posthorn/pop3d/address_limiter.h — failed logins per client address.
//
// PURPOSE
//   Password guessing from one address is slowed by the per-login delay
//   (net::Pop3ServerOptions::failed_login_delay) and stopped by this:
//   after max_failures failed logins from one address within `window`,
//   that address is refused at connect ("-ERR [SYS/TEMP] too many failed
//   logins from your address; try again later") until the window has
//   passed since its last failure. A successful login does not clear the
//   count (a guesser with one good account gains nothing).
//   IPv6 clients are counted per /64 (one host usually owns a whole /64).
//
// LIMITS
//   At most max_tracked addresses are remembered; when full, the entry with
//   the oldest last failure is dropped, so memory stays bounded under a
//   spoofed flood. The state lives in the process: under inetd (one popper
//   per connection) only the per-login delay applies.
//
// THREADS
//   Thread-safe (one mutex).

#ifndef POSTHORN_POP3D_ADDRESS_LIMITER_H_
#define POSTHORN_POP3D_ADDRESS_LIMITER_H_

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace posthorn::pop3d {

struct AddressLimits {
  int max_failures = 10;  // 0 disables the limiter
  std::chrono::seconds window{600};
  std::size_t max_tracked = 10000;
};

class AddressLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  explicit AddressLimiter(AddressLimits limits);
  ~AddressLimiter();

  // True while `address` ("192.0.2.1", "2001:db8::1", "" for stdio) may
  // not connect. "" is never limited.
  bool IsBlocked(std::string_view address, Clock::time_point now);
  void RecordFailure(std::string_view address, Clock::time_point now);
  std::size_t tracked() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace posthorn::pop3d

#endif  // POSTHORN_POP3D_ADDRESS_LIMITER_H_
