// bench/make_corpus.cpp — writes the benchmark corpus as .eml files.
//
// SYNOPSIS
//   make_corpus --out DIR [--mib N] [--seed S]
//
// DESCRIPTION
//   Generates the deterministic corpus of bench/corpus/corpus.h (the same
//   bytes the benchmark programs build in memory; defaults from the
//   POSTHORN_BENCH_CORPUS_MIB and POSTHORN_BENCH_SEED environment variables)
//   and writes one file per message, DIR/NNNNNN-kind.eml, CRLF line ends
//   kept. Prints a one-line summary per message kind. For load scripts and
//   for trying other parsers on the same mail.

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <string_view>

#include "corpus/corpus.h"

namespace {

int Usage() {
  std::fprintf(stderr, "usage: make_corpus --out DIR [--mib N] [--seed S]\n");
  return 64;  // EX_USAGE
}

}  // namespace

int main(int argc, char** argv) {
  posthorn::bench::CorpusOptions options =
      posthorn::bench::OptionsFromEnvironment();
  std::filesystem::path out;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (i + 1 >= argc) return Usage();
    const char* value = argv[++i];
    if (arg == "--out") {
      out = value;
    } else if (arg == "--mib") {
      options.target_bytes =
          static_cast<std::size_t>(std::strtoull(value, nullptr, 10)) << 20;
    } else if (arg == "--seed") {
      options.seed = std::strtoull(value, nullptr, 0);
    } else {
      return Usage();
    }
  }
  if (out.empty() || options.target_bytes == 0) return Usage();

  std::error_code ec;
  std::filesystem::create_directories(out, ec);
  if (ec) {
    std::fprintf(stderr, "make_corpus: %s: %s\n", out.c_str(),
                 ec.message().c_str());
    return 73;  // EX_CANTCREAT
  }

  posthorn::bench::Corpus corpus = posthorn::bench::GenerateCorpus(options);
  struct Stats {
    std::size_t count = 0, bytes = 0, header_bytes = 0;
  };
  std::map<std::string, Stats> stats;
  for (std::size_t i = 0; i < corpus.messages.size(); ++i) {
    const posthorn::bench::CorpusMessage& m = corpus.messages[i];
    char name[64];
    std::snprintf(name, sizeof name, "%06zu-%.*s.eml", i,
                  static_cast<int>(m.kind.size()), m.kind.data());
    std::filesystem::path path = out / name;
    std::ofstream file(path, std::ios::binary | std::ios::trunc);
    file.write(m.data.data(), static_cast<std::streamsize>(m.data.size()));
    if (!file) {
      std::fprintf(stderr, "make_corpus: cannot write %s\n", path.c_str());
      return 74;  // EX_IOERR
    }
    Stats& s = stats[std::string(m.kind)];
    ++s.count;
    s.bytes += m.data.size();
    s.header_bytes += m.header_bytes;
  }
  for (const auto& [kind, s] : stats) {
    std::printf("%-12s %6zu messages %10zu bytes (%zu in headers)\n",
                kind.c_str(), s.count, s.bytes, s.header_bytes);
  }
  std::printf("%-12s %6zu messages %10zu bytes (%zu in headers) in %s\n",
              "total", corpus.messages.size(), corpus.total_bytes,
              corpus.header_bytes, out.c_str());
  return 0;
}
