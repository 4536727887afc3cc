// tests/store/conformance/maildir_backend_test.cpp — the conformance and
// concurrency suites against the Maildir store.

#include "mailstore_conformance.h"
#include "posthorn/store/maildir.h"

namespace posthorn::store::testing {
namespace {

std::unique_ptr<Mailstore> MakeMaildir(const std::string& temp_dir,
                                       bool fsync) {
  auto store = MakeMaildirStore(
      {.root_dir = temp_dir, .hostname = "test.example", .fsync = fsync});
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? std::move(*store) : nullptr;
}

INSTANTIATE_TEST_SUITE_P(
    Maildir, MailstoreConformanceTest,
    ::testing::Values(Backend{"maildir",
                              [](const std::string& dir) {
                                return MakeMaildir(dir, /*fsync=*/true);
                              }}),
    BackendName);
// fsync off: see mailstore_concurrency.cpp.
INSTANTIATE_TEST_SUITE_P(
    Maildir, MailstoreConcurrencyTest,
    ::testing::Values(Backend{"maildir",
                              [](const std::string& dir) {
                                return MakeMaildir(dir, /*fsync=*/false);
                              }}),
    BackendName);

}  // namespace
}  // namespace posthorn::store::testing
