// bench/bench_mimetic.cpp — the three workloads with mimetic, the peer.
//
// mimetic::MimeEntity parses from a pair of iterators over the corpus bytes
// (no stream, no copy of the input). For the headers workload it gets the
// header section only and the "ignore" mask for body, child parts,
// preamble and epilogue, then reads From/To/Cc (typed address lists),
// Subject, Date and Message-ID. mimetic does not decode RFC 2047 words, so
// it does less work than the others there. Decoding uses mimetic's own
// Base64 and QP decoders over each leaf body, into a counting iterator.

#include <mimetic/mimetic.h>
#include <mimetic/rfc822/datetime.h>

#include <cstddef>
#include <iterator>
#include <string>

#include "bench_common.h"

namespace posthorn::bench {
namespace {

constexpr int kHeadersOnly = mimetic::imBody | mimetic::imChildParts |
                             mimetic::imPreamble | mimetic::imEpilogue;

// An output iterator that feeds a ByteSink one character at a time, as
// mimetic's codecs write.
class SinkIterator {
 public:
  using iterator_category = std::output_iterator_tag;
  using value_type = void;
  using difference_type = std::ptrdiff_t;
  using pointer = void;
  using reference = void;

  explicit SinkIterator(ByteSink* sink) : sink_(sink) {}
  SinkIterator& operator*() { return *this; }
  SinkIterator& operator++() { return *this; }
  SinkIterator operator++(int) { return *this; }
  SinkIterator& operator=(char c) {
    sink_->Add(&c, 1);
    return *this;
  }

 private:
  ByteSink* sink_;
};

std::size_t TouchMailbox(const mimetic::Mailbox& m) {
  return m.label().size() + m.mailbox().size() + m.domain().size();
}

std::size_t TouchAddresses(const mimetic::AddressList& list) {
  std::size_t n = 0;
  for (const mimetic::Address& a : list) {
    if (a.isGroup()) {
      for (const mimetic::Mailbox& m : a.group()) n += TouchMailbox(m);
    } else {
      n += TouchMailbox(a.mailbox());
    }
  }
  return n;
}

// Visits the leaves; `decode` decodes each body into `sink`.
std::size_t WalkParts(const mimetic::MimeEntity& entity, ByteSink* sink,
                      bool decode) {
  const mimetic::MimeEntityList& parts = entity.body().parts();
  if (!parts.empty()) {
    std::size_t n = 0;
    for (const mimetic::MimeEntity* child : parts) {
      n += WalkParts(*child, sink, decode);
    }
    return n;
  }
  if (decode) {
    const mimetic::Body& body = entity.body();
    const mimetic::istring& mechanism =
        entity.header().contentTransferEncoding().mechanism();
    if (mechanism == "base64") {
      mimetic::Base64::Decoder decoder;
      mimetic::decode(body.begin(), body.end(), decoder, SinkIterator(sink));
    } else if (mechanism == "quoted-printable") {
      mimetic::QP::Decoder decoder;
      mimetic::decode(body.begin(), body.end(), decoder, SinkIterator(sink));
    } else {
      sink->Add(body.data(), body.size());
    }
  }
  return 1;
}

void BM_HeadersMimetic(benchmark::State& state) {
  const Corpus& corpus = SharedCorpus();
  std::size_t touched = 0;
  for (auto _ : state) {
    for (const CorpusMessage& m : corpus.messages) {
      const char* begin = m.data.data();
      mimetic::MimeEntity entity(begin, begin + m.header_bytes, kHeadersOnly);
      const mimetic::Header& h = entity.header();
      touched += h.size();
      for (const mimetic::Mailbox& mb : h.from()) touched += TouchMailbox(mb);
      touched += TouchAddresses(h.to());
      touched += TouchAddresses(h.cc());
      touched += h.subject().size();
      if (h.hasField("Date")) {
        mimetic::DateTime date(h.field("Date").value());
        touched += static_cast<std::size_t>(date.year());
      }
      touched += h.messageid().str().size();
    }
    benchmark::DoNotOptimize(touched);
  }
  ReportRates(state, corpus, corpus.header_bytes);
}

void RunTree(benchmark::State& state, bool decode) {
  const Corpus& corpus = SharedCorpus();
  ByteSink sink;
  std::size_t leaves = 0;
  for (auto _ : state) {
    for (const CorpusMessage& m : corpus.messages) {
      const char* begin = m.data.data();
      mimetic::MimeEntity entity(begin, begin + m.data.size());
      leaves += WalkParts(entity, &sink, decode);
    }
    benchmark::DoNotOptimize(leaves);
    benchmark::DoNotOptimize(sink.hash);
  }
  auto iterations = static_cast<std::size_t>(state.iterations());
  if (decode) {
    state.counters["decoded_bytes"] =
        static_cast<double>(sink.bytes / iterations);
  }
  state.counters["leaves"] = static_cast<double>(leaves / iterations);
  ReportRates(state, corpus, corpus.total_bytes);
}

void BM_StructureMimetic(benchmark::State& state) { RunTree(state, false); }
void BM_DecodeMimetic(benchmark::State& state) { RunTree(state, true); }

BENCHMARK(BM_HeadersMimetic)
    ->Name("headers/mimetic")
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_StructureMimetic)
    ->Name("structure/mimetic")
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_DecodeMimetic)
    ->Name("decode/mimetic")
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace posthorn::bench

int main(int argc, char** argv) {
  return posthorn::bench::RunBenchmarks(argc, argv);
}
