// store/queue/recovery.h — bringing a queue folder to a clean state at open.
//
// Creates dir/, tmp/, msg/, corrupt/ (0700) and then, safe against other
// processes using the queue at the same time:
//   tmp/   every file nobody holds locked is an interrupted enqueue or
//          envelope rewrite: removed. Locked files belong to live writers.
//   msg/<id>.data without <id>.env: an enqueue killed between its two
//          renames, or a removal killed between its two unlinks. Removed
//          unless locked (a live enqueue between its renames, or a live
//          removal), after checking again under the lock that the envelope
//          is still missing.
//   msg/<id>.env that cannot be read or parsed, or whose data file is
//          missing: moved to corrupt/ (with its data file, if any, so the
//          message can be recovered by hand), unless the data is leased.
//   anything else in msg/: reported and left alone.
// Each repair is one problem line naming the file and the reason. The
// renames and unlinks are made durable with one fsync of each folder.

#ifndef POSTHORN_SRC_STORE_QUEUE_RECOVERY_H_
#define POSTHORN_SRC_STORE_QUEUE_RECOVERY_H_

#include "absl/status/status.h"
#include "store/queue/queue_context.h"

namespace posthorn::store::queue {

// Errors only when the folders cannot be made or listed; everything else
// becomes a problem line.
absl::Status RecoverQueueFolder(QueueContext& context);

// Moves msg/<id>.env (and msg/<id>.data when present and not leased) to
// corrupt/, recording `reason`. Used by recovery only.
void MoveToCorrupt(QueueContext& context, const std::string& id,
                   std::string_view reason);

}  // namespace posthorn::store::queue

#endif  // POSTHORN_SRC_STORE_QUEUE_RECOVERY_H_
