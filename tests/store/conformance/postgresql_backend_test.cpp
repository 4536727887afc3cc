// tests/store/conformance/postgresql_backend_test.cpp — the conformance,
// keyed-delivery and concurrency suites against the PostgreSQL maildrops
// (MakePgMailstore), each test on a fresh database of the test cluster
// (tests/store/postgresql/pg_test_cluster.h). The temporary folder the
// suites hand out stays unused: nothing is written outside the database.
// Built from tests/store/postgresql/meson.build (it needs pg_test_support).

#include "mailstore_conformance.h"
#include "pg_backend_support.h"
#include "posthorn/store/postgresql.h"

namespace posthorn::store::testing {
namespace {

std::unique_ptr<Mailstore> MakePg(const std::string& /*temp_dir*/) {
  PgStoreOptions options;
  options.dsn = FreshPgDatabase();
  if (options.dsn.empty()) return nullptr;
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
