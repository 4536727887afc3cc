// sendmail — the MTA: SMTP daemon, command-line submission, queue runs,
// aliases (sendmail 8.8's command line).
//
// SYNOPSIS
//   sendmail [-t] [-i|-oi] [-f sender] [-F name] [-odb|-odi|-odq] [-v]
//            [-C conf] [-N notify] [-R ret] [-V envid] [rcpt...] < message
//   sendmail -bd [-q<interval>]  |  -bs  |  -q[<interval>|R<dom>|I<id>]
//   sendmail -bp | -bi | -bv addr... | -bh | -bH
//   mailq, newaliases, praliases [name...], hoststat, purgestat, mailstats
//
// DESCRIPTION
//   argv[0] and the -b flags pick a mode (tools/sendmail/modes.h); the
//   config comes from -C, $POSTHORN_CONF or /etc/posthorn/posthorn.conf.
//   Every protocol and storage decision lives in the library (mta, store,
//   net); this program wires argv and posthorn.conf to it. The manual:
//   docs/sendmail.md.
//
// SECURITY
//   Moderately security-sensitive. -bd starts as root to bind port 25,
//   opens the auth database and the log file, then runs as run_as for
//   good. The command-line modes are not set-uid: they run as the caller,
//   who needs write access to queue_dir to submit (root first becomes
//   run_as, so queue files keep one owner).
//
// EXIT STATUS
//   sysexits.h: 0 ok, 64 usage, 65 data, 66 no input, 67 no user,
//   69 unavailable, 70 software, 71 OS error, 73 can't create, 74 I/O,
//   75 temporary failure, 77 permission, 78 configuration.

#include <signal.h>

#include <cstdio>
#include <optional>

#include "fmt/format.h"
#include "tools/common/config.h"
#include "tools/common/exit_codes.h"
#include "tools/sendmail/flags.h"
#include "tools/sendmail/modes.h"
#include "tools/sendmail/setup.h"

namespace posthorn::tools {
namespace {

int Main(int argc, char** argv) {
  const std::optional<SendmailFlags> flags = ParseSendmailFlags(argc, argv);
  if (!flags) return kExitUsage;
  if (flags->mode == SendmailMode::kHelp) {
    fmt::print("{}", SendmailUsage());
    return kExitOk;
  }
  const ConfigLocation where = ConfigPath(flags->config);
  absl::StatusOr<Config> config = LoadConfig(where.path, !where.must_exist);
  if (!config.ok()) {
    return Report(*flags, {kExitConfig, StatusText(config.status())});
  }
  // A peer or a reader that goes away must not kill the process.
  ::signal(SIGPIPE, SIG_IGN);

  switch (flags->mode) {
    case SendmailMode::kSubmit: return RunSubmit(*flags, *config);
    case SendmailMode::kDaemon: return RunDaemon(*flags, *config);
    case SendmailMode::kSmtpStdio: return RunSmtpStdio(*flags, *config);
    case SendmailMode::kQueueRun: return RunQueue(*flags, *config);
    case SendmailMode::kListQueue: return RunListQueue(*flags, *config);
    case SendmailMode::kNewAliases: return RunNewAliases(*flags, *config);
    case SendmailMode::kPrintAliases: return RunPrintAliases(*flags, *config);
    case SendmailMode::kVerify: return RunVerify(*flags, *config);
    case SendmailMode::kHostStat: return RunHostStat(*flags, *config);
    case SendmailMode::kPurgeStat: return RunPurgeStat(*flags, *config);
    case SendmailMode::kMailStats: return RunMailStats(*flags, *config);
    case SendmailMode::kHelp: break;
  }
  return kExitSoftware;
}

}  // namespace
}  // namespace posthorn::tools

int main(int argc, char** argv) { return posthorn::tools::Main(argc, argv); }
