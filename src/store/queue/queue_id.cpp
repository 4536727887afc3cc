// store/queue/queue_id.cpp — see queue_id.h.

#include "store/queue/queue_id.h"

#include <unistd.h>

#include <cstdint>
#include <mutex>

namespace posthorn::store::queue {
namespace {

constexpr int kTimeDigits = 11;
constexpr int kSequenceDigits = 4;
constexpr int kPidDigits = 5;
static_assert(kTimeDigits + kSequenceDigits + kPidDigits == kQueueIdLength);

constexpr std::uint64_t kSequenceLimit = 36ull * 36 * 36 * 36;

// Writes `value` as `digits` base-36 digits (the leading ones may be 0).
void AppendBase36(std::uint64_t value, int digits, std::string& out) {
  static constexpr char kDigits[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
  char buffer[16];
  for (int i = digits - 1; i >= 0; --i) {
    buffer[i] = kDigits[value % 36];
    value /= 36;
  }
  out.append(buffer, static_cast<std::size_t>(digits));
}

struct IdClock {
  std::mutex mu;
  std::uint64_t last_micros = 0;
  std::uint64_t sequence = 0;
};

IdClock& Clock() {
  static IdClock* clock = new IdClock;  // never destroyed: used at exit too
  return *clock;
}

}  // namespace

std::string NewQueueId(absl::Time now) {
  std::int64_t signed_micros = absl::ToUnixMicros(now);
  std::uint64_t micros =
      signed_micros < 0 ? 0 : static_cast<std::uint64_t>(signed_micros);
  std::uint64_t sequence = 0;
  {
    IdClock& clock = Clock();
    std::lock_guard<std::mutex> lock(clock.mu);
    if (micros > clock.last_micros) {
      clock.last_micros = micros;
      clock.sequence = 0;
    } else if (++clock.sequence == kSequenceLimit) {
      // 1.6 million ids in one microsecond (or a clock far behind): borrow
      // the next microsecond so the order stays strict.
      ++clock.last_micros;
      clock.sequence = 0;
    }
    micros = clock.last_micros;
    sequence = clock.sequence;
  }
  // getpid() each time: a forked child must not reuse its parent's ids.
  auto pid = static_cast<std::uint64_t>(::getpid());
  std::string id;
  id.reserve(kQueueIdLength);
  AppendBase36(micros, kTimeDigits, id);
  AppendBase36(sequence, kSequenceDigits, id);
  AppendBase36(pid, kPidDigits, id);
  return id;
}

bool IsValidQueueId(std::string_view id) {
  if (id.size() != kQueueIdLength) return false;
  for (char c : id) {
    if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z'))) return false;
  }
  return true;
}

}  // namespace posthorn::store::queue
