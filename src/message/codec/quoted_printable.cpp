// src/message/codec/quoted_printable.cpp — streaming quoted-printable
// (RFC 2045 section 6.7).
//
//   quoted-printable := qp-line *(CRLF qp-line)
//   qp-line := *(qp-segment transport-padding CRLF)
//              qp-part transport-padding
//   qp-segment := qp-section *(SPACE / TAB) "="   ; soft line break
//   ptext := hex-octet / safe-char
//   hex-octet := "=" 2(DIGIT / "A" / "B" / "C" / "D" / "E" / "F")
//   transport-padding := *LWSP-char  ; removed by the decoder (rule 3)
//
// Decoder leniency: lower-case hex digits are accepted (rule 2 asks decoders
// to), a bare LF ends a line like CRLF (and "=" LF is a soft break), "="
// followed by whitespace and then a line end is a soft break, a "=" at the
// very end of the stream is a soft break (a body that does not end in a
// line break is encoded that way, and the MIME parser hands the body
// without the CRLF that belongs to the next boundary).

#include "posthorn/message/quoted_printable.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>

#include "message/codec/ascii.h"

namespace posthorn::message {
namespace {

using codec_internal::kHexValue;
using codec_internal::kUpperHex;

// Longest run of whitespace the decoder holds back while it waits to learn
// whether a line end follows (then the run is dropped). A longer run is
// passed through: no valid encoder writes one (lines are at most 76).
constexpr std::size_t kMaxHeldWhitespace = 256;

// Characters the decoder's fast scan stops at. Blanks are not among them:
// a run of text is copied whole, and only the blanks at its end are looked
// at again when a line end (or the end of the chunk) follows it.
constexpr std::array<bool, 256> kDecodeSpecial = [] {
  std::array<bool, 256> t{};
  t['='] = t['\r'] = t['\n'] = true;
  return t;
}();

inline bool IsHex(char c) {
  return kHexValue[static_cast<unsigned char>(c)] != 0xFF;
}

inline bool IsBlank(char c) { return c == ' ' || c == '\t'; }

// True when one of the eight bytes of `w` is "=", CR or LF (SWAR: a byte
// of w ^ pattern is zero exactly where the byte equals the pattern's).
inline bool HasSpecial(std::uint64_t w) {
  constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
  constexpr std::uint64_t kHighs = 0x8080808080808080ULL;
  auto has_zero = [](std::uint64_t v) {
    return (v - kOnes) & ~v & kHighs;
  };
  return (has_zero(w ^ (kOnes * '=')) | has_zero(w ^ (kOnes * '\r')) |
          has_zero(w ^ (kOnes * '\n'))) != 0;
}

// Decodes buffer[0, n), appending to *out. Returns the number of bytes
// consumed; the rest (a short tail whose meaning depends on bytes not yet
// seen) is for the caller to hold. With `final` everything is consumed.
//
// The output is written through a pointer: *out is grown once by n (every
// input byte gives at most one output byte, except a bare LF, which gives
// CRLF and grows the room when needed) and cut to the real size at the end.
std::size_t DecodeSome(const char* b, std::size_t n, bool final,
                       std::string* out, std::size_t* invalid) {
  const std::size_t old_size = out->size();
  out->resize(old_size + n);
  char* o = out->data() + old_size;
  char* limit = out->data() + out->size();
  auto done = [&](std::size_t consumed) {
    out->resize(static_cast<std::size_t>(o - out->data()));
    return consumed;
  };
  std::size_t i = 0;
  while (i < n) {
    // [start, i) is plain text, copied to [o_start, o) as it is scanned.
    char* const o_start = o;
    while (n - i >= 8) {
      std::uint64_t w;
      std::memcpy(&w, b + i, 8);
      if (HasSpecial(w)) break;
      std::memcpy(o, &w, 8);
      o += 8;
      i += 8;
    }
    while (i < n && !kDecodeSpecial[static_cast<unsigned char>(b[i])]) {
      *o++ = b[i++];
    }
    // The common case first: "=" and two hex digits (a kHexValue entry is
    // 0xFF for a non-digit, so the OR is below 16 only for two digits).
    if (n - i >= 3 && b[i] == '=') {
      const unsigned hi = kHexValue[static_cast<unsigned char>(b[i + 1])];
      const unsigned lo = kHexValue[static_cast<unsigned char>(b[i + 2])];
      if ((hi | lo) < 16) {
        *o++ = static_cast<char>((hi << 4) | lo);
        i += 3;
        continue;
      }
    }
    // `text_end` excludes the run's trailing blanks (only those of this run:
    // a blank written as "=20" is data).
    char* text_end = o;
    while (text_end > o_start && IsBlank(text_end[-1])) --text_end;
    const std::size_t blanks = static_cast<std::size_t>(o - text_end);
    if (i == n) {
      // The blanks at the end of the chunk may be trailing whitespace:
      // held until the next chunk tells (dropped at the end of the stream).
      if (final) {
        o = text_end;
        return done(n);
      }
      if (blanks > kMaxHeldWhitespace) return done(n);
      o = text_end;
      return done(n - blanks);
    }
    const char c = b[i];
    if (c == '\n') {
      o = text_end;  // trailing blanks dropped
      // A bare LF ends a line as well, written as CRLF: two bytes for one.
      if (static_cast<std::size_t>(limit - o) < n - i + 1) {
        const std::size_t used = static_cast<std::size_t>(o - out->data());
        out->resize(out->size() + n - i + 1);
        o = out->data() + used;
        limit = out->data() + out->size();
      }
      *o++ = '\r';
      *o++ = '\n';
      ++i;
      continue;
    }
    if (c == '\r') {
      if (i + 1 == n && !final) {
        if (blanks > kMaxHeldWhitespace) return done(i);
        o = text_end;
        return done(i - blanks);
      }
      if (i + 1 < n && b[i + 1] == '\n') {
        o = text_end;
        *o++ = '\r';
        *o++ = '\n';
        i += 2;
      } else {
        *o++ = '\r';  // a bare CR is kept
        ++i;
      }
      continue;
    }
    // c == '='
    if (i + 1 == n) {
      if (!final) return done(i);
      return done(n);  // "=" at the end of the stream: a soft break
    }
    const char h1 = b[i + 1];
    if (IsHex(h1)) {
      if (i + 2 == n) {
        if (!final) return done(i);
        *o++ = '=';
        ++*invalid;
        ++i;
        continue;
      }
      if (IsHex(b[i + 2])) {
        *o++ = static_cast<char>(
            (kHexValue[static_cast<unsigned char>(h1)] << 4) |
            kHexValue[static_cast<unsigned char>(b[i + 2])]);
        i += 3;
        continue;
      }
    } else if (IsBlank(h1) || h1 == '\r' || h1 == '\n') {
      std::size_t j = i + 1;
      while (j < n && IsBlank(b[j])) ++j;
      if (j - i <= kMaxHeldWhitespace) {
        if (j == n) {
          if (!final) return done(i);
          return done(n);  // "=" and blanks at the end: a soft break
        }
        if (b[j] == '\n') {
          i = j + 1;
          continue;
        }
        if (b[j] == '\r') {
          if (j + 1 == n) {
            if (!final) return done(i);
            return done(n);
          }
          if (b[j + 1] == '\n') {
            i = j + 2;
            continue;
          }
        }
      }
    }
    *o++ = '=';  // junk after "=": kept as written
    ++*invalid;
    ++i;
  }
  return done(n);
}

}  // namespace

void QuotedPrintableDecoder::Update(std::string_view chunk, std::string* out) {
  // Bytes held from the previous chunk are completed with a few bytes of
  // this one at a time, so the held tail stays small.
  constexpr std::size_t kStep = 16;
  std::string combined;
  while (!held_.empty() && !chunk.empty()) {
    const std::size_t take = std::min(kStep, chunk.size());
    combined.assign(held_);
    combined.append(chunk.data(), take);
    chunk.remove_prefix(take);
    const std::size_t used =
        DecodeSome(combined.data(), combined.size(), false, out, &invalid_);
    held_.assign(combined, used, std::string::npos);
  }
  if (chunk.empty()) return;
  const std::size_t used =
      DecodeSome(chunk.data(), chunk.size(), false, out, &invalid_);
  held_.assign(chunk.substr(used));
}

void QuotedPrintableDecoder::Finish(std::string* out) {
  if (!held_.empty()) {
    DecodeSome(held_.data(), held_.size(), true, out, &invalid_);
    held_.clear();
  }
}

namespace {

// Characters written as themselves: printable ASCII except "=" (rule 2).
// SP and HT are literal only where a non-blank follows on the same line.
constexpr std::array<bool, 256> kQpLiteral = [] {
  std::array<bool, 256> t{};
  for (int c = 33; c <= 126; ++c) t[c] = true;
  t['='] = false;
  return t;
}();

// Octets of a line before a soft break: 75, so that with the "=" the line
// has 76 characters (rule 5).
constexpr std::size_t kMaxQpLine = 76;

}  // namespace

void QuotedPrintableEncoder::Update(std::string_view chunk,
                                    std::string* out) {
  out->reserve(out->size() + chunk.size() + chunk.size() / 8 + 8);
  auto put = [&](const char* s, std::size_t len) {
    if (column_ + len > kMaxQpLine - 1) {
      out->append("=\r\n");
      column_ = 0;
    }
    out->append(s, len);
    column_ += len;
  };
  auto put_encoded = [&](unsigned char c) {
    const char e[3] = {'=', kUpperHex[c >> 4], kUpperHex[c & 15]};
    put(e, 3);
  };
  auto hard_break = [&] {
    out->append("\r\n");
    column_ = 0;
  };
  // held_ holds one blank that waits for its successor (literal, unless a
  // line end or the end of the stream follows) and, in text mode, a CR
  // that waits to see whether LF follows.
  for (std::size_t i = 0; i < chunk.size(); ++i) {
    const char c = chunk[i];
    const unsigned char u = static_cast<unsigned char>(c);
    if (!held_.empty()) {
      if (held_.back() == '\r') {
        const bool crlf = c == '\n';
        if (held_.size() == 2) {  // blank then CR
          if (crlf) {
            put_encoded(static_cast<unsigned char>(held_[0]));
          } else {
            put(held_.data(), 1);
          }
        }
        held_.clear();
        if (crlf) {
          hard_break();
          continue;
        }
        put_encoded('\r');  // a bare CR in text
      } else {  // a blank
        if (!binary_ && (c == '\n' || c == '\r')) {
          if (c == '\n') {
            put_encoded(static_cast<unsigned char>(held_[0]));
            held_.clear();
            hard_break();
          } else {
            held_.push_back('\r');
          }
          continue;
        }
        put(held_.data(), 1);
        held_.clear();
      }
    }
    if (kQpLiteral[u]) {
      // The fast path: a run of literal characters.
      std::size_t j = i + 1;
      while (j < chunk.size() &&
             kQpLiteral[static_cast<unsigned char>(chunk[j])]) {
        ++j;
      }
      const char* p = chunk.data() + i;
      std::size_t len = j - i;
      while (len > 0) {
        if (column_ >= kMaxQpLine - 1) {
          out->append("=\r\n");
          column_ = 0;
        }
        const std::size_t room = kMaxQpLine - 1 - column_;
        const std::size_t n = std::min(room, len);
        out->append(p, n);
        column_ += n;
        p += n;
        len -= n;
      }
      i = j - 1;
      continue;
    }
    if (c == ' ' || c == '\t') {
      held_.push_back(c);
      continue;
    }
    if (!binary_ && c == '\n') {
      hard_break();
      continue;
    }
    if (!binary_ && c == '\r') {
      held_.push_back('\r');
      continue;
    }
    put_encoded(u);
  }
}

void QuotedPrintableEncoder::Finish(std::string* out) {
  // A blank at the end of the stream is trailing whitespace: encoded.
  std::string rest;
  rest.swap(held_);
  for (char c : rest) {
    const char e[3] = {'=', kUpperHex[static_cast<unsigned char>(c) >> 4],
                       kUpperHex[static_cast<unsigned char>(c) & 15]};
    if (column_ + 3 > kMaxQpLine - 1) {
      out->append("=\r\n");
      column_ = 0;
    }
    out->append(e, 3);
    column_ += 3;
  }
  column_ = 0;
}

std::string QuotedPrintableDecode(std::string_view in, bool* invalid) {
  std::string out;
  QuotedPrintableDecoder decoder;
  decoder.Update(in, &out);
  decoder.Finish(&out);
  if (invalid != nullptr) *invalid = decoder.saw_invalid();
  return out;
}

std::string QuotedPrintableEncode(std::string_view in, bool binary) {
  std::string out;
  QuotedPrintableEncoder encoder(binary);
  encoder.Update(in, &out);
  encoder.Finish(&out);
  return out;
}

}  // namespace posthorn::message
