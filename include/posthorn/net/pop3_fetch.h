// posthorn/net/pop3_fetch.h — download a POP3 maildrop, for embedding.
//
// PURPOSE
//   Connects to a POP3 server, logs in (APOP, AUTH PLAIN or USER/PASS,
//   optionally over STLS or implicit TLS), lists the maildrop (UIDL +
//   LIST), streams every message the sink wants into it (RETR), marks the
//   messages the sink stored for deletion (DELE, when delete_after) and
//   QUITs, which is when the server removes them (RFC 1939 UPDATE):
//
//     class Folder : public net::FetchSink { ... };   // Begin/Write/End
//     net::FetchOptions options;
//     options.server = "127.0.0.1:110";
//     options.security = net::FetchOptions::Security::kStls;
//     options.user = "alice";
//     options.password = secret;
//     options.delete_after = true;
//     Folder folder;
//     absl::StatusOr<net::FetchResult> r = net::FetchMaildrop(options, folder);
//
// GUARANTEES
//   - A message is streamed to the sink in chunks (at most one read
//     buffer, 16 KiB, at a time): no message has to fit in memory.
//   - The bytes given to Write() are the message as the server stores it:
//     dot-unstuffed, CRLF line ends, without the terminating ".".
//   - End() is called only after the complete response (the final ".")
//     arrived; a message cut short (connection lost, timeout, -ERR, size
//     limit) gets Abort() instead, never End().
//   - DELE is sent only for a message whose End() returned OK (or that the
//     sink reported kAlreadyStored), and the deletions take effect only
//     when the server answers QUIT with +OK. On any error before that the
//     connection is dropped without QUIT: the server deletes nothing.
//   - Errors say what failed and quote the server's "-ERR ..." line.
//
// STANDARDS
//   RFC 1939 (POP3, APOP), RFC 2449 (CAPA, PIPELINING: RETR and DELE are
//   pipelined when offered, a bounded number at a time), RFC 2595 STLS,
//   RFC 8314 implicit TLS (port 995), RFC 5034 / RFC 4616 AUTH PLAIN,
//   RFC 6125 host name checks.
//
// SECURITY
//   The password goes in clear text (USER/PASS, AUTH PLAIN) only over TLS
//   unless allow_plaintext_auth; APOP sends an MD5 digest instead, which
//   proves the secret without sending it (but MD5 is weak and the mail
//   itself still travels in clear text). Security::kStls never falls back
//   to plaintext: a server without STLS is an error. The certificate is
//   verified against the system store (plus ca_file) and the host name
//   unless verify_peer is false. Unique-ids are checked (RFC 1939: 1 to 70
//   octets 0x21..0x7E, unique in the maildrop); when a server breaks that
//   rule no message gets a uid (FetchResult::uids_usable is false), so a
//   caller that names files after uids can never confuse two messages.
//
// LIMITS
//   Every wait is bounded by `timeout`: resolve + connect, each read, each
//   write, each TLS handshake. A message whose LIST size is over
//   max_message_size is not downloaded (kTooLarge); one whose content
//   grows past it while streaming ends the session with ResourceExhausted
//   (the server lied about its size). LIST / UIDL answers are bounded by
//   the client session's max_listing_octets (64 MiB).
//
//   Asio and OpenSSL stay inside src/net: this header includes neither.

#ifndef POSTHORN_NET_POP3_FETCH_H_
#define POSTHORN_NET_POP3_FETCH_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace posthorn::net {

struct FetchOptions {
  enum class Security : std::uint8_t {
    kNone,         // plaintext (loopback, or APOP)
    kStls,         // STLS required (RFC 2595): never logs in in plaintext
    kImplicitTls,  // TLS from the first byte (pop3s, port 995)
  };

  std::string server;  // "host:port", "[v6]:port"
  Security security = Security::kNone;
  bool verify_peer = true;  // false: encryption without trust (tests)
  std::string ca_file;      // extra trust anchor (PEM)

  std::string user;
  std::string password;  // the APOP shared secret when apop
  // APOP (RFC 1939 section 7) with the greeting's timestamp; an error when
  // the greeting has none. Otherwise AUTH PLAIN when CAPA offers it, else
  // USER/PASS.
  bool apop = false;
  // USER/PASS or AUTH PLAIN without TLS (e.g. on loopback).
  bool allow_plaintext_auth = false;

  bool delete_after = false;  // DELE what the sink stored, then QUIT
  std::chrono::seconds timeout{60};  // per network operation
  std::uint64_t max_message_size = 0;  // octets; 0 = no limit
};

// One message of the maildrop.
struct MessageInfo {
  std::uint64_t number = 0;  // RFC 1939 message number, 1-based
  std::string uid;           // UIDL unique-id; empty when none
  std::uint64_t size = 0;    // LIST size (octets as sent, an estimate)
};

// Where the messages go. Calls come from the thread that runs
// FetchMaildrop, one message at a time: Begin, Write..., then End or
// Abort.
class FetchSink {
 public:
  enum class Decision : std::uint8_t {
    kFetch,          // download it
    kSkip,           // leave it on the server, untouched
    kAlreadyStored,  // not downloaded, but stored before: deleted when
                     // delete_after (only if the message has a uid; else
                     // it counts as kSkip)
  };

  virtual ~FetchSink() = default;

  // Asked once per listed message, in order, before any download.
  virtual Decision Consider(const MessageInfo& message);
  // The download of `message` starts. An error skips the message: no
  // Write() or End(), Abort() follows.
  virtual absl::Status Begin(const MessageInfo& message) = 0;
  // The next chunk (CRLF text, unstuffed). An error stops delivery of
  // this message (the rest is read and dropped), Abort() follows.
  virtual absl::Status Write(std::string_view chunk) = 0;
  // The message is complete. OK means it is stored durably: only then
  // may it be deleted from the server. An error fails the message (kept
  // on the server; no Abort() follows: the sink cleans up itself).
  virtual absl::Status End() = 0;
  // The message will not be completed (why says so); discard it.
  virtual void Abort(const absl::Status& why);
};

struct FetchedMessage {
  enum class State : std::uint8_t {
    kStored,         // End() returned OK
    kSkipped,        // the sink said kSkip
    kAlreadyStored,  // the sink said kAlreadyStored
    kTooLarge,       // LIST size over max_message_size: not downloaded
    kFailed,         // -ERR to RETR, or the sink returned an error
  };
  MessageInfo info;
  State state = State::kSkipped;
  std::uint64_t octets = 0;  // bytes given to the sink
  bool deleted = false;      // DELE accepted and QUIT committed it
  absl::Status error;        // kFailed, or a refused DELE: why
};

struct FetchResult {
  std::size_t messages = 0;  // in the maildrop (LIST)
  std::size_t stored = 0;    // kStored
  std::uint64_t octets = 0;  // bytes of the stored messages
  std::size_t deleted = 0;   // removed by the server's UPDATE
  std::size_t skipped = 0;   // kSkipped + kAlreadyStored + kTooLarge
  std::size_t failed = 0;    // kFailed
  bool uids_usable = true;   // false: the server's UIDL was unusable
  bool tls = false;          // the session ran over TLS
  std::vector<FetchedMessage> details;  // one per listed message, in order
};

// Runs one session. An error status means the session failed as a whole
// (bad options, connect, TLS, login, timeout, lost connection, malformed
// or truncated response, QUIT refused): then nothing was deleted, but
// messages already End()ed are still in the sink. Per-message trouble (a
// sink error, -ERR to one RETR) is in the result, not a failure. Codes:
// InvalidArgument (options), Unavailable (connect, lost connection,
// refused greeting, UPDATE failed), Unauthenticated (login refused),
// FailedPrecondition (STLS or plaintext login not possible, APOP without
// timestamp), DeadlineExceeded (timeout), DataLoss (malformed response),
// ResourceExhausted (message over max_message_size while streaming).
[[nodiscard]] absl::StatusOr<FetchResult> FetchMaildrop(
    const FetchOptions& options, FetchSink& sink);

// RFC 1939 section 7: the lower-case hex MD5 of timestamp + secret.
std::string ApopDigestHex(std::string_view timestamp, std::string_view secret);

}  // namespace posthorn::net

#endif  // POSTHORN_NET_POP3_FETCH_H_
