// store/postgresql/pg_queue_listener.cpp — AnnouncePgQueueMail and
// PgQueueListener (posthorn/store/postgresql.h): NOTIFY / LISTEN on
// kPgQueueChannel, so `sendmail -bd` nodes deliver mail another process
// queued with -odq at once instead of at their next queue run.
//
// The listener's thread owns its connection: LISTEN, then poll() on the
// connection's socket and on a pipe the destructor writes to. A lost
// connection is made again after a pause that doubles from 100 ms to 5 s;
// the pause also waits on the pipe, so stopping never waits for it.

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <utility>

#include "absl/time/time.h"
#include "fmt/format.h"
#include "posthorn/store/postgresql.h"
#include "store/postgresql/pg_connection.h"
#include "store/queue/queue_id.h"

namespace posthorn::store {
namespace {

constexpr absl::Duration kFirstPause = absl::Milliseconds(100);
constexpr absl::Duration kLongestPause = absl::Seconds(5);
// poll() wakes at least this often (nothing to do then; a bound, not a
// timer).
constexpr int kPollMillis = 60'000;

}  // namespace

absl::Status AnnouncePgQueueMail(const PgStoreOptions& options,
                                 const std::string& queue_id) {
  if (!queue::IsValidQueueId(queue_id)) {
    return absl::InvalidArgumentError(fmt::format(
        "malformed queue id \"{}\"", queue_id.substr(0, 64)));
  }
  absl::StatusOr<std::unique_ptr<pg::PgConnection>> conn =
      pg::PgConnection::Connect(options);
  if (!conn.ok()) return conn.status();
  return (*conn)
      ->Exec("SELECT pg_notify($1, $2)",
             {pg::PgParam::Text(kPgQueueChannel), pg::PgParam::Text(queue_id)})
      .status();
}

class PgQueueListener::Impl {
 public:
  Impl(PgStoreOptions options,
       std::function<void(const std::string&)> on_mail, int stop_read,
       int stop_write)
      : options_(std::move(options)),
        on_mail_(std::move(on_mail)),
        stop_read_(stop_read),
        stop_write_(stop_write) {}

  ~Impl() {
    const char byte = 1;
    while (::write(stop_write_, &byte, 1) < 0 && errno == EINTR) {
    }
    if (thread_.joinable()) thread_.join();
    ::close(stop_read_);
    ::close(stop_write_);
  }

  void Run() { thread_ = std::thread([this] { Loop(); }); }
  bool listening() const { return listening_; }

 private:
  // Waits until `fd` is readable, the stop pipe is, or `millis` passed;
  // true when asked to stop.
  bool Wait(int fd, int millis, bool* readable) {
    pollfd fds[2] = {{stop_read_, POLLIN, 0}, {fd, POLLIN, 0}};
    const int n = ::poll(fds, fd >= 0 ? 2 : 1, millis);
    if (n < 0) return false;  // EINTR: the caller loops
    if (fds[0].revents != 0) return true;
    if (readable != nullptr) {
      *readable = fd >= 0 && (fds[1].revents & (POLLIN | POLLERR | POLLHUP));
    }
    return false;
  }

  std::unique_ptr<pg::PgConnection> ConnectAndListen() {
    absl::StatusOr<std::unique_ptr<pg::PgConnection>> conn =
        pg::PgConnection::Connect(options_);
    if (!conn.ok()) return nullptr;
    // The channel name is a constant identifier, not a value.
    if (!(*conn)->Exec(fmt::format("LISTEN {}", kPgQueueChannel)).ok()) {
      return nullptr;
    }
    return *std::move(conn);
  }

  void Loop() {
    absl::Duration pause = kFirstPause;
    std::unique_ptr<pg::PgConnection> conn;
    for (;;) {
      if (conn == nullptr) {
        conn = ConnectAndListen();
        listening_ = conn != nullptr;
        if (conn == nullptr) {
          if (Wait(-1, static_cast<int>(absl::ToInt64Milliseconds(pause)),
                   nullptr)) {
            return;
          }
          pause = std::min(pause * 2, kLongestPause);
          continue;
        }
        pause = kFirstPause;
      }
      bool readable = false;
      if (Wait(conn->socket(), kPollMillis, &readable)) return;
      if (!readable) continue;
      if (!conn->StillConnected()) {  // reads what arrived
        conn.reset();
        listening_ = false;
        continue;
      }
      for (const std::string& id : conn->TakeNotifications()) {
        if (queue::IsValidQueueId(id)) on_mail_(id);
      }
    }
  }

  PgStoreOptions options_;
  std::function<void(const std::string&)> on_mail_;
  int stop_read_;
  int stop_write_;
  std::atomic<bool> listening_{false};
  std::thread thread_;
};

absl::StatusOr<std::unique_ptr<PgQueueListener>> PgQueueListener::Start(
    const PgStoreOptions& options,
    std::function<void(const std::string& queue_id)> on_mail) {
  if (options.dsn.empty()) {
    return absl::InvalidArgumentError("postgresql: no DSN");
  }
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    return absl::InternalError(
        fmt::format("postgresql listener: pipe: {}", std::strerror(errno)));
  }
  auto impl = std::make_unique<Impl>(options, std::move(on_mail), fds[0],
                                     fds[1]);
  impl->Run();
  return std::unique_ptr<PgQueueListener>(
      new PgQueueListener(std::move(impl)));
}

PgQueueListener::PgQueueListener(std::unique_ptr<Impl> impl)
    : impl_(std::move(impl)) {}
PgQueueListener::~PgQueueListener() = default;

bool PgQueueListener::listening() const { return impl_->listening(); }

}  // namespace posthorn::store
