// bench/pop3_make_maildrop.cpp — writes a deterministic mbox maildrop for
// the POP3 load benchmark (bench/pop3_load.sh), the same bytes for every
// server that is measured.
//
// SYNOPSIS
//   pop3_make_maildrop --messages N [--profile text|mixed]
//                      [--total-bytes B] [--seed S] --out FILE
//
// PROFILES
//   text   plain text mail of 1.5 to 12 KiB (log-uniform): headers with
//          3-6 Received hops, a wrapped body, some quoting. About 5 KiB
//          each, so 10,000 messages make about 50 MB.
//   mixed  what a real inbox holds: 85% text mail of 1.5 to 30 KiB, 15%
//          multipart/mixed with a base64 attachment of 20 KiB to 3 MiB
//          (log-uniform). With --total-bytes the drawn sizes are scaled so
//          the file comes out near B (within a few per cent: the header
//          overhead is estimated); 10,500 messages and 1 GiB give a mean
//          of about 100 KiB, as a mailbox with attachments has.
//
// FORMAT
//   mbox as mail.local writes it: "From sender date" line, header, empty
//   line, body, empty line; LF line ends; body lines starting with
//   /^>*From / carry one more '>' (mboxrd). Some body lines start with
//   "From " and with '.', so the servers' mboxrd unquoting and POP3
//   dot-stuffing are exercised. Dates rise by 61 s per message.
//
// DETERMINISM
//   Only a splitmix64 generator and integer arithmetic choose the bytes:
//   a seed gives the same file with any compiler or library.
//
// LIMITS
//   N at most 10,000,000; one message at most 64 MiB; lines at most 76
//   characters. Output is written through one 1 MiB buffer.

#include <time.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <string_view>
#include <vector>

namespace {

class SplitMix64 {
 public:
  explicit SplitMix64(std::uint64_t seed) : state_(seed) {}
  std::uint64_t Next() {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  // Uniform in [0, n) (n > 0); the modulo bias is irrelevant here.
  std::uint64_t Below(std::uint64_t n) { return Next() % n; }

 private:
  std::uint64_t state_;
};

// Log-uniform integer in [lo, hi] (hi < 2^31) with integer arithmetic only: the range
// is cut into 64 geometric steps (factor (hi/lo)^(1/64), precomputed by
// repeated integer multiplication), then a uniform pick inside the step.
std::uint64_t LogUniform(SplitMix64& rng, std::uint64_t lo, std::uint64_t hi) {
  constexpr int kSteps = 64;
  std::uint64_t edges[kSteps + 1];
  edges[0] = lo;
  edges[kSteps] = hi;
  // Fill by bisection in the log domain: edges[m] = sqrt(edges[a]*edges[b]).
  struct Span { int a, b; };
  Span stack[kSteps];
  int top = 0;
  stack[top++] = {0, kSteps};
  while (top > 0) {
    Span s = stack[--top];
    if (s.b - s.a < 2) continue;
    int m = (s.a + s.b) / 2;
    // lo and hi stay below 2^31, so the product fits in 64 bits.
    std::uint64_t product = edges[s.a] * edges[s.b];
    // Integer square root of product (Newton).
    std::uint64_t x = product, y = (x + 1) / 2;
    while (y < x) {
      x = y;
      y = (x + product / x) / 2;
    }
    edges[m] = x;
    stack[top++] = {s.a, m};
    stack[top++] = {m, s.b};
  }
  int step = static_cast<int>(rng.Below(kSteps));
  std::uint64_t a = edges[step], b = edges[step + 1];
  return a + (b > a ? rng.Below(b - a + 1) : 0);
}

const char* const kWords[] = {
    "the", "of", "and", "to", "in", "is", "that", "for", "it", "as", "was",
    "with", "be", "by", "on", "not", "he", "this", "are", "or", "his",
    "from", "at", "which", "but", "have", "an", "had", "they", "you",
    "were", "their", "one", "all", "we", "can", "her", "has", "there",
    "been", "if", "more", "when", "will", "would", "who", "so", "no",
    "meeting", "report", "server", "mailbox", "quarterly", "invoice",
    "attached", "please", "review", "schedule", "tomorrow", "budget",
    "release", "deployment", "customer", "question", "thanks", "regards",
    "project", "update", "delivery", "network", "configuration", "draft",
    "Müller", "Grüße", "déjà", "évaluation", "Straße", "à", "très"};
constexpr std::size_t kWordCount = sizeof(kWords) / sizeof(kWords[0]);

constexpr char kBase64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

class MboxWriter {
 public:
  explicit MboxWriter(std::FILE* out) : out_(out) { buffer_.reserve(kFlush); }
  ~MboxWriter() { Flush(); }
  void Put(std::string_view s) {
    buffer_.append(s);
    written_ += s.size();
    if (buffer_.size() >= kFlush) Flush();
  }
  bool Flush() {
    if (!buffer_.empty() &&
        std::fwrite(buffer_.data(), 1, buffer_.size(), out_) != buffer_.size())
      failed_ = true;
    buffer_.clear();
    return !failed_;
  }
  std::uint64_t written() const { return written_; }
  bool failed() const { return failed_; }

 private:
  static constexpr std::size_t kFlush = std::size_t{1} << 20;
  std::FILE* out_;
  std::string buffer_;
  std::uint64_t written_ = 0;
  bool failed_ = false;
};

std::string FormatDate(std::int64_t t, const char* format) {
  time_t tt = static_cast<time_t>(t);
  struct tm tm_utc;
  gmtime_r(&tt, &tm_utc);
  char text[64];
  strftime(text, sizeof text, format, &tm_utc);
  return text;
}

// One wrapped text line (at most 76 characters) of random words.
void TextLine(SplitMix64& rng, std::string& line) {
  line.clear();
  std::size_t width = 50 + rng.Below(27);
  while (line.size() < width) {
    const char* w = kWords[rng.Below(kWordCount)];
    if (line.size() + 1 + std::strlen(w) > 76) break;
    if (!line.empty()) line += ' ';
    line += w;
  }
}

class MessageMaker {
 public:
  MessageMaker(std::uint64_t seed, MboxWriter& out) : rng_(seed), out_(out) {
    // A pool of base64 lines, so attachments cost a copy, not a draw per
    // byte.
    base64_pool_.resize(kPool);
    for (auto& l : base64_pool_) {
      l.resize(76);
      for (auto& c : l) c = kBase64[rng_.Below(64)];
    }
  }

  // Writes message `index` with about `size` bytes (header included).
  void Write(std::uint64_t index, std::uint64_t size, bool attachment) {
    std::int64_t when = 1704067200 + static_cast<std::int64_t>(index) * 61;
    std::uint64_t sender = rng_.Below(500);
    std::string from_line = "From sender" + std::to_string(sender) +
                            "@example.org " +
                            FormatDate(when, "%a %b %e %H:%M:%S %Y") + "\n";
    std::string header;
    header += "Return-Path: <sender" + std::to_string(sender) +
              "@example.org>\n";
    header += "Delivered-To: bench@example.com\n";
    std::uint64_t hops = 3 + rng_.Below(4);
    for (std::uint64_t h = 0; h < hops; ++h) {
      header += "Received: from mx" + std::to_string(rng_.Below(40)) +
                ".example.net (mx.example.net [192.0.2." +
                std::to_string(1 + rng_.Below(250)) +
                "])\n\tby mail.example.com (posthorn) with ESMTPS id " +
                std::to_string(rng_.Next() % 1000000000) + "\n\tfor " +
                "<bench@example.com>; " +
                FormatDate(when - static_cast<std::int64_t>(h),
                           "%a, %d %b %Y %H:%M:%S +0000") +
                "\n";
    }
    header += "From: Sender " + std::to_string(sender) + " <sender" +
              std::to_string(sender) + "@example.org>\n";
    header += "To: Bench User <bench@example.com>\n";
    header += "Subject: Message " + std::to_string(index + 1) + " about the " +
              kWords[48 + rng_.Below(26)] + "\n";
    header += "Date: " + FormatDate(when, "%a, %d %b %Y %H:%M:%S +0000") + "\n";
    header += "Message-ID: <" + std::to_string(index + 1) + "." +
              std::to_string(rng_.Next() % 100000000) + "@example.org>\n";
    header += "MIME-Version: 1.0\n";
    std::string boundary = "=_b" + std::to_string(index + 1);
    if (attachment) {
      header += "Content-Type: multipart/mixed; boundary=\"" + boundary +
                "\"\n";
    } else {
      header += "Content-Type: text/plain; charset=utf-8\n"
                "Content-Transfer-Encoding: 8bit\n";
    }
    out_.Put(from_line);
    out_.Put(header);
    out_.Put("\n");
    std::uint64_t used = from_line.size() + header.size() + 1;
    std::uint64_t body = size > used + 200 ? size - used : 200;
    if (!attachment) {
      TextBody(body);
    } else {
      std::uint64_t text = 1000 + rng_.Below(2000);
      out_.Put("This is a multi-part message in MIME format.\n\n--" +
               boundary +
               "\nContent-Type: text/plain; charset=utf-8\n"
               "Content-Transfer-Encoding: 8bit\n\n");
      TextBody(text);
      out_.Put("\n--" + boundary +
               "\nContent-Type: application/pdf; name=\"report-" +
               std::to_string(index + 1) +
               ".pdf\"\nContent-Transfer-Encoding: base64\n"
               "Content-Disposition: attachment; filename=\"report-" +
               std::to_string(index + 1) + ".pdf\"\n\n");
      std::uint64_t rest = body > text + 400 ? body - text - 400 : 0;
      for (std::uint64_t n = 0; n < rest; n += 77) {
        out_.Put(base64_pool_[rng_.Below(kPool)]);
        out_.Put("\n");
      }
      out_.Put("--" + boundary + "--\n");
    }
    out_.Put("\n");  // the empty line that ends an mbox message
  }

 private:
  // Text lines until about `bytes`; now and then a quoted block, a line
  // starting "From " (written ">From ", mboxrd) or with '.'.
  void TextBody(std::uint64_t bytes) {
    std::uint64_t n = 0;
    while (n < bytes) {
      std::uint64_t kind = rng_.Below(100);
      TextLine(rng_, line_);
      if (kind < 8) {
        line_ = "> " + line_;
      } else if (kind == 8) {
        line_ = ">From the minutes: " + line_.substr(0, 40);
      } else if (kind == 9) {
        line_ = "..." + line_.substr(0, 60);
      } else if (kind < 14) {
        line_.clear();  // paragraph break
      }
      out_.Put(line_);
      out_.Put("\n");
      n += line_.size() + 1;
    }
  }

  static constexpr std::size_t kPool = 4096;
  SplitMix64 rng_;
  MboxWriter& out_;
  std::vector<std::string> base64_pool_;
  std::string line_;
};

[[noreturn]] void Usage() {
  std::fprintf(stderr,
               "usage: pop3_make_maildrop --messages N [--profile text|mixed] "
               "[--total-bytes B] [--seed S] --out FILE\n");
  std::exit(64);
}

std::uint64_t ParseNumber(const char* text) {
  char* end = nullptr;
  errno = 0;
  unsigned long long v = std::strtoull(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || text[0] == '-') Usage();
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  std::uint64_t messages = 0, total_bytes = 0, seed = 0x706f703362656e63ULL;
  std::string profile = "text", out_path;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (i + 1 >= argc) Usage();
    const char* value = argv[++i];
    if (arg == "--messages") messages = ParseNumber(value);
    else if (arg == "--total-bytes") total_bytes = ParseNumber(value);
    else if (arg == "--seed") seed = ParseNumber(value);
    else if (arg == "--profile") profile = value;
    else if (arg == "--out") out_path = value;
    else Usage();
  }
  if (messages == 0 || messages > 10'000'000 || out_path.empty() ||
      (profile != "text" && profile != "mixed"))
    Usage();

  // Draw every size first, so --total-bytes can scale them.
  SplitMix64 rng(seed ^ 0x51e5);
  std::vector<std::uint64_t> sizes(messages);
  std::vector<bool> attachment(messages, false);
  std::uint64_t drawn = 0;
  for (std::uint64_t i = 0; i < messages; ++i) {
    if (profile == "text") {
      sizes[i] = LogUniform(rng, 1536, 12 * 1024);
    } else if (rng.Below(100) < 15) {
      attachment[i] = true;
      sizes[i] = LogUniform(rng, 20 * 1024, 3 * 1024 * 1024);
    } else {
      sizes[i] = LogUniform(rng, 1536, 30 * 1024);
    }
    drawn += sizes[i];
  }
  if (total_bytes > 0) {
    // Scale in per-mille steps: integer arithmetic, no overflow below
    // 2^54 bytes.
    std::uint64_t permille = total_bytes * 1000 / drawn;
    for (auto& s : sizes) {
      s = s * permille / 1000;
      if (s < 1024) s = 1024;
      if (s > (std::uint64_t{64} << 20)) s = std::uint64_t{64} << 20;
    }
  }

  std::FILE* out = std::fopen(out_path.c_str(), "wb");
  if (out == nullptr) {
    std::fprintf(stderr, "pop3_make_maildrop: %s: %s\n", out_path.c_str(),
                 std::strerror(errno));
    return 73;
  }
  std::uint64_t written = 0;
  bool ok = true;
  {
    MboxWriter writer(out);
    MessageMaker maker(seed, writer);
    for (std::uint64_t i = 0; i < messages; ++i)
      maker.Write(i, sizes[i], attachment[i]);
    ok = writer.Flush();
    written = writer.written();
  }
  if (std::fclose(out) != 0) ok = false;
  if (!ok) {
    std::fprintf(stderr, "pop3_make_maildrop: %s: write failed\n",
                 out_path.c_str());
    return 74;
  }
  std::printf("%s: %llu messages, %llu bytes\n", out_path.c_str(),
              static_cast<unsigned long long>(messages),
              static_cast<unsigned long long>(written));
  return 0;
}
