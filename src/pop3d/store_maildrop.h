// pop3d/store_maildrop.h — net::Pop3Maildrop over a store::MaildropSession.
//
// The adapter the POP3 driver gets after a login: RETR / TOP open a store
// reader (CRLF text, as the driver wants), UPDATE is the session's atomic
// Commit(). Destroying it without Update() destroys the store session,
// which releases the POP-session lock and removes nothing.
// Not thread-safe (the driver never overlaps calls for one connection).

#ifndef POSTHORN_SRC_POP3D_STORE_MAILDROP_H_
#define POSTHORN_SRC_POP3D_STORE_MAILDROP_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>

#include "posthorn/net/pop3_server.h"
#include "posthorn/pop3/server_session.h"
#include "posthorn/store/mailstore.h"

namespace posthorn::pop3d::detail {

class StoreMaildrop final : public net::Pop3Maildrop {
 public:
  explicit StoreMaildrop(std::unique_ptr<store::MaildropSession> session);
  ~StoreMaildrop() override;

  // The login listing: sizes and uids of the snapshot, in order; no
  // "last accessed" record (0).
  pop3::MaildropListing Listing() const;

  absl::Status OpenMessage(std::size_t index,
                           std::optional<std::uint64_t> top_lines) override;
  absl::StatusOr<std::size_t> ReadMessage(std::span<char> buffer) override;
  absl::Status Update(std::span<const std::size_t> deleted) override;

 private:
  std::unique_ptr<store::MaildropSession> session_;  // null after Update
  std::unique_ptr<store::MessageReader> reader_;     // the open message
};

}  // namespace posthorn::pop3d::detail

#endif  // POSTHORN_SRC_POP3D_STORE_MAILDROP_H_
