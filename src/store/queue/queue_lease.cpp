// store/queue/queue_lease.cpp — see queue_lease.h.

#include "store/queue/queue_lease.h"

#include <fcntl.h>

#include <string>

#include "absl/status/status.h"
#include "fmt/format.h"
#include "posthorn/store/status.h"
#include "store/fs/crash_point.h"
#include "store/fs/file_util.h"
#include "store/queue/queue_files.h"
#include "store/queue/queue_id.h"

namespace posthorn::store::queue {
namespace {

class FileQueueLease final : public QueueLease {
 public:
  FileQueueLease(std::shared_ptr<QueueContext> context, fs::UniqueFd lock,
                 QueueEnvelope envelope)
      : context_(std::move(context)),
        lock_(std::move(lock)),
        envelope_(std::move(envelope)) {}

  const QueueEnvelope& envelope() const override { return envelope_; }
  absl::StatusOr<std::unique_ptr<MessageReader>> OpenData() override;
  absl::Status Save(const QueueEnvelope& envelope) override;
  absl::Status Remove() override;

 private:
  absl::Status Finished() const {
    return absl::FailedPreconditionError(
        fmt::format("queue message {} was removed", envelope_.id));
  }

  std::shared_ptr<QueueContext> context_;
  fs::UniqueFd lock_;  // the OFD lock on msg/<id>.data; invalid: removed
  QueueEnvelope envelope_;
};

absl::StatusOr<std::unique_ptr<MessageReader>> FileQueueLease::OpenData() {
  if (!lock_.valid()) return Finished();
  std::string path = context_->DataPath(envelope_.id);
  // A descriptor of its own: closing it never touches the lease's lock
  // (OFD locks belong to the open file description).
  absl::StatusOr<fs::UniqueFd> fd = fs::OpenFile(path, O_RDONLY);
  if (!fd.ok()) return fd.status();
  return MakeFileReader(*std::move(fd), std::move(path));
}

absl::Status FileQueueLease::Save(const QueueEnvelope& envelope) {
  if (!lock_.valid()) return Finished();
  QueueEnvelope updated = envelope;
  updated.id = envelope_.id;      // the message the lease is on
  updated.size = envelope_.size;  // the data never changes
  absl::Status status = WriteEnvelopeFile(*context_, updated);
  if (!status.ok()) return status;
  fs::CrashPoint();
  status = context_->SyncMsgDir();
  if (!status.ok()) return status;
  envelope_ = std::move(updated);
  return absl::OkStatus();
}

absl::Status FileQueueLease::Remove() {
  if (!lock_.valid()) return Finished();
  absl::Status status = fs::Unlink(context_->EnvPath(envelope_.id));
  if (!status.ok()) return status;
  fs::CrashPoint();
  status = fs::Unlink(context_->DataPath(envelope_.id));
  if (!status.ok()) return status;
  fs::CrashPoint();
  status = context_->SyncMsgDir();
  lock_.reset();  // the message is gone either way
  return status;
}

}  // namespace

absl::StatusOr<std::unique_ptr<QueueLease>> LeaseFileMessage(
    std::shared_ptr<QueueContext> context, std::string_view id_view) {
  std::string id(id_view);
  if (!IsValidQueueId(id)) {
    return absl::InvalidArgumentError(
        fmt::format("malformed queue id \"{}\"", id.substr(0, 64)));
  }
  const std::string data_path = context->DataPath(id);
  absl::StatusOr<fs::UniqueFd> fd = fs::OpenFile(data_path, O_RDWR);
  if (!fd.ok()) {
    if (absl::IsNotFound(fd.status())) {
      return absl::NotFoundError(fmt::format("queue message {} not found", id));
    }
    return fd.status();
  }
  absl::Status locked = fs::TryLockOfd(fd->get(), data_path);
  if (!locked.ok()) {
    if (IsInUse(locked)) {
      return InUseError(
          fmt::format("queue message {} is leased by another worker", id));
    }
    return locked;
  }
  // Removed between our open and our lock: the holder unlinked it.
  absl::StatusOr<struct stat> st = fs::Stat(fd->get(), data_path);
  if (!st.ok()) return st.status();
  if (st->st_nlink == 0) {
    return absl::NotFoundError(fmt::format("queue message {} not found", id));
  }
  absl::StatusOr<QueueEnvelope> envelope = ReadEnvelopeFile(*context, id);
  if (!envelope.ok()) {
    if (absl::IsNotFound(envelope.status())) {
      return absl::NotFoundError(fmt::format("queue message {} not found", id));
    }
    if (absl::IsDataLoss(envelope.status())) {
      context->problems.Add(std::string(envelope.status().message()));
    }
    return envelope.status();
  }
  return std::make_unique<FileQueueLease>(std::move(context), *std::move(fd),
                                          *std::move(envelope));
}

}  // namespace posthorn::store::queue
