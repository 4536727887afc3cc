// tests/store/conformance/memory_backend_test.cpp — the conformance and
// concurrency suites against the in-memory store.

#include "mailstore_conformance.h"
#include "posthorn/store/memory_store.h"

namespace posthorn::store::testing {
namespace {

std::unique_ptr<Mailstore> MakeMemory(const std::string& /*temp_dir*/) {
  return MakeMemoryStore();
}

INSTANTIATE_TEST_SUITE_P(Memory, MailstoreConformanceTest,
                         ::testing::Values(Backend{"memory", MakeMemory}),
                         BackendName);
INSTANTIATE_TEST_SUITE_P(Memory, MailstoreConcurrencyTest,
                         ::testing::Values(Backend{"memory", MakeMemory}),
                         BackendName);

}  // namespace
}  // namespace posthorn::store::testing
