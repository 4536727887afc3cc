// SmtpHandler's defaults: accept every sender and recipient, refuse every
// AUTH (an embedding program that offers AUTH must check credentials).

#include <optional>
#include <string_view>

#include "posthorn/net/smtp_server.h"
#include "posthorn/smtp/reply.h"

namespace posthorn::net {

std::optional<smtp::Reply> SmtpHandler::OnConnect(const Peer& /*peer*/) {
  return std::nullopt;
}

smtp::Verdict SmtpHandler::OnMailFrom(const Peer& /*peer*/,
                                      const smtp::ServerSession& /*session*/,
                                      const smtp::Path& /*path*/,
                                      const smtp::MailParams& /*params*/) {
  return smtp::Verdict::Accept();
}

smtp::Verdict SmtpHandler::OnRcptTo(const Peer& /*peer*/,
                                    const smtp::ServerSession& /*session*/,
                                    const smtp::Path& /*path*/,
                                    const smtp::RcptParams& /*params*/) {
  return smtp::Verdict::Accept();
}

smtp::Verdict SmtpHandler::OnAuth(const Peer& /*peer*/,
                                  std::string_view /*mechanism*/,
                                  std::string_view /*authzid*/,
                                  std::string_view /*username*/,
                                  std::string_view /*password*/) {
  return smtp::Verdict::Reject(smtp::MakeReply(
      535, "5.7.8", "Authentication credentials invalid"));
}

smtp::Verdict SmtpHandler::OnEtrn(const Peer& /*peer*/,
                                  std::string_view /*argument*/) {
  return smtp::Verdict::Accept();
}

smtp::Verdict SmtpHandler::OnVrfy(const Peer& /*peer*/,
                                  std::string_view /*argument*/) {
  return smtp::Verdict::Accept(smtp::MakeReply(
      252, "2.5.0", "Cannot VRFY user, but will accept message"));
}

smtp::Verdict SmtpHandler::OnExpn(const Peer& /*peer*/,
                                  std::string_view /*argument*/) {
  return smtp::Verdict::Reject(
      smtp::MakeReply(502, "5.5.1", "Command not implemented"));
}

}  // namespace posthorn::net
