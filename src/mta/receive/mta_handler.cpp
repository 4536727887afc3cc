// MtaHandler: creation, the connection and MAIL FROM (see
// posthorn/mta/smtpd.h). RCPT is in rcpt_policy.cpp, AUTH/ETRN/EXPN in
// commands.cpp, DATA in queue_sink.cpp.

#include <memory>
#include <optional>
#include <utility>

#include <fmt/format.h>

#include "absl/status/status.h"
#include "mta/receive/receive_internal.h"
#include "posthorn/mta/smtpd.h"

namespace posthorn::mta {

using receive_detail::ClientName;

absl::StatusOr<std::unique_ptr<MtaHandler>> MtaHandler::Create(
    MtaHandlerOptions options) {
  if (options.router == nullptr) {
    return absl::InvalidArgumentError("MtaHandler needs a router");
  }
  if (options.queue == nullptr) {
    return absl::InvalidArgumentError("MtaHandler needs a queue");
  }
  if (options.hostname.empty()) options.hostname = "localhost";
  return std::unique_ptr<MtaHandler>(
      new MtaHandler(std::make_unique<Impl>(std::move(options))));
}

MtaHandler::MtaHandler(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
MtaHandler::~MtaHandler() = default;

std::optional<smtp::Reply> MtaHandler::OnConnect(const net::Peer& peer) {
  impl_->Log(LogLevel::kInfo,
             fmt::format("connect from {}", ClientName(peer)));
  return std::nullopt;
}

// Any syntactically valid sender (the session checked it): the sender is
// not verified, as in Postfix's defaults; relaying is decided per
// recipient.
smtp::Verdict MtaHandler::OnMailFrom(const net::Peer& /*peer*/,
                                     const smtp::ServerSession& /*session*/,
                                     const smtp::Path& /*path*/,
                                     const smtp::MailParams& /*params*/) {
  return smtp::Verdict::Accept();
}

}  // namespace posthorn::mta
