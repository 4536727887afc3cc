// tests/store/conformance/pg_backend_support.cpp — see pg_backend_support.h.

#include "pg_backend_support.h"

#include "gtest/gtest.h"
#include "pg_test_cluster.h"

namespace posthorn::store::testing {
namespace {

// GTEST_SKIP in a global environment skips every test of the program.
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

}  // namespace

std::string FreshPgDatabase(const std::string& /*unused_temp_dir*/) {
  PgTestCluster& cluster = PgTestCluster::Get();
  if (!cluster.status().ok()) {
    ADD_FAILURE() << "no PostgreSQL test cluster: " << cluster.status();
    return "";
  }
  absl::StatusOr<std::string> dsn = cluster.CreateFreshDatabase();
  if (!dsn.ok()) {
    ADD_FAILURE() << dsn.status();
    return "";
  }
  return *dsn;
}

}  // namespace posthorn::store::testing
