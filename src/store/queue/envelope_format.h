// store/queue/envelope_format.h — the envelope file: QueueEnvelope as text.
//
// FORMAT (version 1; one record per line, LF only, fields separated by one
// space, every string as an xtext token, see xtext.h)
//
//   posthorn-queue-envelope 1
//   id 0QKX7V1G3M20000001Z7
//   sender alice@example.org           ("=" for the null sender)
//   envid =                            (DSN ENVID)
//   ret full                           (or "hdrs": DSN RET=HDRS)
//   received-from mx.example.net+20[192.0.2.1]
//   arrival 1700000000123456           (microseconds since the Unix epoch,
//                                       or -inf / +inf)
//   size 4096
//   attempts 0
//   next-attempt -inf
//   delay-warned 0
//   recipients 2                       (how many rcpt lines follow)
//   rcpt pending -FD 0 bob@example.com = = =
//   rcpt failed SFD 1 carol@example.com rfc822;carol@example.com
//        mx.example.com 550+205.1.1+20no+20such+20user
//   end 5c1e0d8f0a3b9e27               (FNV-1a 64 of every byte before
//                                       this line, 16 lowercase hex)
//
//   (the second rcpt record is one line; it is wrapped here only)
//   rcpt <state> <notify> <dsn-sent> <address> <orcpt> <remote-host>
//        <last-reply>
//   state: pending | delivered | failed. notify: three characters, 'S' or
//   '-' (NOTIFY=SUCCESS), 'F' or '-' (FAILURE), 'D' or '-' (DELAY).
//
// GUARANTEES
//   Parse(Serialize(e)) == e for every envelope within the limits (times at
//   microsecond precision). The parser is strict: records in this order,
//   each exactly once, canonical numbers and tokens, nothing after "end",
//   and the checksum must match, so any truncation and any single changed
//   byte is refused. Every failure is DataLoss naming the file and line.
//
// LIMITS
//   kMaxEnvelopeBytes (1 MiB) per file, kMaxRecipients (100,000). Serialize
//   refuses (InvalidArgument) an envelope beyond them; the parser refuses
//   such a file before allocating for it.

#ifndef POSTHORN_SRC_STORE_QUEUE_ENVELOPE_FORMAT_H_
#define POSTHORN_SRC_STORE_QUEUE_ENVELOPE_FORMAT_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "posthorn/store/queue.h"

namespace posthorn::store::queue {

inline constexpr std::size_t kMaxEnvelopeBytes = 1 << 20;
inline constexpr std::size_t kMaxRecipients = 100'000;
inline constexpr int kEnvelopeVersion = 1;

// The file contents for `envelope`; InvalidArgument beyond the limits or
// for an id that is not a queue id.
absl::StatusOr<std::string> SerializeEnvelope(const QueueEnvelope& envelope);

// Parses a file's contents; `file_name` only labels the errors.
absl::StatusOr<QueueEnvelope> ParseEnvelope(std::string_view text,
                                            std::string_view file_name);

}  // namespace posthorn::store::queue

#endif  // POSTHORN_SRC_STORE_QUEUE_ENVELOPE_FORMAT_H_
