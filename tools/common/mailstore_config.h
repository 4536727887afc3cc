// tools/common/mailstore_config.h — the maildrops posthorn.conf names.
//
// PURPOSE
//   popper reads the maildrops and sendmail delivers into them; both open
//   them the same way: spool_dir in mailbox_format (one mbox file per user,
//   or one Maildir folder per user; the Maildir store also needs hostname
//   for its file names). The error says which key is wrong, and the exit
//   code is the same in both programs.
//
//     auto store = OpenConfiguredMailstore(config);
//     if (!store.ok()) return Fail(MailstoreExitCode(store.status()),
//                                  StatusText(store.status()));
//
// ERRORS
//   The store's status, its message prefixed with "spool_dir <path>: ".
//   MailstoreExitCode: 77 permission denied, 78 a missing or unusable
//   spool_dir (a configuration error), 69 anything else.

#ifndef POSTHORN_TOOLS_COMMON_MAILSTORE_CONFIG_H_
#define POSTHORN_TOOLS_COMMON_MAILSTORE_CONFIG_H_

#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "posthorn/store/mailstore.h"
#include "tools/common/config.h"

namespace posthorn::tools {

absl::StatusOr<std::unique_ptr<store::Mailstore>> OpenConfiguredMailstore(
    const Config& config);

// The sysexits code for OpenConfiguredMailstore's error.
int MailstoreExitCode(const absl::Status& status);

}  // namespace posthorn::tools

#endif  // POSTHORN_TOOLS_COMMON_MAILSTORE_CONFIG_H_
