// store/queue/group_commit.h — one folder fsync shared by many committers.
//
// A committer that renamed a file into a folder must not return before an
// fsync of that folder that STARTED after its rename has finished (an fsync
// already running may have missed the new entry). Committers arriving
// together share one fsync:
//
//   - generations: started_ counts fsyncs begun, completed_ the last one
//     finished. A caller needs generation started_ + 1 (the next to begin).
//   - leader/follower: a caller that finds no fsync running becomes the
//     leader, starts the next generation and runs it without the mutex; all
//     others wait on the condition variable. When it finishes, a waiter
//     whose generation is not yet covered becomes the next leader.
//   So with N concurrent committers there are at most two folder fsyncs in
//   their path instead of N.
//
// ERRORS
//   A failed fsync fails every caller whose wait it would have satisfied,
//   and any later success does not hide it from them (after a failed
//   fsync Linux may have dropped the dirty state it reported).
//
// Thread safe. Within one process only: other processes sync on their own.

#ifndef POSTHORN_SRC_STORE_QUEUE_GROUP_COMMIT_H_
#define POSTHORN_SRC_STORE_QUEUE_GROUP_COMMIT_H_

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>

#include "absl/status/status.h"

namespace posthorn::store::queue {

class GroupCommit {
 public:
  // `sync` is run by the leader (normally fs::FsyncDir of one folder).
  explicit GroupCommit(std::function<absl::Status()> sync)
      : sync_(std::move(sync)) {}

  // Returns once a sync that began after this call has completed; its
  // status (or that of a failed sync since this call began).
  absl::Status SyncAfterNow();

  // How many syncs ran (tests and benchmarks: shows the sharing).
  std::uint64_t SyncsRun();

 private:
  std::function<absl::Status()> sync_;
  std::mutex mu_;
  std::condition_variable done_;
  bool running_ = false;
  std::uint64_t started_ = 0;      // generations begun
  std::uint64_t completed_ = 0;    // the last generation finished
  std::uint64_t last_failed_ = 0;  // the last generation that failed (0: none)
  absl::Status last_failure_;
};

}  // namespace posthorn::store::queue

#endif  // POSTHORN_SRC_STORE_QUEUE_GROUP_COMMIT_H_
