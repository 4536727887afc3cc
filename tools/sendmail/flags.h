// tools/sendmail/flags.h — sendmail's command line and the names it runs
// under.
//
// PURPOSE
//   sendmail 8.8's flags, as scripts and programs (cron, PHP's mail(),
//   git send-email, mutt) call them (docs/sendmail.md):
//     sendmail [-t] [-i|-oi] [-f addr|-r addr] [-F name] [-od{b,i,q}]
//              [-v] [-C file] [-N notify] [-R ret] [-V envid] [rcpt...]
//     sendmail -bd [-q30m]      sendmail -q[R<domain>|I<id>|<interval>]
//     sendmail -bp | -bi | -bs | -bv addr... | -bh | -bH
//   argv[0]'s basename selects a mode first: mailq (-bp), newaliases
//   (-bi), praliases, hoststat (-bh), purgestat (-bH), mailstats; any other
//   name is sendmail.
//
// GRAMMAR
//   Flags come before the recipients; the first argument that is not a
//   flag (or "--") ends them, as in sendmail. Values may be attached
//   ("-fbob@x", "-q30m") or follow ("-f bob@x"); -q's value is always
//   attached. "-h N" is sendmail's hop count (accepted, ignored); "-h" with
//   no number after it, and "--help", ask for the usage text. Accepted
//   and ignored: -oem -oee -oep -oeq -oew -om -os -U -B type -h N.
//
// THE TABLE
//   SendmailFlagSpecs() has one row per flag form ("-bd", "-odq", "-qR",
//   "-f"...). The parser turns each flag into its row's name and looks it
//   up before acting on it, so a form without a row is refused; -h prints
//   the rows; docs/man/sendmail.8 lists the same forms (checked by
//   tests/tools/man_pages_test.cpp).
//
// GUARANTEES
//   Every value is checked here (the -q interval, -N, -R, -B); anything
//   unknown is a usage error: the reason on stderr, then the usage text,
//   and the caller exits 64.

#ifndef POSTHORN_TOOLS_SENDMAIL_FLAGS_H_
#define POSTHORN_TOOLS_SENDMAIL_FLAGS_H_

#include <chrono>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tools/common/flag_spec.h"

namespace posthorn::tools {

enum class SendmailMode {
  kSubmit,      // default (-bm): a message from stdin
  kDaemon,      // -bd
  kSmtpStdio,   // -bs
  kQueueRun,    // -q (no -bd): once, for one domain, one id, or periodic
  kListQueue,   // -bp, mailq
  kNewAliases,  // -bi, newaliases
  kPrintAliases,  // praliases
  kVerify,      // -bv
  kHostStat,    // -bh, hoststat
  kPurgeStat,   // -bH, purgestat
  kMailStats,   // mailstats
  kHelp,        // -h, --help
};

enum class DeliveryMode {
  kBackground,  // -odb (default): queue, then a detached child delivers
  kInteractive, // -odi: deliver before exiting
  kQueueOnly,   // -odq: leave it to the daemon or the next -q
};

struct SendmailFlags {
  SendmailMode mode = SendmailMode::kSubmit;
  std::string program = "sendmail";  // argv[0]'s basename, for messages
  std::optional<std::string> config;  // -C
  bool verbose = false;               // -v
  // Submission.
  std::optional<std::string> sender;  // -f / -r ("<>": the null sender)
  std::string full_name;              // -F
  bool ignore_dots = false;           // -i / -oi
  bool extract_recipients = false;    // -t
  DeliveryMode delivery = DeliveryMode::kBackground;
  // DSN (RFC 3461): -N never | success,failure,delay; -R full|hdrs; -V.
  std::optional<std::string> notify;
  bool ret_headers_only = false;
  std::string envid;
  // Queue runs: -q alone, -qR<domain>, -qI<id>, -q<interval>.
  bool queue_run = false;
  std::optional<std::chrono::seconds> queue_interval;
  std::string queue_domain;
  std::string queue_id;
  // The operands: recipients, or addresses for -bv.
  std::vector<std::string> arguments;
};

// Every flag form sendmail accepts, in the order of the usage text.
std::span<const FlagSpec> SendmailFlagSpecs();

// The usage text: the synopsis, then one line per row of
// SendmailFlagSpecs() (printed by -h on stdout, after a usage error on
// stderr).
std::string_view SendmailUsage();

// Parses argv (argv[0] included). nullopt after a message on stderr: the
// caller exits 64.
std::optional<SendmailFlags> ParseSendmailFlags(int argc,
                                                const char* const* argv);

// "30m", "10s", "1h", "2d", "90" (seconds) -> duration; at least 1 s.
std::optional<std::chrono::seconds> ParseQueueInterval(std::string_view text);

}  // namespace posthorn::tools

#endif  // POSTHORN_TOOLS_SENDMAIL_FLAGS_H_
