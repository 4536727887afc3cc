// store/mbox/delivery_log.h — the last keyed deliveries to one mbox, so a
// retried Deliver() with the same DeliveryInfo::delivery_id can tell
// whether its message is already there (posthorn/store/mailstore.h,
// idempotent delivery).
//
// STORAGE
//   In the append journal file (append_journal.h), after its marker:
//   kDeliveryLogSlots slots of kDeliveryLogSlotSize bytes, each empty
//   (zero or blank) or one text line
//     "d <seq> <id digest> <m|x> <dev> <ino> <offset> <length> <digest>"
//   <id digest>: base id (uid.h) of the delivery id; <m> the message is in
//   mbox <dev>/<ino> at <offset>, <length> bytes on disk whose base id is
//   <digest>; <x> a POP session removed it since. A new record takes the
//   slot of the same id, else a free one, else the lowest <seq>. Slots are
//   overwritten in place (the file is sized once), so a record costs one
//   pwrite and no sync of its own: Deliver writes it after the message is
//   durable and before the journal's "idle" write, whose fdatasync covers
//   both.
//
// TRUST
//   A record alone proves nothing (its append may have been undone by
//   RecoverAppend after a kill, and another program may rewrite the mbox
//   in place): HoldsDelivery() re-reads the bytes and compares the digest.
//   Only Commit marks a record <x>, after matching it against the
//   session's entry (offset, length and UID). So a wrong or stale record
//   can cost a duplicate, never a lost message.

#ifndef POSTHORN_SRC_STORE_MBOX_DELIVERY_LOG_H_
#define POSTHORN_SRC_STORE_MBOX_DELIVERY_LOG_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "store/mbox/index_format.h"

namespace posthorn::store::mbox {

inline constexpr std::size_t kDeliveryLogSlots = 32;
inline constexpr std::size_t kDeliveryLogSlotSize = 192;

struct DeliveryRecord {
  std::uint64_t sequence = 0;
  std::string id_digest;  // empty: a free slot
  bool removed = false;
  std::uint64_t dev = 0, ino = 0, offset = 0, length = 0;
  std::string message_digest;
};

// The digest a record keeps for `delivery_id`.
std::string DeliveryIdDigest(std::string_view delivery_id);

// The slots of the journal file open as `fd`, from byte `base` on; a file
// shorter than that (written before the log existed) gives free slots.
class DeliveryLog {
 public:
  static absl::StatusOr<DeliveryLog> Read(int fd, std::string path,
                                          std::uint64_t base);

  // The record of `id_digest`, or null.
  const DeliveryRecord* Find(std::string_view id_digest) const;

  // Stores `record` (its sequence is assigned) in its slot; pwrite only.
  absl::Status Add(DeliveryRecord record);

  // After the mbox `from` was replaced by `to` (a commit or a recovery
  // rewrite): `map(record)` gives each record of `from` its fate. Changed
  // slots are written; `sync` fdatasyncs the file afterwards.
  enum class Fate { kMoved, kRemoved, kDropped };
  absl::Status Remap(const MboxIdentity& from, const MboxIdentity& to,
                     const std::function<Fate(DeliveryRecord&)>& map,
                     bool sync);

 private:
  DeliveryLog(int fd, std::string path, std::uint64_t base)
      : fd_(fd), path_(std::move(path)), base_(base) {}
  absl::Status WriteSlot(std::size_t slot);

  int fd_;
  std::string path_;
  std::uint64_t base_;
  std::vector<DeliveryRecord> slots_;
};

// True when the locked mbox `mbox_fd` (identity `now`) holds `record`'s
// message at its offset: same file, and the bytes there digest to
// record.message_digest. Reads `record.length` bytes (retries only).
absl::StatusOr<bool> HoldsDelivery(int mbox_fd, const std::string& path,
                                   const MboxIdentity& now,
                                   const DeliveryRecord& record);

}  // namespace posthorn::store::mbox

#endif  // POSTHORN_SRC_STORE_MBOX_DELIVERY_LOG_H_
