// mta/deliver/program_target.cpp — see program_target.h.
//
// posix_spawn (not fork) because the runner is multi-threaded: between
// fork and exec only async-signal-safe calls would be allowed. The
// command's stdin is one end of a socketpair rather than a pipe so that
// writing after the command exits gives EPIPE through send(MSG_NOSIGNAL)
// instead of a SIGPIPE for the whole process.

#include "mta/deliver/program_target.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <thread>
#include <vector>

#include "fmt/format.h"

namespace posthorn::mta::deliver {
namespace {

constexpr std::size_t kChunkSize = 16384;
constexpr auto kExitPoll = std::chrono::milliseconds(10);
constexpr int kExTempFail = 75;  // sysexits.h EX_TEMPFAIL

using Clock = std::chrono::steady_clock;

// CRLF -> LF across chunk boundaries (a CR at a chunk's end is held).
class LfConverter {
 public:
  void Feed(std::string_view in, std::string* out) {
    for (char c : in) {
      if (held_cr_) {
        held_cr_ = false;
        if (c != '\n') out->push_back('\r');
      }
      if (c == '\r') {
        held_cr_ = true;
        continue;
      }
      out->push_back(c);
    }
  }
  void Finish(std::string* out) {
    if (held_cr_) out->push_back('\r');
    held_cr_ = false;
  }

 private:
  bool held_cr_ = false;
};

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { Close(); }
  int get() const { return fd_; }
  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
};

std::string Quoted(const std::string& command) {
  return fmt::format("\"|{}\"", command);
}

// The first line of the command's output, for the reply.
std::string FirstLine(const std::string& output) {
  std::string line = output.substr(0, output.find('\n'));
  std::replace_if(line.begin(), line.end(),
                  [](char c) {
                    auto b = static_cast<unsigned char>(c);
                    return b < 0x20 || b == 0x7f;
                  },
                  ' ');
  return line.empty() ? "" : ": " + line;
}

struct Spawned {
  pid_t pid = -1;
  int input = -1;   // our end of the command's stdin
  int output = -1;  // read end of its stdout + stderr
};

absl::StatusOr<Spawned> Spawn(const ProgramRun& run) {
  int in[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in) != 0) {
    return absl::UnavailableError(
        fmt::format("socketpair: {}", std::strerror(errno)));
  }
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) {
    int err = errno;
    ::close(in[0]);
    ::close(in[1]);
    return absl::UnavailableError(fmt::format("pipe: {}", std::strerror(err)));
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in[1], 0);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_adddup2(&actions, out[1], 2);

  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP |
                                      POSIX_SPAWN_SETSIGMASK |
                                      POSIX_SPAWN_SETSIGDEF);
  posix_spawnattr_setpgroup(&attr, 0);  // its own group: killed as one
  sigset_t mask;
  sigemptyset(&mask);
  posix_spawnattr_setsigmask(&attr, &mask);
  sigset_t defaults;
  sigemptyset(&defaults);
  for (int sig : {SIGPIPE, SIGCHLD, SIGHUP, SIGINT, SIGQUIT, SIGTERM,
                  SIGALRM, SIGUSR1, SIGUSR2}) {
    sigaddset(&defaults, sig);
  }
  posix_spawnattr_setsigdefault(&attr, &defaults);

  std::string sh = "/bin/sh", dash_c = "-c", command = run.command;
  std::vector<char*> argv = {sh.data(), dash_c.data(), command.data(),
                             nullptr};
  std::vector<std::string> env = {"PATH=/usr/bin:/bin", "SHELL=/bin/sh",
                                  "HOME=/", "SENDER=" + run.sender,
                                  "RECIPIENT=" + run.recipient};
  std::vector<char*> envp;
  for (std::string& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);

  pid_t pid = -1;
  int err = ::posix_spawn(&pid, "/bin/sh", &actions, &attr, argv.data(),
                          envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  ::close(in[1]);
  ::close(out[1]);
  if (err != 0) {
    ::close(in[0]);
    ::close(out[0]);
    return absl::UnavailableError(
        fmt::format("spawn /bin/sh: {}", std::strerror(err)));
  }
  ::fcntl(in[0], F_SETFL, ::fcntl(in[0], F_GETFL) | O_NONBLOCK);
  ::fcntl(out[0], F_SETFL, ::fcntl(out[0], F_GETFL) | O_NONBLOCK);
  return Spawned{pid, in[0], out[0]};
}

void KillAndReap(pid_t pid) {
  ::kill(-pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
}

int RemainingMs(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - Clock::now());
  return static_cast<int>(std::clamp<long long>(left.count(), 0, 1 << 30));
}

}  // namespace

TargetResult RunProgram(const ProgramRun& run, const DataOpener& open_data) {
  std::string what = Quoted(run.command);
  auto reader = open_data();
  if (!reader.ok()) {
    return {DeliveryStatus::kDeferred,
            fmt::format("451 4.3.0 {}: {}", what,
                        std::string(reader.status().message()))};
  }
  absl::StatusOr<Spawned> spawned = Spawn(run);
  if (!spawned.ok()) {
    return {DeliveryStatus::kDeferred,
            fmt::format("451 4.3.0 {}: {}", what,
                        std::string(spawned.status().message()))};
  }
  pid_t pid = spawned->pid;
  Fd input(spawned->input);
  Fd output(spawned->output);
  Clock::time_point deadline = Clock::now() + run.timeout;

  LfConverter converter;
  std::string pending;  // converted bytes not yet written
  std::size_t pending_at = 0;
  bool input_done = false;  // the reader is exhausted
  bool writing = true;      // the command's stdin is open
  bool output_eof = false;
  std::string collected;
  char buffer[kChunkSize];
  absl::Status read_error = absl::OkStatus();
  bool timed_out = false;

  while (writing || !output_eof) {
    if (writing && pending_at == pending.size()) {
      pending.clear();
      pending_at = 0;
      if (input_done) {
        input.Close();  // end of the message: EOF on the command's stdin
        writing = false;
        continue;
      }
      auto n = (*reader)->Read(buffer);
      if (!n.ok()) {
        read_error = n.status();
        break;
      }
      if (*n == 0) {
        converter.Finish(&pending);
        input_done = true;
      } else {
        converter.Feed(std::string_view(buffer, *n), &pending);
      }
      continue;
    }
    int wait_ms = RemainingMs(deadline);
    if (wait_ms == 0) {
      timed_out = true;
      break;
    }
    pollfd fds[2];
    nfds_t count = 0;
    int input_slot = -1, output_slot = -1;
    if (writing) {
      fds[count] = {input.get(), POLLOUT, 0};
      input_slot = static_cast<int>(count++);
    }
    if (!output_eof) {
      fds[count] = {output.get(), POLLIN, 0};
      output_slot = static_cast<int>(count++);
    }
    int ready = ::poll(fds, count, wait_ms);
    if (ready < 0 && errno != EINTR) {
      read_error = absl::UnavailableError(
          fmt::format("poll: {}", std::strerror(errno)));
      break;
    }
    if (ready <= 0) continue;
    if (input_slot >= 0 && fds[input_slot].revents != 0) {
      ssize_t sent = ::send(input.get(), pending.data() + pending_at,
                            pending.size() - pending_at,
                            MSG_NOSIGNAL | MSG_DONTWAIT);
      if (sent > 0) {
        pending_at += static_cast<std::size_t>(sent);
      } else if (sent < 0 && errno != EAGAIN && errno != EINTR) {
        // The command stopped reading (EPIPE): its exit status decides.
        input.Close();
        writing = false;
      }
    }
    if (output_slot >= 0 && fds[output_slot].revents != 0) {
      ssize_t n = ::read(output.get(), buffer, sizeof buffer);
      if (n > 0) {
        std::size_t room = kMaxProgramOutput - collected.size();
        collected.append(buffer, std::min(room, static_cast<std::size_t>(n)));
      } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
        output_eof = true;
      }
    }
  }

  if (!read_error.ok() || timed_out) {
    KillAndReap(pid);
    if (timed_out) {
      return {DeliveryStatus::kDeferred,
              fmt::format("451 4.3.0 {}: time limit of {}s exceeded", what,
                          run.timeout.count())};
    }
    return {DeliveryStatus::kDeferred,
            fmt::format("451 4.3.0 {}: {}", what,
                        std::string(read_error.message()))};
  }

  // Output closed and input written: wait for the exit, still bounded.
  int status = 0;
  for (;;) {
    pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) break;
    if (done < 0 && errno != EINTR) {
      return {DeliveryStatus::kDeferred,
              fmt::format("451 4.3.0 {}: waitpid: {}", what,
                          std::strerror(errno))};
    }
    if (Clock::now() >= deadline) {
      KillAndReap(pid);
      return {DeliveryStatus::kDeferred,
              fmt::format("451 4.3.0 {}: time limit of {}s exceeded", what,
                          run.timeout.count())};
    }
    std::this_thread::sleep_for(kExitPoll);
  }

  std::string detail = FirstLine(collected);
  if (WIFEXITED(status)) {
    int code = WEXITSTATUS(status);
    if (code == 0) {
      return {DeliveryStatus::kSent,
              fmt::format("250 2.0.0 delivered to command {}", what)};
    }
    if (code == kExTempFail) {
      return {DeliveryStatus::kDeferred,
              fmt::format("451 4.3.0 {}: temporary failure (exit status "
                          "75){}", what, detail)};
    }
    return {DeliveryStatus::kBounced,
            fmt::format("550 5.3.0 {}: exit status {}{}", what, code, detail)};
  }
  int sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  return {DeliveryStatus::kBounced,
          fmt::format("550 5.3.0 {}: killed by signal {}{}", what, sig,
                      detail)};
}

}  // namespace posthorn::mta::deliver
