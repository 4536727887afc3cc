// store/queue/queue_id.h — queue ids: unique, sortable, safe in file names.
//
// FORMAT
//   20 characters of [0-9A-Z] (base 36, most significant digit first):
//     11  microseconds since the Unix epoch (good until the year 6000)
//      4  a per-process sequence within that microsecond
//      5  the process id (Linux pid_max is at most 2^22 < 36^5)
//   Fixed width, so comparing two ids as strings compares arrival times.
//
// GUARANTEES
//   Within one process ids are strictly increasing even if the clock steps
//   back (the last time used is remembered). Two processes differ in the pid
//   part; a restarted process with a recycled pid is later in time. Ids
//   from different processes in the same microsecond order by sequence,
//   then pid: arrival order to the microsecond.

#ifndef POSTHORN_SRC_STORE_QUEUE_QUEUE_ID_H_
#define POSTHORN_SRC_STORE_QUEUE_QUEUE_ID_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace posthorn::store::queue {

inline constexpr std::size_t kQueueIdLength = 20;

// A new id for a message arriving at `now` (thread safe).
std::string NewQueueId(absl::Time now = absl::Now());

// True for exactly kQueueIdLength characters of [0-9A-Z].
bool IsValidQueueId(std::string_view id);

}  // namespace posthorn::store::queue

#endif  // POSTHORN_SRC_STORE_QUEUE_QUEUE_ID_H_
