// tests/store/conformance/postgresql_auth_db_backend_test.cpp — the auth
// database conformance suite against the table auth_users on PostgreSQL
// (OpenPgAuthDb), each test on a fresh database of the test cluster.
// Built from tests/store/postgresql/meson.build (it needs pg_test_support).

#include "auth_db_conformance.h"
#include "pg_backend_support.h"
#include "posthorn/store/postgresql.h"

namespace posthorn::store::testing {
namespace {

absl::StatusOr<std::unique_ptr<AuthDb>> OpenPg(const std::string& dsn,
                                               bool writable) {
  PgStoreOptions options;
  options.dsn = dsn;
  options.connect_timeout = absl::Seconds(5);
  return OpenPgAuthDb(options, writable);
}

INSTANTIATE_TEST_SUITE_P(PostgreSql, AuthDbConformanceTest,
                         ::testing::Values(AuthDbBackend{
                             "postgresql", FreshPgDatabase, OpenPg}),
                         BackendParamName());

}  // namespace
}  // namespace posthorn::store::testing
