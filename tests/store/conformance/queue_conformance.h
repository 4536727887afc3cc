// tests/store/conformance/queue_conformance.h — one test suite that every
// mail queue backend must pass (posthorn/store/queue.h): enqueue and the
// ids it returns, every envelope field and every data byte back as given,
// List and Due order, exclusive leases between two Queue objects on the
// same storage, Save, Remove, Abort, and enqueues from several threads.
//
// A backend joins with one file holding one instantiation:
//
//   INSTANTIATE_TEST_SUITE_P(
//       File, QueueConformanceTest,
//       ::testing::Values(QueueBackend{
//           "file",
//           [](const std::string& temp_dir) { return temp_dir; },
//           [](const std::string& storage) { return OpenMyQueue(storage); }}),
//       BackendParamName());
//
// What a backend keeps only for itself (crash recovery, file modes, leases
// across processes or nodes, database restarts) stays in its own tests:
// tests/store/queue/file_queue_test.cpp, tests/store/postgresql/
// pg_queue_test.cpp.

#ifndef POSTHORN_TESTS_STORE_CONFORMANCE_QUEUE_CONFORMANCE_H_
#define POSTHORN_TESTS_STORE_CONFORMANCE_QUEUE_CONFORMANCE_H_

#include <functional>
#include <memory>
#include <ostream>
#include <string>

#include "backend_param.h"
#include "gtest/gtest.h"
#include "posthorn/store/queue.h"
#include "tests/store/common/temp_dir.h"

namespace posthorn::store::testing {

struct QueueBackend {
  std::string name;  // [A-Za-z0-9_]: a test-name suffix
  // Makes empty storage for one test (in `temp_dir`, a fresh folder removed
  // afterwards, or elsewhere) and returns the key that names it: the
  // folder for files, a database's DSN. "" after ADD_FAILURE when it can't.
  std::function<std::string(const std::string& temp_dir)> new_storage;
  // A Queue on that storage; called more than once per test, every Queue
  // seeing the same messages (as two processes or nodes would). nullptr
  // after ADD_FAILURE when it cannot be opened.
  std::function<std::unique_ptr<Queue>(const std::string& storage)> open;
};

// gtest prints a failed test's parameter by its name, not its bytes.
inline void PrintTo(const QueueBackend& backend, std::ostream* out) {
  *out << backend.name;
}

// Fixture: fresh storage and a first Queue on it.
class QueueConformanceTest : public ::testing::TestWithParam<QueueBackend> {
 protected:
  void SetUp() override;

  // Another Queue on the same storage; fails the test when it cannot.
  std::unique_ptr<Queue> OpenAgain();

  TempDir temp_dir_;
  std::string storage_;
  std::unique_ptr<Queue> queue_;
};

}  // namespace posthorn::store::testing

#endif  // POSTHORN_TESTS_STORE_CONFORMANCE_QUEUE_CONFORMANCE_H_
