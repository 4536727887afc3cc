// store/queue/queue_lease.h — FileQueue's leases (see queue.h).
//
// A lease is an OFD lock on msg/<id>.data held through an open descriptor:
// exclusive between workers in one process and between processes, and
// released by the kernel when the holder exits or is killed. The envelope
// is read only after the lock is held, so it is the latest saved one.
//
//   Save:   write tmp/<id>.env.<unique>, fsync, rename over msg/<id>.env,
//           shared fsync of msg/.
//   Remove: unlink msg/<id>.env (the message leaves every listing), unlink
//           msg/<id>.data, shared fsync of msg/. A crash in between leaves
//           an orphan data file, which recovery removes.

#ifndef POSTHORN_SRC_STORE_QUEUE_QUEUE_LEASE_H_
#define POSTHORN_SRC_STORE_QUEUE_QUEUE_LEASE_H_

#include <memory>
#include <string_view>

#include "absl/status/statusor.h"
#include "posthorn/store/queue.h"
#include "store/queue/queue_context.h"

namespace posthorn::store::queue {

// InvalidArgument for a malformed id, IsInUse when held elsewhere,
// NotFound when the message is gone, DataLoss for an unreadable envelope
// (also added to the problem log).
absl::StatusOr<std::unique_ptr<QueueLease>> LeaseFileMessage(
    std::shared_ptr<QueueContext> context, std::string_view id);

}  // namespace posthorn::store::queue

#endif  // POSTHORN_SRC_STORE_QUEUE_QUEUE_LEASE_H_
