// Pop3Handler's defaults: every connection is welcome, nothing is done at
// the end of a session.

#include <optional>
#include <string>

#include "posthorn/net/pop3_server.h"

namespace posthorn::net {

std::optional<std::string> Pop3Handler::OnConnect(const Peer& /*peer*/) {
  return std::nullopt;
}

void Pop3Handler::OnSessionEnd(const Pop3SessionSummary& /*summary*/) {}

}  // namespace posthorn::net
