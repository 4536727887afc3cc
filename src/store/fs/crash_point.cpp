// store/fs/crash_point.cpp — see crash_point.h.

#include "store/fs/crash_point.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>

namespace posthorn::store::fs {
namespace {

// 0 = disarmed. Otherwise the number of crash points left before the kill.
std::atomic<std::int64_t> countdown{0};
std::atomic<std::int64_t> passed{0};

}  // namespace

void CrashPoint() {
  if (countdown.load(std::memory_order_relaxed) == 0) return;
  passed.fetch_add(1, std::memory_order_relaxed);
  if (countdown.fetch_sub(1, std::memory_order_relaxed) == 1) {
    // SIGKILL cannot be caught: no destructor, no atexit, no flush runs,
    // exactly like a crash or the OOM killer.
    kill(getpid(), SIGKILL);
    for (;;) pause();
  }
}

void SetCrashAfterForTesting(std::int64_t n) {
  passed.store(0, std::memory_order_relaxed);
  countdown.store(n < 0 ? 0 : n, std::memory_order_relaxed);
}

std::int64_t CrashPointsPassedForTesting() {
  return passed.load(std::memory_order_relaxed);
}

}  // namespace posthorn::store::fs
