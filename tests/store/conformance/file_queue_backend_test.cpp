// tests/store/conformance/file_queue_backend_test.cpp — the queue
// conformance suite against the file queue (MakeFileQueue) in the test's
// temporary folder. fsync is off: durability is what the crash tests
// (tests/store/queue/queue_crash_test.cpp) check.

#include "posthorn/store/queue.h"
#include "queue_conformance.h"

namespace posthorn::store::testing {
namespace {

std::unique_ptr<Queue> OpenFileQueue(const std::string& dir) {
  auto queue = MakeFileQueue({.dir = dir, .fsync = false});
  EXPECT_TRUE(queue.ok()) << queue.status();
  return queue.ok() ? *std::move(queue) : nullptr;
}

INSTANTIATE_TEST_SUITE_P(
    File, QueueConformanceTest,
    ::testing::Values(QueueBackend{
        "file", [](const std::string& temp_dir) { return temp_dir; },
        OpenFileQueue}),
    BackendParamName());

}  // namespace
}  // namespace posthorn::store::testing
