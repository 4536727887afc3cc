// tools/sendmail/queue_watch.cpp — inotify on queue_dir/msg: *.env files
// renamed in there are new (or changed) messages. Only renames are
// watched: envelopes arrive only by rename, and the readiness probe opens
// the data file, whose close would otherwise wake the watch again and
// again while a commit is in progress.

#include "tools/sendmail/queue_watch.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string_view>

#include "tools/common/exit_codes.h"

namespace posthorn::tools {
namespace {

constexpr std::string_view kEnvelopeSuffix = ".env";
// One read of events; inotify returns whole events only.
constexpr std::size_t kEventBuffer = 64 * 1024;

}  // namespace

absl::StatusOr<std::unique_ptr<QueueWatch>> QueueWatch::Start(
    const std::string& msg_dir, Ready ready, NewMessage on_new) {
  const int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0) return StatusFromErrno(errno, "inotify_init1");
  if (::inotify_add_watch(fd, msg_dir.c_str(),
                          IN_MOVED_TO) < 0) {
    const int err = errno;
    ::close(fd);
    return StatusFromErrno(err, msg_dir);
  }
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC | O_NONBLOCK) != 0) {
    const int err = errno;
    ::close(fd);
    return StatusFromErrno(err, "pipe2");
  }
  std::unique_ptr<QueueWatch> watch(
      new QueueWatch(fd, pipe_fds[0], pipe_fds[1], std::move(ready),
                     std::move(on_new)));
  watch->thread_ = std::thread([w = watch.get()] { w->Loop(); });
  return watch;
}

QueueWatch::QueueWatch(int inotify_fd, int stop_read, int stop_write,
                       Ready ready, NewMessage on_new)
    : inotify_fd_(inotify_fd),
      stop_read_(stop_read),
      stop_write_(stop_write),
      ready_(std::move(ready)),
      on_new_(std::move(on_new)) {}

QueueWatch::~QueueWatch() {
  Stop();
  ::close(inotify_fd_);
  ::close(stop_read_);
  ::close(stop_write_);
}

void QueueWatch::Stop() {
  if (!thread_.joinable()) return;
  const char byte = 0;
  [[maybe_unused]] ssize_t n = ::write(stop_write_, &byte, 1);
  thread_.join();
}

bool QueueWatch::FirstSight(const std::string& queue_id) {
  std::lock_guard lock(mutex_);
  if (!known_.insert(queue_id).second) return false;
  order_.push_back(queue_id);
  if (order_.size() > kMaxKnownIds) {
    known_.erase(order_.front());
    order_.pop_front();
  }
  return true;
}

void QueueWatch::Loop() {
  std::string buffer(kEventBuffer, '\0');
  while (true) {
    struct pollfd fds[2] = {{inotify_fd_, POLLIN, 0}, {stop_read_, POLLIN, 0}};
    const int timeout =
        waiting_.empty() ? -1 : static_cast<int>(kRetryPause.count());
    const int ready = ::poll(fds, 2, timeout);
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0 || (fds[1].revents & (POLLIN | POLLHUP)) != 0) return;
    if ((fds[0].revents & POLLIN) != 0) ReadEvents(buffer);
    CheckWaiting();
  }
}

void QueueWatch::ReadEvents(std::string& buffer) {
  const ssize_t n = ::read(inotify_fd_, buffer.data(), buffer.size());
  if (n <= 0) return;  // EAGAIN / EINTR
  const auto size = static_cast<std::size_t>(n);
  std::size_t offset = 0;
  while (offset + sizeof(struct inotify_event) <= size) {
    struct inotify_event event;
    std::memcpy(&event, buffer.data() + offset, sizeof event);
    const char* name_start = buffer.data() + offset + sizeof event;
    offset += sizeof event + event.len;
    if (event.len == 0 || offset > size) continue;
    const std::string_view name(name_start, ::strnlen(name_start, event.len));
    if (name.size() <= kEnvelopeSuffix.size() || name.front() == '.') continue;
    const std::size_t stem = name.size() - kEnvelopeSuffix.size();
    if (name.substr(stem) != kEnvelopeSuffix) continue;
    std::string id(name.substr(0, stem));
    if (!FirstSight(id) || waiting_.size() >= kMaxWaiting) continue;
    waiting_.push_back(
        Waiting{std::move(id), std::chrono::steady_clock::now() + kReadyTimeout});
  }
}

void QueueWatch::CheckWaiting() {
  const auto now = std::chrono::steady_clock::now();
  for (auto it = waiting_.begin(); it != waiting_.end();) {
    const Readiness state = ready_(it->id);
    if (state == Readiness::kReady) on_new_(it->id);
    if (state != Readiness::kBusy || now >= it->give_up) {
      it = waiting_.erase(it);  // reported, gone, or left to the scan
    } else {
      ++it;
    }
  }
}

}  // namespace posthorn::tools
