// posthorn/smtp/client_session.h — the sans-I/O SMTP client session.
//
// PURPOSE
//   Drives one connection to an SMTP server: greeting, EHLO (HELO when EHLO
//   is refused), STARTTLS, AUTH, then one or more transactions (MAIL, RCPT,
//   DATA with a streamed, dot-stuffed body), then QUIT. The driver moves
//   bytes and answers events; the session builds commands, reads replies
//   and classifies every outcome, so a caller can tell "try later" (4xx,
//   connection trouble) from "give up" (5xx):
//
//     smtp::ClientSession client(options);
//     loop:
//       write(client.TakeOutput());
//       n = client.Receive(bytes);   // server bytes
//       while (auto e = client.NextEvent()) switch (e->kind) {
//         case kReady:        client.StartTransaction(envelope); break;
//         case kStartTls:     handshake(); client.OnTlsStarted(); break;
//         case kSendBody:     client.SendBody(chunk)...; client.EndBody();
//         case kTransactionDone: results = client.result(); client.Quit();
//         case kClosed:       write(client.TakeOutput()); done
//       }
//
//   Outcomes, synthetic replies and the TLS / pipelining rules in detail:
//   docs/smtp-client.md.
//
// STANDARDS
//   RFC 5321 (sessions, 4.5.3.2 timeouts are the driver's), RFC 1869/5321
//   EHLO keywords, RFC 2920 PIPELINING (MAIL, RCPT... and DATA sent in one
//   group when offered; replies matched in order), RFC 1870 SIZE (SIZE= on
//   MAIL when offered; refused before sending when over the server's
//   limit), RFC 6152 8BITMIME, RFC 3461 DSN (RET, ENVID, NOTIFY, ORCPT only
//   when offered), RFC 3207 STARTTLS, RFC 4954 AUTH PLAIN / LOGIN,
//   RFC 2034 enhanced codes.
//
// SECURITY
//   After "220" to STARTTLS, every byte the server sent before the
//   handshake is discarded (the reverse of CVE-2011-0411); the EHLO
//   capabilities are forgotten and asked again over TLS. With
//   TlsMode::kRequired, a server without STARTTLS (or a refusal) ends the
//   session with a failure, never falls back to plaintext. AUTH is never
//   sent over plaintext unless allow_plaintext_auth.

#ifndef POSTHORN_SMTP_CLIENT_SESSION_H_
#define POSTHORN_SMTP_CLIENT_SESSION_H_

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

enum class TlsMode : std::uint8_t {
  kNone,           // never STARTTLS
  kOpportunistic,  // STARTTLS when offered
  kRequired,       // STARTTLS or fail (permanent)
};

struct ClientCredentials {
  std::string username;
  std::string password;
  std::string authzid;  // PLAIN only; usually empty
};

struct ClientOptions {
  std::string helo_name = "localhost";
  TlsMode tls = TlsMode::kNone;
  bool tls_active = false;  // implicit TLS (port 465): no STARTTLS
  std::optional<ClientCredentials> credentials;
  bool allow_plaintext_auth = false;
  bool use_pipelining = true;  // when the server offers it
  // Line ends of the body the driver passes to SendBody().
  wire::EncoderInput body_input = wire::EncoderInput::kCrlf;
};

struct ClientRecipient {
  std::string address;   // mailbox without angle brackets
  DsnNotify notify;      // sent only when the server offers DSN
  std::string orcpt;     // "rfc822;addr", sent xtext-encoded, DSN only
};

struct ClientEnvelope {
  std::string mail_from;  // "" = null path
  std::vector<ClientRecipient> recipients;
  std::optional<std::uint64_t> size;  // SIZE= hint (CRLF octets)
  BodyType body = BodyType::kNone;    // BODY= when 8BITMIME offered
  bool smtputf8 = false;              // needs the server's SMTPUTF8
  DsnRet ret = DsnRet::kNone;
  std::string envid;
};

// The server's EHLO keywords that matter to the client.
struct ServerCapabilities {
  bool esmtp = false;
  bool pipelining = false;
  bool starttls = false;
  bool eightbitmime = false;
  bool dsn = false;
  bool smtputf8 = false;
  bool enhanced_status_codes = false;
  bool chunking = false;
  std::optional<std::uint64_t> size;  // SIZE n (0 = no fixed limit)
  bool auth_plain = false;
  bool auth_login = false;
};

enum class Outcome : std::uint8_t {
  kOk,         // 2xx
  kTransient,  // 4xx, connection lost, timeout, bad reply: try later
  kPermanent,  // 5xx: give up, bounce
};
Outcome Classify(const Reply& reply);

struct RecipientResult {
  std::string address;
  Reply reply;
  Outcome outcome = Outcome::kTransient;
};

struct TransactionResult {
  // kOk when the server took the message (final 250) for at least one
  // recipient. Otherwise the reason in `reply` (the MAIL, DATA or final
  // reply that failed, or a synthetic 4xx for a lost connection).
  Outcome outcome = Outcome::kTransient;
  Reply reply;
  std::vector<RecipientResult> recipients;  // in envelope order
};

enum class ClientEventKind : std::uint8_t {
  kReady,            // greeting, EHLO, TLS and AUTH done: StartTransaction or Quit
  kStartTls,         // "220" to STARTTLS received: handshake, OnTlsStarted()
  kSendBody,         // 354 received: SendBody()... EndBody()
  kTransactionDone,  // result() is final for the transaction
  kClosed,           // the session is over (QUIT answered, or failed):
                     // write any remaining output, then close
};

struct ClientEvent {
  ClientEventKind kind;
};

class ClientSession {
 public:
  explicit ClientSession(ClientOptions options);
  ~ClientSession();
  ClientSession(const ClientSession&) = delete;
  ClientSession& operator=(const ClientSession&) = delete;

  // Feeds server bytes; returns how many were consumed (all, unless after
  // "220" to STARTTLS, when the rest is discarded and reported consumed).
  [[nodiscard]] std::size_t Receive(std::string_view bytes);
  // The connection closed or failed: pending work becomes kTransient.
  void OnConnectionLost(absl::Status why);
  void OnTlsStarted();

  std::optional<ClientEvent> NextEvent();
  // Commands to write.
  std::string TakeOutput();
  bool has_output() const;

  // After kReady (or kTransactionDone): begins MAIL/RCPT/DATA. Refuses
  // (FailedPrecondition) when not ready, InvalidArgument for an envelope
  // with no recipient or a bad address, and a local kPermanent result when
  // the server's SIZE is smaller than envelope.size.
  [[nodiscard]] absl::Status StartTransaction(ClientEnvelope envelope);
  // After kSendBody: body content in chunks (dot-stuffed here), then End.
  void SendBody(std::string_view chunk);
  void EndBody();
  // Polite end: QUIT; kClosed follows its reply. Called while an exchange
  // is in progress (inside DATA, say), QUIT cannot be sent in sync: the
  // session is abandoned (status() Cancelled, a running transaction
  // kTransient) and kClosed follows at once.
  void Quit();

  const ServerCapabilities& capabilities() const;
  const Reply& greeting() const;
  bool tls_active() const;
  bool authenticated() const;
  // Set at kTransactionDone.
  const TransactionResult& result() const;
  // Why the session ended early (connection, TLS required, AUTH refused).
  absl::Status status() const;
  // When status() is not OK: whether trying again later can help
  // (kTransient: 4xx, lost connection, malformed reply) or not (kPermanent:
  // 5xx greeting / EHLO / AUTH, TLS required but unavailable, AUTH over
  // plaintext refused). kOk while status() is OK.
  Outcome failure_outcome() const;
  // The server's reply (or a synthetic one, see docs/smtp-client.md) that
  // ended the session early; code 0 while status() is OK.
  const Reply& failure_reply() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace posthorn::smtp

#endif  // POSTHORN_SMTP_CLIENT_SESSION_H_
