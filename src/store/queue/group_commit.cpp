// store/queue/group_commit.cpp — see group_commit.h.

#include "store/queue/group_commit.h"

namespace posthorn::store::queue {

absl::Status GroupCommit::SyncAfterNow() {
  std::unique_lock<std::mutex> lock(mu_);
  // A sync running now began before our rename may have reached the disk
  // queue; only the next generation is sure to include it.
  const std::uint64_t needed = started_ + 1;
  while (completed_ < needed) {
    if (running_) {
      done_.wait(lock);
      continue;
    }
    running_ = true;
    const std::uint64_t generation = ++started_;
    lock.unlock();
    absl::Status status = sync_();
    lock.lock();
    running_ = false;
    completed_ = generation;
    if (!status.ok()) {
      last_failed_ = generation;
      last_failure_ = std::move(status);
    }
    done_.notify_all();
  }
  if (last_failed_ >= needed) return last_failure_;
  return absl::OkStatus();
}

std::uint64_t GroupCommit::SyncsRun() {
  std::lock_guard<std::mutex> lock(mu_);
  return completed_;
}

}  // namespace posthorn::store::queue
