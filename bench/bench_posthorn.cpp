// bench/bench_posthorn.cpp — the three workloads with posthorn, and the
// memchr baselines they are measured against.
//
// headers    ParseHeaderSection on the header section, then
//            ParseAddressList on From/To/Cc (display names decoded),
//            DecodeUnstructured on Subject, ParseDate, ParseMessageId.
// structure  ParseMessage: the whole MIME tree, nothing decoded.
// decode     ParseMessage, then DecodeBody of every leaf into a sink that
//            counts bytes.
// Scratch strings, the address list and the defect vector are reused
// across messages, as an application parsing a mailbox would do.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "bench_common.h"
#include "posthorn/message/address.h"
#include "posthorn/message/date.h"
#include "posthorn/message/defect.h"
#include "posthorn/message/encoded_word.h"
#include "posthorn/message/header.h"
#include "posthorn/message/message_id.h"
#include "posthorn/message/mime.h"

namespace posthorn::bench {
namespace {

namespace pm = posthorn::message;

std::size_t TouchAddresses(const pm::AddressList& list) {
  std::size_t n = 0;
  for (const pm::Address& a : list.items) {
    if (a.is_group) {
      n += a.group.display_name.size();
      for (const pm::Mailbox& m : a.group.members) {
        n += m.display_name.size() + m.local_part.size() + m.domain.size();
      }
    } else {
      n += a.mailbox.display_name.size() + a.mailbox.local_part.size() +
           a.mailbox.domain.size();
    }
  }
  return n;
}

void BM_HeadersPosthorn(benchmark::State& state) {
  const Corpus& corpus = SharedCorpus();
  pm::Defects defects;
  pm::AddressList addresses;
  std::string scratch;
  std::string subject;
  std::size_t touched = 0;
  std::size_t defect_count = 0;
  for (auto _ : state) {
    for (const CorpusMessage& m : corpus.messages) {
      defect_count += defects.size();
      defects.clear();
      absl::StatusOr<pm::HeaderSection> section =
          pm::ParseHeaderSection(m.header_section(), &defects);
      if (!section.ok()) continue;
      touched += section->size();
      for (std::string_view name : {"From", "To", "Cc"}) {
        const pm::HeaderField* field = section->Find(name);
        if (field == nullptr) continue;
        addresses.items.clear();
        pm::ParseAddressList(field->Unfolded(&scratch), &addresses, &defects,
                             field->value_offset);
        touched += TouchAddresses(addresses);
      }
      if (const pm::HeaderField* f = section->Find("Subject")) {
        subject.clear();
        pm::DecodeUnstructured(f->Unfolded(&scratch), &subject, &defects,
                               f->value_offset);
        touched += subject.size();
      }
      if (const pm::HeaderField* f = section->Find("Date")) {
        std::optional<absl::Time> date =
            pm::ParseDate(f->Unfolded(&scratch), &defects, f->value_offset);
        touched += date.has_value();
      }
      if (const pm::HeaderField* f = section->Find("Message-ID")) {
        std::optional<std::string_view> id = pm::ParseMessageId(
            f->Unfolded(&scratch), &defects, f->value_offset);
        touched += id.has_value() ? id->size() : 0;
      }
    }
    benchmark::DoNotOptimize(touched);
  }
  defect_count += defects.size();
  // Defects per pass: the corpus is well-formed, so this should stay small;
  // a jump means a parser rejects what the generator writes.
  state.counters["defects"] = static_cast<double>(
      defect_count / static_cast<std::size_t>(state.iterations()));
  ReportRates(state, corpus, corpus.header_bytes);
}

// Visits the leaves; `decode` decodes each one into `sink`.
std::size_t WalkParts(const pm::MimePart& part, ByteSink* sink,
                      pm::Defects* defects, bool decode) {
  if (!part.IsLeaf()) {
    std::size_t n = 0;
    for (const pm::MimePart& child : part.children) {
      n += WalkParts(child, sink, defects, decode);
    }
    return n;
  }
  if (decode) {
    pm::DecodeBody(
        part,
        [sink](std::string_view chunk) { sink->Add(chunk.data(), chunk.size()); },
        defects);
  }
  return 1;
}

void RunTree(benchmark::State& state, bool decode) {
  const Corpus& corpus = SharedCorpus();
  ByteSink sink;
  pm::Defects defects;
  std::size_t leaves = 0;
  std::size_t failures = 0;
  std::size_t defect_count = 0;
  for (auto _ : state) {
    for (const CorpusMessage& m : corpus.messages) {
      absl::StatusOr<pm::Message> message = pm::ParseMessage(m.data);
      if (!message.ok()) {
        ++failures;
        continue;
      }
      defect_count += message->defects().size() + defects.size();
      defects.clear();
      leaves += WalkParts(message->root(), &sink, &defects, decode);
    }
    benchmark::DoNotOptimize(leaves);
    benchmark::DoNotOptimize(sink.hash);
  }
  auto iterations = static_cast<std::size_t>(state.iterations());
  if (decode) {
    state.counters["decoded_bytes"] =
        static_cast<double>(sink.bytes / iterations);
  }
  defect_count += defects.size();
  state.counters["leaves"] = static_cast<double>(leaves / iterations);
  state.counters["defects"] =
      static_cast<double>(defect_count / iterations);
  if (failures != 0) state.SkipWithError("ParseMessage failed on a message");
  ReportRates(state, corpus, corpus.total_bytes);
}

void BM_StructurePosthorn(benchmark::State& state) { RunTree(state, false); }
void BM_DecodePosthorn(benchmark::State& state) { RunTree(state, true); }

// The limit: memchr('\n') over every message, counting lines.
void BM_Memchr(benchmark::State& state) {
  const Corpus& corpus = SharedCorpus();
  std::size_t lines = 0;
  for (auto _ : state) {
    for (const CorpusMessage& m : corpus.messages) lines += CountLines(m.data);
    benchmark::DoNotOptimize(lines);
  }
  ReportRates(state, corpus, corpus.total_bytes);
}

// The same over the header sections only (short buffers, as in "headers").
void BM_MemchrHeaders(benchmark::State& state) {
  const Corpus& corpus = SharedCorpus();
  std::size_t lines = 0;
  for (auto _ : state) {
    for (const CorpusMessage& m : corpus.messages) {
      lines += CountLines(m.header_section());
    }
    benchmark::DoNotOptimize(lines);
  }
  ReportRates(state, corpus, corpus.header_bytes);
}

BENCHMARK(BM_Memchr)->Name("memchr/all")->Unit(benchmark::kMillisecond);
BENCHMARK(BM_MemchrHeaders)
    ->Name("memchr/headers")
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_HeadersPosthorn)
    ->Name("headers/posthorn")
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_StructurePosthorn)
    ->Name("structure/posthorn")
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_DecodePosthorn)
    ->Name("decode/posthorn")
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace posthorn::bench

int main(int argc, char** argv) {
  return posthorn::bench::RunBenchmarks(argc, argv);
}
