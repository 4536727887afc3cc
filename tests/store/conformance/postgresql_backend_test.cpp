// tests/store/conformance/postgresql_backend_test.cpp — the conformance,
// keyed-delivery and concurrency suites against the PostgreSQL maildrops
// (MakePgMailstore), each test on a fresh database of the test cluster
// (tests/store/postgresql/pg_test_cluster.h). The temporary folder the
// suites hand out stays unused: nothing is written outside the database.
// Built from tests/store/postgresql/meson.build (it needs pg_test_support).

#include "mailstore_conformance.h"
#include "pg_test_cluster.h"
#include "posthorn/store/postgresql.h"

namespace posthorn::store::testing {
namespace {

// Without PostgreSQL and with POSTHORN_PG_SKIP=1, every test is skipped
// (GTEST_SKIP in a global environment skips them all); otherwise a
// missing cluster fails each test with the reason.
class PgEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    const absl::Status& status = PgTestCluster::Get().status();
    if (!status.ok() && PgTestCluster::ShouldSkip(status)) {
      GTEST_SKIP() << status.message();
    }
  }
};
[[maybe_unused]] ::testing::Environment* const kPgEnvironment =
    ::testing::AddGlobalTestEnvironment(new PgEnvironment);

std::unique_ptr<Mailstore> MakePg(const std::string& /*temp_dir*/) {
  PgTestCluster& cluster = PgTestCluster::Get();
  if (!cluster.status().ok()) {
    ADD_FAILURE() << "no PostgreSQL test cluster: " << cluster.status();
    return nullptr;
  }
  absl::StatusOr<std::string> dsn = cluster.CreateFreshDatabase();
  if (!dsn.ok()) {
    ADD_FAILURE() << dsn.status();
    return nullptr;
  }
  PgStoreOptions options;
  options.dsn = *dsn;
  auto store = MakePgMailstore(options);
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? std::move(*store) : nullptr;
}

INSTANTIATE_TEST_SUITE_P(PostgreSql, MailstoreConformanceTest,
                         ::testing::Values(Backend{"postgresql", MakePg}),
                         BackendName);
INSTANTIATE_TEST_SUITE_P(PostgreSql, MailstoreConcurrencyTest,
                         ::testing::Values(Backend{"postgresql", MakePg}),
                         BackendName);

}  // namespace
}  // namespace posthorn::store::testing
