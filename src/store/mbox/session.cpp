// store/mbox/session.cpp — see session.h.

#include "store/mbox/session.h"

#include <fcntl.h>

#include <vector>

#include "fmt/format.h"
#include "store/fs/file_util.h"
#include "store/mbox/commit.h"
#include "store/mbox/index_store.h"
#include "store/mbox/message_stream.h"
#include "store/mbox/write_lock.h"

namespace posthorn::store::mbox {
namespace {

class MboxSession final : public MaildropSession {
 public:
  MboxSession(MboxPaths paths, MboxStoreOptions options, fs::UniqueFd pop_lock,
              std::shared_ptr<const fs::UniqueFd> mbox_fd,
              MboxIdentity snapshot, std::vector<IndexEntry> entries)
      : paths_(std::move(paths)),
        options_(std::move(options)),
        pop_lock_(std::move(pop_lock)),
        mbox_fd_(std::move(mbox_fd)),
        snapshot_(snapshot),
        entries_(std::move(entries)) {
    // The UIDs move into the listing (one string per message, not two:
    // this runs at every login); Commit() moves them back for the index.
    messages_.reserve(entries_.size());
    for (IndexEntry& entry : entries_) {
      messages_.push_back(
          {.size = entry.wire_size, .uid = std::move(entry.uid)});
    }
  }

  std::span<const MessageInfo> messages() const override { return messages_; }

  absl::StatusOr<std::unique_ptr<MessageReader>> Read(
      std::size_t index) override {
    return MakeReader(index, std::nullopt);
  }

  absl::StatusOr<std::unique_ptr<MessageReader>> ReadTop(
      std::size_t index, std::uint64_t body_lines) override {
    return MakeReader(index, body_lines);
  }

  absl::Status Commit(std::span<const std::size_t> deleted) override {
    if (finished_) {
      return absl::FailedPreconditionError("session already committed");
    }
    finished_ = true;
    std::vector<bool> keep(entries_.size(), true);
    for (std::size_t index : deleted) {
      if (index >= entries_.size()) {
        pop_lock_.reset();
        return absl::InvalidArgumentError(
            fmt::format("no message {} to delete; nothing removed", index));
      }
      if (!keep[index]) {
        pop_lock_.reset();
        return absl::InvalidArgumentError(fmt::format("message {} listed twice; nothing removed", index));
      }
      keep[index] = false;
    }
    absl::Status status = absl::OkStatus();
    if (!deleted.empty()) {
      for (std::size_t i = 0; i < entries_.size(); ++i) {
        entries_[i].uid = std::move(messages_[i].uid);
      }
      status = CommitMbox(paths_, options_, snapshot_, entries_, keep);
    }
    mbox_fd_.reset();
    pop_lock_.reset();  // the session lock goes last
    return status;
  }

 private:
  absl::StatusOr<std::unique_ptr<MessageReader>> MakeReader(
      std::size_t index, std::optional<std::uint64_t> top_body_lines) {
    if (finished_) {
      return absl::FailedPreconditionError("session already committed");
    }
    if (index >= entries_.size()) {
      return absl::NotFoundError(fmt::format("no message {}", index + 1));
    }
    const IndexEntry& entry = entries_[index];
    return std::make_unique<MboxMessageReader>(
        mbox_fd_, paths_.mbox, entry.offset + entry.from_line_length,
        entry.content_length, top_body_lines);
  }

  MboxPaths paths_;
  MboxStoreOptions options_;
  fs::UniqueFd pop_lock_;
  std::shared_ptr<const fs::UniqueFd> mbox_fd_;
  MboxIdentity snapshot_;
  std::vector<IndexEntry> entries_;
  std::vector<MessageInfo> messages_;
  bool finished_ = false;
};

}  // namespace

absl::StatusOr<std::unique_ptr<MaildropSession>> OpenMboxSession(
    const MboxPaths& paths, const MboxStoreOptions& options) {
  auto pop_lock = fs::OpenFile(paths.pop_lock, O_RDWR | O_CREAT,
                               static_cast<mode_t>(options.file_mode));
  if (!pop_lock.ok()) return pop_lock.status();
  if (auto status = fs::TryLockOfd(pop_lock->get(), paths.pop_lock);
      !status.ok()) {
    return status;
  }
  auto lock = MboxWriteLock::Acquire(paths, options,
                                     MboxWriteLock::Mode::kExistingOnly);
  if (!lock.ok()) return lock.status();
  if (!lock->has_file()) {
    return std::make_unique<MboxSession>(paths, options, std::move(*pop_lock),
                                         nullptr, MboxIdentity{},
                                         std::vector<IndexEntry>{});
  }
  auto listing = ListMessages(paths, options, lock->fd());
  if (!listing.ok()) return listing.status();
  // A second descriptor of the same open file: closing the lock's own
  // descriptor below drops the fcntl lock, this one stays for reading.
  int read_fd = ::fcntl(lock->fd(), F_DUPFD_CLOEXEC, 0);
  if (read_fd < 0) return fs::ErrnoStatus(errno, "dup", paths.mbox);
  auto mbox_fd = std::make_shared<const fs::UniqueFd>(read_fd);
  lock->Release();
  return std::make_unique<MboxSession>(
      paths, options, std::move(*pop_lock), std::move(mbox_fd),
      listing->identity, std::move(listing->entries));
}

}  // namespace posthorn::store::mbox
