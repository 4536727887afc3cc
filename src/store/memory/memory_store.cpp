// store/memory/memory_store.cpp — MakeMemoryStore (posthorn/store/
// memory_store.h).
//
// Each maildrop is a list of messages kept in the stored form of the
// Maildir backend (LF line ends, line_ends.h) and read back through the
// same CrlfReader, so both backends answer byte for byte alike. One mutex
// guards the whole store; it is held only to copy a snapshot or change a
// list, never while a message is read. Message bytes are shared
// (shared_ptr) between the store, snapshots and readers, so a reader stays
// valid after a Commit() removed its message.
//
// UIDs are "m" + a per-maildrop counter that never goes back, so they are
// unique and stable for the store's lifetime. Nothing is durable.
// Keyed deliveries (DeliveryInfo::delivery_id) are remembered per maildrop
// (the last kMaxRememberedDeliveries), also after a POP session removed
// the message.

#include "posthorn/store/memory_store.h"

#include <algorithm>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "store/maildir/crlf_reader.h"
#include "store/maildir/line_ends.h"
#include "store/maildir/user_note.h"

namespace posthorn::store {
namespace {

constexpr std::size_t kDeliveryChunk = 64 * 1024;

struct StoredMessage {
  std::uint64_t id = 0;  // per maildrop, also the UID's number
  std::shared_ptr<const std::string> stored;  // LF form
  MessageInfo info;
};

// Keyed deliveries remembered per maildrop (the oldest is forgotten
// first); a retry comes right after its crash, never thousands later.
constexpr std::size_t kMaxRememberedDeliveries = 1024;

struct Maildrop {
  std::vector<StoredMessage> messages;
  // DeliveryInfo::delivery_id values already delivered, and their order.
  absl::flat_hash_set<std::string> delivered_ids;
  std::deque<std::string> delivered_order;
  std::uint64_t next_id = 1;
  bool session_open = false;
  std::map<std::string, std::string, std::less<>> notes;
};

// Everything the store holds; sessions keep it alive after the store goes.
struct State {
  std::mutex mutex;
  absl::flat_hash_map<std::string, Maildrop> maildrops;
};

class StringSource final : public maildir::RawSource {
 public:
  explicit StringSource(std::shared_ptr<const std::string> bytes)
      : bytes_(std::move(bytes)) {}
  absl::StatusOr<std::size_t> ReadRaw(std::span<char> buffer) override {
    std::size_t n = std::min(buffer.size(), bytes_->size() - offset_);
    std::memcpy(buffer.data(), bytes_->data() + offset_, n);
    offset_ += n;
    return n;
  }

 private:
  std::shared_ptr<const std::string> bytes_;
  std::size_t offset_ = 0;
};

class MemorySession final : public MaildropSession {
 public:
  MemorySession(std::shared_ptr<State> state, std::string user,
                std::vector<StoredMessage> snapshot)
      : state_(std::move(state)),
        user_(std::move(user)),
        snapshot_(std::move(snapshot)) {
    for (const auto& m : snapshot_) infos_.push_back(m.info);
  }

  ~MemorySession() override { Release(); }

  std::span<const MessageInfo> messages() const override { return infos_; }

  absl::StatusOr<std::unique_ptr<MessageReader>> Read(
      std::size_t index) override {
    return OpenReader(index, std::nullopt);
  }
  absl::StatusOr<std::unique_ptr<MessageReader>> ReadTop(
      std::size_t index, std::uint64_t body_lines) override {
    return OpenReader(index, body_lines);
  }

  absl::Status Commit(std::span<const std::size_t> deleted) override {
    if (finished_) {
      return absl::FailedPreconditionError("the POP session is finished");
    }
    absl::flat_hash_set<std::uint64_t> deleted_ids;
    absl::Status status;
    for (std::size_t index : deleted) {
      if (index >= snapshot_.size() ||
          !deleted_ids.insert(snapshot_[index].id).second) {
        status = absl::InvalidArgumentError(absl::StrCat(
            "Commit: message index ", index, " is out of range or repeated"));
        break;
      }
    }
    {
      std::lock_guard<std::mutex> guard(state_->mutex);
      Maildrop& drop = state_->maildrops[user_];
      if (status.ok()) {
        std::erase_if(drop.messages, [&](const StoredMessage& m) {
          return deleted_ids.contains(m.id);
        });
      }
      drop.session_open = false;
    }
    finished_ = true;
    return status;
  }

 private:
  void Release() {
    if (finished_) return;
    finished_ = true;
    std::lock_guard<std::mutex> guard(state_->mutex);
    state_->maildrops[user_].session_open = false;
  }

  absl::StatusOr<std::unique_ptr<MessageReader>> OpenReader(
      std::size_t index, std::optional<std::uint64_t> top_body_lines) {
    if (finished_) {
      return absl::FailedPreconditionError("the POP session is finished");
    }
    if (index >= snapshot_.size()) {
      return absl::NotFoundError(
          absl::StrCat("no message ", index + 1, " in this session"));
    }
    return std::make_unique<maildir::CrlfReader>(
        std::make_unique<StringSource>(snapshot_[index].stored),
        top_body_lines);
  }

  std::shared_ptr<State> state_;
  std::string user_;
  std::vector<StoredMessage> snapshot_;
  std::vector<MessageInfo> infos_;
  bool finished_ = false;
};

class MemoryStore final : public Mailstore {
 public:
  absl::Status Deliver(std::string_view user, const DeliveryInfo& info,
                       MessageReader& source) override {
    if (auto s = ValidateUserName(user); !s.ok()) return s;
    if (auto s = ValidateDeliveryId(info.delivery_id); !s.ok()) return s;
    maildir::LfNormalizer normalizer;
    auto stored = std::make_shared<std::string>();
    std::string input(kDeliveryChunk, '\0');
    for (;;) {
      auto n = source.Read(std::span<char>(input.data(), input.size()));
      if (!n.ok()) return n.status();
      if (*n == 0) break;
      normalizer.Feed(std::string_view(input.data(), *n), *stored);
    }
    normalizer.Finish(*stored);
    if (stored->empty()) {
      return absl::InvalidArgumentError("Deliver: the message is empty");
    }
    std::lock_guard<std::mutex> guard(state_->mutex);
    Maildrop& drop = state_->maildrops[std::string(user)];
    if (!info.delivery_id.empty()) {
      // Checked under the mutex, so even concurrent calls append once.
      if (!drop.delivered_ids.insert(info.delivery_id).second) {
        return absl::OkStatus();
      }
      drop.delivered_order.push_back(info.delivery_id);
      if (drop.delivered_order.size() > kMaxRememberedDeliveries) {
        drop.delivered_ids.erase(drop.delivered_order.front());
        drop.delivered_order.pop_front();
      }
    }
    StoredMessage message;
    message.id = drop.next_id++;
    message.info.size = normalizer.crlf_size();
    message.info.uid = absl::StrCat("m", message.id);
    message.stored = std::move(stored);
    drop.messages.push_back(std::move(message));
    return absl::OkStatus();
  }

  absl::StatusOr<std::unique_ptr<MaildropSession>> OpenSession(
      std::string_view user) override {
    if (auto s = ValidateUserName(user); !s.ok()) return s;
    std::lock_guard<std::mutex> guard(state_->mutex);
    Maildrop& drop = state_->maildrops[std::string(user)];
    if (drop.session_open) {
      return InUseError(absl::StrCat("maildrop of ", std::string(user),
                                     " is in use by another POP session"));
    }
    drop.session_open = true;
    return std::unique_ptr<MaildropSession>(std::make_unique<MemorySession>(
        state_, std::string(user), drop.messages));
  }

  absl::StatusOr<std::string> ReadUserNote(std::string_view user,
                                           std::string_view key) override {
    if (auto s = ValidateUserName(user); !s.ok()) return s;
    if (auto s = maildir::ValidateNoteKey(key); !s.ok()) return s;
    std::lock_guard<std::mutex> guard(state_->mutex);
    auto drop = state_->maildrops.find(std::string(user));
    if (drop != state_->maildrops.end()) {
      auto note = drop->second.notes.find(std::string(key));
      if (note != drop->second.notes.end()) return note->second;
    }
    return absl::NotFoundError(
        absl::StrCat("no note '", std::string(key), "' for user ",
                     std::string(user)));
  }

  absl::Status WriteUserNote(std::string_view user, std::string_view key,
                             std::string_view value) override {
    if (auto s = ValidateUserName(user); !s.ok()) return s;
    if (auto s = maildir::ValidateNoteKey(key); !s.ok()) return s;
    if (auto s = maildir::ValidateNoteValue(value); !s.ok()) return s;
    std::lock_guard<std::mutex> guard(state_->mutex);
    state_->maildrops[std::string(user)].notes[std::string(key)] =
        std::string(value);
    return absl::OkStatus();
  }

 private:
  std::shared_ptr<State> state_ = std::make_shared<State>();
};

}  // namespace

std::unique_ptr<Mailstore> MakeMemoryStore() {
  return std::make_unique<MemoryStore>();
}

}  // namespace posthorn::store
