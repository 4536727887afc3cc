// store/maildir/user_note.cpp — see user_note.h.

#include "store/maildir/user_note.h"

#include "absl/strings/str_cat.h"

namespace posthorn::store::maildir {

absl::Status ValidateNoteKey(std::string_view key) {
  if (key.empty() || key.size() > kMaxNoteKeyLength) {
    return absl::InvalidArgumentError(
        absl::StrCat("note key must be 1..", kMaxNoteKeyLength, " bytes"));
  }
  for (char c : key) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
              c == '-';
    if (!ok) {
      return absl::InvalidArgumentError(
          "note key may hold only a-z, 0-9, '_' and '-'");
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateNoteValue(std::string_view value) {
  if (value.size() > kMaxNoteValueSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("note value longer than ", kMaxNoteValueSize, " bytes"));
  }
  return absl::OkStatus();
}

}  // namespace posthorn::store::maildir
