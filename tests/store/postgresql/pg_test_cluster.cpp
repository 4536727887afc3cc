// tests/store/postgresql/pg_test_cluster.cpp — starts, stops and cleans up
// the private PostgreSQL cluster of pg_test_cluster.h.
//
// Children (initdb, pg_ctl, the watchdog) are started with fork + execve.
// The test program may already run threads, so between fork and execve the
// child only makes system calls on data prepared before the fork (no
// allocation, no locks). Every child gets a fixed small environment, its
// output in a log file of the folder, and no descriptor of ours beyond 0-2:
// the postmaster that pg_ctl leaves running must not hold meson's pipes or
// the watchdog's pipe open.

#include "pg_test_cluster.h"

#include <fcntl.h>
#include <grp.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "fmt/format.h"

namespace posthorn::store::testing {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// initdb or one pg_ctl call taking longer than this is killed (pg_ctl
// itself gives up after kPgCtlWait; a loaded 2-core machine needs seconds).
constexpr auto kCommandTimeout = std::chrono::seconds(120);
constexpr const char* kPgCtlWait = "60";  // seconds, pg_ctl -t
// Tries with a new port when another process took the chosen one first.
constexpr int kStartAttempts = 3;
// How much of each log goes into an error message.
constexpr std::size_t kLogTailBytes = 3000;
// How long the exit handler waits for the watchdog to finish.
constexpr auto kWatchdogWait = std::chrono::seconds(5);
constexpr const char* kSuperuser = "posthorn";

// The environment of every child: nothing of the test's own (PGPORT,
// PGDATA, LANG ... would change what the server does).
constexpr const char* kChildEnv[] = {"PATH=/usr/bin:/bin", "LC_ALL=C",
                                     "LANG=C", nullptr};

// Run by /bin/sh as the watchdog, $1 = the cluster folder. It waits on a
// pipe from the test program: "done" means the program cleaned up; EOF
// means it died, and the watchdog stops the server (SIGINT = fast
// shutdown, SIGKILL after 10 s) and removes the folder.
constexpr const char* kWatchdogScript = R"sh(
read -r line
[ "$line" = done ] && exit 0
pid=$(head -n 1 "$1/data/postmaster.pid" 2>/dev/null)
if [ -n "$pid" ] && kill -INT "$pid" 2>/dev/null; then
  i=0
  while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do
    sleep 0.1; i=$((i + 1))
  done
  kill -KILL "$pid" 2>/dev/null
fi
rm -rf "$1"
)sh";

std::string Env(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr ? std::string(value) : std::string();
}

bool IsExecutable(const std::string& path) {
  return ::access(path.c_str(), X_OK) == 0;
}

// The folder holding initdb and pg_ctl, or NotFound.
absl::StatusOr<std::string> FindBindir() {
  std::vector<std::string> candidates;
  if (std::string env = Env("POSTHORN_PG_BINDIR"); !env.empty()) {
    candidates.push_back(env);
  }
  if (FILE* pipe = ::popen("pg_config --bindir 2>/dev/null", "r")) {
    char line[512] = {};
    if (std::fgets(line, sizeof line, pipe) != nullptr) {
      std::string dir(line);
      while (!dir.empty() && (dir.back() == '\n' || dir.back() == '\r')) {
        dir.pop_back();
      }
      if (!dir.empty()) candidates.push_back(dir);
    }
    ::pclose(pipe);
  }
  // Debian: /usr/lib/postgresql/<major>/bin, newest first.
  std::vector<std::pair<int, std::string>> versions;
  std::error_code error;
  for (const auto& entry :
       fs::directory_iterator("/usr/lib/postgresql", error)) {
    std::string name = entry.path().filename().string();
    int major = std::atoi(name.c_str());
    if (major > 0) versions.emplace_back(major, entry.path() / "bin");
  }
  std::sort(versions.rbegin(), versions.rend());
  for (auto& version : versions) candidates.push_back(version.second);

  for (const std::string& dir : candidates) {
    if (IsExecutable(dir + "/initdb") && IsExecutable(dir + "/pg_ctl")) {
      return dir;
    }
  }
  return absl::NotFoundError(
      "PostgreSQL is not installed (no initdb/pg_ctl in POSTHORN_PG_BINDIR, "
      "`pg_config --bindir` or /usr/lib/postgresql/*/bin): install the "
      "Debian package postgresql (scripts/test does), or set POSTHORN_PG_DSN "
      "to an existing server, or POSTHORN_PG_SKIP=1 to skip these tests");
}

// Whether user `uid` can pass through every folder of `path` (as root the
// children run as postgres, and root's TMPDIR may be under /root).
bool Reachable(const std::string& path, uid_t uid) {
  std::error_code error;
  fs::path dir = fs::absolute(path, error);
  if (error) return false;
  for (; !dir.empty(); dir = dir.parent_path()) {
    struct stat info;
    if (::stat(dir.c_str(), &info) != 0) return false;
    bool passable = info.st_uid == uid ? (info.st_mode & S_IXUSR) != 0
                                       : (info.st_mode & S_IXOTH) != 0;
    if (!passable) return false;
    if (dir == dir.root_path()) break;
  }
  return true;
}

// A TCP port on 127.0.0.1 that was free a moment ago (the kernel's choice).
absl::StatusOr<int> FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::InternalError("socket() failed");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof address;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) ==
          0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) ==
          0) {
    port = ntohs(address.sin_port);
  }
  ::close(fd);
  if (port == 0) return absl::InternalError("no free port on 127.0.0.1");
  return port;
}

// A value in a libpq keyword/value string: 'quoted', \ and ' escaped.
std::string ConninfoValue(std::string_view value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\\' || c == '\'') out += '\\';
    out += c;
  }
  return out + "'";
}

// A string in postgresql.conf: 'quoted', ' doubled.
std::string ConfValue(std::string_view value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\'') out += '\'';
    out += c;
  }
  return out + "'";
}

std::string Tail(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  in.seekg(0, std::ios::end);
  std::streamoff size = in.tellg();
  std::streamoff start =
      std::max<std::streamoff>(0, size - static_cast<std::streamoff>(
                                             kLogTailBytes));
  in.seekg(start);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Exit codes of a child that failed before execve (ExitText names them).
constexpr int kExitPrivileges = 122;
constexpr int kExitChdir = 123;
constexpr int kExitOpen = 124;
constexpr int kExitExec = 127;

// What a child does between fork and execve; all of it prepared before.
struct ChildSpec {
  std::vector<std::string> argv;
  std::string cwd;
  std::string log_path;      // stdout + stderr appended here; "" = /dev/null
  int stdin_fd = -1;         // -1 = /dev/null
  bool drop_privileges = false;
  uid_t uid = 0;
  gid_t gid = 0;
  bool new_session = false;  // out of the test's process group
};

absl::StatusOr<pid_t> Spawn(const ChildSpec& spec) {
  std::vector<char*> argv;
  for (const std::string& arg : spec.argv) {
    argv.push_back(const_cast<char*>(arg.c_str()));
  }
  argv.push_back(nullptr);
  const char* log_path =
      spec.log_path.empty() ? "/dev/null" : spec.log_path.c_str();
  pid_t pid = ::fork();
  if (pid < 0) {
    return absl::InternalError(
        fmt::format("fork failed: {}", std::strerror(errno)));
  }
  if (pid == 0) {
    // The child: system calls only.
    if (spec.new_session) ::setsid();
    if (spec.drop_privileges) {
      gid_t groups[] = {spec.gid};
      if (::setgroups(1, groups) != 0 || ::setgid(spec.gid) != 0 ||
          ::setuid(spec.uid) != 0) {
        ::_exit(kExitPrivileges);
      }
    }
    if (::chdir(spec.cwd.c_str()) != 0) ::_exit(kExitChdir);
    int in = spec.stdin_fd >= 0 ? spec.stdin_fd
                                : ::open("/dev/null", O_RDONLY);
    int out = ::open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (in < 0 || out < 0) ::_exit(kExitOpen);
    ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(out, 2);
    ::close_range(3, ~0U, 0);  // ENOSYS on old kernels: CLOEXEC must do
    ::execve(argv[0], argv.data(), const_cast<char* const*>(kChildEnv));
    ::_exit(kExitExec);
  }
  return pid;
}

// Waits for `pid` at most `timeout`; kills it when it takes longer.
absl::StatusOr<int> WaitBounded(pid_t pid, Clock::duration timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    int status = 0;
    pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) return status;
    if (done < 0 && errno != EINTR) {
      return absl::InternalError(
          fmt::format("waitpid failed: {}", std::strerror(errno)));
    }
    if (Clock::now() >= deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return absl::DeadlineExceededError("timed out");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

std::string ExitText(int status) {
  if (WIFEXITED(status)) {
    switch (WEXITSTATUS(status)) {
      case kExitPrivileges: return "could not switch to the postgres user";
      case kExitChdir: return "could not enter the cluster folder";
      case kExitOpen: return "could not open its log file";
      case kExitExec: return "could not be executed";
      default: return fmt::format("exit {}", WEXITSTATUS(status));
    }
  }
  if (WIFSIGNALED(status)) return fmt::format("signal {}", WTERMSIG(status));
  return "stopped";
}

// Runs one SQL command on a new connection (CREATE/DROP DATABASE cannot
// run in a transaction block, so no wrapper library).
absl::Status ExecuteSql(const std::string& dsn, const std::string& sql) {
  PGconn* conn = ::PQconnectdb(dsn.c_str());
  absl::Status result;
  if (::PQstatus(conn) != CONNECTION_OK) {
    result = absl::UnavailableError(
        fmt::format("connecting ({}): {}", dsn, ::PQerrorMessage(conn)));
  } else {
    PGresult* res = ::PQexec(conn, sql.c_str());
    ExecStatusType status = ::PQresultStatus(res);
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
      result = absl::InternalError(
          fmt::format("{}: {}", sql, ::PQerrorMessage(conn)));
    }
    ::PQclear(res);
  }
  ::PQfinish(conn);
  return result;
}

// For the exit handler, which must not wait on Get()'s initialization.
PgTestCluster* the_cluster = nullptr;

}  // namespace

PgTestCluster& PgTestCluster::Get() {
  // Never destroyed: the exit handler stops the server and removes the
  // folder, and a destructor would run after other statics still using it.
  static PgTestCluster* const cluster = [] {
    the_cluster = new PgTestCluster;
    the_cluster->status_ = the_cluster->Launch();
    return the_cluster;
  }();
  return *cluster;
}

void PgTestCluster::ShutdownAtExit() {
  if (the_cluster != nullptr) the_cluster->Shutdown();
}

bool PgTestCluster::ShouldSkip(const absl::Status& status) {
  return absl::IsNotFound(status) && Env("POSTHORN_PG_SKIP") == "1";
}

std::string PgTestCluster::dsn(std::string_view database) const {
  if (external_) {
    return fmt::format("{} dbname={}", external_base_,
                       ConninfoValue(database));
  }
  return fmt::format(
      "host='127.0.0.1' port='{}' user='{}' dbname={} connect_timeout='10'",
      port_, kSuperuser, ConninfoValue(database));
}

absl::StatusOr<std::string> PgTestCluster::CreateFreshDatabase() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!status_.ok()) return status_;
  // Unique across test programs sharing one external server, too.
  static std::mt19937 random(std::random_device{}());
  std::string name =
      fmt::format("posthorn_t{}_{}_{:04x}", ::getpid(), ++next_database_,
                  random() & 0xffff);
  std::string admin = external_ ? admin_database_ : "postgres";
  absl::Status created = ExecuteSql(
      dsn(admin), fmt::format("CREATE DATABASE {} TEMPLATE template0", name));
  if (!created.ok()) return created;
  if (external_) created_.push_back(name);
  return dsn(name);
}

pid_t PgTestCluster::postmaster_pid() const {
  if (external_ || folder_.empty()) return 0;
  std::ifstream in(folder_ + "/data/postmaster.pid");
  long pid = 0;
  if (!(in >> pid) || pid <= 0) return 0;
  return ::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM
             ? static_cast<pid_t>(pid)
             : 0;
}

absl::Status PgTestCluster::Stop(PgStopMode mode) {
  std::lock_guard<std::mutex> lock(mu_);
  if (external_) {
    return absl::FailedPreconditionError(
        "POSTHORN_PG_DSN: an external server is not stopped by the tests");
  }
  if (folder_.empty()) return status_;
  return StopLocked(mode);
}

absl::Status PgTestCluster::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (external_) {
    return absl::FailedPreconditionError(
        "POSTHORN_PG_DSN: an external server is not started by the tests");
  }
  if (folder_.empty()) return status_;
  if (running_) return absl::OkStatus();
  return StartLocked();
}

absl::Status PgTestCluster::Restart(PgStopMode mode) {
  std::lock_guard<std::mutex> lock(mu_);
  if (external_) {
    return absl::FailedPreconditionError(
        "POSTHORN_PG_DSN: an external server cannot be restarted by the "
        "tests");
  }
  if (folder_.empty()) return status_;
  if (absl::Status stopped = StopLocked(mode); !stopped.ok()) return stopped;
  return StartLocked();
}

absl::Status PgTestCluster::Launch() {
  owner_pid_ = ::getpid();
  if (std::string external = Env("POSTHORN_PG_DSN"); !external.empty()) {
    return UseExternal(external);
  }
  absl::StatusOr<std::string> bindir = FindBindir();
  if (!bindir.ok()) return bindir.status();
  bindir_ = *bindir;

  // initdb refuses to run as root: then the children run as postgres.
  if (::geteuid() == 0) {
    struct passwd* user = ::getpwnam("postgres");
    if (user == nullptr) {
      return absl::FailedPreconditionError(
          "running as root, and there is no `postgres` user to run initdb "
          "as (the Debian package postgresql-common creates it)");
    }
    as_postgres_ = true;
    owner_uid_ = user->pw_uid;
    owner_gid_ = user->pw_gid;
  }

  std::string base = Env("TMPDIR");
  if (base.empty() || (as_postgres_ && !Reachable(base, owner_uid_))) {
    base = "/tmp";
  }
  std::string pattern = base + "/posthorn-pg-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) {
    return absl::InternalError(fmt::format("mkdtemp {}: {}", pattern,
                                           std::strerror(errno)));
  }
  folder_ = pattern;
  if (as_postgres_ && ::chown(folder_.c_str(), owner_uid_, owner_gid_) != 0) {
    absl::Status error = absl::InternalError(
        fmt::format("chown {}: {}", folder_, std::strerror(errno)));
    fs::remove_all(folder_);
    folder_.clear();
    return error;
  }
  // From here on the folder is cleaned up at exit or by the watchdog.
  if (absl::Status watchdog = StartWatchdog(); !watchdog.ok()) {
    fs::remove_all(folder_);
    folder_.clear();
    return watchdog;
  }
  std::atexit(ShutdownAtExit);

  absl::Status started = InitDb();
  if (started.ok()) started = StartLocked();
  if (!started.ok()) {
    absl::Status error(started.code(),
                       fmt::format("{}\n{}", std::string(started.message()),
                                   LogTail()));
    Shutdown();
    return error;
  }
  return absl::OkStatus();
}

absl::Status PgTestCluster::UseExternal(const std::string& dsn) {
  char* error = nullptr;
  PQconninfoOption* options = ::PQconninfoParse(dsn.c_str(), &error);
  if (options == nullptr) {
    std::string why = error != nullptr ? error : "out of memory";
    ::PQfreemem(error);
    return absl::InvalidArgumentError(
        fmt::format("POSTHORN_PG_DSN: {}", why));
  }
  std::vector<std::string> parts;
  admin_database_ = "postgres";
  for (PQconninfoOption* option = options; option->keyword != nullptr;
       ++option) {
    if (option->val == nullptr) continue;
    if (std::strcmp(option->keyword, "dbname") == 0) {
      if (*option->val != '\0') admin_database_ = option->val;
      continue;
    }
    parts.push_back(fmt::format("{}={}", option->keyword,
                                ConninfoValue(option->val)));
  }
  ::PQconninfoFree(options);
  external_ = true;
  external_base_ = absl::StrJoin(parts, " ");
  std::atexit(ShutdownAtExit);
  return ExecuteSql(this->dsn(admin_database_), "SELECT 1");
}

absl::Status PgTestCluster::InitDb() {
  return RunAsOwner(
      {bindir_ + "/initdb", "-D", folder_ + "/data", "-A", "trust", "-U",
       kSuperuser, "--no-sync", "-E", "UTF8", "--locale=C"},
      "initdb.log");
}

// Writes the port and the settings for tests, then pg_ctl start; a port
// taken meanwhile by someone else is retried with a new one.
absl::Status PgTestCluster::StartLocked() {
  const bool first_start = port_ == 0;
  for (int attempt = 1;; ++attempt) {
    if (first_start) {
      absl::StatusOr<int> port = FreePort();
      if (!port.ok()) return port.status();
      port_ = *port;
      const std::string conf = folder_ + "/data/posthorn_test.conf";
      std::ofstream out(conf, std::ios::trunc);
      // fsync off: nothing here must survive a power cut, and a loaded
      // machine runs the tests faster; a crash of the server alone
      // (PgStopMode::kImmediate) still recovers everything committed.
      out << "port = " << port_ << "\n"
          << "listen_addresses = '127.0.0.1'\n"
          << "unix_socket_directories = " << ConfValue(folder_) << "\n"
          << "fsync = off\n"
          << "full_page_writes = off\n"
          << "shared_buffers = 32MB\n"
          << "max_connections = 100\n";
      out.close();
      if (!out) {
        return absl::InternalError(fmt::format("cannot write {}", conf));
      }
      if (as_postgres_) (void)!::chown(conf.c_str(), owner_uid_, owner_gid_);
      if (attempt == 1) {
        std::ofstream main_conf(folder_ + "/data/postgresql.conf",
                                std::ios::app);
        main_conf << "\ninclude 'posthorn_test.conf'\n";
        if (!main_conf) {
          return absl::InternalError("cannot append to postgresql.conf");
        }
      }
    }
    absl::Status started =
        RunAsOwner({bindir_ + "/pg_ctl", "-D", folder_ + "/data", "-l",
                    folder_ + "/server.log", "-w", "-t", kPgCtlWait, "-s",
                    "start"},
                   "pg_ctl.log");
    if (started.ok()) {
      running_ = true;
      return started;
    }
    std::string log = Tail(folder_ + "/server.log");
    bool port_taken = absl::StrContains(log, "could not bind") ||
                      absl::StrContains(log, "Address already in use");
    if (!first_start || !port_taken || attempt >= kStartAttempts) {
      return started;
    }
  }
}

absl::Status PgTestCluster::StopLocked(PgStopMode mode) {
  if (!running_) return absl::OkStatus();
  pid_t pid = postmaster_pid();
  absl::Status stopped = RunAsOwner(
      {bindir_ + "/pg_ctl", "-D", folder_ + "/data", "-m",
       mode == PgStopMode::kFast ? "fast" : "immediate", "-w", "-t",
       kPgCtlWait, "-s", "stop"},
      "pg_ctl.log");
  if (!stopped.ok() && pid > 0) {
    // Do not leave it running: the next Start() needs the port.
    ::kill(pid, SIGKILL);
    for (int i = 0; i < 500 && ::kill(pid, 0) == 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  running_ = false;
  return stopped;
}

absl::Status PgTestCluster::RunAsOwner(const std::vector<std::string>& argv,
                                       const std::string& log_name) {
  ChildSpec spec;
  spec.argv = argv;
  spec.cwd = folder_;
  spec.log_path = folder_ + "/" + log_name;
  spec.drop_privileges = as_postgres_;
  spec.uid = owner_uid_;
  spec.gid = owner_gid_;
  absl::StatusOr<pid_t> pid = Spawn(spec);
  if (!pid.ok()) return pid.status();
  absl::StatusOr<int> status = WaitBounded(*pid, kCommandTimeout);
  std::string command = fs::path(argv[0]).filename().string();
  if (command == "pg_ctl") command += " " + argv.back();  // start, stop
  if (!status.ok()) {
    return absl::DeadlineExceededError(fmt::format(
        "{} did not finish within {} s", command,
        std::chrono::duration_cast<std::chrono::seconds>(kCommandTimeout)
            .count()));
  }
  if (!WIFEXITED(*status) || WEXITSTATUS(*status) != 0) {
    return absl::InternalError(
        fmt::format("{} failed ({})", command, ExitText(*status)));
  }
  return absl::OkStatus();
}

absl::Status PgTestCluster::StartWatchdog() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    return absl::InternalError(
        fmt::format("pipe2: {}", std::strerror(errno)));
  }
  ChildSpec spec;
  spec.argv = {"/bin/sh", "-c", kWatchdogScript, "posthorn-pg-watchdog",
               folder_};
  spec.cwd = "/";
  spec.stdin_fd = fds[0];
  spec.new_session = true;  // meson kills the test's process group
  absl::StatusOr<pid_t> pid = Spawn(spec);
  ::close(fds[0]);
  if (!pid.ok()) {
    ::close(fds[1]);
    return pid.status();
  }
  watchdog_fd_ = fds[1];
  watchdog_pid_ = *pid;
  return absl::OkStatus();
}

void PgTestCluster::Shutdown() {
  // A child forked by a test (and exiting through exit()) inherits this
  // handler; the cluster is the parent's.
  if (::getpid() != owner_pid_) return;
  std::lock_guard<std::mutex> lock(mu_);
  if (external_) {
    for (const std::string& name : created_) {
      (void)ExecuteSql(dsn(admin_database_),
                       fmt::format("DROP DATABASE IF EXISTS {} WITH (FORCE)",
                                   name));
    }
    created_.clear();
    return;
  }
  if (folder_.empty()) return;
  if (running_) (void)StopLocked(PgStopMode::kFast);
  std::error_code ignored;
  fs::remove_all(folder_, ignored);
  folder_.clear();
  if (watchdog_fd_ >= 0) {
    (void)!::write(watchdog_fd_, "done\n", 5);
    ::close(watchdog_fd_);
    watchdog_fd_ = -1;
    (void)WaitBounded(watchdog_pid_, kWatchdogWait);
  }
}

std::string PgTestCluster::LogTail() const {
  std::string text;
  for (const char* name : {"initdb.log", "pg_ctl.log", "server.log"}) {
    std::string tail = Tail(folder_ + "/" + name);
    if (!tail.empty()) {
      text += fmt::format("--- {} (end) ---\n{}\n", name, tail);
    }
  }
  return text;
}

}  // namespace posthorn::store::testing
