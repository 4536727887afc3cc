// mta/deliver/dsn_queue.cpp — see dsn_queue.h.

#include "mta/deliver/dsn_queue.h"

#include <utility>

namespace posthorn::mta::deliver {

absl::StatusOr<std::string> QueueDsn(store::Queue& queue,
                                     store::QueueLease& lease,
                                     const store::QueueEnvelope& envelope,
                                     const std::vector<DsnRecipient>& about,
                                     const DsnOptions& options) {
  auto original = lease.OpenData();
  if (!original.ok()) return original.status();
  absl::StatusOr<std::string> dsn =
      BuildDsn(envelope, about, **original, options);
  if (!dsn.ok()) return dsn.status();

  store::QueueEnvelope out;
  out.sender = "";  // never bounce a bounce
  out.arrival = options.now;
  store::QueuedRecipient to;
  to.address = envelope.sender;
  // A DSN has the null sender: there is nobody to tell about it.
  to.notify_failure = false;
  to.notify_delay = false;
  to.notify_success = false;
  out.recipients.push_back(std::move(to));

  auto writer = queue.BeginEnqueue(std::move(out));
  if (!writer.ok()) return writer.status();
  if (absl::Status s = (*writer)->Write(*dsn); !s.ok()) {
    (*writer)->Abort();
    return s;
  }
  return (*writer)->Commit();
}

}  // namespace posthorn::mta::deliver
