// src/mta/receive/receive_internal.h — what the files of MtaHandler share.
//
// MtaHandler::Impl holds the (read-only) options; the handler methods live
// in one file per job: mta_handler.cpp (create, connect, MAIL), rcpt_policy.cpp
// (RCPT: local users, relaying), commands.cpp (AUTH, ETRN, EXPN),
// queue_sink.cpp (DATA into the queue), client_text.cpp (how a client is
// named in logs and in the Received: field).

#ifndef POSTHORN_SRC_MTA_RECEIVE_RECEIVE_INTERNAL_H_
#define POSTHORN_SRC_MTA_RECEIVE_RECEIVE_INTERNAL_H_

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "posthorn/mta/log.h"
#include "posthorn/mta/smtpd.h"
#include "posthorn/net/smtp_server.h"
#include "posthorn/smtp/server_session.h"

namespace posthorn::mta {

// Read-only after Create(), so every loop thread may use it at once.
class MtaHandler::Impl {
 public:
  explicit Impl(MtaHandlerOptions o) : options(std::move(o)) {}

  void Log(LogLevel level, std::string_view line) const {
    if (options.log) options.log(level, line);
  }
  // Trusted to relay and to use EXPN: a trusted network, or no address at
  // all (sendmail -bs on stdin: a local user).
  bool TrustedPeer(const net::Peer& peer) const {
    return peer.address.empty() ||
           options.trusted_networks.Contains(peer.address);
  }

  MtaHandlerOptions options;
};

namespace receive_detail {

// Longest piece of client-supplied text copied into one log line; the
// rest is cut (a log line is no place for a 64 KiB HELO).
inline constexpr std::size_t kMaxLogText = 300;

// "localhost" for loopback peers and for stdio, else "unknown": posthorn
// does no reverse DNS lookup, the address literal identifies the client.
std::string ClientHostName(std::string_view address);
// "localhost[127.0.0.1]", "unknown[192.0.2.7]", "local" (stdio). Escaped.
std::string ClientName(const net::Peer& peer);
// The Received: address literal: "127.0.0.1", "IPv6:::1"; "" for stdio.
std::string AddressLiteral(std::string_view address);
// QueueEnvelope::received_from: "helo (host [ip])".
std::string ReceivedFrom(const net::Peer& peer, std::string_view helo_name);
// Client text for a log line: escaped and cut to kMaxLogText.
std::string LogText(std::string_view text);
// " from=<a@b> to=<c@d> proto=ESMTP helo=<x>" style tail of a reject line
// (to= only when `to` is not empty).
std::string RejectContext(const smtp::ServerSession& session,
                          std::string_view to);

}  // namespace receive_detail
}  // namespace posthorn::mta

#endif  // POSTHORN_SRC_MTA_RECEIVE_RECEIVE_INTERNAL_H_
