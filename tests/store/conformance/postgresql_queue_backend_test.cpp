// tests/store/conformance/postgresql_queue_backend_test.cpp — the queue
// conformance suite against the queue on PostgreSQL (MakePgQueue), each
// test on a fresh database of the test cluster. Built from
// tests/store/postgresql/meson.build (it needs pg_test_support).

#include <atomic>

#include "pg_backend_support.h"
#include "posthorn/store/postgresql.h"
#include "queue_conformance.h"

namespace posthorn::store::testing {
namespace {

// Each Queue object registers as a node, and two live nodes may not share
// a name: every object opened here gets its own.
std::unique_ptr<Queue> OpenPgQueue(const std::string& dsn) {
  static std::atomic<int> opened{0};
  PgStoreOptions options;
  options.dsn = dsn;
  options.node_name = "conformance-" + std::to_string(++opened);
  options.connect_timeout = absl::Seconds(5);
  auto queue = MakePgQueue(options);
  EXPECT_TRUE(queue.ok()) << queue.status();
  return queue.ok() ? *std::move(queue) : nullptr;
}

INSTANTIATE_TEST_SUITE_P(PostgreSql, QueueConformanceTest,
                         ::testing::Values(QueueBackend{
                             "postgresql", FreshPgDatabase, OpenPgQueue}),
                         BackendParamName());

}  // namespace
}  // namespace posthorn::store::testing
