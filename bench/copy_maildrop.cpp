// bench/copy_maildrop.cpp — copies maildrops from the store of one
// posthorn.conf into the store of another, for bench/pg_load.sh: the mbox
// maildrops bench/pop3_make_maildrop writes go into the PostgreSQL store,
// the same messages, so popper on either store serves the same mail.
//
// SYNOPSIS
//   copy_maildrop --from CONF --to CONF --user NAME [--user NAME...]
//                 [--threads N]
//
// DESCRIPTION
//   For each user: opens a POP session on the maildrop of --from (its
//   lock is held while copying; nothing is removed: the session ends
//   without Commit), reads every message whole (CRLF line ends) and
//   delivers it to the same user in the store of --to with
//   Mailstore::Deliver (durable when it returns), from N threads (default
//   4; the order in the target is then not the source's). Prints one line
//   per user: "USER: N messages, B octets in S s (R msg/s)".
//
// LIMITS
//   At most 2 * N messages are held in memory at once; a message larger
//   than 64 MiB is refused (the maildrop benchmarks' largest is 3 MiB).
//
// EXIT STATUS
//   0 every message copied; 1 an error (named on stderr); 64 usage.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "posthorn/store/mailstore.h"
#include "posthorn/store/message_reader.h"
#include "tools/common/config.h"
#include "tools/common/mailstore_config.h"

namespace {

using posthorn::store::Mailstore;

constexpr std::size_t kMaxMessageBytes = std::size_t{64} << 20;
constexpr int kMaxThreads = 64;

struct Options {
  std::string from;
  std::string to;
  std::vector<std::string> users;
  int threads = 4;
};

int Usage(const char* why) {
  std::fprintf(stderr,
               "copy_maildrop: %s\nusage: copy_maildrop --from CONF --to CONF "
               "--user NAME [--user NAME...] [--threads N]\n",
               why);
  return 64;
}

std::optional<Options> ParseArgs(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (i + 1 >= argc) return std::nullopt;
    const char* value = argv[++i];
    if (arg == "--from") {
      o.from = value;
    } else if (arg == "--to") {
      o.to = value;
    } else if (arg == "--user") {
      o.users.emplace_back(value);
    } else if (arg == "--threads") {
      o.threads = std::atoi(value);
    } else {
      return std::nullopt;
    }
  }
  if (o.from.empty() || o.to.empty() || o.users.empty() || o.threads < 1 ||
      o.threads > kMaxThreads) {
    return std::nullopt;
  }
  return o;
}

std::unique_ptr<Mailstore> OpenStore(const std::string& conf_path) {
  auto config = posthorn::tools::LoadConfig(conf_path);
  if (!config.ok()) {
    std::fprintf(stderr, "copy_maildrop: %s\n",
                 std::string(config.status().message()).c_str());
    return nullptr;
  }
  auto store = posthorn::tools::OpenConfiguredMailstore(*config);
  if (!store.ok()) {
    std::fprintf(stderr, "copy_maildrop: %s: %s\n", conf_path.c_str(),
                 std::string(store.status().message()).c_str());
    return nullptr;
  }
  return std::move(*store);
}

// A bounded hand-off from the reading thread to the delivering threads.
class MessageQueue {
 public:
  explicit MessageQueue(std::size_t capacity) : capacity_(capacity) {}

  void Push(std::string message) {
    std::unique_lock lock(mu_);
    not_full_.wait(lock, [&] { return items_.size() < capacity_; });
    items_.push_back(std::move(message));
    not_empty_.notify_one();
  }
  void Close() {
    std::lock_guard lock(mu_);
    closed_ = true;
    not_empty_.notify_all();
  }
  std::optional<std::string> Pop() {
    std::unique_lock lock(mu_);
    not_empty_.wait(lock, [&] { return !items_.empty() || closed_; });
    if (items_.empty()) return std::nullopt;
    std::string m = std::move(items_.front());
    items_.pop_front();
    not_full_.notify_one();
    return m;
  }

 private:
  std::mutex mu_;
  std::condition_variable not_full_, not_empty_;
  std::deque<std::string> items_;
  std::size_t capacity_;
  bool closed_ = false;
};

// Copies one user's maildrop; false (after a message on stderr) on error.
bool CopyUser(Mailstore& from, Mailstore& to, const std::string& user,
              int threads) {
  const auto start = std::chrono::steady_clock::now();
  auto session = from.OpenSession(user);
  if (!session.ok()) {
    std::fprintf(stderr, "copy_maildrop: %s: %s\n", user.c_str(),
                 std::string(session.status().message()).c_str());
    return false;
  }
  MessageQueue queue(2 * static_cast<std::size_t>(threads));
  std::mutex error_mu;
  std::string error;  // the first error, under error_mu
  std::atomic<bool> failed{false};
  const auto fail = [&](std::string why) {
    std::lock_guard lock(error_mu);
    if (error.empty()) error = std::move(why);
    failed = true;
  };
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&] {
      while (std::optional<std::string> m = queue.Pop()) {
        posthorn::store::StringReader reader(*m);
        const posthorn::store::DeliveryInfo info{
            .envelope_sender = "bench@localhost", .arrival = absl::Now()};
        const absl::Status s = to.Deliver(user, info, reader);
        if (!s.ok()) fail(std::string(s.message()));
      }
    });
  }
  std::uint64_t octets = 0;
  const std::size_t count = (*session)->messages().size();
  for (std::size_t i = 0; i < count && !failed; ++i) {
    if ((*session)->messages()[i].size > kMaxMessageBytes) {
      fail("message " + std::to_string(i + 1) + " is larger than 64 MiB");
      break;
    }
    auto reader = (*session)->Read(i);
    absl::StatusOr<std::string> bytes =
        reader.ok() ? posthorn::store::ReadAll(**reader) : reader.status();
    if (!bytes.ok()) {
      fail("reading message " + std::to_string(i + 1) + ": " +
           std::string(bytes.status().message()));
      break;
    }
    octets += bytes->size();
    queue.Push(std::move(*bytes));
  }
  queue.Close();
  for (std::thread& w : workers) w.join();
  if (failed) {
    std::fprintf(stderr, "copy_maildrop: %s: %s\n", user.c_str(),
                 error.c_str());
    return false;
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  std::printf("%s: %zu messages, %llu octets in %.2f s (%.0f msg/s)\n",
              user.c_str(), count, static_cast<unsigned long long>(octets),
              seconds, seconds > 0 ? static_cast<double>(count) / seconds : 0);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  const std::optional<Options> options = ParseArgs(argc, argv);
  if (!options) return Usage("bad arguments");
  std::unique_ptr<Mailstore> from = OpenStore(options->from);
  std::unique_ptr<Mailstore> to = OpenStore(options->to);
  if (from == nullptr || to == nullptr) return 1;
  for (const std::string& user : options->users) {
    if (!CopyUser(*from, *to, user, options->threads)) return 1;
  }
  return 0;
}
