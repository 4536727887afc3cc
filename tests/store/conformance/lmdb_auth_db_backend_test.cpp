// tests/store/conformance/lmdb_auth_db_backend_test.cpp — the auth
// database conformance suite against the LMDB file (CreateAuthDb,
// OpenAuthDb) in the test's temporary folder.

#include "auth_db_conformance.h"
#include "posthorn/store/auth_db.h"

namespace posthorn::store::testing {
namespace {

std::string CreateInFolder(const std::string& temp_dir) {
  const std::string path = temp_dir + "/popauth.db";
  absl::Status created = CreateAuthDb(path, /*force=*/false);
  EXPECT_TRUE(created.ok()) << created;
  return created.ok() ? path : "";
}

INSTANTIATE_TEST_SUITE_P(Lmdb, AuthDbConformanceTest,
                         ::testing::Values(AuthDbBackend{"lmdb", CreateInFolder,
                                                         OpenAuthDb}),
                         BackendParamName());

}  // namespace
}  // namespace posthorn::store::testing
