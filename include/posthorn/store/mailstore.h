// posthorn/store/mailstore.h — users' maildrops: delivery and POP sessions.
//
// PURPOSE
//   The one interface the MTA (local delivery) and pop3d (POP sessions) see
//   for maildrops. Nothing outside src/store assumes a maildrop is a local
//   file, so a networked backend can be added behind the same calls.
//   Implementations: mbox (mbox.h), Maildir (maildir.h), in-memory
//   (memory_store.h).
//
//     auto store = store::MakeMboxStore({.spool_dir = "/var/spool/mail"});
//     store::StringReader source(message_bytes);
//     (*store)->Deliver("alice", {.envelope_sender = "bob@example.org",
//                                 .arrival = absl::Now()}, source);
//     auto session = (*store)->OpenSession("alice");   // POP-session lock
//     for (const auto& m : (*session)->messages()) ...  // m.size, m.uid
//     (*session)->Commit(deleted_indexes);             // UPDATE state
//
// MESSAGE BYTES
//   Deliver() takes a message with CRLF or LF line ends (a final line
//   without a line end gets one). Readers from a session yield CRLF line
//   ends, and MessageInfo::size counts those octets: the size RFC 1939's
//   LIST and STAT report (before dot-stuffing, which is pop3's job). How a
//   backend stores line ends is its own business (mbox and Maildir store LF,
//   as local mail programs expect).
//
// GUARANTEES
//   - Deliver() returns OK only when the message is durable (file and
//     folder fsynced). A crash at any moment leaves the maildrop with or
//     without the message, never with part of it.
//   - Idempotent delivery: two Deliver() calls for the same user with the
//     same non-empty DeliveryInfo::delivery_id append the message once,
//     provided the second call starts after the first one returned or its
//     process died. Whenever the first one was killed, the maildrop holds
//     the message once or not at all, and the retry then appends it — so a
//     caller that retries until OK gets exactly one copy. This is what
//     makes local delivery exactly once across an MTA crash between the
//     append and its queue update. Limits (docs/store-*.md): mbox
//     remembers the last 32 keyed deliveries per maildrop; Maildir
//     delivers again a copy a POP session deleted before the retry, or one
//     another program renamed (flags other than ":2,"). Deduplication can
//     only ever fail towards a duplicate, never towards a lost message.
//     An empty delivery_id (the default) means no deduplication.
//   - OpenSession() takes the POP-session lock: a second session on the same
//     maildrop fails with IsInUse(status) until the first ends. The lock
//     dies with its holder (process killed, session destroyed).
//   - Delivery never waits for a POP session: mail delivered while a
//     session is open is kept by that session's Commit() and shown to the
//     next session.
//   - Commit() removes exactly the listed messages, atomically: after a
//     crash at any moment the maildrop holds either all of them or none of
//     them removed, and everything else intact. Destroying a session
//     without Commit() (QUIT never came, connection dropped) changes
//     nothing.
//   - UIDs (RFC 1939 UIDL) are 1..70 characters 0x21..0x7E, unique in the
//     maildrop (two identical messages get different ids) and stable across
//     sessions and across the removal of other messages. They never come
//     from message content a sender controls (an X-UIDL: header is data).
//
// SECURITY
//   User names come from the network. Every call validates them with
//   ValidateUserName() before they touch a path or a key.

#ifndef POSTHORN_STORE_MAILSTORE_H_
#define POSTHORN_STORE_MAILSTORE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "posthorn/store/message_reader.h"
#include "posthorn/store/status.h"

namespace posthorn::store {

// Longest user name accepted (bytes).
inline constexpr std::size_t kMaxUserNameLength = 64;

// Longest DeliveryInfo::delivery_id accepted (bytes).
inline constexpr std::size_t kMaxDeliveryIdLength = 255;

// OK for 1..kMaxUserNameLength bytes of [A-Za-z0-9._-] not starting with
// '.' or '-'; otherwise InvalidArgument saying why. Rejects "", "../x",
// "a/b", NUL, control bytes and overlong names before any path is built.
absl::Status ValidateUserName(std::string_view user);

// OK for "" (no deduplication) and for 1..kMaxDeliveryIdLength bytes of
// 0x21..0x7E; otherwise InvalidArgument. Deliver() checks it.
absl::Status ValidateDeliveryId(std::string_view delivery_id);

struct DeliveryInfo {
  std::string envelope_sender;  // "" for the null sender (<>)
  absl::Time arrival;           // for mbox "From " lines, Maildir names
  // Names this delivery for deduplication (see GUARANTEES, idempotent
  // delivery): the same id for the same user means the same message, so a
  // retry of a delivery that may have happened appends nothing. The MTA
  // uses "<queue id>.<recipient index>.<user>". Empty: every call appends.
  // The retry must also pass the same `arrival` and message bytes (Maildir
  // derives the file name from them).
  std::string delivery_id = {};  // (an initializer: callers may omit it)
};

// One message of a POP session's snapshot.
struct MessageInfo {
  std::uint64_t size = 0;  // octets with CRLF line ends (RFC 1939 LIST)
  std::string uid;         // RFC 1939 UIDL id
};

// A POP session's view of one maildrop: a numbered snapshot taken when the
// session opened. Holds the POP-session lock until Commit() or destruction.
// Not thread-safe: one session is used by one thread at a time.
class MaildropSession {
 public:
  virtual ~MaildropSession() = default;  // releases the lock, removes nothing

  // The snapshot, in maildrop order (POP message n is messages()[n - 1]).
  virtual std::span<const MessageInfo> messages() const = 0;

  // The whole message `index` (0-based) with CRLF line ends.
  virtual absl::StatusOr<std::unique_ptr<MessageReader>> Read(
      std::size_t index) = 0;

  // The header section, the empty line after it, then at most `body_lines`
  // lines of the body (RFC 1939 TOP), CRLF line ends. The default cuts
  // Read(index) with TopReader; a backend that can do better overrides it.
  virtual absl::StatusOr<std::unique_ptr<MessageReader>> ReadTop(
      std::size_t index, std::uint64_t body_lines);

  // Removes the messages at `deleted` (0-based indexes into messages(),
  // any order, no duplicates) and keeps everything else plus mail delivered
  // since the snapshot; then releases the lock. Atomic (see GUARANTEES).
  // The session is finished afterwards, whatever the result.
  virtual absl::Status Commit(std::span<const std::size_t> deleted) = 0;
};

class Mailstore {
 public:
  virtual ~Mailstore() = default;

  // Appends a message to `user`'s maildrop (created if missing). OK means
  // durable. Safe to call from several threads and processes at once, and
  // while a POP session is open on the maildrop.
  virtual absl::Status Deliver(std::string_view user, const DeliveryInfo& info,
                               MessageReader& source) = 0;

  // Opens `user`'s maildrop for a POP session (a missing maildrop is an
  // empty one). IsInUse(status) when another session holds it.
  virtual absl::StatusOr<std::unique_ptr<MaildropSession>> OpenSession(
      std::string_view user) = 0;

  // Small per-user values kept with the maildrop (pop3d keeps the number of
  // the last bulletin a user has seen). Keys are [a-z0-9_-]{1,32}; values
  // up to 4 KiB. Read gives NotFound when unset; Write is atomic.
  virtual absl::StatusOr<std::string> ReadUserNote(std::string_view user,
                                                   std::string_view key) = 0;
  virtual absl::Status WriteUserNote(std::string_view user,
                                     std::string_view key,
                                     std::string_view value) = 0;
};

}  // namespace posthorn::store

#endif  // POSTHORN_STORE_MAILSTORE_H_
