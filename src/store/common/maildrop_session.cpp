// store/common/maildrop_session.cpp — MaildropSession::ReadTop's default
// (posthorn/store/mailstore.h): the whole message, cut by TopReader.

#include <memory>
#include <utility>

#include "posthorn/store/mailstore.h"

namespace posthorn::store {

absl::StatusOr<std::unique_ptr<MessageReader>> MaildropSession::ReadTop(
    std::size_t index, std::uint64_t body_lines) {
  absl::StatusOr<std::unique_ptr<MessageReader>> whole = Read(index);
  if (!whole.ok()) return whole.status();
  return std::unique_ptr<MessageReader>(
      std::make_unique<TopReader>(*std::move(whole), body_lines));
}

}  // namespace posthorn::store
