// posthorn/pop3/client_session.h — the sans-I/O POP3 client session.
//
// PURPOSE
//   Drives one connection to a POP3 server: greeting (its APOP timestamp
//   kept), CAPA, optional STLS, login (APOP, AUTH PLAIN or USER/PASS), then
//   the commands the caller asks for, with their outcomes as values. The
//   driver moves bytes and reacts to events:
//
//     pop3::ClientSession client(options);
//     loop:
//       write(client.TakeOutput());
//       client.Receive(bytes);            // server bytes, all consumed
//       while (auto e = client.NextEvent()) switch (e->kind) {
//         case kReady:       client.Stat(); client.Uidl(); ...
//         case kStartTls:    handshake(); client.OnTlsStarted();
//         case kMessageData: file.write(e->data);   // dot-unstuffed, CRLF
//         case kDone:        e->verb, e->ok, e->response, e->count ...
//         case kClosed:      write(client.TakeOutput()); close
//       }
//
//   Commands asked for while others are outstanding are queued; they are
//   written at once when the server announced PIPELINING (RFC 2449), one
//   at a time otherwise, and their kDone events come in the same order.
//
// STANDARDS
//   RFC 1939 (commands, multi-line responses, APOP), RFC 1460 LAST,
//   RFC 2449 (CAPA, PIPELINING, response codes), RFC 2595 STLS,
//   RFC 5034 AUTH PLAIN (initial response when the line stays within 255
//   octets, else after the "+ " challenge; one "+ " is answered, a second
//   fails the session), RFC 4616 PLAIN.
//
// SECURITY
//   After "+OK" to STLS, every server byte received before the handshake
//   is discarded and the capabilities are asked again over TLS. With
//   TlsMode::kRequired a server without STLS ends the session
//   (kPermanent), never a plaintext login. USER/PASS and AUTH PLAIN are
//   not sent over plaintext unless allow_plaintext_auth; APOP is (it
//   sends no password). The client computes no MD5 (the pop3 layer has no
//   crypto): it calls credentials.apop_digest (store::ApopDigest) with
//   the greeting's timestamp.
//
// LIMITS
//   Status lines of 512 octets (RFC 1939 section 3; longer ones end the
//   session as a protocol error); a LIST/UIDL body of max_listing_octets.
//   RETR/TOP content streams out in chunks and is never held whole.

#ifndef POSTHORN_POP3_CLIENT_SESSION_H_
#define POSTHORN_POP3_CLIENT_SESSION_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "posthorn/pop3/command.h"
#include "posthorn/pop3/response.h"

namespace posthorn::pop3 {

enum class TlsMode : std::uint8_t {
  kNone,           // never STLS
  kOpportunistic,  // STLS when CAPA offers it
  kRequired,       // STLS or fail
};

enum class AuthMethod : std::uint8_t {
  kAuto,       // APOP when possible, else AUTH PLAIN if offered, else USER
  kUserPass,
  kApop,
  kSaslPlain,
};

struct ClientCredentials {
  std::string user;
  std::string password;
  std::string authzid;  // AUTH PLAIN only; usually empty
  // APOP: returns the 32 lower-case hex digits of MD5(timestamp + secret)
  // (store::ApopDigest). Without it APOP is never used.
  std::function<std::string(std::string_view timestamp)> apop_digest;
};

struct ClientOptions {
  TlsMode tls = TlsMode::kNone;
  bool tls_active = false;  // implicit TLS (port 995): no STLS
  ClientCredentials credentials;
  AuthMethod auth = AuthMethod::kAuto;
  bool allow_plaintext_auth = false;
  bool use_capa = true;
  bool use_pipelining = true;  // when the server offers it
  std::size_t max_listing_octets = 64u << 20;
};

// What CAPA announced (RFC 2449 section 6).
struct ServerCapabilities {
  bool capa = false;  // the server answered CAPA
  bool top = false;
  bool user = false;
  bool uidl = false;
  bool pipelining = false;
  bool resp_codes = false;
  bool stls = false;
  bool sasl_plain = false;
  std::string implementation;
};

// One line of a LIST or UIDL answer.
struct ListEntry {
  std::uint64_t number = 0;  // 1-based
  std::uint64_t size = 0;    // LIST
  std::string uid;           // UIDL
};

enum class ClientEventKind : std::uint8_t {
  kReady,        // logged in (TRANSACTION): commands may be issued
  kStartTls,     // "+OK" to STLS: handshake, then OnTlsStarted()
  kMessageData,  // a chunk of RETR/TOP content (unstuffed, CRLF lines)
  kDone,         // a command finished: verb, ok, response, values
  kClosed,       // the session is over: status() says how
};

// data views are valid until the next call on the session.
struct ClientEvent {
  ClientEventKind kind = ClientEventKind::kClosed;
  Verb verb = Verb::kNoop;   // kDone, kMessageData
  bool ok = false;           // kDone: "+OK"
  Response response;         // kDone: the status line
  std::uint64_t message = 0;  // kDone / kMessageData: the number asked for
  std::uint64_t count = 0;    // STAT messages, LAST number
  std::uint64_t octets = 0;   // STAT octets, LIST n size
  std::vector<ListEntry> listing;  // LIST / UIDL (one entry for "LIST n")
  std::string_view data;     // kMessageData
};

class ClientSession {
 public:
  explicit ClientSession(ClientOptions options);
  ~ClientSession();
  ClientSession(const ClientSession&) = delete;
  ClientSession& operator=(const ClientSession&) = delete;

  // Feeds server bytes; all are consumed (after "+OK" to STLS the rest is
  // discarded on purpose). Bytes that arrive after kReady while no command
  // is outstanding are held (up to 64 KiB) until the next command is
  // issued: a canned or pipelining peer may answer ahead of the driver.
  void Receive(std::string_view bytes);
  // The connection closed or failed: outstanding commands fail.
  void OnConnectionLost(absl::Status why);
  void OnTlsStarted();

  std::optional<ClientEvent> NextEvent();
  std::string TakeOutput();
  bool has_output() const;

  // Commands, after kReady. FailedPrecondition before kReady or after
  // Quit(); InvalidArgument for message number 0.
  [[nodiscard]] absl::Status Stat();
  [[nodiscard]] absl::Status List(std::optional<std::uint64_t> message = {});
  [[nodiscard]] absl::Status Uidl(std::optional<std::uint64_t> message = {});
  [[nodiscard]] absl::Status Retrieve(std::uint64_t message);
  [[nodiscard]] absl::Status Top(std::uint64_t message, std::uint64_t lines);
  [[nodiscard]] absl::Status Delete(std::uint64_t message);
  [[nodiscard]] absl::Status Reset();
  [[nodiscard]] absl::Status Noop();
  [[nodiscard]] absl::Status Last();
  // QUIT (also before kReady: then the login is abandoned). kDone(kQuit)
  // tells whether the server committed the deletions, kClosed follows.
  void Quit();

  const ServerCapabilities& capabilities() const;
  const Response& greeting() const;
  // The greeting's "<...>" APOP timestamp, empty when none.
  std::string_view apop_timestamp() const;
  bool tls_active() const;
  bool logged_in() const;
  // Why the session ended: OK after a clean QUIT; Unauthenticated for a
  // refused login, Unavailable for a lost connection or a -ERR greeting,
  // FailedPrecondition when TLS was required but not offered or plaintext
  // login was needed but not allowed, DataLoss for a malformed response.
  absl::Status status() const;
  // The server's status line that ended the session early, if any.
  const std::optional<Response>& failure_response() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace posthorn::pop3

#endif  // POSTHORN_POP3_CLIENT_SESSION_H_
