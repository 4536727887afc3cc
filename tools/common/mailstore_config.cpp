// tools/common/mailstore_config.cpp — spool_dir and mailbox_format turned
// into a store::Mailstore (see mailstore_config.h).

#include "tools/common/mailstore_config.h"

#include <utility>

#include "fmt/format.h"
#include "posthorn/store/maildir.h"
#include "posthorn/store/mbox.h"
#include "tools/common/exit_codes.h"

namespace posthorn::tools {

absl::StatusOr<std::unique_ptr<store::Mailstore>> OpenConfiguredMailstore(
    const Config& config) {
  absl::StatusOr<std::unique_ptr<store::Mailstore>> mailstore;
  if (config.mailbox_format == MailboxFormat::kMaildir) {
    store::MaildirStoreOptions options;
    options.root_dir = config.spool_dir;
    options.hostname = config.hostname;
    mailstore = store::MakeMaildirStore(options);
  } else {
    store::MboxStoreOptions options;
    options.spool_dir = config.spool_dir;
    mailstore = store::MakeMboxStore(options);
  }
  if (mailstore.ok()) return mailstore;
  const absl::Status& s = mailstore.status();
  return absl::Status(s.code(), fmt::format("spool_dir {}: {}",
                                            config.spool_dir, StatusText(s)));
}

int MailstoreExitCode(const absl::Status& status) {
  if (absl::IsPermissionDenied(status)) return kExitNoPerm;
  if (absl::IsNotFound(status) || absl::IsInvalidArgument(status)) {
    return kExitConfig;
  }
  return kExitUnavailable;
}

}  // namespace posthorn::tools
