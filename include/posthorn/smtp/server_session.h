// posthorn/smtp/server_session.h — the sans-I/O SMTP server session.
//
// PURPOSE
//   One ServerSession per connection. The driver (posthorn::net, a test, a
//   fuzzer) moves bytes; the session owns the RFC 5321 state machine, the
//   limits and the replies. It never blocks and never touches a socket, a
//   file or a clock:
//
//     smtp::ServerSession session(options);
//     session.Start();                       // queues the 220 greeting
//     loop:
//       write(session.TakeOutput());         // flush replies
//       if (session.closed()) break;
//       n = session.Receive(bytes);          // feed what the socket gave
//       keep bytes.substr(n) for the next Receive (only when paused)
//       while (auto event = session.NextEvent()) handle(*event);
//
//   Decisions the session cannot make alone (this sender, this recipient,
//   these credentials, "the message is safely stored") are events with
//   needs_answer set. Until the driver calls Answer(), the session is
//   paused: Receive() consumes nothing and the pending reply is not sent.
//   The driver may answer much later (after an fsync, a DNS lookup, a
//   database query) — that is the point.
//
//   The message body streams out as kMessageData events, chunk by chunk,
//   already dot-unstuffed and with CRLF line ends; it never has to fit in
//   memory. kMessageEnd then asks for the final verdict (250 only once the
//   message is durably stored).
//
// STATE MACHINE (RFC 5321 4.1.4, 3.3)
//   Start -> greeted -> (HELO|EHLO) -> MAIL -> RCPT+ -> DATA -> body ->
//   back to "after HELO". RSET or a new EHLO drops the transaction. Out of
//   order: 503 5.5.1. Unknown: 500 5.5.2. Bad syntax: 501 5.5.4 (or the
//   parser's code). NOOP, RSET, QUIT, HELP, VRFY allowed in every state.
//   STARTTLS: "220 2.0.0 Ready to start TLS", event kStartTls; every byte
//   after the STARTTLS line is discarded (CVE-2011-0411); the driver
//   does the handshake and calls OnTlsStarted(); the session is then back
//   to the state before EHLO (RFC 3207 4.2).
//   AUTH (RFC 4954): PLAIN (with or without initial response) and LOGIN;
//   "334" challenges, "*" cancels (501 5.0.0), bad base64 is 501 5.5.2,
//   then event kAuth; accept -> 235 2.7.0, reject -> 535 5.7.8. Refused
//   with 538 5.7.11 before TLS unless allow_plaintext_auth; 503 when
//   already authenticated or inside a transaction.
//
// HOSTILE INPUT
//   - A bare LF or bare CR in a command line: 500 5.5.2 naming it (policy
//     kReject) or treated as CRLF (kNormalize). In DATA: the whole body is
//     read to <CRLF>.<CRLF> and rejected with 550 5.6.0 (kReject), event
//     kMessageAborted; nothing after a "\n.\n" is ever taken as a command.
//   - Talking before the greeting (Receive() before Start()) or pipelining
//     after EHLO/HELO, DATA, STARTTLS, AUTH, QUIT (bytes left in the same
//     Receive() call after such a command, RFC 2920 3.1) with
//     reject_improper_pipelining (default): "554 5.5.0 ..." and close.
//   - Limits (ServerLimits) with RFC 5321 minimums enforced by Validate().
//     Lines too long: 500 5.5.6 / text lines: 552 5.3.4 at the end of DATA
//     when enforce_text_line_limit. Size: SIZE= over the limit at MAIL is
//     552 5.3.4; the stream is counted while it arrives and ends in
//     552 5.3.4 with kMessageAborted. Recipients over the limit: 452 4.5.3.
//     After soft_error_limit errors, penalty() tells the driver to delay
//     replies; after hard_error_limit, 421 4.7.0 and close.
//
// EVENT DETAILS
//   kReset is queued only when a transaction (an accepted MAIL) is
//   dropped. kMessageData chunks that were not yet taken by NextEvent()
//   are merged, so drain NextEvent() after every Receive(): undrained body
//   bytes stay buffered. OnEof/OnTimeout/OnShutdown during a transaction
//   queue kMessageAborted (in DATA, also while kMessageEnd awaits its
//   answer; a later Answer() is ignored) or kReset (before DATA).
//   Replies of a Verdict are used only when their class fits (2xx for an
//   accept, 354 for kDataStart, 4xx/5xx for a reject); otherwise the
//   default reply is sent.
//
// MEMORY
//   Bounded: the line reader's buffer (max_command_line), the output
//   buffer (replies to at most one pipelined input chunk plus one data
//   chunk), the current envelope (recipients bounded by max_recipients).

#ifndef POSTHORN_SMTP_SERVER_SESSION_H_
#define POSTHORN_SMTP_SERVER_SESSION_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "posthorn/smtp/command.h"
#include "posthorn/smtp/reply.h"
#include "posthorn/wire/dot_stuffing.h"

namespace posthorn::smtp {

// Postfix's defaults; the minimums are RFC 5321 4.5.3.1.
struct ServerLimits {
  std::size_t max_command_line = 512;     // >= 512, CRLF included
  std::size_t max_text_line = 1000;       // >= 1000, CRLF included
  std::size_t max_recipients = 1000;      // >= 100
  std::uint64_t max_message_size = 10'240'000;  // 0 = unlimited
  int soft_error_limit = 10;  // penalty() after this many errors
  int hard_error_limit = 20;  // 421 and close after this many
  int max_auth_attempts = 3;  // failed AUTH, then 421 and close
  std::size_t max_auth_line = 12'288;  // base64 SASL line (RFC 4954 4)
  // Refuses limits below the RFC minimums.
  absl::Status Validate() const;
};

struct ServerOptions {
  std::string hostname = "localhost";   // in the greeting and EHLO reply
  std::string greeting = "ESMTP posthorn";  // text after the hostname
  ServerLimits limits;
  wire::BareNewlinePolicy bare_newline = wire::BareNewlinePolicy::kReject;
  bool enforce_text_line_limit = false;  // 1000-octet lines in DATA
  bool reject_improper_pipelining = true;  // 554 5.5.0 and close
  bool tls_available = false;        // offer STARTTLS (driver can do TLS)
  bool tls_active = false;           // connection already TLS (port 465)
  bool auth_enabled = false;         // offer AUTH PLAIN LOGIN
  bool allow_plaintext_auth = false;  // AUTH without TLS
  bool require_tls = false;          // MAIL before STARTTLS: 530 5.7.0
  bool require_auth = false;         // MAIL before AUTH: 530 5.7.0
  bool vrfy_enabled = true;          // false: 502; true: 252 or kVrfy event
  bool vrfy_event = false;           // ask the driver (else 252 5.5.0)
  bool expn_enabled = false;         // false: 502 5.5.1; true: kExpn event
  bool etrn_enabled = true;          // kEtrn event
  bool smtputf8_enabled = true;      // announce and accept SMTPUTF8
  // HELO/EHLO argument: true demands an RFC 5321 Domain or
  // address-literal (501 otherwise). Off by default, as in Postfix: real
  // clients send names with '_' or a bare word (curl sends the uploaded
  // file's name); the argument is carried as data either way.
  bool strict_helo = false;
  bool dsn_enabled = true;           // announce DSN, accept its params
  // HELP text, one reply line each; empty: a short built-in text.
  std::vector<std::string> help_lines;
};

enum class EventKind : std::uint8_t {
  kHelo,            // informational: helo_name, esmtp
  kMailFrom,        // needs_answer: path, mail params
  kRcptTo,          // needs_answer: path, rcpt params
  kDataStart,       // needs_answer: accept -> 354 (open the spool here)
  kMessageData,     // informational: data chunk (dot-unstuffed, CRLF)
  kMessageEnd,      // needs_answer: accept -> 250 only when stored
  kMessageAborted,  // informational: discard the spool; reason in `reason`
  kReset,           // informational: transaction dropped (RSET/EHLO/...)
  kStartTls,        // action: flush output, handshake, OnTlsStarted()
  kAuth,            // needs_answer: mechanism, authzid, user, password
  kVrfy,            // needs_answer (only with vrfy_event): argument
  kExpn,            // needs_answer (only with expn_enabled): argument
  kEtrn,            // needs_answer: argument (domain, "@domain", "#queue")
  kQuit,            // informational: 221 queued, session closes
};

// Views stay valid until the next call of Receive(), Answer() or
// NextEvent() on the session.
struct Event {
  EventKind kind;
  bool needs_answer = false;
  std::string_view helo_name;   // kHelo
  bool esmtp = false;           // kHelo: EHLO rather than HELO
  Path path;                    // kMailFrom, kRcptTo
  MailParams mail;              // kMailFrom
  RcptParams rcpt;              // kRcptTo
  std::string_view data;        // kMessageData
  std::string_view argument;    // kVrfy, kExpn, kEtrn
  std::string_view mechanism;   // kAuth: "PLAIN" / "LOGIN"
  std::string_view authzid;     // kAuth (PLAIN only; may be empty)
  std::string_view username;    // kAuth
  std::string_view password;    // kAuth
  absl::Status reason;          // kMessageAborted
};

// The driver's answer to an event with needs_answer. With no reply, the
// session sends its standard one ("250 2.1.0 Ok", "550 5.1.1 ...").
struct Verdict {
  bool accept = true;
  std::optional<Reply> reply;
  static Verdict Accept() { return Verdict{}; }
  static Verdict Accept(Reply reply) { return Verdict{true, std::move(reply)}; }
  static Verdict Reject(Reply reply) { return Verdict{false, std::move(reply)}; }
};

// What the session knows of the current transaction; owned copies, kept
// until the transaction ends (a reply of 250 after the data, RSET, ...).
struct Envelope {
  std::string helo_name;
  bool esmtp = false;
  std::string mail_from;        // the mailbox, "" for the null path
  MailParams mail;              // views NOT kept: envid/auth copied below
  std::string envid;            // decoded
  std::string auth_sender;      // MAIL AUTH= (decoded)
  struct Recipient {
    std::string address;        // mailbox as written
    DsnNotify notify;
    std::string orcpt;          // decoded "type;address" or empty
  };
  std::vector<Recipient> recipients;  // the accepted ones
};

class ServerSession {
 public:
  explicit ServerSession(ServerOptions options);
  ~ServerSession();
  ServerSession(const ServerSession&) = delete;
  ServerSession& operator=(const ServerSession&) = delete;

  // Queues the greeting "220 hostname greeting".
  void Start();
  // Queues a refusal greeting instead ("554 5.7.1 ..." for a blocked
  // client, "421 4.3.2 ..." when overloaded) and closes: RFC 5321 3.1.
  void StartRefused(Reply reply);

  // Feeds bytes from the client. Returns how many were consumed; fewer
  // than given only while an event waits for its answer (the driver keeps
  // the rest and feeds it again after Answer()). After STARTTLS, returns
  // bytes.size(): the rest was discarded on purpose.
  [[nodiscard]] std::size_t Receive(std::string_view bytes);
  // The client closed its side. Queues nothing (there is nobody to read);
  // a transaction in progress becomes kMessageAborted.
  void OnEof();
  // The idle timer fired: "421 4.4.2 hostname Error: timeout exceeded",
  // then closed().
  void OnTimeout();
  // The driver is shutting down: "421 4.3.2 Service shutting down", closed.
  void OnShutdown();
  // The TLS handshake after kStartTls succeeded: state back to "greeted",
  // EHLO required again, AUTH may now be offered.
  void OnTlsStarted();

  // Next pending event, in order; nullopt when none.
  std::optional<Event> NextEvent();
  // Answers the event that had needs_answer set (exactly one at a time).
  void Answer(const Verdict& verdict);
  bool waiting_for_answer() const;

  // Replies to write, in order. The driver writes them all before closing.
  std::string TakeOutput();
  // Allocation-free form for drivers: *out receives the pending replies
  // (its old content is dropped) and its old buffer becomes the session's,
  // so two buffers are swapped back and forth without allocating.
  void TakeOutput(std::string* out);
  // The pending replies without taking them; ConsumeOutput(n) drops the
  // first n bytes once written (partial writes).
  std::string_view output() const;
  void ConsumeOutput(std::size_t n);
  bool has_output() const;
  // No more input will be read: QUIT, 421, 554; flush output and close.
  bool closed() const;
  // Errors exceeded soft_error_limit: the driver should sleep (Postfix: 1 s)
  // before sending replies.
  bool penalty() const;

  const Envelope& envelope() const;
  bool tls_active() const;
  bool authenticated() const;
  std::string_view authenticated_user() const;
  // RFC 3848 protocol name for Received: "SMTP", "ESMTP", "ESMTPS",
  // "ESMTPA", "ESMTPSA".
  std::string_view protocol_name() const;
  // The message counted so far in the current DATA (octets, CRLF lines).
  std::uint64_t message_bytes() const;
  const ServerOptions& options() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

// RFC 5321 4.4 trace field, folded, with CRLF:
//   Received: from helo (rdns [addr]) by host with ESMTPS id ID
//           for <rcpt>; date
struct ReceivedInfo {
  std::string_view helo_name;
  std::string_view client_address;   // "127.0.0.1" or "IPv6:::1"
  std::string_view client_hostname;  // reverse DNS, may be empty
  std::string_view by_hostname;
  std::string_view protocol;         // protocol_name()
  std::string_view id;               // queue id, may be empty
  std::string_view for_recipient;    // only when exactly one recipient
  std::string_view date;             // RFC 5322 date-time (the caller's clock)
};
std::string FormatReceived(const ReceivedInfo& info);

}  // namespace posthorn::smtp

#endif  // POSTHORN_SMTP_SERVER_SESSION_H_
