// bench/pop3_load.cpp — a POP3 load generator for bench/pop3_load.sh: the
// same client against popper and against Dovecot, so the figures compare.
//
// SYNOPSIS
//   pop3_load SUBCOMMAND --port P --user NAME (--pass SECRET | --apop SECRET)
//             [--host 127.0.0.1] [--timeout SECONDS] [options]
//
//   stat                       one session: greeting, login, STAT; prints
//                              "<ms> ms login_ms=L stat_ms=S messages=N
//                              octets=B": connect up to the STAT reply, of
//                              which L up to the login's +OK and S for the
//                              STAT (QUIT follows, not timed)
//   retr-all [--window W]      one session: STAT, then RETR 1..N pipelined
//                              with at most W (default 16) commands
//                              outstanding; prints "<MB/s> MB/s bytes=...
//                              seconds=... messages=N errors=E" where bytes
//                              are all bytes received for the RETRs (MB =
//                              10^6 bytes)
//   sessions --clients C --seconds S
//                              C threads, each repeating connect, greeting,
//                              login, STAT, QUIT (waiting for its reply and
//                              the server's close) until S seconds passed;
//                              prints "<rate> sessions/s ok=.. failed=..".
//                              A "%d" in --user becomes the thread number
//                              (0..C-1), so each client can have its own
//                              maildrop (popper allows one session per
//                              maildrop at a time)
//   dele-all [--window W]      one session: STAT, DELE 1..N pipelined, QUIT;
//                              prints "<ms> ms quit_ms=.. messages=N":
//                              from the first DELE to the reply to QUIT
//                              (the server has rewritten the maildrop)
//
// LOGIN
//   --pass: USER then PASS, one command at a time. --apop: APOP with the
//   lowercase hex MD5 of the greeting's <timestamp> followed by the
//   secret (RFC 1939 section 7; OpenSSL's EVP MD5).
//
// LIMITS
//   Loopback only (127.0.0.0/8 or ::1): anything else is refused. Every
//   socket has send and receive timeouts (--timeout, default 120 s), a
//   status line is at most 64 KiB, the receive buffer 256 KiB; at most 256
//   clients, 3600 seconds, a window of 1..1024.
//
// EXIT STATUS
//   0 done (sessions: even with failed sessions, which are counted), 1 a
//   protocol or network error (message on stderr), 64 usage.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

double MillisecondsSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start)
      .count();
}

struct Options {
  std::string command;
  std::string host = "127.0.0.1";
  int port = 0;
  std::string user;
  std::string pass;
  std::string apop;  // secret; APOP when not empty
  int timeout_seconds = 120;
  int window = 16;
  int clients = 10;
  int seconds = 10;
};

// An error that ends the current session: a message, no exceptions.
struct Error {
  bool failed = false;
  std::string message;
  void Set(std::string m) {
    if (!failed) message = std::move(m);
    failed = true;
  }
};

// One blocking TCP connection with a bounded receive buffer.
class Connection {
 public:
  static constexpr std::size_t kBufferSize = 256 * 1024;
  static constexpr std::size_t kMaxStatusLine = 64 * 1024;

  Connection() : buffer_(kBufferSize) {}
  ~Connection() { Close(); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  bool Open(const Options& o, Error& error) {
    sockaddr_storage address{};
    socklen_t length = 0;
    auto* v4 = reinterpret_cast<sockaddr_in*>(&address);
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&address);
    if (inet_pton(AF_INET, o.host.c_str(), &v4->sin_addr) == 1) {
      v4->sin_family = AF_INET;
      v4->sin_port = htons(static_cast<std::uint16_t>(o.port));
      length = sizeof *v4;
    } else if (inet_pton(AF_INET6, o.host.c_str(), &v6->sin6_addr) == 1) {
      v6->sin6_family = AF_INET6;
      v6->sin6_port = htons(static_cast<std::uint16_t>(o.port));
      length = sizeof *v6;
    } else {
      error.Set("bad host " + o.host);
      return false;
    }
    fd_ = socket(address.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) {
      error.Set(std::string("socket: ") + std::strerror(errno));
      return false;
    }
    timeval tv{};
    tv.tv_sec = o.timeout_seconds;
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    int one = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd_, reinterpret_cast<sockaddr*>(&address), length) != 0) {
      error.Set(std::string("connect: ") + std::strerror(errno));
      return false;
    }
    return true;
  }

  void Close() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }

  bool Send(std::string_view data, Error& error) {
    while (!data.empty()) {
      ssize_t n = send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        error.Set(std::string("send: ") + std::strerror(errno));
        return false;
      }
      data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  // Reads more bytes after the unread ones (moving them to the front
  // first). false on EOF, timeout or error.
  bool Fill(Error& error) {
    if (begin_ > 0) {
      std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
      end_ -= begin_;
      begin_ = 0;
    }
    if (end_ == buffer_.size()) {
      error.Set("receive buffer full");
      return false;
    }
    for (;;) {
      ssize_t n = recv(fd_, buffer_.data() + end_, buffer_.size() - end_, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n == 0) {
        error.Set("connection closed by the server");
        return false;
      }
      if (n < 0) {
        error.Set(std::string("recv: ") + std::strerror(errno));
        return false;
      }
      end_ += static_cast<std::size_t>(n);
      received_ += static_cast<std::uint64_t>(n);
      return true;
    }
  }

  // One line without its CRLF (LF alone accepted).
  bool ReadLine(std::string& line, Error& error) {
    for (;;) {
      const char* start = buffer_.data() + begin_;
      const void* nl = std::memchr(start, '\n', end_ - begin_);
      if (nl != nullptr) {
        std::size_t len = static_cast<std::size_t>(
            static_cast<const char*>(nl) - start);
        line.assign(start, len);
        if (!line.empty() && line.back() == '\r') line.pop_back();
        begin_ += len + 1;
        return true;
      }
      if (end_ - begin_ > kMaxStatusLine) {
        error.Set("status line too long");
        return false;
      }
      if (!Fill(error)) return false;
    }
  }

  // Waits for the server to close (after QUIT), bounded by the timeout.
  void DrainToEof() {
    char scratch[512];
    for (;;) {
      ssize_t n = recv(fd_, scratch, sizeof scratch, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return;
    }
  }

  // The unread bytes, for the RETR scanner.
  const char* data() const { return buffer_.data() + begin_; }
  std::size_t size() const { return end_ - begin_; }
  void Consume(std::size_t n) { begin_ += n; }
  std::uint64_t received() const { return received_; }

 private:
  int fd_ = -1;
  std::vector<char> buffer_;
  std::size_t begin_ = 0, end_ = 0;
  std::uint64_t received_ = 0;
};

bool IsOk(const std::string& line) { return line.compare(0, 3, "+OK") == 0; }

bool Expect(Connection& c, const char* what, Error& error,
            std::string* line_out = nullptr) {
  std::string line;
  if (!c.ReadLine(line, error)) return false;
  if (!IsOk(line)) {
    error.Set(std::string(what) + ": " + line.substr(0, 200));
    return false;
  }
  if (line_out != nullptr) *line_out = std::move(line);
  return true;
}

std::string Md5Hex(const std::string& text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(text.data(), text.size(), digest, &length, EVP_md5(), nullptr);
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < length; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 15];
  }
  return out;
}

// Greeting and login; `user` already has %d replaced.
bool Login(Connection& c, const Options& o, const std::string& user,
           Error& error) {
  std::string greeting;
  if (!Expect(c, "greeting", error, &greeting)) return false;
  if (!o.apop.empty()) {
    std::size_t open = greeting.find('<');
    std::size_t close = greeting.find('>', open == std::string::npos ? 0 : open);
    if (open == std::string::npos || close == std::string::npos) {
      error.Set("no APOP timestamp in the greeting: " + greeting);
      return false;
    }
    std::string timestamp = greeting.substr(open, close - open + 1);
    return c.Send("APOP " + user + " " + Md5Hex(timestamp + o.apop) + "\r\n",
                  error) &&
           Expect(c, "APOP", error);
  }
  return c.Send("USER " + user + "\r\n", error) && Expect(c, "USER", error) &&
         c.Send("PASS " + o.pass + "\r\n", error) && Expect(c, "PASS", error);
}

// STAT; parses "+OK n octets".
bool Stat(Connection& c, std::uint64_t& messages, std::uint64_t& octets,
          Error& error) {
  std::string line;
  if (!c.Send("STAT\r\n", error) || !Expect(c, "STAT", error, &line))
    return false;
  unsigned long long n = 0, b = 0;
  if (std::sscanf(line.c_str(), "+OK %llu %llu", &n, &b) != 2) {
    error.Set("bad STAT reply: " + line);
    return false;
  }
  messages = n;
  octets = b;
  return true;
}

std::string UserFor(const Options& o, int index) {
  std::string user = o.user;
  std::size_t at = user.find("%d");
  if (at != std::string::npos)
    user.replace(at, 2, std::to_string(index));
  return user;
}

int Fail(const Error& error) {
  std::fprintf(stderr, "pop3_load %s\n", error.message.c_str());
  return 1;
}

int RunStat(const Options& o) {
  Error error;
  Connection c;
  std::uint64_t messages = 0, octets = 0;
  Clock::time_point start = Clock::now();
  if (!c.Open(o, error) || !Login(c, o, UserFor(o, 0), error))
    return Fail(error);
  double login_ms = MillisecondsSince(start);
  if (!Stat(c, messages, octets, error)) return Fail(error);
  double ms = MillisecondsSince(start);
  if (!c.Send("QUIT\r\n", error) || !Expect(c, "QUIT", error))
    return Fail(error);
  std::printf("%.3f ms login_ms=%.3f stat_ms=%.3f messages=%llu octets=%llu\n",
              ms, login_ms, ms - login_ms,
              static_cast<unsigned long long>(messages),
              static_cast<unsigned long long>(octets));
  return 0;
}

// Reads RETR responses: a status line, then (after +OK) data up to the
// terminating ".\r\n". The terminator is found with memmem on "\n.\r\n"
// starting at the status line's own LF, so an empty body works too; a
// dot-stuffed line ("..") never matches. When no terminator is in the
// buffer, all but the last 3 bytes are dropped (they may start one).
class RetrReader {
 public:
  // Processes what is buffered; returns the number of complete responses.
  // false on a protocol error.
  bool Step(Connection& c, std::uint64_t& completed, std::uint64_t& errors,
            Error& error) {
    for (;;) {
      const char* data = c.data();
      std::size_t size = c.size();
      if (!in_body_) {
        const void* nl = std::memchr(data, '\n', size);
        if (nl == nullptr) {
          if (size > Connection::kMaxStatusLine) {
            error.Set("RETR status line too long");
            return false;
          }
          return true;  // need more
        }
        std::size_t len =
            static_cast<std::size_t>(static_cast<const char*>(nl) - data);
        if (size >= 3 && std::memcmp(data, "+OK", 3) == 0) {
          in_body_ = true;
          c.Consume(len);  // keep the LF: "\n.\r\n" may follow at once
        } else {
          ++errors;
          ++completed;
          c.Consume(len + 1);
        }
        continue;
      }
      const void* end = memmem(data, size, "\n.\r\n", 4);
      if (end != nullptr) {
        c.Consume(static_cast<std::size_t>(static_cast<const char*>(end) -
                                           data) +
                  4);
        in_body_ = false;
        ++completed;
        continue;
      }
      if (size > 3) c.Consume(size - 3);
      return true;
    }
  }

 private:
  bool in_body_ = false;
};

int RunRetrAll(const Options& o) {
  Error error;
  Connection c;
  std::uint64_t messages = 0, octets = 0;
  if (!c.Open(o, error) || !Login(c, o, UserFor(o, 0), error) ||
      !Stat(c, messages, octets, error))
    return Fail(error);
  std::uint64_t before = c.received();
  Clock::time_point start = Clock::now();
  std::uint64_t sent = 0, completed = 0, errors = 0;
  RetrReader reader;
  std::string commands;
  while (completed < messages) {
    // Refill the window when half of it has been answered.
    if (sent < messages &&
        sent - completed <= static_cast<std::uint64_t>(o.window / 2)) {
      commands.clear();
      while (sent < messages &&
             sent - completed < static_cast<std::uint64_t>(o.window)) {
        ++sent;
        commands += "RETR " + std::to_string(sent) + "\r\n";
      }
      if (!c.Send(commands, error)) return Fail(error);
    }
    std::uint64_t done_before = completed;
    if (!reader.Step(c, completed, errors, error)) return Fail(error);
    if (completed == done_before && !c.Fill(error)) return Fail(error);
  }
  double seconds = MillisecondsSince(start) / 1000.0;
  std::uint64_t bytes = c.received() - before - c.size();
  if (!c.Send("QUIT\r\n", error) || !Expect(c, "QUIT", error))
    return Fail(error);
  std::printf("%.1f MB/s bytes=%llu seconds=%.3f messages=%llu errors=%llu\n",
              seconds > 0 ? static_cast<double>(bytes) / seconds / 1e6 : 0.0,
              static_cast<unsigned long long>(bytes), seconds,
              static_cast<unsigned long long>(messages),
              static_cast<unsigned long long>(errors));
  return errors == 0 ? 0 : 1;
}

int RunDeleAll(const Options& o) {
  Error error;
  Connection c;
  std::uint64_t messages = 0, octets = 0;
  if (!c.Open(o, error) || !Login(c, o, UserFor(o, 0), error) ||
      !Stat(c, messages, octets, error))
    return Fail(error);
  Clock::time_point start = Clock::now();
  std::uint64_t sent = 0, answered = 0;
  std::string commands, line;
  while (answered < messages) {
    if (sent < messages &&
        sent - answered <= static_cast<std::uint64_t>(o.window / 2)) {
      commands.clear();
      while (sent < messages &&
             sent - answered < static_cast<std::uint64_t>(o.window)) {
        ++sent;
        commands += "DELE " + std::to_string(sent) + "\r\n";
      }
      if (!c.Send(commands, error)) return Fail(error);
    }
    if (!c.ReadLine(line, error)) return Fail(error);
    if (!IsOk(line)) {
      error.Set("DELE: " + line);
      return Fail(error);
    }
    ++answered;
  }
  Clock::time_point quit = Clock::now();
  if (!c.Send("QUIT\r\n", error) || !Expect(c, "QUIT", error))
    return Fail(error);
  std::printf("%.3f ms quit_ms=%.3f messages=%llu\n", MillisecondsSince(start),
              MillisecondsSince(quit),
              static_cast<unsigned long long>(messages));
  return 0;
}

// One login+STAT+QUIT session, the server's close included.
bool OneSession(const Options& o, const std::string& user, Error& error) {
  Connection c;
  std::uint64_t messages = 0, octets = 0;
  if (!c.Open(o, error) || !Login(c, o, user, error) ||
      !Stat(c, messages, octets, error) || !c.Send("QUIT\r\n", error) ||
      !Expect(c, "QUIT", error))
    return false;
  c.DrainToEof();
  return true;
}

int RunSessions(const Options& o) {
  std::atomic<std::uint64_t> ok{0}, failed{0};
  std::mutex first_error_mutex;
  std::string first_error;
  Clock::time_point start = Clock::now();
  Clock::time_point deadline = start + std::chrono::seconds(o.seconds);
  std::vector<std::thread> threads;
  for (int i = 0; i < o.clients; ++i) {
    threads.emplace_back([&, i] {
      std::string user = UserFor(o, i);
      while (Clock::now() < deadline) {
        Error error;
        if (OneSession(o, user, error)) {
          ok.fetch_add(1, std::memory_order_relaxed);
        } else {
          failed.fetch_add(1, std::memory_order_relaxed);
          {
            std::lock_guard<std::mutex> lock(first_error_mutex);
            if (first_error.empty()) first_error = error.message;
          }
          // No busy loop against a server that refuses.
          std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  double seconds = MillisecondsSince(start) / 1000.0;
  if (!first_error.empty())
    std::fprintf(stderr, "pop3_load sessions: first failure: %s\n",
                 first_error.c_str());
  std::printf("%.1f sessions/s ok=%llu failed=%llu seconds=%.2f\n",
              static_cast<double>(ok.load()) / seconds,
              static_cast<unsigned long long>(ok.load()),
              static_cast<unsigned long long>(failed.load()), seconds);
  return 0;
}

[[noreturn]] void Usage(const char* why) {
  std::fprintf(stderr,
               "pop3_load: %s\nusage: pop3_load stat|retr-all|sessions|"
               "dele-all --port P --user NAME (--pass S | --apop S) "
               "[--host 127.0.0.1] [--timeout SEC] [--window W] "
               "[--clients C] [--seconds S]\n",
               why);
  std::exit(64);
}

int ParseInt(const char* text, int lo, int hi, const char* name) {
  char* end = nullptr;
  errno = 0;
  long v = std::strtol(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || v < lo || v > hi)
    Usage((std::string("bad ") + name).c_str());
  return static_cast<int>(v);
}

bool IsLoopback(const std::string& host) {
  in_addr v4{};
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1)
    return (ntohl(v4.s_addr) >> 24) == 127;
  return host == "::1";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) Usage("no subcommand");
  Options o;
  o.command = argv[1];
  for (int i = 2; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (i + 1 >= argc) Usage("missing value");
    const char* v = argv[++i];
    if (arg == "--host") o.host = v;
    else if (arg == "--port") o.port = ParseInt(v, 1, 65535, "--port");
    else if (arg == "--user") o.user = v;
    else if (arg == "--pass") o.pass = v;
    else if (arg == "--apop") o.apop = v;
    else if (arg == "--timeout")
      o.timeout_seconds = ParseInt(v, 1, 3600, "--timeout");
    else if (arg == "--window") o.window = ParseInt(v, 1, 1024, "--window");
    else if (arg == "--clients") o.clients = ParseInt(v, 1, 256, "--clients");
    else if (arg == "--seconds") o.seconds = ParseInt(v, 1, 3600, "--seconds");
    else Usage("unknown option");
  }
  if (o.port == 0 || o.user.empty() || (o.pass.empty() && o.apop.empty()))
    Usage("--port, --user and --pass or --apop are required");
  if (!IsLoopback(o.host)) Usage("loopback addresses only");
  if (o.user.size() > 200 || o.pass.size() > 200 || o.apop.size() > 200)
    Usage("argument too long");
  if (o.command == "stat") return RunStat(o);
  if (o.command == "retr-all") return RunRetrAll(o);
  if (o.command == "dele-all") return RunDeleAll(o);
  if (o.command == "sessions") return RunSessions(o);
  Usage("unknown subcommand");
}
