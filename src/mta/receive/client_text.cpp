// How MtaHandler names a client in log lines and in the Received: field
// (see receive_internal.h). No reverse DNS: the address is the identity.

#include <string>
#include <string_view>

#include <fmt/format.h>

#include "mta/receive/receive_internal.h"

namespace posthorn::mta::receive_detail {

std::string ClientHostName(std::string_view address) {
  const bool loopback =
      address.empty() || address == "::1" || address.starts_with("127.") ||
      address.starts_with("::ffff:127.");
  return loopback ? "localhost" : "unknown";
}

std::string ClientName(const net::Peer& peer) {
  if (peer.address.empty()) return "local";
  return fmt::format("{}[{}]", ClientHostName(peer.address),
                     LogText(peer.address));
}

std::string AddressLiteral(std::string_view address) {
  if (address.empty()) return "";
  // RFC 5321 4.1.3: IPv6-address-literal = "IPv6:" IPv6-addr.
  if (address.find(':') != std::string_view::npos) {
    return fmt::format("IPv6:{}", address);
  }
  return std::string(address);
}

std::string ReceivedFrom(const net::Peer& peer, std::string_view helo_name) {
  const std::string helo =
      helo_name.empty() ? std::string("unknown") : LogText(helo_name);
  if (peer.address.empty()) return fmt::format("{} (localhost)", helo);
  return fmt::format("{} ({} [{}])", helo, ClientHostName(peer.address),
                     LogText(AddressLiteral(peer.address)));
}

std::string LogText(std::string_view text) {
  if (text.size() > kMaxLogText) {
    return EscapeForLog(text.substr(0, kMaxLogText)) + "...";
  }
  return EscapeForLog(text);
}

std::string RejectContext(const smtp::ServerSession& session,
                          std::string_view to) {
  const smtp::Envelope& envelope = session.envelope();
  std::string out = fmt::format("from=<{}>", LogText(envelope.mail_from));
  if (!to.empty()) out += fmt::format(" to=<{}>", LogText(to));
  out += fmt::format(" proto={} helo=<{}>", envelope.esmtp ? "ESMTP" : "SMTP",
                     LogText(envelope.helo_name));
  return out;
}

}  // namespace posthorn::mta::receive_detail
