// tests/store/conformance/auth_db_conformance.h — one test suite that
// every popauth database backend must pass (posthorn/store/auth_db.h):
// secrets for PASS and APOP, password-only users, replacing one by the
// other, Delete, List order and flags, read-only handles, two handles on
// one database, and the limits on names and secrets.
//
// A backend joins with one file holding one instantiation:
//
//   INSTANTIATE_TEST_SUITE_P(
//       Lmdb, AuthDbConformanceTest,
//       ::testing::Values(AuthDbBackend{"lmdb", CreateInFolder, OpenFile}),
//       BackendParamName());
//
// What only one backend has (file modes, -init on a file, crash safety,
// the crypt() timing marker, a database restart) stays in its own tests:
// tests/store/auth/auth_db_test.cpp, tests/store/postgresql/
// pg_auth_db_test.cpp.

#ifndef POSTHORN_TESTS_STORE_CONFORMANCE_AUTH_DB_CONFORMANCE_H_
#define POSTHORN_TESTS_STORE_CONFORMANCE_AUTH_DB_CONFORMANCE_H_

#include <functional>
#include <memory>
#include <ostream>
#include <string>

#include "absl/status/statusor.h"
#include "backend_param.h"
#include "gtest/gtest.h"
#include "posthorn/store/auth_db.h"
#include "tests/store/common/temp_dir.h"

namespace posthorn::store::testing {

struct AuthDbBackend {
  std::string name;  // [A-Za-z0-9_]: a test-name suffix
  // Makes an empty database for one test (in `temp_dir`, a fresh folder
  // removed afterwards, or elsewhere) and returns the key that names it:
  // the file's path, a DSN. "" after ADD_FAILURE when it can't.
  std::function<std::string(const std::string& temp_dir)> new_storage;
  // Opens that database; called more than once per test, every handle
  // seeing the others' changes.
  std::function<absl::StatusOr<std::unique_ptr<AuthDb>>(
      const std::string& storage, bool writable)>
      open;
};

// gtest prints a failed test's parameter by its name, not its bytes.
inline void PrintTo(const AuthDbBackend& backend, std::ostream* out) {
  *out << backend.name;
}

// Fixture: an empty database and a writable handle on it.
class AuthDbConformanceTest : public ::testing::TestWithParam<AuthDbBackend> {
 protected:
  void SetUp() override;

  // Another handle on the same database; fails the test when it cannot.
  std::unique_ptr<AuthDb> OpenAgain(bool writable);

  TempDir temp_dir_;
  std::string storage_;
  std::unique_ptr<AuthDb> db_;
};

}  // namespace posthorn::store::testing

#endif  // POSTHORN_TESTS_STORE_CONFORMANCE_AUTH_DB_CONFORMANCE_H_
