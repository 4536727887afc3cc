// store/mbox/delivery.h — appends one message to a user's mbox.
//
// Under the write lock (write_lock.h), with the append journal
// (append_journal.h) active around the append:
//   [newline(s) ending a previous message that lacked them]
//   From <sender or MAILER-DAEMON> <asctime UTC>\n
//   <message: CRLF -> LF, mboxrd-quoted, final newline ensured>
//   \n
// then fdatasync (and folder fsync when the mbox was created), and one
// index entry appended (best effort). OK means durable when
// options.fsync; a crash at any point leaves the whole message or none.

#ifndef POSTHORN_SRC_STORE_MBOX_DELIVERY_H_
#define POSTHORN_SRC_STORE_MBOX_DELIVERY_H_

#include "absl/status/status.h"
#include "posthorn/store/mailstore.h"
#include "posthorn/store/mbox.h"
#include "store/mbox/mbox_paths.h"

namespace posthorn::store::mbox {

absl::Status DeliverToMbox(const MboxPaths& paths,
                           const MboxStoreOptions& options,
                           const DeliveryInfo& info, MessageReader& source);

}  // namespace posthorn::store::mbox

#endif  // POSTHORN_SRC_STORE_MBOX_DELIVERY_H_
