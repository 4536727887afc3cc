// mta/deliver/dsn_queue.h — builds a DSN about a leased message and queues
// it.
//
// The DSN (mta::BuildDsn) goes into the same queue as a new message with
// the null sender (so its own failure is never reported: no bounce loops)
// and one recipient, the original envelope sender. The original message
// is read from the lease (a fresh reader each call).

#ifndef POSTHORN_SRC_MTA_DELIVER_DSN_QUEUE_H_
#define POSTHORN_SRC_MTA_DELIVER_DSN_QUEUE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "posthorn/mta/dsn.h"
#include "posthorn/store/queue.h"

namespace posthorn::mta::deliver {

// Returns the new message's queue id. Nothing is queued on error.
absl::StatusOr<std::string> QueueDsn(store::Queue& queue,
                                     store::QueueLease& lease,
                                     const store::QueueEnvelope& envelope,
                                     const std::vector<DsnRecipient>& about,
                                     const DsnOptions& options);

}  // namespace posthorn::mta::deliver

#endif  // POSTHORN_SRC_MTA_DELIVER_DSN_QUEUE_H_
