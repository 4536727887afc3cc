// bench/bench_common.h — what every benchmark program shares.
//
// The workloads (the same in every program, see docs/performance.md):
//   headers    the header section of every message: the field list, then
//              From/To/Cc as address lists with decoded display names, the
//              decoded Subject, the Date and the Message-ID. Each parser is
//              given only the header section (with its empty line), so no
//              one pays for skipping a body. Bytes counted: header sections.
//   structure  the whole MIME tree of every message, no body decoded.
//   decode     the tree, then every leaf's transfer encoding (base64,
//              quoted-printable) decoded into a sink that only counts.
//   memchr     the baseline: a memchr('\n') walk visiting every line of the
//              same bytes, the limit of any line-oriented parser.
// Benchmark names are "<workload>/<side>"; bench/summarize.py relies on it.

#ifndef POSTHORN_BENCH_BENCH_COMMON_H_
#define POSTHORN_BENCH_BENCH_COMMON_H_

#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "corpus/corpus.h"

namespace posthorn::bench {

// Sets the rate counters after the timing loop: bytes/s over `counted`
// bytes per iteration (what summarize.py reads), plus the whole-message
// rate and the message rate for reference.
inline void ReportRates(benchmark::State& state, const Corpus& corpus,
                        std::size_t counted) {
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(counted));
  state.counters["message_bytes_per_second"] = benchmark::Counter(
      static_cast<double>(corpus.total_bytes),
      benchmark::Counter::kIsIterationInvariantRate,
      benchmark::Counter::kIs1024);
  state.counters["messages_per_second"] = benchmark::Counter(
      static_cast<double>(corpus.messages.size()),
      benchmark::Counter::kIsIterationInvariantRate);
  state.counters["corpus_bytes"] = static_cast<double>(counted);
}

// Counts lines with memchr: the memory-scan limit of a line parser.
inline std::size_t CountLines(std::string_view bytes) {
  std::size_t lines = 0;
  const char* p = bytes.data();
  const char* end = p + bytes.size();
  while (p < end) {
    const void* nl = std::memchr(p, '\n', static_cast<std::size_t>(end - p));
    if (nl == nullptr) break;
    p = static_cast<const char*>(nl) + 1;
    ++lines;
  }
  return lines;
}

// A sink for decoded bodies: counts the bytes and folds the first byte of
// each chunk into a checksum, so the output is used but costs next to
// nothing (GMime's null stream, its sink here, only counts too).
struct ByteSink {
  std::size_t bytes = 0;
  std::uint64_t hash = 0;

  void Add(const char* data, std::size_t size) {
    bytes += size;
    if (size != 0) hash = hash * 31 + static_cast<unsigned char>(data[0]);
  }
};

// main() of every benchmark program: builds the corpus before any timing
// (so profilers that collect inside the benchmark functions see only the
// workload), records its size in the JSON context, and runs.
inline int RunBenchmarks(int argc, char** argv) {
  const Corpus& corpus = SharedCorpus();
  benchmark::AddCustomContext("corpus_messages",
                              std::to_string(corpus.messages.size()));
  benchmark::AddCustomContext("corpus_bytes",
                              std::to_string(corpus.total_bytes));
  benchmark::AddCustomContext("corpus_header_bytes",
                              std::to_string(corpus.header_bytes));
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

}  // namespace posthorn::bench

#endif  // POSTHORN_BENCH_BENCH_COMMON_H_
