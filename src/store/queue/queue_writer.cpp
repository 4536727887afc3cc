// store/queue/queue_writer.cpp — see queue_writer.h.

#include "store/queue/queue_writer.h"

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "fmt/format.h"
#include "store/fs/crash_point.h"
#include "store/fs/file_util.h"
#include "store/queue/envelope_format.h"
#include "store/queue/queue_files.h"
#include "store/queue/queue_id.h"

namespace posthorn::store::queue {
namespace {

// Names are unique by construction; a few retries cover the rare race with
// another process's recovery (see CreateLockedFile).
constexpr int kCreateAttempts = 4;

class FileQueueWriter final : public QueueWriter {
 public:
  FileQueueWriter(std::shared_ptr<QueueContext> context, QueueEnvelope envelope,
                  fs::UniqueFd fd, std::string temp_path)
      : context_(std::move(context)),
        envelope_(std::move(envelope)),
        fd_(std::move(fd)),
        temp_path_(std::move(temp_path)) {}
  ~FileQueueWriter() override { Abort(); }

  absl::Status Write(std::string_view bytes) override;
  absl::StatusOr<std::string> Commit() override;
  const std::string& id() const override { return envelope_.id; }
  void Abort() override;

 private:
  enum class State { kWriting, kCommitted, kAborted };

  absl::Status NotWriting() const {
    return absl::FailedPreconditionError(fmt::format(
        "queue message {} {}", envelope_.id,
        state_ == State::kCommitted ? "is already committed" : "was aborted"));
  }
  // Undoes a Commit that failed after the data left tmp/.
  void RemoveFromMsg(bool envelope_renamed);

  std::shared_ptr<QueueContext> context_;
  QueueEnvelope envelope_;  // id set; size set by Commit
  fs::UniqueFd fd_;         // holds the OFD lock until the end
  std::string temp_path_;
  std::uint64_t size_ = 0;
  State state_ = State::kWriting;
};

absl::Status FileQueueWriter::Write(std::string_view bytes) {
  if (state_ != State::kWriting) return NotWriting();
  absl::Status status = fs::WriteAll(fd_.get(), bytes, temp_path_);
  if (status.ok()) size_ += bytes.size();
  return status;
}

void FileQueueWriter::RemoveFromMsg(bool envelope_renamed) {
  // Best effort: whatever stays behind is an orphan that recovery removes
  // (its lock dies with fd_).
  if (envelope_renamed) (void)fs::Unlink(context_->EnvPath(envelope_.id));
  (void)fs::Unlink(context_->DataPath(envelope_.id));
  (void)context_->SyncMsgDir();
}

absl::StatusOr<std::string> FileQueueWriter::Commit() {
  if (state_ != State::kWriting) return NotWriting();
  const std::string data_path = context_->DataPath(envelope_.id);
  envelope_.size = size_;
  // The envelope is staged in tmp/ first so that it and the data are
  // synced together: one journal commit for both (queue_files.h).
  absl::StatusOr<StagedEnvelope> staged =
      StageEnvelopeFile(*context_, envelope_);
  if (!staged.ok()) {
    Abort();
    return staged.status();
  }
  if (context_->fsync) {
    absl::Status synced = SyncTogether(
        {{fd_.get(), temp_path_, /*data_only=*/true},
         {staged->fd.get(), staged->temp_path, /*data_only=*/false}});
    if (!synced.ok()) {
      Abort();
      return synced;  // `staged` removes its file
    }
  }
  fs::CrashPoint();
  absl::Status moved = fs::Rename(temp_path_, data_path);
  if (!moved.ok()) {
    Abort();
    return moved;
  }
  state_ = State::kAborted;  // from here on failures clean up msg/ instead
  absl::Status written = CommitStagedEnvelope(*staged);
  if (!written.ok()) {
    RemoveFromMsg(/*envelope_renamed=*/false);
    fd_.reset();
    return written;
  }
  fs::CrashPoint();
  absl::Status durable = context_->SyncMsgDir();
  if (!durable.ok()) {
    // Answering 4xx with the message still queued would deliver it twice
    // (once from here, once when the client retries).
    RemoveFromMsg(/*envelope_renamed=*/true);
    fd_.reset();
    return durable;
  }
  fd_.reset();  // releases the lock: workers may lease it now
  state_ = State::kCommitted;
  return envelope_.id;
}

void FileQueueWriter::Abort() {
  if (state_ != State::kWriting) return;
  state_ = State::kAborted;
  (void)fs::Unlink(temp_path_);
  fd_.reset();
}

}  // namespace

absl::StatusOr<std::unique_ptr<QueueWriter>> BeginFileEnqueue(
    std::shared_ptr<QueueContext> context, QueueEnvelope envelope) {
  envelope.size = 0;
  absl::Status last_error;
  for (int attempt = 0; attempt < kCreateAttempts; ++attempt) {
    envelope.id = NewQueueId();
    if (attempt == 0) {
      // Refuse an envelope that could never be written before the client
      // sends the data. (Size digits may add 20 bytes later.)
      absl::StatusOr<std::string> text = SerializeEnvelope(envelope);
      if (!text.ok()) return text.status();
    }
    std::string temp_path =
        fs::JoinPath(context->tmp_dir, envelope.id + ".data");
    absl::StatusOr<fs::UniqueFd> fd = CreateLockedFile(temp_path);
    if (fd.ok()) {
      return std::make_unique<FileQueueWriter>(
          std::move(context), std::move(envelope), *std::move(fd),
          std::move(temp_path));
    }
    last_error = fd.status();
    if (!absl::IsUnavailable(last_error) &&
        !absl::IsAlreadyExists(last_error)) {
      break;
    }
  }
  return last_error;
}

}  // namespace posthorn::store::queue
