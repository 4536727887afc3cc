// tests/store/conformance/mbox_backend_test.cpp — the conformance and
// concurrency suites against the mbox store.

#include "mailstore_conformance.h"
#include "posthorn/store/mbox.h"

namespace posthorn::store::testing {
namespace {

std::unique_ptr<Mailstore> MakeMbox(const std::string& temp_dir, bool fsync) {
  auto store = MakeMboxStore({.spool_dir = temp_dir, .fsync = fsync});
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? std::move(*store) : nullptr;
}

INSTANTIATE_TEST_SUITE_P(
    Mbox, MailstoreConformanceTest,
    ::testing::Values(Backend{"mbox",
                              [](const std::string& dir) {
                                return MakeMbox(dir, /*fsync=*/true);
                              }}),
    BackendName);
// fsync off: see mailstore_concurrency.cpp.
INSTANTIATE_TEST_SUITE_P(
    Mbox, MailstoreConcurrencyTest,
    ::testing::Values(Backend{"mbox",
                              [](const std::string& dir) {
                                return MakeMbox(dir, /*fsync=*/false);
                              }}),
    BackendName);

}  // namespace
}  // namespace posthorn::store::testing
