// bench/corpus/corpus.h — a deterministic corpus of realistic mail for the
// benchmarks.
//
// PURPOSE
//   Every benchmark (posthorn and its peers GMime and mimetic) runs over the
//   same messages, generated in memory from a fixed seed, so that runs on two
//   machines or two days compare. The mix imitates a real mailbox: plain text
//   mail, quoted-printable French and German text (UTF-8 and ISO-8859-1),
//   multipart/alternative (sometimes with multipart/related inline images),
//   multipart/mixed with base64 attachments of 1 KiB to 2 MiB, forwarded
//   message/rfc822 parts; headers with 10-20 folded Received hops, DKIM and
//   Authentication-Results, RFC 2047 encoded Subjects and display names
//   (UTF-8 and ISO-8859-1, Q and B), To lists of up to 50 addresses, Cc,
//   Reply-To, Message-ID, References. Every line ends with CRLF.
//
// DETERMINISM
//   Only a splitmix64 generator and integer arithmetic drive the choices (no
//   <random> distributions, whose results differ between standard
//   libraries), so a seed gives the same bytes everywhere.
//
// LIMITS
//   The corpus stops at the first message that reaches target_bytes, so it
//   is at most one message (at most about 6 MiB) larger than asked.

#ifndef POSTHORN_BENCH_CORPUS_CORPUS_H_
#define POSTHORN_BENCH_CORPUS_CORPUS_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace posthorn::bench {

struct CorpusOptions {
  std::uint64_t seed = 0x706f7374686f726eULL;  // "posthorn"
  std::size_t target_bytes = std::size_t{48} << 20;
};

struct CorpusMessage {
  std::string data;              // the whole message, CRLF line ends
  std::size_t header_bytes = 0;  // header section + the empty line after it
  std::string_view kind;         // "plain", "qp", "alternative", ...

  std::string_view header_section() const {
    return std::string_view(data).substr(0, header_bytes);
  }
};

struct Corpus {
  std::vector<CorpusMessage> messages;
  std::size_t total_bytes = 0;   // sum of data.size()
  std::size_t header_bytes = 0;  // sum of header_bytes
};

// Generates the corpus described above.
Corpus GenerateCorpus(const CorpusOptions& options);

// The options the benchmark programs use: the defaults, overridden by the
// environment variables POSTHORN_BENCH_CORPUS_MIB (size in MiB) and
// POSTHORN_BENCH_SEED (decimal or 0x hex).
CorpusOptions OptionsFromEnvironment();

// GenerateCorpus(OptionsFromEnvironment()), built once and kept.
const Corpus& SharedCorpus();

}  // namespace posthorn::bench

#endif  // POSTHORN_BENCH_CORPUS_CORPUS_H_
