// tools/sendmail/modes.h — one function per thing sendmail can be asked
// to do (flags.h SendmailMode). Each returns the exit code (sysexits.h)
// after printing what the mode prints; main.cpp only loads the config
// and picks one.
//
//   submit_mode.cpp     sendmail [-t] rcpt... < message
//   daemon_mode.cpp     -bd [-q30m]
//   smtp_stdio_mode.cpp -bs
//   queue_mode.cpp      -q, -q30m, -qR<domain>, -qI<id>
//   listings.cpp        -bp / mailq, praliases, hoststat, purgestat,
//                       mailstats
//   newaliases.cpp      -bi / newaliases
//   verify_mode.cpp     -bv
//   after_queue.cpp     what happens to a message after it is queued
//                       (-odb / -odi / -odq), for submit and -bs

#ifndef POSTHORN_TOOLS_SENDMAIL_MODES_H_
#define POSTHORN_TOOLS_SENDMAIL_MODES_H_

#include <string>
#include <vector>

#include "tools/common/config.h"
#include "tools/sendmail/flags.h"

namespace posthorn::tools {

int RunSubmit(const SendmailFlags& flags, const Config& config);
int RunDaemon(const SendmailFlags& flags, const Config& config);
int RunSmtpStdio(const SendmailFlags& flags, const Config& config);
int RunQueue(const SendmailFlags& flags, const Config& config);
int RunListQueue(const SendmailFlags& flags, const Config& config);
int RunPrintAliases(const SendmailFlags& flags, const Config& config);
int RunHostStat(const SendmailFlags& flags, const Config& config);
int RunPurgeStat(const SendmailFlags& flags, const Config& config);
int RunMailStats(const SendmailFlags& flags, const Config& config);
int RunNewAliases(const SendmailFlags& flags, const Config& config);
int RunVerify(const SendmailFlags& flags, const Config& config);

// Delivers freshly queued messages as flags.delivery says: -odq nothing;
// -odi now, in this process; -odb in a detached child (setsid, stdio on
// /dev/null) while this process returns at once. Problems are logged,
// not returned: the messages are safe in the queue either way.
void DeliverQueued(const SendmailFlags& flags, const Config& config,
                   const std::vector<std::string>& queue_ids);

}  // namespace posthorn::tools

#endif  // POSTHORN_TOOLS_SENDMAIL_MODES_H_
