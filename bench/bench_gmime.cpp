// bench/bench_gmime.cpp — the three workloads with GMime 3, the peer.
//
// Done as GMime is meant to be used, and without handicaps: one
// GMimeParser re-initialised per message (no parser allocation per
// message), a memory stream that wraps the corpus bytes without copying
// them (a GByteArray over the message, which GMime does not own), the
// default persist-stream mode so part contents stay views of that stream.
// GMime parses From/To/Cc (with RFC 2047 names), Subject, Date and
// Message-ID eagerly while it constructs the message, so the headers
// workload only reads them back through the accessors: calling
// internet_address_list_parse again would make GMime do the work twice.

#include <gmime/gmime.h>

#include <cstddef>
#include <vector>

#include "bench_common.h"

namespace posthorn::bench {
namespace {

// Byte arrays over the corpus, without copy. GMime only reads data/len of a
// memory stream's array when it does not own it.
class Inputs {
 public:
  Inputs(const Corpus& corpus, bool headers_only) {
    arrays_.reserve(corpus.messages.size());
    for (const CorpusMessage& m : corpus.messages) {
      std::size_t size = headers_only ? m.header_bytes : m.data.size();
      // g_byte_array_new_take() adopts the pointer; ~Inputs gives it back
      // with g_byte_array_free(..., FALSE), which frees only the wrapper.
      arrays_.push_back(g_byte_array_new_take(
          reinterpret_cast<guint8*>(const_cast<char*>(m.data.data())),
          size));
    }
  }
  ~Inputs() {
    for (GByteArray* a : arrays_) g_byte_array_free(a, FALSE);
  }
  Inputs(const Inputs&) = delete;
  Inputs& operator=(const Inputs&) = delete;

  const std::vector<GByteArray*>& arrays() const { return arrays_; }

 private:
  std::vector<GByteArray*> arrays_;
};

GMimeMessage* Parse(GMimeParser* parser, GByteArray* array) {
  GMimeStream* stream = g_mime_stream_mem_new();
  g_mime_stream_mem_set_byte_array(GMIME_STREAM_MEM(stream), array);
  g_mime_parser_init_with_stream(parser, stream);
  g_object_unref(stream);
  return g_mime_parser_construct_message(parser, nullptr);
}

std::size_t TouchAddresses(InternetAddressList* list) {
  std::size_t n = 0;
  if (list == nullptr) return 0;
  int count = internet_address_list_length(list);
  for (int i = 0; i < count; ++i) {
    InternetAddress* ia = internet_address_list_get_address(list, i);
    const char* name = internet_address_get_name(ia);
    if (name != nullptr) n += name[0] != '\0';
    if (INTERNET_ADDRESS_IS_MAILBOX(ia)) {
      const char* addr =
          internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia));
      if (addr != nullptr) n += addr[0] != '\0';
    } else if (INTERNET_ADDRESS_IS_GROUP(ia)) {
      n += TouchAddresses(
          internet_address_group_get_members(INTERNET_ADDRESS_GROUP(ia)));
    }
  }
  return n;
}

// Visits the leaves; `decode` writes each one's decoded content to `sink`.
std::size_t WalkParts(GMimeObject* object, GMimeStream* sink, bool decode) {
  if (object == nullptr) return 0;
  if (GMIME_IS_MULTIPART(object)) {
    std::size_t n = 0;
    GMimeMultipart* multipart = GMIME_MULTIPART(object);
    int count = g_mime_multipart_get_count(multipart);
    for (int i = 0; i < count; ++i) {
      n += WalkParts(g_mime_multipart_get_part(multipart, i), sink, decode);
    }
    return n;
  }
  if (GMIME_IS_MESSAGE_PART(object)) {
    GMimeMessage* inner =
        g_mime_message_part_get_message(GMIME_MESSAGE_PART(object));
    return inner == nullptr
               ? 1
               : WalkParts(g_mime_message_get_mime_part(inner), sink, decode);
  }
  if (decode && GMIME_IS_PART(object)) {
    GMimeDataWrapper* content = g_mime_part_get_content(GMIME_PART(object));
    if (content != nullptr) g_mime_data_wrapper_write_to_stream(content, sink);
  }
  return 1;
}

void BM_HeadersGMime(benchmark::State& state) {
  const Corpus& corpus = SharedCorpus();
  Inputs inputs(corpus, /*headers_only=*/true);
  GMimeParser* parser = g_mime_parser_new();
  std::size_t touched = 0;
  for (auto _ : state) {
    for (GByteArray* array : inputs.arrays()) {
      GMimeMessage* message = Parse(parser, array);
      if (message == nullptr) continue;
      GMimeHeaderList* headers =
          g_mime_object_get_header_list(GMIME_OBJECT(message));
      touched += static_cast<std::size_t>(
          g_mime_header_list_get_count(headers));
      touched += TouchAddresses(g_mime_message_get_from(message));
      touched += TouchAddresses(g_mime_message_get_to(message));
      touched += TouchAddresses(g_mime_message_get_cc(message));
      const char* subject = g_mime_message_get_subject(message);
      touched += subject != nullptr;
      GDateTime* date = g_mime_message_get_date(message);
      if (date != nullptr) {
        touched += static_cast<std::size_t>(g_date_time_to_unix(date) & 1);
      }
      const char* id = g_mime_message_get_message_id(message);
      touched += id != nullptr;
      g_object_unref(message);
    }
    benchmark::DoNotOptimize(touched);
  }
  g_object_unref(parser);
  ReportRates(state, corpus, corpus.header_bytes);
}

void RunTree(benchmark::State& state, bool decode) {
  const Corpus& corpus = SharedCorpus();
  Inputs inputs(corpus, /*headers_only=*/false);
  GMimeParser* parser = g_mime_parser_new();
  GMimeStream* sink = g_mime_stream_null_new();
  std::size_t leaves = 0;
  for (auto _ : state) {
    for (GByteArray* array : inputs.arrays()) {
      GMimeMessage* message = Parse(parser, array);
      if (message == nullptr) continue;
      leaves += WalkParts(g_mime_message_get_mime_part(message), sink, decode);
      g_object_unref(message);
    }
    benchmark::DoNotOptimize(leaves);
  }
  if (decode) {
    state.counters["decoded_bytes"] = static_cast<double>(
        GMIME_STREAM_NULL(sink)->written /
        static_cast<std::size_t>(state.iterations()));
  }
  state.counters["leaves"] = static_cast<double>(
      leaves / static_cast<std::size_t>(state.iterations()));
  g_object_unref(sink);
  g_object_unref(parser);
  ReportRates(state, corpus, corpus.total_bytes);
}

void BM_StructureGMime(benchmark::State& state) { RunTree(state, false); }
void BM_DecodeGMime(benchmark::State& state) { RunTree(state, true); }

BENCHMARK(BM_HeadersGMime)->Name("headers/gmime")->Unit(benchmark::kMillisecond);
BENCHMARK(BM_StructureGMime)
    ->Name("structure/gmime")
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_DecodeGMime)->Name("decode/gmime")->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace posthorn::bench

int main(int argc, char** argv) {
  g_mime_init();
  int status = posthorn::bench::RunBenchmarks(argc, argv);
  g_mime_shutdown();
  return status;
}
