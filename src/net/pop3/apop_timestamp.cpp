// APOP timestamps: see apop_timestamp.h.

#include "net/pop3/apop_timestamp.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "fmt/format.h"

namespace posthorn::net {

std::string MakeApopTimestamp(std::string_view hostname) {
  static std::atomic<std::uint64_t> counter{0};
  const std::uint64_t n = counter.fetch_add(1, std::memory_order_relaxed);
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(
      std::chrono::system_clock::now().time_since_epoch());
  std::string host(hostname.empty() ? std::string_view("localhost")
                                    : hostname);
  for (char& c : host) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f || c == '<' || c == '>') c = '_';
  }
  return fmt::format("<{}.{}.{}@{}>", static_cast<long>(::getpid()), n,
                     static_cast<long long>(seconds.count()), host);
}

}  // namespace posthorn::net
