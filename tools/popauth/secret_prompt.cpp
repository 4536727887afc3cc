// tools/popauth/secret_prompt.cpp — no-echo terminal input with the
// terminal restored on every path, including fatal signals.

#include "tools/popauth/secret_prompt.h"

#include <signal.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <string_view>

#include "absl/status/status.h"
#include "fmt/format.h"
#include "tools/common/exit_codes.h"

namespace posthorn::tools {
namespace {

constexpr int kRestoreSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};

// Read by the signal handler: set before the handler is installed.
struct termios g_saved_termios;
int g_tty_fd = -1;

extern "C" void RestoreAndReraise(int signal_number) {
  if (g_tty_fd >= 0) ::tcsetattr(g_tty_fd, TCSAFLUSH, &g_saved_termios);
  ::signal(signal_number, SIG_DFL);
  ::raise(signal_number);
}

// Echo off for the lifetime of the object.
class EchoOff {
 public:
  explicit EchoOff(int fd) {
    if (::tcgetattr(fd, &g_saved_termios) != 0) return;
    g_tty_fd = fd;
    struct sigaction action {};
    action.sa_handler = RestoreAndReraise;
    ::sigemptyset(&action.sa_mask);
    for (std::size_t i = 0; i < std::size(kRestoreSignals); ++i) {
      ::sigaction(kRestoreSignals[i], &action, &old_actions_[i]);
    }
    struct termios quiet = g_saved_termios;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    quiet.c_lflag |= ECHONL;  // the Enter still moves to the next line
    ::tcsetattr(fd, TCSAFLUSH, &quiet);
  }
  ~EchoOff() {
    if (g_tty_fd < 0) return;
    ::tcsetattr(g_tty_fd, TCSAFLUSH, &g_saved_termios);
    for (std::size_t i = 0; i < std::size(kRestoreSignals); ++i) {
      ::sigaction(kRestoreSignals[i], &old_actions_[i], nullptr);
    }
    g_tty_fd = -1;
  }
  EchoOff(const EchoOff&) = delete;
  EchoOff& operator=(const EchoOff&) = delete;

 private:
  struct sigaction old_actions_[std::size(kRestoreSignals)] = {};
};

// One line, without its CR/LF. Reads byte by byte so that nothing after
// the line is consumed.
absl::StatusOr<std::string> ReadLine(int fd) {
  std::string line;
  bool too_long = false;
  for (;;) {
    char c;
    const ssize_t n = ::read(fd, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      WipeString(&line);
      return StatusFromErrno(errno, "reading the secret");
    }
    if (n == 0 || c == '\n') break;
    if (line.size() >= kMaxSecretInput) {
      too_long = true;  // read on to the end of the line, keep nothing
      continue;
    }
    line.push_back(c);
  }
  if (too_long) {
    WipeString(&line);
    return absl::InvalidArgumentError(
        fmt::format("secret longer than {} bytes", kMaxSecretInput));
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

void Prompt(int fd, std::string_view text) {
  while (!text.empty()) {
    const ssize_t n = ::write(fd, text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    text.remove_prefix(static_cast<std::size_t>(n));
  }
}

}  // namespace

void WipeString(std::string* text) {
  if (!text->empty()) ::explicit_bzero(text->data(), text->size());
  text->clear();
}

absl::StatusOr<std::string> ReadSecret(int in_fd, int prompt_fd) {
  absl::StatusOr<std::string> first;
  if (::isatty(in_fd) == 0) {
    first = ReadLine(in_fd);
  } else {
    EchoOff quiet(in_fd);
    Prompt(prompt_fd, "Password: ");
    first = ReadLine(in_fd);
    if (first.ok() && !first->empty()) {
      Prompt(prompt_fd, "Again: ");
      absl::StatusOr<std::string> second = ReadLine(in_fd);
      if (!second.ok()) {
        WipeString(&*first);
        return second.status();
      }
      const bool same = *first == *second;
      WipeString(&*second);
      if (!same) {
        WipeString(&*first);
        return absl::InvalidArgumentError("the two entries differ");
      }
    }
  }
  if (!first.ok()) return first.status();
  if (first->empty()) {
    return absl::InvalidArgumentError("empty secret refused");
  }
  return first;
}

}  // namespace posthorn::tools
