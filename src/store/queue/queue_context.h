// store/queue/queue_context.h — what a file queue's parts share.
//
// The queue, its writers and its leases each hold a shared_ptr to one
// QueueContext, so a writer or lease that outlives its Queue object stays
// valid. The context holds the folder names, the fsync setting, the group
// commit of msg/ and the problem log.

#ifndef POSTHORN_SRC_STORE_QUEUE_QUEUE_CONTEXT_H_
#define POSTHORN_SRC_STORE_QUEUE_QUEUE_CONTEXT_H_

#include <cstddef>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "store/fs/file_util.h"
#include "store/queue/group_commit.h"

namespace posthorn::store::queue {

// Problem lines (repairs, unreadable envelopes), each kept once, in the
// order first seen, at most kMaxProblems (then one "more problems" line).
class ProblemLog {
 public:
  static constexpr std::size_t kMaxProblems = 10'000;
  void Add(std::string line);
  std::vector<std::string> Snapshot();

 private:
  std::mutex mu_;
  std::vector<std::string> lines_;
  std::set<std::string> seen_;
  bool overflowed_ = false;
};

struct QueueContext {
  QueueContext(std::string dir_in, bool fsync_in)
      : dir(std::move(dir_in)),
        tmp_dir(fs::JoinPath(dir, "tmp")),
        msg_dir(fs::JoinPath(dir, "msg")),
        corrupt_dir(fs::JoinPath(dir, "corrupt")),
        fsync(fsync_in),
        msg_sync([this] { return fs::FsyncDir(msg_dir); }) {}

  std::string DataPath(std::string_view id) const {
    return fs::JoinPath(msg_dir, std::string(id) + ".data");
  }
  std::string EnvPath(std::string_view id) const {
    return fs::JoinPath(msg_dir, std::string(id) + ".env");
  }
  // Makes renames and unlinks in msg/ durable (shared; nothing if !fsync).
  absl::Status SyncMsgDir() {
    return fsync ? msg_sync.SyncAfterNow() : absl::OkStatus();
  }

  const std::string dir;
  const std::string tmp_dir;
  const std::string msg_dir;
  const std::string corrupt_dir;
  const bool fsync;
  GroupCommit msg_sync;
  ProblemLog problems;
};

}  // namespace posthorn::store::queue

#endif  // POSTHORN_SRC_STORE_QUEUE_QUEUE_CONTEXT_H_
