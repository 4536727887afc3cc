// store/mbox/delivery_log.cpp — see delivery_log.h.

#include "store/mbox/delivery_log.h"

#include <algorithm>
#include <charconv>

#include "fmt/format.h"
#include "store/fs/file_util.h"
#include "store/mbox/journal_words.h"
#include "store/mbox/uid.h"

namespace posthorn::store::mbox {
namespace {

// Reading a delivery back for HoldsDelivery, in chunks of this size.
constexpr std::size_t kVerifyChunk = 64 * 1024;

// A slot's text; a damaged or foreign slot reads as free.
DeliveryRecord ParseSlot(std::string_view text) {
  DeliveryRecord record;
  std::vector<std::string_view> w = JournalWords(text);
  if (w.size() != 9 || w[0] != "d" || (w[3] != "m" && w[3] != "x")) {
    return record;
  }
  DeliveryRecord parsed;
  parsed.id_digest = std::string(w[2]);
  parsed.removed = w[3] == "x";
  parsed.message_digest = std::string(w[8]);
  if (!ParseJournalNumber(w[1], &parsed.sequence) || !ParseJournalNumber(w[4], &parsed.dev) ||
      !ParseJournalNumber(w[5], &parsed.ino) || !ParseJournalNumber(w[6], &parsed.offset) ||
      !ParseJournalNumber(w[7], &parsed.length)) {
    return record;
  }
  return parsed;
}

}  // namespace

std::string DeliveryIdDigest(std::string_view delivery_id) {
  UidDigest digest;
  digest.Update("posthorn delivery id\n");
  digest.Update(delivery_id);
  return digest.Finish();
}

absl::StatusOr<DeliveryLog> DeliveryLog::Read(int fd, std::string path,
                                              std::uint64_t base) {
  DeliveryLog log(fd, std::move(path), base);
  std::string bytes(kDeliveryLogSlots * kDeliveryLogSlotSize, '\0');
  auto n = fs::PReadSome(fd, bytes.data(), bytes.size(), base, log.path_);
  if (!n.ok()) return n.status();
  bytes.resize(*n);
  log.slots_.resize(kDeliveryLogSlots);
  for (std::size_t i = 0; i < kDeliveryLogSlots; ++i) {
    std::size_t at = i * kDeliveryLogSlotSize;
    if (at >= bytes.size()) break;
    std::string_view slot(bytes.data() + at,
                          std::min(kDeliveryLogSlotSize, bytes.size() - at));
    slot = slot.substr(0, slot.find('\0'));
    log.slots_[i] = ParseSlot(slot);
  }
  return log;
}

const DeliveryRecord* DeliveryLog::Find(std::string_view id_digest) const {
  const DeliveryRecord* found = nullptr;
  for (const DeliveryRecord& r : slots_) {
    if (r.id_digest == id_digest &&
        (found == nullptr || r.sequence > found->sequence)) {
      found = &r;
    }
  }
  return found;
}

absl::Status DeliveryLog::Add(DeliveryRecord record) {
  std::uint64_t highest = 0;
  std::size_t slot = kDeliveryLogSlots;
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    highest = std::max(highest, slots_[i].sequence);
    if (slots_[i].id_digest == record.id_digest) slot = i;
  }
  if (slot == kDeliveryLogSlots) {
    // A free slot, else the oldest record.
    slot = 0;
    for (std::size_t i = 0; i < slots_.size(); ++i) {
      if (slots_[i].id_digest.empty()) {
        slot = i;
        break;
      }
      if (slots_[i].sequence < slots_[slot].sequence) slot = i;
    }
  }
  record.sequence = highest + 1;
  slots_[slot] = std::move(record);
  return WriteSlot(slot);
}

absl::Status DeliveryLog::Remap(const MboxIdentity& from,
                                const MboxIdentity& to,
                                const std::function<Fate(DeliveryRecord&)>& map,
                                bool sync) {
  bool changed = false;
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    DeliveryRecord& r = slots_[i];
    if (r.id_digest.empty() || r.removed || r.dev != from.dev ||
        r.ino != from.ino) {
      continue;
    }
    switch (map(r)) {
      case Fate::kMoved:
        r.dev = to.dev;
        r.ino = to.ino;
        break;
      case Fate::kRemoved:
        r.removed = true;
        break;
      case Fate::kDropped:
        r = DeliveryRecord();
        break;
    }
    if (auto status = WriteSlot(i); !status.ok()) return status;
    changed = true;
  }
  if (changed && sync) return fs::Fdatasync(fd_, path_);
  return absl::OkStatus();
}

absl::Status DeliveryLog::WriteSlot(std::size_t slot) {
  const DeliveryRecord& r = slots_[slot];
  std::string text;
  if (!r.id_digest.empty()) {
    text = fmt::format("d {} {} {} {} {} {} {} {}", r.sequence, r.id_digest,
                       r.removed ? "x" : "m", r.dev, r.ino, r.offset,
                       r.length, r.message_digest);
  }
  // Digests are 22 characters and numbers at most 20, so this always fits;
  // a slot that did not would be cut and then read as free (a duplicate at
  // worst, never a wrong "delivered").
  text.resize(kDeliveryLogSlotSize, ' ');
  text.back() = '\n';
  return fs::PWriteAll(fd_, text, base_ + slot * kDeliveryLogSlotSize, path_);
}

absl::StatusOr<bool> HoldsDelivery(int mbox_fd, const std::string& path,
                                   const MboxIdentity& now,
                                   const DeliveryRecord& record) {
  if (record.removed || record.dev != now.dev || record.ino != now.ino ||
      record.length == 0 || record.offset > now.size ||
      record.length > now.size - record.offset) {
    return false;
  }
  UidDigest digest;
  std::string chunk(kVerifyChunk, '\0');
  std::uint64_t done = 0;
  while (done < record.length) {
    std::size_t want = static_cast<std::size_t>(
        std::min<std::uint64_t>(chunk.size(), record.length - done));
    auto n = fs::PReadSome(mbox_fd, chunk.data(), want, record.offset + done,
                           path);
    if (!n.ok()) return n.status();
    if (*n == 0) return false;
    digest.Update(std::string_view(chunk.data(), *n));
    done += *n;
  }
  return digest.Finish() == record.message_digest;
}

}  // namespace posthorn::store::mbox
