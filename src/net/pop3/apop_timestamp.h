// net/pop3/apop_timestamp.h — the APOP timestamp of a POP3 greeting.
//
// RFC 1939 section 7: the greeting carries a "timestamp" that must be
// different every time the server greets; the client's APOP digest is
// MD5(timestamp + secret), so a repeated timestamp would let a recorded
// digest be replayed. The form is "<pid.counter.unixtime@hostname>": the
// process id and a process-wide counter make it unique even for two
// connections in the same second (and across forks of popper under
// inetd, whose pids differ).

#ifndef POSTHORN_SRC_NET_POP3_APOP_TIMESTAMP_H_
#define POSTHORN_SRC_NET_POP3_APOP_TIMESTAMP_H_

#include <string>
#include <string_view>

namespace posthorn::net {

// A fresh "<pid.counter.unixtime@hostname>". Thread-safe. Characters of
// the host name outside 0x21..0x7E (and '<', '>') become '_' so the
// greeting line stays one msg-id-like token.
std::string MakeApopTimestamp(std::string_view hostname);

}  // namespace posthorn::net

#endif  // POSTHORN_SRC_NET_POP3_APOP_TIMESTAMP_H_
