// store/queue/file_queue.cpp — MakeFileQueue: the Queue over one folder.
//
// The parts live in their own files: ids (queue_id), the envelope format
// (envelope_format, xtext), enqueue (queue_writer), leases (queue_lease),
// the shared folder fsync (group_commit) and open-time repair (recovery).
// This file lists and ties them together. See docs/queue.md.

#include <algorithm>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "posthorn/store/queue.h"
#include "store/queue/queue_context.h"
#include "store/queue/queue_files.h"
#include "store/queue/queue_id.h"
#include "store/queue/queue_lease.h"
#include "store/queue/queue_writer.h"
#include "store/queue/recovery.h"

namespace posthorn::store {
namespace {

using queue::QueueContext;

class FileQueue final : public Queue {
 public:
  explicit FileQueue(std::shared_ptr<QueueContext> context)
      : context_(std::move(context)) {}

  absl::StatusOr<std::unique_ptr<QueueWriter>> BeginEnqueue(
      QueueEnvelope envelope) override {
    return queue::BeginFileEnqueue(context_, std::move(envelope));
  }

  absl::StatusOr<std::vector<QueueEnvelope>> List() override;

  absl::StatusOr<std::vector<std::string>> Due(absl::Time now) override {
    absl::StatusOr<std::vector<QueueEnvelope>> all = List();
    if (!all.ok()) return all.status();
    std::vector<std::string> due;
    for (QueueEnvelope& envelope : *all) {
      if (envelope.next_attempt <= now) due.push_back(std::move(envelope.id));
    }
    return due;
  }

  absl::StatusOr<std::unique_ptr<QueueLease>> Lease(
      std::string_view id) override {
    return queue::LeaseFileMessage(context_, id);
  }

  std::vector<std::string> Problems() override {
    return context_->problems.Snapshot();
  }

 private:
  std::shared_ptr<QueueContext> context_;
};

absl::StatusOr<std::vector<QueueEnvelope>> FileQueue::List() {
  absl::StatusOr<std::vector<std::string>> names =
      queue::ListFolder(context_->msg_dir);
  if (!names.ok()) return names.status();
  std::vector<std::string> ids;
  for (const std::string& name : *names) {
    std::string_view id = name;
    if (queue::ConsumeSuffix(id, ".env") && queue::IsValidQueueId(id)) {
      ids.emplace_back(id);
    }
  }
  std::sort(ids.begin(), ids.end());  // id order is arrival order
  std::vector<QueueEnvelope> envelopes;
  envelopes.reserve(ids.size());
  for (const std::string& id : ids) {
    absl::StatusOr<QueueEnvelope> envelope =
        queue::ReadEnvelopeFile(*context_, id);
    if (envelope.ok()) {
      envelopes.push_back(*std::move(envelope));
    } else if (!absl::IsNotFound(envelope.status())) {
      // Removed since the listing is normal; anything else is reported.
      context_->problems.Add(std::string(envelope.status().message()));
    }
  }
  return envelopes;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Queue>> MakeFileQueue(
    const FileQueueOptions& options) {
  if (options.dir.empty()) {
    return absl::InvalidArgumentError("queue folder not set");
  }
  auto context = std::make_shared<QueueContext>(options.dir, options.fsync);
  absl::Status recovered = queue::RecoverQueueFolder(*context);
  if (!recovered.ok()) return recovered;
  return std::make_unique<FileQueue>(std::move(context));
}

}  // namespace posthorn::store
