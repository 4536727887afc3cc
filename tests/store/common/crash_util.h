// tests/store/common/crash_util.h — run a store operation in a child
// process that is killed with SIGKILL at a chosen crash point.
//
//   for (std::int64_t n = 1;; ++n) {
//     ChildEnd end = RunChildWithCrashAfter(n, [&] { return Deliver(...); });
//     CheckStoreIsOldOrNew();
//     if (end == ChildEnd::kCompleted) break;   // every step visited
//   }
//
// The child is a fork of the test: it shares nothing with the parent after
// the fork except the files, exactly like a separate process of the MTA.

#ifndef POSTHORN_TESTS_STORE_COMMON_CRASH_UTIL_H_
#define POSTHORN_TESTS_STORE_COMMON_CRASH_UTIL_H_

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <functional>

#include "store/fs/crash_point.h"

namespace posthorn::store::testing {

enum class ChildEnd { kKilled, kCompleted, kFailed };

// Forks; the child arms the n-th crash point, runs `fn` and exits 0 when it
// returned true, 1 otherwise. kFailed also covers a child that died of
// anything but SIGKILL (a crash that is a bug, not an injected one).
inline ChildEnd RunChildWithCrashAfter(std::int64_t n,
                                       const std::function<bool()>& fn) {
  pid_t pid = ::fork();
  if (pid < 0) std::abort();
  if (pid == 0) {
    fs::SetCrashAfterForTesting(n);
    bool ok = fn();
    fs::SetCrashAfterForTesting(0);
    ::_exit(ok ? 0 : 1);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
  }
  if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) {
    return ChildEnd::kKilled;
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
    return ChildEnd::kCompleted;
  }
  return ChildEnd::kFailed;
}

}  // namespace posthorn::store::testing

#endif  // POSTHORN_TESTS_STORE_COMMON_CRASH_UTIL_H_
