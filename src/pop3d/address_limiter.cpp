// pop3d/address_limiter.cpp — AddressLimiter (posthorn/pop3d/
// address_limiter.h).
//
// Each tracked client key keeps the times of its most recent failures (at
// most max_failures of them, oldest first) in an entry of a map; the
// entries also sit in a list ordered by their last failure, so the one to
// drop when max_tracked is reached is the list's front (O(1), no scan under
// a flood). Memory: max_tracked * max_failures time points at most.
//
// An address is blocked when its last max_failures failures fall within
// `window` of each other and the last one is less than `window` ago: a
// sliding window, not a fixed one, so spreading guesses across a window
// boundary gains nothing.
//
// Keys: an IPv4 address as given; an IPv6 address by its first 64 bits
// ("2001:db8:0:1::/64"); an IPv4-mapped IPv6 address (::ffff:192.0.2.1) as
// the IPv4 address, so a dual-stack socket cannot double the budget. Text
// that parses as neither is used as it is (cut to 64 octets).

#include "posthorn/pop3d/address_limiter.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <deque>
#include <list>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>

#include "fmt/format.h"

namespace posthorn::pop3d {
namespace {

constexpr std::size_t kMaxRawKeyLength = 64;

// The key under which `address` is counted.
std::string ClientKey(std::string_view address) {
  // A zone id ("fe80::1%eth0") names the local interface, not the client.
  const std::size_t percent = address.find('%');
  std::string text(address.substr(0, std::min(percent, kMaxRawKeyLength)));
  std::array<unsigned char, 16> bytes{};
  if (::inet_pton(AF_INET, text.c_str(), bytes.data()) == 1) return text;
  if (::inet_pton(AF_INET6, text.c_str(), bytes.data()) == 1) {
    const bool v4_mapped =
        std::all_of(bytes.begin(), bytes.begin() + 10,
                    [](unsigned char b) { return b == 0; }) &&
        bytes[10] == 0xFF && bytes[11] == 0xFF;
    if (v4_mapped) {
      return fmt::format("{}.{}.{}.{}", bytes[12], bytes[13], bytes[14],
                         bytes[15]);
    }
    return fmt::format("{:x}:{:x}:{:x}:{:x}::/64",
                       (bytes[0] << 8) | bytes[1], (bytes[2] << 8) | bytes[3],
                       (bytes[4] << 8) | bytes[5], (bytes[6] << 8) | bytes[7]);
  }
  return text;
}

}  // namespace

class AddressLimiter::Impl {
 public:
  explicit Impl(AddressLimits limits) : limits_(limits) {
    if (limits_.max_tracked == 0) limits_.max_tracked = 1;
  }

  bool IsBlocked(std::string_view address, Clock::time_point now) {
    if (!enabled() || address.empty()) return false;
    const std::string key = ClientKey(address);
    std::lock_guard lock(mutex_);
    auto found = entries_.find(key);
    if (found == entries_.end()) return false;
    Entry& entry = found->second;
    if (now - entry.failures.back() >= limits_.window) {
      // Nothing within the window any more: forget the address.
      by_last_failure_.erase(entry.position);
      entries_.erase(found);
      return false;
    }
    return entry.failures.size() >=
               static_cast<std::size_t>(limits_.max_failures) &&
           entry.failures.back() - entry.failures.front() < limits_.window;
  }

  void RecordFailure(std::string_view address, Clock::time_point now) {
    if (!enabled() || address.empty()) return;
    std::string key = ClientKey(address);
    std::lock_guard lock(mutex_);
    auto found = entries_.find(key);
    if (found == entries_.end()) {
      if (entries_.size() >= limits_.max_tracked) {
        entries_.erase(by_last_failure_.front());
        by_last_failure_.pop_front();
      }
      found = entries_.emplace(std::move(key), Entry{}).first;
      found->second.position =
          by_last_failure_.insert(by_last_failure_.end(), found->first);
    } else {
      by_last_failure_.splice(by_last_failure_.end(), by_last_failure_,
                              found->second.position);
    }
    auto& failures = found->second.failures;
    failures.push_back(now);
    while (failures.size() > static_cast<std::size_t>(limits_.max_failures)) {
      failures.pop_front();
    }
  }

  std::size_t tracked() const {
    std::lock_guard lock(mutex_);
    return entries_.size();
  }

 private:
  struct Entry {
    std::deque<Clock::time_point> failures;  // oldest first, never empty
    std::list<std::string>::iterator position;  // in by_last_failure_
  };

  bool enabled() const { return limits_.max_failures > 0; }

  AddressLimits limits_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Entry> entries_;
  std::list<std::string> by_last_failure_;  // keys, least recent first
};

AddressLimiter::AddressLimiter(AddressLimits limits)
    : impl_(std::make_unique<Impl>(limits)) {}
AddressLimiter::~AddressLimiter() = default;

bool AddressLimiter::IsBlocked(std::string_view address,
                               Clock::time_point now) {
  return impl_->IsBlocked(address, now);
}

void AddressLimiter::RecordFailure(std::string_view address,
                                   Clock::time_point now) {
  impl_->RecordFailure(address, now);
}

std::size_t AddressLimiter::tracked() const { return impl_->tracked(); }

}  // namespace posthorn::pop3d
