// posthorn/pop3d/bulletins.h — qpopper's bulletins (popper -b dir).
//
// PURPOSE
//   An administrator drops a message into the bulletin folder as a file
//   named NNNNN.name (a decimal number, a dot, any name: "00012.outage");
//   every user gets each new bulletin once, as a message of their next
//   session. Per user, the number of the last bulletin seen is kept with
//   the maildrop (Mailstore user note "bulletin"). A user with no record
//   gets only the newest bulletin (not the whole history), as qpopper does.
//
// FORMAT
//   A bulletin file is an RFC 5322 message (LF or CRLF line ends; a
//   leading mbox "From " line is dropped). On delivery the To: header is
//   replaced by "To: user@hostname" (folded continuation lines with it),
//   Status: (and X-Status:) lines are dropped, and the rest is kept byte
//   for byte. Files whose name does not match NNNNN.name, that are not
//   regular files, have more than one link, or are larger than
//   kMaxBulletinSize are skipped with a log line; a missing folder means
//   no bulletins.
//
// GUARANTEES
//   Each bulletin is delivered (Mailstore::Deliver, durable) before the
//   user's record moves past it, so a crash can repeat a bulletin but
//   never lose one.

#ifndef POSTHORN_POP3D_BULLETINS_H_
#define POSTHORN_POP3D_BULLETINS_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "posthorn/store/mailstore.h"

namespace posthorn::pop3d {

inline constexpr std::size_t kMaxBulletinSize = 1 << 20;  // 1 MiB

struct Bulletin {
  std::uint64_t number = 0;
  std::string path;
};

// The bulletins of `dir`, by number ascending; skipped files are reported
// through `warnings` ("file: reason").
absl::StatusOr<std::vector<Bulletin>> ListBulletins(
    const std::string& dir, std::vector<std::string>* warnings);

// The bulletin text as delivered to `user` (see FORMAT).
std::string RewriteBulletin(std::string_view text, std::string_view user,
                            std::string_view hostname);

// Delivers to `user` the bulletins newer than their record (only the
// newest for a user without one) and moves the record; returns how many
// were delivered.
absl::StatusOr<std::size_t> DeliverBulletins(
    store::Mailstore& store, const std::string& dir, std::string_view user,
    std::string_view hostname, std::vector<std::string>* warnings);

}  // namespace posthorn::pop3d

#endif  // POSTHORN_POP3D_BULLETINS_H_
