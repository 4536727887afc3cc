// store/queue/queue_context.cpp — the problem log; see queue_context.h.

#include "store/queue/queue_context.h"

namespace posthorn::store::queue {

void ProblemLog::Add(std::string line) {
  std::lock_guard<std::mutex> lock(mu_);
  if (seen_.count(line) != 0) return;
  if (lines_.size() >= kMaxProblems) {
    if (!overflowed_) {
      lines_.push_back("more problems not recorded (limit reached)");
      overflowed_ = true;
    }
    return;
  }
  seen_.insert(line);
  lines_.push_back(std::move(line));
}

std::vector<std::string> ProblemLog::Snapshot() {
  std::lock_guard<std::mutex> lock(mu_);
  return lines_;
}

}  // namespace posthorn::store::queue
