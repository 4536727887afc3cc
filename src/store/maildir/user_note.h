// store/maildir/user_note.h — the rules for per-user notes
// (Mailstore::ReadUserNote / WriteUserNote), shared by the Maildir and
// memory stores: keys are [a-z0-9_-]{1,32}, values at most 4 KiB.

#ifndef POSTHORN_SRC_STORE_MAILDIR_USER_NOTE_H_
#define POSTHORN_SRC_STORE_MAILDIR_USER_NOTE_H_

#include <cstddef>
#include <string_view>

#include "absl/status/status.h"

namespace posthorn::store::maildir {

inline constexpr std::size_t kMaxNoteKeyLength = 32;
inline constexpr std::size_t kMaxNoteValueSize = 4096;

// InvalidArgument naming the problem, or OK.
absl::Status ValidateNoteKey(std::string_view key);
absl::Status ValidateNoteValue(std::string_view value);

}  // namespace posthorn::store::maildir

#endif  // POSTHORN_SRC_STORE_MAILDIR_USER_NOTE_H_
