// store/fs/crash_point.h — deterministic kill points for crash tests.
//
// Every mutating file primitive (file_util.h) and every step a backend
// marks calls CrashPoint(). A test forks a child, calls
// SetCrashAfterForTesting(n) in it and runs a store operation: the n-th
// crash point reached kills the child with SIGKILL, exactly as a crash
// would. Iterating n = 1, 2, ... until the operation completes without
// being killed visits every step. In production the counter is never
// armed and CrashPoint() is one relaxed atomic load.

#ifndef POSTHORN_SRC_STORE_FS_CRASH_POINT_H_
#define POSTHORN_SRC_STORE_FS_CRASH_POINT_H_

#include <cstdint>

namespace posthorn::store::fs {

// Kills the process with SIGKILL when armed and the countdown reaches 0.
void CrashPoint();

// Arms the countdown: the n-th CrashPoint() from now kills (n >= 1);
// 0 disarms.
void SetCrashAfterForTesting(std::int64_t n);

// How many crash points were passed since the last arming (to size loops).
std::int64_t CrashPointsPassedForTesting();

}  // namespace posthorn::store::fs

#endif  // POSTHORN_SRC_STORE_FS_CRASH_POINT_H_
