// tests/store/postgresql/pg_test_cluster.h — one private PostgreSQL cluster
// per test program, for every test of the PostgreSQL store.
//
// PgTestCluster::Get() starts it on first use: initdb in a fresh temporary
// folder ($TMPDIR or /tmp, posthorn-pg-XXXXXX; /tmp when the postgres user
// cannot reach $TMPDIR), as the `postgres` user when the test runs as root
// (initdb refuses root), as the current user otherwise; then `pg_ctl start -w` on a free 127.0.0.1 port, listening on
// loopback only, its unix socket in the same folder. Authentication is
// `trust` for the superuser `posthorn`. At exit (also after failed tests)
// the cluster is stopped and the folder removed; a small watchdog process
// does the same when the test program dies without exiting (crash,
// SIGKILL, a meson timeout), so no server is left behind.
//
// Each test takes its own database: CreateFreshDatabase() returns the DSN
// of a new, empty, uniquely named one.
//
// Environment:
//   POSTHORN_PG_DSN     use that server instead (nothing is started; the
//                       databases made are dropped at exit; Stop/Start/
//                       Restart return FailedPrecondition).
//   POSTHORN_PG_BINDIR  where initdb and pg_ctl are (default: `pg_config
//                       --bindir`, else the newest /usr/lib/postgresql/*/bin).
//   POSTHORN_PG_SKIP=1  when PostgreSQL is not installed, skip the tests
//                       instead of failing them.
//
// Limits: initdb and every pg_ctl call are bounded (kCommandTimeout);
// pg_ctl waits at most 60 s for the server to start or stop. A port taken
// between choosing and binding is retried kStartAttempts times.

#ifndef POSTHORN_TESTS_STORE_POSTGRESQL_PG_TEST_CLUSTER_H_
#define POSTHORN_TESTS_STORE_POSTGRESQL_PG_TEST_CLUSTER_H_

#include <sys/types.h>

#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gtest/gtest.h"

namespace posthorn::store::testing {

// How Stop() ends the server: kFast lets it write a checkpoint (a clean
// shutdown); kImmediate kills it as a crash would (recovery from the WAL at
// the next start).
enum class PgStopMode { kFast, kImmediate };

class PgTestCluster {
 public:
  // The process-wide cluster, started on the first call (thread-safe). A
  // failed start is kept in status(); every later call returns the same
  // object without trying again.
  static PgTestCluster& Get();

  // OK when the server is usable; otherwise why not (NotFound: PostgreSQL
  // is not installed), with the tail of the server's log.
  const absl::Status& status() const { return status_; }
  // True when `status` says PostgreSQL is not installed and
  // POSTHORN_PG_SKIP=1 asks to skip rather than fail.
  static bool ShouldSkip(const absl::Status& status);

  // A libpq keyword/value DSN for `database` as the superuser, e.g.
  // "host='127.0.0.1' port='5433' user='posthorn' dbname='t_1' ...".
  std::string dsn(std::string_view database) const;
  // Makes a new, empty database with a unique name; returns its DSN.
  [[nodiscard]] absl::StatusOr<std::string> CreateFreshDatabase();

  // Stops the server (pg_ctl -m fast|immediate), until Start().
  [[nodiscard]] absl::Status Stop(PgStopMode mode = PgStopMode::kFast);
  // Starts it again on the same port and folder.
  [[nodiscard]] absl::Status Start();
  // Stop(mode) + Start(): "the database restarted under load".
  [[nodiscard]] absl::Status Restart(PgStopMode mode = PgStopMode::kFast);

  bool external() const { return external_; }  // POSTHORN_PG_DSN in use
  int port() const { return port_; }            // 0 when external
  const std::string& folder() const { return folder_; }  // "" when external
  // The postmaster's process id from postmaster.pid; 0 when it is not
  // running or the server is external.
  pid_t postmaster_pid() const;

  PgTestCluster(const PgTestCluster&) = delete;
  PgTestCluster& operator=(const PgTestCluster&) = delete;

 private:
  PgTestCluster() = default;
  ~PgTestCluster() = default;

  absl::Status Launch();
  absl::Status UseExternal(const std::string& dsn);
  absl::Status InitDb();
  absl::Status StartLocked();
  absl::Status StopLocked(PgStopMode mode);
  absl::Status RunAsOwner(const std::vector<std::string>& argv,
                          const std::string& log_name);
  absl::Status StartWatchdog();
  void Shutdown();  // at exit
  static void ShutdownAtExit();
  std::string LogTail() const;

  std::mutex mu_;
  pid_t owner_pid_ = 0;                  // the process that started it
  absl::Status status_;
  bool external_ = false;
  std::string external_base_;            // POSTHORN_PG_DSN without dbname
  std::string admin_database_;           // its dbname (default postgres)
  std::vector<std::string> created_;     // databases to drop (external)
  std::string bindir_;
  std::string folder_;                   // the temporary folder
  int port_ = 0;
  bool running_ = false;
  bool as_postgres_ = false;             // root: children run as postgres
  uid_t owner_uid_ = 0;
  gid_t owner_gid_ = 0;
  int watchdog_fd_ = -1;                 // write end; "done\n" or EOF
  pid_t watchdog_pid_ = 0;
  unsigned next_database_ = 0;
};

}  // namespace posthorn::store::testing

// In a TEST body or a fixture's SetUp(): binds `cluster` (a
// PgTestCluster&) to the running cluster, or ends the test — skipped when
// PgTestCluster::ShouldSkip, failed (with the reason) otherwise.
#define POSTHORN_PG_TEST_CLUSTER(cluster)                                  \
  ::posthorn::store::testing::PgTestCluster& cluster =                     \
      ::posthorn::store::testing::PgTestCluster::Get();                    \
  if (!cluster.status().ok()) {                                            \
    if (::posthorn::store::testing::PgTestCluster::ShouldSkip(             \
            cluster.status())) {                                           \
      GTEST_SKIP() << cluster.status().message();                          \
    }                                                                      \
    FAIL() << "no PostgreSQL test cluster: " << cluster.status().message(); \
  }

#endif  // POSTHORN_TESTS_STORE_POSTGRESQL_PG_TEST_CLUSTER_H_
