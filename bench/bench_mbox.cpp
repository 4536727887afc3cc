// bench/bench_mbox.cpp — the mbox store against the raw cost of the disk.
//
//   BM_RawAppend4KiBFdatasync   baseline: write 4 KiB + fdatasync, one
//                               file in the same folder
//   BM_Deliver4KiB/fsync:1      Deliver() of a 4 KiB message, durable
//   BM_Deliver4KiB/fsync:0      the same without syncs (the logic alone)
//   BM_OpenLarge/index:1        OpenSession() on a large mbox whose index
//                               is current
//   BM_OpenLarge/index:0        the same with the index deleted before each
//                               open (full scan, UIDs digested, index
//                               rewritten)
//
// Environment: POSTHORN_BENCH_DIR (default $TMPDIR, else /var/tmp) holds
// the files; use a real disk, fsync on tmpfs is free. POSTHORN_BENCH_MBOX_MB
// sizes the large mbox (default 100 MiB = 10,000 messages; 1024 gives
// 1 GiB = 102,400 messages of ~10 KiB).

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "benchmark/benchmark.h"
#include "posthorn/store/mbox.h"

namespace {

using posthorn::store::MakeMboxStore;
using posthorn::store::Mailstore;
using posthorn::store::MboxStoreOptions;
using posthorn::store::StringReader;

std::string BenchRoot() {
  for (const char* name : {"POSTHORN_BENCH_DIR", "TMPDIR"}) {
    if (const char* value = std::getenv(name); value && *value) return value;
  }
  return "/var/tmp";
}

// A fresh folder removed at exit.
class BenchDir {
 public:
  BenchDir() {
    std::string pattern = BenchRoot() + "/posthorn-bench-mbox-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) {
      std::perror("mkdtemp");
      std::exit(1);
    }
    path_ = pattern;
  }
  ~BenchDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string Message(std::size_t size, int serial) {
  std::string m = "From: bob@example.org\nTo: alice@example.org\nSubject: " +
                  std::to_string(serial) + "\n\n";
  std::string line(71, 'x');
  line.push_back('\n');
  while (m.size() + line.size() <= size) m += line;
  m.append(size - m.size(), 'y');
  return m;
}

std::unique_ptr<Mailstore> Store(const std::string& dir, bool fsync) {
  MboxStoreOptions options;
  options.spool_dir = dir;
  options.fsync = fsync;
  auto store = MakeMboxStore(options);
  if (!store.ok()) {
    std::fprintf(stderr, "%s\n", store.status().ToString().c_str());
    std::exit(1);
  }
  return std::move(*store);
}

void BM_RawAppend4KiBFdatasync(benchmark::State& state) {
  BenchDir dir;
  std::string path = dir.path() + "/raw";
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
  std::string block = Message(4096, 0);
  for (auto _ : state) {
    if (::write(fd, block.data(), block.size()) !=
            static_cast<ssize_t>(block.size()) ||
        ::fdatasync(fd) != 0) {
      state.SkipWithError("write/fdatasync failed");
      break;
    }
  }
  ::close(fd);
  state.SetBytesProcessed(state.iterations() * 4096);
}
BENCHMARK(BM_RawAppend4KiBFdatasync)->UseRealTime();

void BM_Deliver4KiB(benchmark::State& state) {
  BenchDir dir;
  auto store = Store(dir.path(), state.range(0) != 0);
  std::string message = Message(4096, 0);
  for (auto _ : state) {
    StringReader reader(message);
    auto status = store->Deliver(
        "alice", {.envelope_sender = "bob@example.org", .arrival = absl::Now()},
        reader);
    if (!status.ok()) {
      state.SkipWithError(status.ToString().c_str());
      break;
    }
  }
  state.SetBytesProcessed(state.iterations() * 4096);
}
BENCHMARK(BM_Deliver4KiB)->ArgName("fsync")->Arg(1)->Arg(0)->UseRealTime();

std::size_t LargeMegabytes() {
  const char* value = std::getenv("POSTHORN_BENCH_MBOX_MB");
  long mb = value ? std::atol(value) : 100;
  return mb > 0 ? static_cast<std::size_t>(mb) : 100;
}

void BM_OpenLarge(benchmark::State& state) {
  const bool keep_index = state.range(0) != 0;
  const std::size_t megabytes = LargeMegabytes();
  const std::size_t count = megabytes * 100;
  const std::size_t each = (megabytes << 20) / count;
  BenchDir dir;
  {
    // Written directly in mbox form (fast), not through Deliver.
    std::FILE* out = std::fopen((dir.path() + "/alice").c_str(), "wb");
    for (std::size_t i = 0; i < count; ++i) {
      std::string m = "From bob@example.org Tue Nov 14 22:13:20 2023\n" +
                      Message(each - 47, static_cast<int>(i)) + "\n";
      std::fwrite(m.data(), 1, m.size(), out);
    }
    std::fclose(out);
  }
  auto store = Store(dir.path(), false);
  const std::string index = dir.path() + "/.alice.index";
  (void)store->OpenSession("alice");  // builds the index, warms the cache
  for (auto _ : state) {
    if (!keep_index) {
      state.PauseTiming();
      std::filesystem::remove(index);
      state.ResumeTiming();
    }
    auto session = store->OpenSession("alice");
    if (!session.ok() || (*session)->messages().size() != count) {
      state.SkipWithError("open failed or wrong count");
      break;
    }
  }
  state.counters["messages"] = static_cast<double>(count);
  state.SetBytesProcessed(state.iterations() *
                          static_cast<std::int64_t>(megabytes << 20));
}
BENCHMARK(BM_OpenLarge)
    ->ArgName("index")
    ->Arg(1)
    ->Arg(0)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
