// tools/sendmail/queue_watch.h — new mail in the queue folder, seen by
// inotify, so the daemon delivers command-line submissions at once.
//
// PURPOSE
//   Every new message, from SMTP or from `sendmail rcpt < msg` (another
//   process), shows up as a new <id>.env renamed into queue_dir/msg/.
//   QueueWatch reports each queue id once, the first time it is seen, so
//   the runner is kicked once per message; later renames of the same
//   envelope (the runner saving a deferral) are not reported again.
//   The envelope appears before its writer lets go of the message (the
//   writer still holds the lease until the folder is fsynced), so a new
//   id is reported only once `ready(id)` says the writer is done: it is
//   asked again every kRetryPause until kReadyTimeout.
//
// LIMITS
//   Remembers the last kMaxKnownIds ids (older ones are forgotten; a
//   forgotten id that changes again is kicked once more, which is
//   harmless: the lease makes a second attempt wait its turn). An inotify
//   queue overflow loses events: those messages wait for the periodic
//   scan.

#ifndef POSTHORN_TOOLS_SENDMAIL_QUEUE_WATCH_H_
#define POSTHORN_TOOLS_SENDMAIL_QUEUE_WATCH_H_

#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"

namespace posthorn::tools {

inline constexpr std::size_t kMaxKnownIds = 100000;
inline constexpr std::size_t kMaxWaiting = 10000;  // ids not yet ready
inline constexpr std::chrono::milliseconds kRetryPause{20};
inline constexpr std::chrono::seconds kReadyTimeout{30};

enum class Readiness { kReady, kBusy, kGone };

class QueueWatch {
 public:
  using NewMessage = std::function<void(const std::string& queue_id)>;
  using Ready = std::function<Readiness(const std::string& queue_id)>;

  // Watches `msg_dir` (queue_dir/msg) on its own thread; `ready` and
  // `on_new` run there and must stay valid until Stop().
  static absl::StatusOr<std::unique_ptr<QueueWatch>> Start(
      const std::string& msg_dir, Ready ready, NewMessage on_new);
  ~QueueWatch();  // Stop()
  void Stop();

  // True the first time an id is seen (then remembered).
  bool FirstSight(const std::string& queue_id);

 private:
  struct Waiting {
    std::string id;
    std::chrono::steady_clock::time_point give_up;
  };
  QueueWatch(int inotify_fd, int stop_read, int stop_write, Ready ready,
             NewMessage on_new);
  void Loop();
  void ReadEvents(std::string& buffer);
  void CheckWaiting();

  int inotify_fd_;
  int stop_read_;
  int stop_write_;
  Ready ready_;
  NewMessage on_new_;
  std::deque<Waiting> waiting_;  // the watch thread's own
  std::mutex mutex_;
  absl::flat_hash_set<std::string> known_;
  std::deque<std::string> order_;  // oldest first, for forgetting
  std::thread thread_;
};

}  // namespace posthorn::tools

#endif  // POSTHORN_TOOLS_SENDMAIL_QUEUE_WATCH_H_
