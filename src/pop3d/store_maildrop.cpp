// pop3d/store_maildrop.cpp — StoreMaildrop (store_maildrop.h).

#include "pop3d/store_maildrop.h"

#include <utility>

#include "absl/status/status.h"
#include "fmt/format.h"

namespace posthorn::pop3d::detail {

StoreMaildrop::StoreMaildrop(std::unique_ptr<store::MaildropSession> session)
    : session_(std::move(session)) {}

// The reader goes first: it may refer to the session's files.
StoreMaildrop::~StoreMaildrop() { reader_.reset(); }

pop3::MaildropListing StoreMaildrop::Listing() const {
  pop3::MaildropListing listing;
  if (session_ == nullptr) return listing;
  const auto messages = session_->messages();
  listing.sizes.reserve(messages.size());
  listing.uids.reserve(messages.size());
  for (const store::MessageInfo& message : messages) {
    listing.sizes.push_back(message.size);
    listing.uids.push_back(message.uid);
  }
  listing.last_accessed = 0;
  return listing;
}

absl::Status StoreMaildrop::OpenMessage(std::size_t index,
                                        std::optional<std::uint64_t> top_lines) {
  reader_.reset();
  if (session_ == nullptr) {
    return absl::FailedPreconditionError("the maildrop session has ended");
  }
  if (index >= session_->messages().size()) {
    return absl::OutOfRangeError(fmt::format("no message {}", index + 1));
  }
  auto reader = top_lines.has_value() ? session_->ReadTop(index, *top_lines)
                                      : session_->Read(index);
  if (!reader.ok()) return reader.status();
  reader_ = std::move(*reader);
  return absl::OkStatus();
}

absl::StatusOr<std::size_t> StoreMaildrop::ReadMessage(std::span<char> buffer) {
  if (reader_ == nullptr) {
    return absl::FailedPreconditionError("no message is open");
  }
  if (buffer.empty()) return absl::InvalidArgumentError("empty buffer");
  auto n = reader_->Read(buffer);
  if (!n.ok() || *n == 0) reader_.reset();
  return n;
}

absl::Status StoreMaildrop::Update(std::span<const std::size_t> deleted) {
  reader_.reset();
  if (session_ == nullptr) {
    return absl::FailedPreconditionError("the maildrop session has ended");
  }
  absl::Status committed = session_->Commit(deleted);
  session_.reset();  // finished whatever the result; releases the lock
  return committed;
}

}  // namespace posthorn::pop3d::detail
