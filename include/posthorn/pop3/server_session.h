// posthorn/pop3/server_session.h — the sans-I/O POP3 server session.
//
// PURPOSE
//   One ServerSession per connection. The driver (pop3d, a test, a fuzzer)
//   moves bytes and talks to the store; the session owns the RFC 1939 state
//   machine, the argument checks, the maildrop listing with its deleted
//   flags and the responses. It never blocks and never touches a socket, a
//   file or a clock (the APOP timestamp comes from the driver):
//
//     pop3::ServerSession session(options);
//     session.Start();                        // "+OK POP3 server ready <ts>"
//     loop:
//       write(session.TakeOutput());
//       if (session.closed()) break;
//       n = session.Receive(bytes);           // keep bytes.substr(n)
//       while (auto e = session.NextEvent()) switch (e->kind) {
//         case kLogin:    check credentials, lock + open the maildrop, then
//                         AcceptLogin(listing) or RejectLogin(failure)
//         case kRetrieve: for each chunk of message e->index:
//                           if (!SendMessageData(chunk)) break;  // TOP done
//                           write(TakeOutput());   // keeps output bounded
//                         EndMessageData()  (or FailMessage(status))
//         case kUpdate:   remove e->deleted; AnswerUpdate(status)
//         case kAborted:  release the maildrop, commit nothing
//         case kStartTls: write(TakeOutput()); handshake; OnTlsStarted()
//       }
//
// STATES (RFC 1939 sections 3-6)
//   AUTHORIZATION: USER, PASS, APOP, AUTH PLAIN, CAPA, STLS, QUIT.
//   TRANSACTION:   STAT, LIST [n], RETR n, DELE n, NOOP, LAST, RSET,
//                  TOP n m, UIDL [n], CAPA, QUIT.
//   UPDATE:        entered only by QUIT in TRANSACTION (event kUpdate).
//   A command of the other state: "-ERR command not valid in this state".
//   EOF, timeout or too many errors in TRANSACTION: event kAborted, no
//   UPDATE (RFC 1939 section 8: the autologout timer "MUST NOT" delete).
//
// RESPONSES (RFC 1939's example texts)
//   STAT "+OK 2 320"; LIST "+OK 2 messages (320 octets)" + "1 120" lines;
//   LIST n "+OK 2 200"; RETR "+OK 120 octets"; TOP "+OK"; DELE "+OK message
//   1 deleted"; UIDL "+OK" + "1 uid" lines, UIDL n "+OK 2 uid"; LAST "+OK
//   n"; RSET "+OK maildrop has 2 messages (320 octets)"; login "+OK mrose's
//   maildrop has 2 messages (320 octets)"; QUIT "+OK host POP3 server
//   signing off (2 messages left)" / "(maildrop empty)". Errors: "-ERR no
//   such message, only 2 messages in maildrop", "-ERR message 2 already
//   deleted" (for every command naming a deleted message), "-ERR invalid
//   message number" (not 1*DIGIT).
//   Deleted messages are left out of STAT, LIST and UIDL.
//
// LAST (RFC 1460)
//   The highest message number accessed: RETR and DELE raise it (RFC 1460
//   section 5, as qpopper does), TOP does not. Its initial value comes
//   from the listing (messages already seen in earlier sessions, 0 when
//   the store does not know); RSET restores the initial value.
//
// RETR / TOP
//   kRetrieve pauses the session. The "+OK" line is queued with the first
//   SendMessageData() / EndMessageData(), so FailMessage() before any data
//   still answers "-ERR [SYS/TEMP] cannot read message N" and the session
//   goes on. After data has been sent, the multi-line response cannot be
//   turned into an error: FailMessage() closes the connection without the
//   terminating ".", which a client sees as a failed download (it never
//   mistakes the truncated text for the message).
//   The driver feeds the message as stored (CRLF text); the session
//   dot-stuffs it and ends it with ".\r\n". For TOP the session itself
//   keeps the header and the first m body lines; SendMessageData() returns
//   false once it needs no more, and the driver may stop reading then.
//   Output grows by one stuffed chunk per call: flush between chunks.
//
// AUTHENTICATION
//   USER/PASS and AUTH PLAIN (RFC 5034; initial response or "+ "
//   continuation, "*" cancels, bad base64 is -ERR) send the password in
//   clear: before TLS they are refused with "-ERR [AUTH] Plaintext
//   authentication disallowed on non-secure (SSL/TLS) connections" (the
//   code and text Dovecot uses; RFC 3206 has no better code) unless
//   allow_plaintext_auth, and CAPA leaves USER and SASL PLAIN out. APOP
//   needs only apop_timestamp. Credentials are checked by the driver
//   (kLogin); failures answered with code AUTH (or no code) count towards
//   max_failed_logins, after which the session closes.
//   STLS (RFC 2595): "+OK Begin TLS negotiation", event kStartTls; every
//   byte after the STLS line in the same Receive() and everything the line
//   reader held is discarded (the plaintext-injection attack of
//   CVE-2011-0411); OnTlsStarted() returns to a fresh AUTHORIZATION state.
//
// PIPELINING (RFC 2449 section 6.6)
//   Commands that arrive together are answered in order. Receive()
//   consumes fewer bytes than given only while an event waits for the
//   driver; the driver feeds the rest again afterwards.
//
// LIMITS
//   Command lines over max_command_line: "-ERR line too long", the line
//   is skipped, the session goes on. Every -ERR counts towards max_errors
//   ("-ERR too many errors" and close). The output buffer holds the
//   responses to one input chunk; LIST/UIDL of a whole maildrop are
//   proportional to its message count (the listing is in memory anyway).

#ifndef POSTHORN_POP3_SERVER_SESSION_H_
#define POSTHORN_POP3_SERVER_SESSION_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "posthorn/pop3/command.h"
#include "posthorn/pop3/response.h"

namespace posthorn::pop3 {

struct ServerLimits {
  // RFC 2449 section 4: 255 octets with CRLF. Larger values tolerate
  // clients with long passwords; smaller ones are raised to 255.
  std::size_t max_command_line = 255;
  // A SASL continuation line (the base64 PLAIN response after "+ ").
  std::size_t max_auth_line = 2048;
  CommandLimits arguments;
  int max_failed_logins = 3;  // then the session closes
  int max_errors = 20;        // -ERR responses, then "too many errors"
};

struct ServerOptions {
  std::string hostname = "localhost";  // in the sign-off line
  std::string greeting = "POP3 server ready";
  // "<pid.clock@hostname>" from the driver (RFC 1939 section 7); empty
  // disables APOP (and the timestamp is left out of the greeting).
  std::string apop_timestamp;
  bool tls_available = false;  // offer STLS
  bool tls_active = false;     // implicit TLS (port 995)
  bool allow_plaintext_auth = false;  // USER/PASS, AUTH PLAIN without TLS
  bool user_enabled = true;   // USER/PASS
  bool sasl_plain_enabled = true;  // AUTH PLAIN
  // LENIENCY: accept a command line ended by a bare LF (telnet, netcat).
  // Off: "-ERR command lines must end with CRLF". POP3 clients send no
  // data, so the smuggling risk of SMTP does not apply; the only risk is
  // hiding a pipelined command from a logging proxy that splits at CRLF.
  bool accept_bare_lf = false;
  ServerLimits limits;
};

enum class EventKind : std::uint8_t {
  kLogin,      // needs_answer: AcceptLogin() / RejectLogin()
  kRetrieve,   // needs_answer: SendMessageData()..., EndMessageData()
  kUpdate,     // needs_answer: AnswerUpdate()
  kAborted,    // informational: release the maildrop, commit nothing
  kStartTls,   // action: flush output, handshake, OnTlsStarted()
  kQuit,       // informational: QUIT in AUTHORIZATION, session closes
};

enum class LoginMechanism : std::uint8_t {
  kUserPass,   // USER + PASS: password
  kApop,       // APOP: password holds the 32 hex digits (lower-cased)
  kSaslPlain,  // AUTH PLAIN: authzid (may be empty), user, password
};
std::string_view LoginMechanismName(LoginMechanism m);  // "pass", ...

// Views stay valid until the next call of Receive(), an answer or
// NextEvent() on the session.
struct Event {
  EventKind kind = EventKind::kQuit;
  bool needs_answer = false;
  // kLogin
  LoginMechanism mechanism = LoginMechanism::kUserPass;
  std::string_view user;
  std::string_view password;  // or the APOP digest
  std::string_view authzid;
  std::string_view apop_timestamp;  // kApop: the greeting's timestamp
  // kRetrieve: 0-based message index; top_lines set for TOP.
  std::size_t index = 0;
  std::optional<std::uint64_t> top_lines;
  // kUpdate: 0-based indexes of the messages to remove, ascending.
  std::span<const std::size_t> deleted;
  // kAborted: why (client gone, timeout, too many errors, ...).
  absl::Status reason;
};

// What the driver found in the maildrop at login.
struct MaildropListing {
  std::vector<std::uint64_t> sizes;  // octets as sent (CRLF line ends)
  // RFC 1939 section 7 unique-ids: 1..70 octets of 0x21..0x7E each, same
  // count as sizes.
  std::vector<std::string> uids;
  // RFC 1460: the highest message number already accessed (0 = none).
  std::uint64_t last_accessed = 0;
};

// A refused login. Code AUTH (wrong credentials) or empty counts towards
// max_failed_logins; IN-USE (maildrop locked), SYS/TEMP (store trouble),
// SYS/PERM do not.
struct LoginFailure {
  std::string code = std::string(kCodeAuth);
  std::string text = "authentication failed";
};

class ServerSession {
 public:
  explicit ServerSession(ServerOptions options);
  ~ServerSession();
  ServerSession(const ServerSession&) = delete;
  ServerSession& operator=(const ServerSession&) = delete;

  // Queues the greeting "+OK <greeting> <apop_timestamp>".
  void Start();

  // Feeds client bytes; returns how many were consumed (fewer only while
  // an event waits for its answer). After STLS and once closed, returns
  // bytes.size(): the rest is discarded on purpose.
  [[nodiscard]] std::size_t Receive(std::string_view bytes);
  // The client closed its side: nothing is queued; in TRANSACTION
  // (or while a login or a retrieval waits) kAborted follows.
  void OnEof();
  // The inactivity timer fired: "-ERR autologout timer expired" (nothing
  // when inside a multi-line response), kAborted in TRANSACTION,
  // closed. Never an UPDATE.
  void OnTimeout();
  // After kStartTls and a good handshake: fresh AUTHORIZATION state.
  void OnTlsStarted();

  std::optional<Event> NextEvent();
  bool waiting_for_answer() const;

  // kLogin answers. AcceptLogin() refuses (InvalidArgument) a listing
  // whose uids do not match sizes or are not RFC 1939 unique-ids; the
  // login then stays unanswered. FailedPrecondition when no login waits.
  [[nodiscard]] absl::Status AcceptLogin(MaildropListing listing);
  void RejectLogin(const LoginFailure& failure);

  // kRetrieve answers: content chunks as stored (CRLF text), then End.
  // Returns false when no more content is wanted (TOP has its lines, or
  // no retrieval is in progress).
  bool SendMessageData(std::string_view chunk);
  void EndMessageData();
  void FailMessage(const absl::Status& why);

  // kUpdate answer: OK -> "+OK ... signing off", else "-ERR [SYS/TEMP]
  // some deleted messages not removed"; closed either way.
  void AnswerUpdate(const absl::Status& result);

  // Responses to write, in order.
  std::string TakeOutput();
  void TakeOutput(std::string* out);  // swaps buffers, no allocation
  std::string_view output() const;
  bool has_output() const;
  // No more input will be read: flush the output and close.
  bool closed() const;

  bool tls_active() const;
  bool in_transaction() const;
  std::string_view user() const;  // the logged-in (or USER) name
  // Messages marked deleted so far, and their octets (for the -s stats).
  std::size_t deleted_count() const;
  std::uint64_t deleted_octets() const;
  const ServerOptions& options() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace posthorn::pop3

#endif  // POSTHORN_POP3_SERVER_SESSION_H_
