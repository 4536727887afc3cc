// store/queue/queue_writer.h — FileQueue's enqueue (see queue.h).
//
// STEPS (crash points between each; see docs/queue.md)
//   BeginEnqueue: new id, tmp/<id>.data created O_EXCL and OFD-locked.
//   Write:        appended to that file.
//   Commit:       write the envelope (id and size set) to tmp/; sync
//                 the data and the envelope together (SyncTogether: one
//                 journal commit on ext4); rename the data to
//                 msg/<id>.data, then the envelope to msg/<id>.env (now
//                 visible); wait for a shared fsync of
//                 msg/ that began after that rename; release the lock.
//   The data file stays locked until Commit returns, so recovery in another
//   process never takes msg/<id>.data for an orphan while it waits for its
//   envelope, and no worker leases the message before it is durable.
//   Abort (or destruction without Commit) removes what was written.

#ifndef POSTHORN_SRC_STORE_QUEUE_QUEUE_WRITER_H_
#define POSTHORN_SRC_STORE_QUEUE_QUEUE_WRITER_H_

#include <memory>

#include "absl/status/statusor.h"
#include "posthorn/store/queue.h"
#include "store/queue/queue_context.h"

namespace posthorn::store::queue {

absl::StatusOr<std::unique_ptr<QueueWriter>> BeginFileEnqueue(
    std::shared_ptr<QueueContext> context, QueueEnvelope envelope);

}  // namespace posthorn::store::queue

#endif  // POSTHORN_SRC_STORE_QUEUE_QUEUE_WRITER_H_
