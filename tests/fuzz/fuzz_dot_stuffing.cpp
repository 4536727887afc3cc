// libFuzzer target for posthorn/wire/dot_stuffing.h.
//
// Input layout: byte 0 holds options (bit 0: kNormalize, bit 1: encoder in
// kLfToCrlf mode, bits 2-4: a line limit, bits 5-7: a size budget), byte 1
// seeds the chunk sizes, the rest is the data. Invariants checked:
//   Decoder, on the data as received bytes:
//   - fed whole or in pseudo-random chunks, the result is the same;
//   - it ends exactly after the first <CRLF>.<CRLF> (counting the DATA
//     command's CRLF in front), never anywhere else: no smuggling;
//   - output <= consumed input + one byte per bare newline (normalisation),
//     and with a budget the output is the unbudgeted output cut at it;
//   - when no bare newline is reported, the output holds none.
//   Encoder, on the data as message content:
//   - chunking does not matter; the only <CRLF>.<CRLF> is the terminator;
//   - decoding the result gives the canonical content back.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "posthorn/wire/dot_stuffing.h"

namespace {

using namespace posthorn::wire;

void Check(bool ok) {
  if (!ok) std::abort();
}

struct Decoded {
  std::string out;
  std::size_t consumed = 0;
  bool done = false;
  std::uint64_t content_bytes = 0;
  bool exceeded = false;
  std::optional<std::uint64_t> lf, cr, long_line;
  bool operator==(const Decoded&) const = default;
};

std::size_t NextChunk(std::uint32_t* seed, std::size_t left) {
  if (*seed == 0) return left;
  *seed = *seed * 1103515245u + 12345u;
  return std::min<std::size_t>(left, 1 + (*seed >> 16) % 23);
}

Decoded Decode(std::string_view in, const DotDecoderOptions& options,
               std::uint32_t seed) {
  DotStuffingDecoder decoder(options);
  Decoded d;
  std::size_t pos = 0;
  while (pos < in.size() && !d.done) {
    const std::size_t n = NextChunk(&seed, in.size() - pos);
    const std::string chunk(in.substr(pos, n));
    const DotDecodeResult r = decoder.Update(chunk, &d.out);
    Check(r.consumed <= n);
    Check(r.done || r.consumed == n);
    d.consumed += r.consumed;
    d.done = r.done;
    pos += n;
  }
  Check(decoder.input_bytes() == d.consumed);
  d.content_bytes = decoder.content_bytes();
  d.exceeded = decoder.size_exceeded();
  d.lf = decoder.first_bare_lf();
  d.cr = decoder.first_bare_cr();
  d.long_line = decoder.first_long_line();
  return d;
}

std::string Encode(std::string_view in, EncoderInput mode,
                   std::uint32_t seed) {
  DotStuffingEncoder encoder(mode);
  std::string out;
  std::size_t pos = 0;
  while (pos < in.size()) {
    const std::size_t n = NextChunk(&seed, in.size() - pos);
    encoder.Update(std::string(in.substr(pos, n)), &out);
    pos += n;
  }
  encoder.Finish(&out);
  return out;
}

std::string Canonical(std::string_view in) {
  std::string out;
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '\r' || in[i] == '\n') {
      out += "\r\n";
      if (in[i] == '\r' && i + 1 < in.size() && in[i + 1] == '\n') ++i;
    } else {
      out += in[i];
    }
  }
  if (!out.empty() && !out.ends_with("\r\n")) out += "\r\n";
  return out;
}

bool HasBareNewline(std::string_view s) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r')) return true;
    if (s[i] == '\r' && (i + 1 == s.size() || s[i + 1] != '\n')) return true;
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  if (size < 2) return 0;
  const std::uint8_t flags = data[0];
  const std::uint32_t seed = 1u + data[1];
  const std::string_view in(reinterpret_cast<const char*>(data) + 2,
                            size - 2);

  DotDecoderOptions options;
  options.bare_newline = (flags & 1) != 0 ? BareNewlinePolicy::kNormalize
                                          : BareNewlinePolicy::kReject;
  options.max_line_length = ((flags >> 2) & 7) * 3;
  options.max_content_bytes = ((flags >> 5) & 7) * 5;

  // --- Decoder.
  const Decoded whole = Decode(in, options, 0);
  Check(Decode(in, options, seed) == whole);

  const std::size_t marker = ("\r\n" + std::string(in)).find("\r\n.\r\n");
  if (marker == std::string::npos) {
    Check(!whole.done && whole.consumed == in.size());
  } else {
    Check(whole.done && whole.consumed == marker + 3);
  }

  DotDecoderOptions unlimited = options;
  unlimited.max_content_bytes = 0;
  const Decoded free = Decode(in, unlimited, 0);
  Check(free.content_bytes == free.out.size());
  Check(free.content_bytes == whole.content_bytes);
  std::size_t bare = 0;
  for (std::size_t i = 0; i < free.consumed; ++i) {
    if ((in[i] == '\n' && (i == 0 || in[i - 1] != '\r')) ||
        (in[i] == '\r' && i + 1 < in.size() && in[i + 1] != '\n')) {
      ++bare;
    }
  }
  Check(free.out.size() <= free.consumed + bare);
  if (options.max_content_bytes != 0) {
    Check(whole.out.size() <= options.max_content_bytes);
    Check(whole.exceeded == (free.out.size() > options.max_content_bytes));
    Check(free.out.compare(0, whole.out.size(), whole.out) == 0);
  } else {
    Check(whole.out == free.out && !whole.exceeded);
  }
  if (!free.lf && !free.cr) {
    // No bare newline seen: none can be in the output (a CR still waiting
    // for its LF at the very end is the one exception).
    std::string_view out = free.out;
    if (!free.done && !out.empty() && out.back() == '\r') out.remove_suffix(1);
    Check(!HasBareNewline(out));
  }
  if (options.bare_newline == BareNewlinePolicy::kNormalize) {
    std::string_view out = free.out;
    if (!free.done && !out.empty() && out.back() == '\r') out.remove_suffix(1);
    Check(!HasBareNewline(out));
  }

  // --- Encoder, then decoder again.
  const EncoderInput mode =
      (flags & 2) != 0 ? EncoderInput::kLfToCrlf : EncoderInput::kCrlf;
  const std::string stuffed = Encode(in, mode, 0);
  Check(Encode(in, mode, seed) == stuffed);
  Check(!HasBareNewline(stuffed));
  const std::size_t end = ("\r\n" + stuffed).find("\r\n.\r\n");
  Check(end != std::string::npos && end + 3 == stuffed.size());
  const Decoded back = Decode(stuffed, DotDecoderOptions{}, seed);
  Check(back.done && back.consumed == stuffed.size());
  Check(!back.lf && !back.cr);
  Check(back.out == Canonical(in));
  return 0;
}
