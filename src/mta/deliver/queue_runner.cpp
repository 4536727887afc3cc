// mta/deliver/queue_runner.cpp — mta::QueueRunner (queue_runner.h): the
// threads and the work list around AttemptMessage (message_attempt.h).
//
// CONCURRENCY
//   - At most max_parallel attempts run at once, whatever starts them
//     (background workers, RunOnce, RunMessage): each attempt takes a slot
//     (a counter under mu_, waited on with slot_cv_).
//   - Start(): max_parallel worker threads take tasks from work_ (kicks
//     and ETRN requests at the front, periodic scans at the back; an id is
//     in work_ at most once), plus one timer thread that scans the queue
//     at Start and then every interval. Everything waits on condition
//     variables: no polling.
//   - Two runners (threads or processes) never attempt one message at the
//     same time: the queue lease decides, the loser counts it busy.
//   - Stop(): no new task starts; attempts in progress finish; tasks not
//     started are dropped (they stay in the queue for the next run).

#include "posthorn/mta/queue_runner.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "fmt/format.h"
#include "mta/deliver/message_attempt.h"
#include "posthorn/mta/routing.h"

namespace posthorn::mta {
namespace {

// The domain of an address, lowercased ("" without '@').
std::string DomainOf(std::string_view address) {
  std::size_t at = address.rfind('@');
  if (at == std::string_view::npos) return "";
  std::string_view domain = address.substr(at + 1);
  if (!domain.empty() && domain.back() == '>') domain.remove_suffix(1);
  return NormalizeDomain(domain);
}

}  // namespace

class QueueRunner::Impl {
 public:
  explicit Impl(QueueRunnerOptions options) : options_(std::move(options)) {
    options_.max_parallel = std::max<std::size_t>(options_.max_parallel, 1);
    if (options_.interval <= std::chrono::seconds(0)) {
      options_.interval = std::chrono::seconds(1);
    }
  }

  ~Impl() { Stop(); }

  RunSummary RunOnce() {
    auto due = options_.queue->Due(absl::Now());
    if (!due.ok()) {
      Log(LogLevel::kError, fmt::format("queue run: {}",
                                        std::string(due.status().message())));
      return {};
    }
    return RunBatch(*due, true);
  }

  RunSummary RunMessage(std::string_view id) {
    return Attempt(std::string(id), false);
  }

  void RunForDomain(std::string domain) {
    {
      std::lock_guard lock(mu_);
      if (started_ && !stopping_) {
        work_.push_front(Task{TaskKind::kDomain, std::move(domain), false});
        work_cv_.notify_one();
        return;
      }
    }
    RunBatch(IdsForDomain(domain), false);
  }

  void Kick(std::string id) {
    std::lock_guard lock(mu_);
    if (!started_ || stopping_) return;
    if (!queued_.insert(id).second) {
      // Already waiting (from a scan): now it is wanted due or not.
      for (Task& task : work_) {
        if (task.kind == TaskKind::kMessage && task.value == id) {
          task.only_if_due = false;
        }
      }
      return;
    }
    work_.push_front(Task{TaskKind::kMessage, std::move(id), false});
    work_cv_.notify_one();
  }

  void Start() {
    std::lock_guard control(control_mu_);
    {
      std::lock_guard lock(mu_);
      if (started_) return;
      started_ = true;
      stopping_ = false;
    }
    for (std::size_t i = 0; i < options_.max_parallel; ++i) {
      workers_.emplace_back([this] { WorkerLoop(); });
    }
    timer_ = std::thread([this] { TimerLoop(); });
  }

  void Stop() {
    std::lock_guard control(control_mu_);
    {
      std::lock_guard lock(mu_);
      if (!started_) return;
      stopping_ = true;
      work_.clear();
      queued_.clear();
    }
    work_cv_.notify_all();
    timer_cv_.notify_all();
    slot_cv_.notify_all();
    if (timer_.joinable()) timer_.join();
    for (std::thread& t : workers_) t.join();
    workers_.clear();
    std::lock_guard lock(mu_);
    started_ = false;
    stopping_ = false;
  }

 private:
  enum class TaskKind { kMessage, kDomain };
  struct Task {
    TaskKind kind = TaskKind::kMessage;
    std::string value;         // queue id or domain
    bool only_if_due = false;  // from a scan: skip it if attempted since
  };

  void Log(LogLevel level, std::string_view line) const {
    if (options_.log) options_.log(level, line);
  }

  // One attempt inside a slot; the notices it queued are kicked.
  RunSummary Attempt(const std::string& id, bool only_if_due) {
    {
      std::unique_lock lock(mu_);
      slot_cv_.wait(lock, [&] { return active_ < options_.max_parallel; });
      ++active_;
    }
    deliver::AttemptResult result = deliver::AttemptMessage(options_, id, only_if_due);
    {
      std::lock_guard lock(mu_);
      --active_;
    }
    slot_cv_.notify_one();
    for (std::string& queued : result.queued) Kick(std::move(queued));
    return result.summary;
  }

  // Attempts `ids` with up to max_parallel threads; waits for all.
  RunSummary RunBatch(const std::vector<std::string>& ids, bool only_if_due) {
    RunSummary total;
    if (ids.empty()) return total;
    std::size_t threads = std::min(options_.max_parallel, ids.size());
    if (threads == 1) {
      for (const std::string& id : ids) {
        deliver::AddSummary(&total, Attempt(id, only_if_due));
      }
      return total;
    }
    std::atomic<std::size_t> next{0};
    std::mutex total_mu;
    auto work = [&] {
      for (;;) {
        std::size_t i = next.fetch_add(1);
        if (i >= ids.size()) return;
        RunSummary one = Attempt(ids[i], only_if_due);
        std::lock_guard lock(total_mu);
        deliver::AddSummary(&total, one);
      }
    };
    std::vector<std::thread> pool;
    for (std::size_t i = 0; i < threads; ++i) pool.emplace_back(work);
    for (std::thread& t : pool) t.join();
    return total;
  }

  std::vector<std::string> IdsForDomain(const std::string& domain) {
    std::vector<std::string> ids;
    auto list = options_.queue->List();
    if (!list.ok()) {
      Log(LogLevel::kError,
          fmt::format("queue run for {}: {}", domain,
                      std::string(list.status().message())));
      return ids;
    }
    std::string wanted = NormalizeDomain(domain);
    for (const store::QueueEnvelope& envelope : *list) {
      for (const store::QueuedRecipient& r : envelope.recipients) {
        if (r.state == store::RecipientState::kPending &&
            DomainOf(r.address) == wanted) {
          ids.push_back(envelope.id);
          break;
        }
      }
    }
    return ids;
  }

  void WorkerLoop() {
    for (;;) {
      Task task;
      {
        std::unique_lock lock(mu_);
        work_cv_.wait(lock, [&] { return stopping_ || !work_.empty(); });
        if (stopping_) return;
        task = std::move(work_.front());
        work_.pop_front();
        if (task.kind == TaskKind::kMessage) queued_.erase(task.value);
      }
      if (task.kind == TaskKind::kMessage) {
        Attempt(task.value, task.only_if_due);
      } else {
        // ETRN: the domain's messages go ahead of the periodic scan.
        std::vector<std::string> ids = IdsForDomain(task.value);
        for (auto it = ids.rbegin(); it != ids.rend(); ++it) Kick(*it);
      }
    }
  }

  void TimerLoop() {
    auto next_scan = std::chrono::steady_clock::now();
    for (;;) {
      {
        std::unique_lock lock(mu_);
        timer_cv_.wait_until(lock, next_scan, [&] { return stopping_; });
        if (stopping_) return;
      }
      next_scan = std::chrono::steady_clock::now() + options_.interval;
      auto due = options_.queue->Due(absl::Now());
      if (!due.ok()) {
        Log(LogLevel::kError,
            fmt::format("queue scan: {}", std::string(due.status().message())));
        continue;
      }
      std::lock_guard lock(mu_);
      if (stopping_) return;
      for (std::string& id : *due) {
        if (!queued_.insert(id).second) continue;
        work_.push_back(Task{TaskKind::kMessage, std::move(id), true});
      }
      work_cv_.notify_all();
    }
  }

  QueueRunnerOptions options_;
  std::mutex control_mu_;  // Start / Stop, one at a time
  std::mutex mu_;          // everything below
  std::condition_variable slot_cv_;
  std::condition_variable work_cv_;
  std::condition_variable timer_cv_;
  std::size_t active_ = 0;  // attempts in progress
  bool started_ = false;
  bool stopping_ = false;
  std::deque<Task> work_;
  absl::flat_hash_set<std::string> queued_;  // message ids in work_
  std::vector<std::thread> workers_;
  std::thread timer_;
};

QueueRunner::QueueRunner(QueueRunnerOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

QueueRunner::~QueueRunner() = default;

RunSummary QueueRunner::RunOnce() { return impl_->RunOnce(); }

RunSummary QueueRunner::RunMessage(std::string_view queue_id) {
  return impl_->RunMessage(queue_id);
}

void QueueRunner::RunForDomain(std::string domain) {
  impl_->RunForDomain(std::move(domain));
}

void QueueRunner::Kick(std::string queue_id) {
  impl_->Kick(std::move(queue_id));
}

void QueueRunner::Start() { impl_->Start(); }

void QueueRunner::Stop() { impl_->Stop(); }

}  // namespace posthorn::mta
