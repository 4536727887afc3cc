// tests/store/postgresql/pg_test_cluster_test.cpp — the test cluster
// itself: it starts, serves fresh databases, restarts on its port, and
// leaves no server process or folder behind (after Stop(), at exit, and
// when the test program dies).

#include "pg_test_cluster.h"

#include <libpq-fe.h>
#include <signal.h>
#include <stdlib.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "store/common/temp_dir.h"

namespace posthorn::store::testing {
namespace {

namespace fs = std::filesystem;

// How long a test waits for a process or folder to go away.
constexpr auto kGoneTimeout = std::chrono::seconds(30);

// One libpq connection, closed at scope end.
class Connection {
 public:
  explicit Connection(const std::string& dsn)
      : conn_(::PQconnectdb(dsn.c_str())) {}
  ~Connection() { ::PQfinish(conn_); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  bool ok() const { return ::PQstatus(conn_) == CONNECTION_OK; }
  std::string error() const { return ::PQerrorMessage(conn_); }

  // Runs `sql`; returns the first column of the first row ("" when none),
  // or "ERROR: ..." when the command failed.
  std::string Query(const std::string& sql) {
    PGresult* res = ::PQexec(conn_, sql.c_str());
    std::string out;
    ExecStatusType status = ::PQresultStatus(res);
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
      out = "ERROR: " + std::string(::PQerrorMessage(conn_));
    } else if (::PQntuples(res) > 0 && ::PQnfields(res) > 0) {
      out = ::PQgetvalue(res, 0, 0);
    }
    ::PQclear(res);
    return out;
  }

 private:
  PGconn* conn_;
};

// True while `pid` runs (a zombie counts as gone: in a container nobody
// may reap the postmaster that pg_ctl left to init).
bool Alive(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return false;
  std::size_t paren = line.rfind(')');
  return paren != std::string::npos && paren + 2 < line.size() &&
         line[paren + 2] != 'Z';
}

// How long a stopped server's processes may take to exit.
constexpr absl::Duration kExitWait = absl::Seconds(10);

// True once `pid` is gone (or a zombie) within `limit`.
bool GoneWithin(pid_t pid, absl::Duration limit) {
  for (const absl::Time deadline = absl::Now() + limit;;) {
    if (!Alive(pid)) return true;
    if (absl::Now() >= deadline) return false;
    absl::SleepFor(absl::Milliseconds(20));
  }
}

// The processes whose parent is `parent` (the postmaster's backends).
std::vector<pid_t> ChildrenOf(pid_t parent) {
  std::vector<pid_t> children;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator("/proc", error)) {
    std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream stat(entry.path() / "stat");
    std::string line;
    if (!std::getline(stat, line)) continue;
    std::size_t paren = line.rfind(')');
    if (paren == std::string::npos) continue;
    // ") S ppid ..."
    std::istringstream rest(line.substr(paren + 1));
    std::string state;
    long ppid = 0;
    if (rest >> state >> ppid && ppid == parent) {
      children.push_back(static_cast<pid_t>(std::stol(name)));
    }
  }
  return children;
}

template <typename Predicate>
bool WaitFor(Predicate done) {
  const auto deadline = std::chrono::steady_clock::now() + kGoneTimeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return true;
}

TEST(PgTestClusterTest, StartsOnLoopbackAndAcceptsConnections) {
  POSTHORN_PG_TEST_CLUSTER(cluster);
  Connection conn(cluster.dsn("postgres"));
  ASSERT_TRUE(conn.ok()) << conn.error();
  EXPECT_EQ(conn.Query("SELECT 1 + 1"), "2");
  EXPECT_EQ(conn.Query("SHOW server_encoding"), "UTF8");
  if (cluster.external()) return;
  EXPECT_GT(cluster.port(), 0);
  EXPECT_EQ(conn.Query("SHOW listen_addresses"), "127.0.0.1");
  EXPECT_EQ(conn.Query("SHOW unix_socket_directories"), cluster.folder());
  EXPECT_EQ(conn.Query("SELECT current_user"), "posthorn");
  EXPECT_GT(cluster.postmaster_pid(), 0);
}

TEST(PgTestClusterTest, FreshDatabasesAreEmptyAndSeparate) {
  POSTHORN_PG_TEST_CLUSTER(cluster);
  absl::StatusOr<std::string> first = cluster.CreateFreshDatabase();
  absl::StatusOr<std::string> second = cluster.CreateFreshDatabase();
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_NE(*first, *second);

  Connection a(*first);
  Connection b(*second);
  ASSERT_TRUE(a.ok()) << a.error();
  ASSERT_TRUE(b.ok()) << b.error();
  EXPECT_NE(a.Query("SELECT current_database()"),
            b.Query("SELECT current_database()"));
  EXPECT_EQ(b.Query("SELECT count(*) FROM pg_tables "
                    "WHERE schemaname = 'public'"),
            "0");
  EXPECT_EQ(a.Query("CREATE TABLE t (x int)"), "");
  EXPECT_EQ(a.Query("INSERT INTO t VALUES (7)"), "");
  EXPECT_EQ(a.Query("SELECT x FROM t"), "7");
  EXPECT_EQ(b.Query("SELECT to_regclass('public.t') IS NULL"), "t");
}

// Committed rows survive both kinds of restart; the port stays; open
// connections break and new ones work.
TEST(PgTestClusterTest, RestartKeepsPortAndCommittedData) {
  POSTHORN_PG_TEST_CLUSTER(cluster);
  if (cluster.external()) {
    EXPECT_TRUE(absl::IsFailedPrecondition(cluster.Restart()));
    GTEST_SKIP() << "POSTHORN_PG_DSN: an external server is not restarted";
  }
  absl::StatusOr<std::string> db = cluster.CreateFreshDatabase();
  ASSERT_TRUE(db.ok()) << db.status();
  {
    Connection conn(*db);
    ASSERT_TRUE(conn.ok()) << conn.error();
    EXPECT_EQ(conn.Query("CREATE TABLE t (x int)"), "");
    EXPECT_EQ(conn.Query("INSERT INTO t VALUES (1)"), "");
  }
  const int port = cluster.port();
  const pid_t old_pid = cluster.postmaster_pid();
  Connection held(*db);
  ASSERT_TRUE(held.ok()) << held.error();

  absl::Status restarted = cluster.Restart();
  ASSERT_TRUE(restarted.ok()) << restarted;
  EXPECT_EQ(cluster.port(), port);
  EXPECT_NE(cluster.postmaster_pid(), old_pid);
  EXPECT_TRUE(GoneWithin(old_pid, kExitWait));
  EXPECT_EQ(held.Query("SELECT 1").rfind("ERROR: ", 0), 0u);

  {
    Connection conn(*db);
    ASSERT_TRUE(conn.ok()) << conn.error();
    EXPECT_EQ(conn.Query("SELECT x FROM t"), "1");
    EXPECT_EQ(conn.Query("INSERT INTO t VALUES (2)"), "");
  }
  restarted = cluster.Restart(PgStopMode::kImmediate);
  ASSERT_TRUE(restarted.ok()) << restarted;
  Connection conn(*db);
  ASSERT_TRUE(conn.ok()) << conn.error();
  EXPECT_EQ(conn.Query("SELECT sum(x) FROM t"), "3");
}

TEST(PgTestClusterTest, StopLeavesNoServerProcess) {
  POSTHORN_PG_TEST_CLUSTER(cluster);
  if (cluster.external()) {
    EXPECT_TRUE(absl::IsFailedPrecondition(cluster.Stop()));
    GTEST_SKIP() << "POSTHORN_PG_DSN: an external server is not stopped";
  }
  Connection conn(cluster.dsn("postgres"));  // one backend more
  ASSERT_TRUE(conn.ok()) << conn.error();
  const pid_t postmaster = cluster.postmaster_pid();
  ASSERT_GT(postmaster, 0);
  std::vector<pid_t> backends = ChildrenOf(postmaster);
  EXPECT_GE(backends.size(), 2u);  // at least the checkpointer and ours

  absl::Status stopped = cluster.Stop();
  ASSERT_TRUE(stopped.ok()) << stopped;
  // pg_ctl returns once the pid file is gone; the processes may take a
  // moment more to exit.
  EXPECT_TRUE(GoneWithin(postmaster, kExitWait)) << "postmaster " << postmaster;
  for (pid_t pid : backends) {
    EXPECT_TRUE(GoneWithin(pid, kExitWait)) << "backend " << pid;
  }
  EXPECT_EQ(cluster.postmaster_pid(), 0);
  Connection refused(cluster.dsn("postgres"));
  EXPECT_FALSE(refused.ok());

  // Back for the tests after this one.
  absl::Status started = cluster.Start();
  ASSERT_TRUE(started.ok()) << started;
  Connection again(cluster.dsn("postgres"));
  EXPECT_TRUE(again.ok()) << again.error();
}

// A test program that exits (normally, or killed) takes its cluster with
// it. Each case runs in a child test program of its own (a threadsafe death
// test re-executes this binary), which reports its folder and postmaster
// through the file named by $POSTHORN_PG_HARNESS_REPORT.
struct ChildCluster {
  std::string folder;
  pid_t postmaster = 0;
};

void StartClusterAndReport() {
  PgTestCluster& cluster = PgTestCluster::Get();
  if (!cluster.status().ok()) std::_Exit(3);
  std::ofstream report(std::getenv("POSTHORN_PG_HARNESS_REPORT"));
  report << cluster.folder() << "\n" << cluster.postmaster_pid() << "\n";
}

ChildCluster ReadReport(const std::string& path) {
  ChildCluster child;
  std::ifstream in(path);
  long pid = 0;
  std::getline(in, child.folder);
  in >> pid;
  child.postmaster = static_cast<pid_t>(pid);
  return child;
}

class PgTestClusterExitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    POSTHORN_PG_TEST_CLUSTER(cluster);
    if (cluster.external()) GTEST_SKIP() << "POSTHORN_PG_DSN: nothing started";
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    // The child program runs SetUp again: it keeps the parent's file.
    if (std::getenv("POSTHORN_PG_HARNESS_REPORT") != nullptr) return;
    temp_ = std::make_unique<TempDir>();
    report_ = temp_->File("report");
    ::setenv("POSTHORN_PG_HARNESS_REPORT", report_.c_str(), 1);
  }
  void TearDown() override {
    if (temp_ != nullptr) ::unsetenv("POSTHORN_PG_HARNESS_REPORT");
  }

  std::unique_ptr<TempDir> temp_;  // the parent's only
  std::string report_;
};

TEST_F(PgTestClusterExitTest, ExitStopsServerAndRemovesFolder) {
  EXPECT_EXIT(
      {
        StartClusterAndReport();
        std::exit(0);
      },
      ::testing::ExitedWithCode(0), "");
  ChildCluster child = ReadReport(report_);
  ASSERT_FALSE(child.folder.empty());
  ASSERT_GT(child.postmaster, 0);
  // exit() returns only after the cluster was stopped (its processes may
  // take a moment more to exit) and its folder removed.
  EXPECT_TRUE(GoneWithin(child.postmaster, kExitWait));
  EXPECT_FALSE(fs::exists(child.folder));
}

TEST_F(PgTestClusterExitTest, WatchdogCleansUpAfterKilledProgram) {
  EXPECT_EXIT(
      {
        StartClusterAndReport();
        ::kill(::getpid(), SIGKILL);
      },
      ::testing::KilledBySignal(SIGKILL), "");
  ChildCluster child = ReadReport(report_);
  ASSERT_FALSE(child.folder.empty());
  ASSERT_GT(child.postmaster, 0);
  EXPECT_TRUE(WaitFor([&] { return !Alive(child.postmaster); }));
  EXPECT_TRUE(WaitFor([&] { return !fs::exists(child.folder); }));
}

}  // namespace
}  // namespace posthorn::store::testing
