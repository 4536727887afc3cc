// MtaHandler::OnRcptTo: who may be a recipient here (see
// posthorn/mta/smtpd.h).
//
//   local domain (or no domain):  the user must exist (postmaster always
//                                 does, RFC 5321 4.5.1), else 550 5.1.1;
//                                 a failed lookup is 451 4.3.0
//   any other domain:             relay only for trusted networks, an
//                                 authenticated session or stdio (-bs),
//                                 else 554 5.7.1 Relay access denied
// The recipient count limit is the session's (ServerLimits::max_recipients:
// 452 4.5.3 before the handler is asked), so it is not checked here.

#include <string>
#include <string_view>

#include <fmt/format.h>

#include "absl/strings/ascii.h"
#include "mta/receive/receive_internal.h"
#include "posthorn/mta/smtpd.h"
#include "posthorn/smtp/reply.h"

namespace posthorn::mta {
namespace {

using receive_detail::ClientName;
using receive_detail::RejectContext;

// The local part as a user name: quotes and quoting backslashes removed
// (RFC 5321 4.1.2 Quoted-string), lowercased ("Alice" is "alice").
std::string UserName(std::string_view local_part) {
  std::string out;
  if (local_part.size() >= 2 && local_part.front() == '"' &&
      local_part.back() == '"') {
    local_part = local_part.substr(1, local_part.size() - 2);
    for (std::size_t i = 0; i < local_part.size(); ++i) {
      if (local_part[i] == '\\' && i + 1 < local_part.size()) ++i;
      out.push_back(local_part[i]);
    }
  } else {
    out = std::string(local_part);
  }
  return absl::AsciiStrToLower(out);
}

}  // namespace

smtp::Verdict MtaHandler::OnRcptTo(const net::Peer& peer,
                                   const smtp::ServerSession& session,
                                   const smtp::Path& path,
                                   const smtp::RcptParams& /*params*/) {
  const Impl& impl = *impl_;
  const std::string mailbox(path.mailbox);
  // Logs the refusal as Postfix does (the line an administrator greps for)
  // and returns it.
  auto reject = [&](int code, std::string_view enhanced,
                    std::string_view text, LogLevel level) {
    impl.Log(level,
             fmt::format("NOQUEUE: reject: RCPT from {}: {} {} {}; {}",
                         ClientName(peer), code, enhanced,
                         receive_detail::LogText(text),
                         RejectContext(session, mailbox)));
    return smtp::Verdict::Reject(smtp::MakeReply(code, enhanced, text));
  };

  // "<Postmaster>" without a domain: always accepted (RFC 5321 4.5.1).
  if (path.postmaster) return smtp::Verdict::Accept();

  if (path.domain.empty() || impl.options.router->IsLocalDomain(path.domain)) {
    const std::string user = UserName(path.local_part);
    if (user == "postmaster" || !impl.options.recipient_exists) {
      return smtp::Verdict::Accept();
    }
    absl::StatusOr<bool> exists = impl.options.recipient_exists(user);
    if (!exists.ok()) {
      impl.Log(LogLevel::kWarning,
               fmt::format("recipient lookup for <{}> failed: {}",
                           receive_detail::LogText(mailbox),
                           receive_detail::LogText(exists.status().ToString())));
      return reject(451, "4.3.0",
                    fmt::format("<{}>: Temporary lookup failure", mailbox),
                    LogLevel::kWarning);
    }
    if (!*exists) {
      return reject(550, "5.1.1",
                    fmt::format("<{}>: Recipient address rejected: User "
                                "unknown in local recipient table",
                                mailbox),
                    LogLevel::kInfo);
    }
    return smtp::Verdict::Accept();
  }

  // Another domain: relaying.
  if (impl.TrustedPeer(peer) || session.authenticated()) {
    return smtp::Verdict::Accept();
  }
  return reject(554, "5.7.1",
                fmt::format("<{}>: Relay access denied", mailbox),
                LogLevel::kInfo);
}

}  // namespace posthorn::mta
