// bench/bench_queue.cpp — enqueue throughput of the file queue, with fsync,
// against the raw cost of making one small file durable, measured in the
// same run and in the same folder.
//
// BENCHMARKS (rates are items per second = messages or files per second)
//   raw/create_write_fsync   one thread: create a new file, write 4 KiB,
//                            fsync it, fsync the folder (the baseline: what
//                            a naive queue pays per message)
//   raw/fdatasync            one thread: rewrite 4 KiB in one file and
//                            fdatasync it (the device's flush rate)
//   queue/enqueue_4k         BeginEnqueue + Write(4 KiB) + Commit() with
//                            fsync on, from 1, 10 and 50 threads sharing one
//                            Queue (group commit shares the folder fsyncs)
// At the end a summary prints each enqueue rate and its ratio to both
// baselines. Target: enqueue / create_write_fsync above 1.0 at 10 or more
// enqueuers.
//
// The folder is a fresh one under $POSTHORN_BENCH_DIR, else $TMPDIR, else
// /tmp: put it on the file system the queue will live on.

#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "posthorn/store/queue.h"

namespace {

using posthorn::store::MakeFileQueue;
using posthorn::store::Queue;
using posthorn::store::QueuedRecipient;
using posthorn::store::QueueEnvelope;

const std::string kMessage(4096, 'm');

std::string& BaseDir() {
  static std::string dir;
  return dir;
}

std::string FreshFolder(const std::string& name) {
  static std::atomic<int> counter{0};
  std::string path = BaseDir() + "/" + name + "-" + std::to_string(++counter);
  std::filesystem::create_directories(path);
  return path;
}

void Check(bool ok, const char* what) {
  if (!ok) {
    std::perror(what);
    std::abort();
  }
}

void BM_RawCreateWriteFsync(benchmark::State& state) {
  std::string dir = FreshFolder("raw-create");
  int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  Check(dir_fd >= 0, "open folder");
  std::int64_t n = 0;
  for (auto _ : state) {
    std::string path = dir + "/f" + std::to_string(n++);
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
    Check(fd >= 0, "create");
    Check(::write(fd, kMessage.data(), kMessage.size()) ==
              static_cast<ssize_t>(kMessage.size()),
          "write");
    Check(::fsync(fd) == 0, "fsync");
    Check(::fsync(dir_fd) == 0, "fsync folder");
    ::close(fd);
  }
  ::close(dir_fd);
  state.SetItemsProcessed(state.iterations());
  std::filesystem::remove_all(dir);
}

void BM_RawFdatasync(benchmark::State& state) {
  std::string dir = FreshFolder("raw-fdatasync");
  std::string path = dir + "/one";
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT, 0600);
  Check(fd >= 0, "create");
  for (auto _ : state) {
    Check(::pwrite(fd, kMessage.data(), kMessage.size(), 0) ==
              static_cast<ssize_t>(kMessage.size()),
          "pwrite");
    Check(::fdatasync(fd) == 0, "fdatasync");
  }
  ::close(fd);
  state.SetItemsProcessed(state.iterations());
  std::filesystem::remove_all(dir);
}

// Shared by the threads of one run; made and removed by thread 0.
std::unique_ptr<Queue> shared_queue;
std::string shared_queue_dir;

void BM_Enqueue(benchmark::State& state) {
  if (state.thread_index() == 0) {
    shared_queue_dir = FreshFolder("queue");
    auto queue = MakeFileQueue({.dir = shared_queue_dir, .fsync = true});
    if (!queue.ok()) {
      state.SkipWithError(std::string(queue.status().message()).c_str());
    } else {
      shared_queue = *std::move(queue);
    }
  }
  QueueEnvelope envelope;
  envelope.sender = "bench@example.org";
  QueuedRecipient recipient;
  recipient.address = "to@example.com";
  envelope.recipients.push_back(recipient);
  for (auto _ : state) {
    auto writer = shared_queue->BeginEnqueue(envelope);
    if (!writer.ok() || !(*writer)->Write(kMessage).ok() ||
        !(*writer)->Commit().ok()) {
      state.SkipWithError("enqueue failed");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
  if (state.thread_index() == 0) {
    // Past the loop's closing barrier: every thread has finished enqueuing.
    shared_queue.reset();
    std::filesystem::remove_all(shared_queue_dir);
  }
}

// Console output as usual, plus each run's rate kept for the summary.
class SummaryReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& run : runs) {
      auto it = run.counters.find("items_per_second");
      if (it == run.counters.end() || run.error_occurred) continue;
      std::string name = run.run_name.str();
      if (run.run_type == Run::RT_Aggregate) {
        if (run.aggregate_name == "median") medians_[name] = it->second.value;
      } else {
        singles_[name].push_back(it->second.value);
      }
    }
  }

  // The median rate of the run whose name starts with `prefix` and ends
  // with `suffix` (names carry options such as "/min_time:2.000").
  double Rate(const std::string& prefix, const std::string& suffix) const {
    auto matches = [&](const std::string& name) {
      return name.rfind(prefix, 0) == 0 && name.size() >= suffix.size() &&
             name.compare(name.size() - suffix.size(), suffix.size(), suffix) ==
                 0;
    };
    for (const auto& [name, value] : medians_) {
      if (matches(name)) return value;
    }
    for (const auto& [name, values] : singles_) {
      if (matches(name)) {
        std::vector<double> sorted = values;
        std::sort(sorted.begin(), sorted.end());
        return sorted[sorted.size() / 2];
      }
    }
    return 0;
  }

  void PrintSummary() const {
    double create = Rate("raw/create_write_fsync", "");
    double datasync = Rate("raw/fdatasync", "");
    std::printf("\nbaseline create+write+fsync+fsync folder: %.0f/s\n", create);
    std::printf("baseline fdatasync of one file:           %.0f/s\n", datasync);
    for (int threads : {1, 10, 50}) {
      double rate =
          Rate("queue/enqueue_4k", "/threads:" + std::to_string(threads));
      if (rate == 0) continue;
      std::printf(
          "enqueue 4 KiB, %2d threads: %7.0f msg/s  ratio %.2f vs create "
          "(target > 1.0 at >= 10)  %.2f vs fdatasync\n",
          threads, rate, create > 0 ? rate / create : 0,
          datasync > 0 ? rate / datasync : 0);
    }
  }

 private:
  std::map<std::string, double> medians_;
  std::map<std::string, std::vector<double>> singles_;
};

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  const char* base = std::getenv("POSTHORN_BENCH_DIR");
  if (base == nullptr || *base == '\0') base = std::getenv("TMPDIR");
  if (base == nullptr || *base == '\0') base = "/tmp";
  std::string pattern = std::string(base) + "/posthorn-bench-queue-XXXXXX";
  Check(::mkdtemp(pattern.data()) != nullptr, "mkdtemp");
  BaseDir() = pattern;

  benchmark::RegisterBenchmark("raw/create_write_fsync", BM_RawCreateWriteFsync)
      ->MinTime(2.0)
      ->UseRealTime();
  benchmark::RegisterBenchmark("raw/fdatasync", BM_RawFdatasync)
      ->MinTime(2.0)
      ->UseRealTime();
  benchmark::RegisterBenchmark("queue/enqueue_4k", BM_Enqueue)
      ->Threads(1)
      ->Threads(10)
      ->Threads(50)
      ->MinTime(2.0)
      ->UseRealTime();

  SummaryReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  reporter.PrintSummary();
  benchmark::Shutdown();
  std::filesystem::remove_all(BaseDir());
  return 0;
}
