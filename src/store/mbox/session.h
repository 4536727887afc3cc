// store/mbox/session.h — a POP session on one user's mbox.
//
// Open: the session lock ".<user>.pop" (an OFD lock, dies with its
// holder; InUse when held), then briefly the write lock to repair what a
// killed writer left and list the messages (index_store.h). The snapshot
// is every message up to the file size at that moment; the write lock is
// released, so deliveries go on appending during the session.
// Reads use the descriptor opened at snapshot time (message_stream.h).
// Commit hands the kept set to commit.h; destruction without Commit only
// releases the session lock.

#ifndef POSTHORN_SRC_STORE_MBOX_SESSION_H_
#define POSTHORN_SRC_STORE_MBOX_SESSION_H_

#include <memory>

#include "absl/status/statusor.h"
#include "posthorn/store/mailstore.h"
#include "posthorn/store/mbox.h"
#include "store/mbox/mbox_paths.h"

namespace posthorn::store::mbox {

absl::StatusOr<std::unique_ptr<MaildropSession>> OpenMboxSession(
    const MboxPaths& paths, const MboxStoreOptions& options);

}  // namespace posthorn::store::mbox

#endif  // POSTHORN_SRC_STORE_MBOX_SESSION_H_
