// net/pop3/protocol_log.h — the POP3 protocol log of one connection
// (Pop3ServerOptions::protocol_log; popper -d).
//
// WHAT IS LOGGED
//   One line per client command ("[::1]:4711 > USER alice") and one per
//   response status line ("[::1]:4711 < +OK ..."), SASL continuations
//   ("< +" / "> ***") included. Never message content: the body of a
//   RETR / TOP response is skipped up to its terminating "." line (after
//   dot-stuffing a line that is exactly "." can only be the end), and the
//   lines of LIST / UIDL / CAPA bodies are not status lines.
//
// SECRETS
//   PASS's argument, APOP's digest, AUTH's initial response and the
//   client line after an AUTH without initial response (the SASL
//   continuation) become "***". APOP keeps the user name and AUTH the
//   mechanism name: they are not secret and a log needs them. When that
//   AUTH is refused at once, the next command is masked as well: masking
//   too much is the safe error.
//
// FORM
//   Bytes outside 0x20..0x7E and '\' are written as \xHH, so a client
//   cannot forge log lines; a line is cut at kMaxLogText octets (ending
//   in "..."). Line state is bounded (kMaxHeldLine octets per direction).
//
// THREADS
//   One object per connection, used on the connection's loop thread.

#ifndef POSTHORN_SRC_NET_POP3_PROTOCOL_LOG_H_
#define POSTHORN_SRC_NET_POP3_PROTOCOL_LOG_H_

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include "posthorn/net/smtp_server.h"  // Peer

namespace posthorn::net {

inline constexpr std::size_t kMaxLogText = 200;
inline constexpr std::size_t kMaxHeldLine = 256;

// "127.0.0.1:4711", "[::1]:4711", "stdio" for a peer without address.
std::string FormatPeer(const Peer& peer);

// Escapes and cuts as described above.
std::string EscapeLogText(std::string_view text,
                          std::size_t max_length = kMaxLogText);

class ProtocolLog {
 public:
  // `sink` may be null or empty: then every call does nothing. It must
  // outlive this object.
  ProtocolLog(const std::function<void(std::string_view)>* sink,
              const Peer& peer);

  bool enabled() const { return sink_ != nullptr; }
  // Bytes the session consumed from the client, in order.
  void ClientBytes(std::string_view bytes);
  // Bytes written to the client, in order.
  void ServerBytes(std::string_view bytes);
  // The next "+OK" status line opens a RETR / TOP body.
  void ExpectMessageBody();
  // STLS done: partial lines held from before the handshake are dropped.
  void Reset();
  // A line of the driver's own (refusals, shutdown), logged as "< text".
  void ServerLine(std::string_view line);

 private:
  void ClientLine(std::string_view line);
  void ServerCompleteLine(std::string_view line);
  void Emit(char direction, std::string_view text);

  const std::function<void(std::string_view)>* sink_;
  std::string prefix_;
  std::string client_line_;  // at most kMaxHeldLine octets
  std::string server_line_;  // at most kMaxHeldLine octets
  bool mask_next_client_line_ = false;
  bool expect_body_ = false;
  bool in_body_ = false;
};

}  // namespace posthorn::net

#endif  // POSTHORN_SRC_NET_POP3_PROTOCOL_LOG_H_
