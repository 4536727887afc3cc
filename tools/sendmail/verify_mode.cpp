// tools/sendmail/verify_mode.cpp — `sendmail -bv address...`: how each
// address would be delivered (aliases expanded, routed), one line per
// final target, nothing sent:
//   alice... deliverable: mailer local, user alice
//   bob@example.net... deliverable: mailer esmtp, host [127.0.0.1]:2526
//   nobody... User unknown
// EXIT STATUS: 0 when every address is deliverable, 67 when one is not
// (as sendmail), 78 config.

#include <cstdio>
#include <string>

#include "fmt/format.h"
#include "tools/common/exit_codes.h"
#include "tools/sendmail/modes.h"
#include "tools/sendmail/setup.h"

namespace posthorn::tools {

int RunVerify(const SendmailFlags& flags, const Config& config) {
  std::unique_ptr<mta::Router> router;
  if (auto failure = MakeRouter(config, &router)) return Report(flags, *failure);
  Stores stores;
  if (auto failure = OpenAliases(config, &stores)) return Report(flags, *failure);
  // The auth database is one of the user sources; unreadable: left out.
  if (OpenAuthDbIfPresent(config, &stores)) stores.auth_db.reset();
  const mta::LocalAgentOptions options =
      MakeLocalOptions(config, stores, *router, nullptr);
  int code = kExitOk;
  std::string out;
  for (const std::string& address : flags.arguments) {
    for (const std::string& line : mta::DescribeDelivery(options, address)) {
      if (line.find("deliverable") == std::string::npos) code = kExitNoUser;
      out += line;
      out += '\n';
    }
  }
  fmt::print("{}", out);
  return code;
}

}  // namespace posthorn::tools
