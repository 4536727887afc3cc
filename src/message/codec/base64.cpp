// src/message/codec/base64.cpp — streaming base64 (RFC 2045 section 6.8,
// alphabet of RFC 4648 section 4).
//
// Decoding speed comes from four 256-entry tables that hold each sextet
// already shifted into place: a quantum of four characters is four loads and
// three ORs, and a single bit (kBadBit) set by any character outside the
// alphabet sends that quantum to the careful per-character path. In MIME
// bodies the careful path runs only for the CRLF at the end of each line.

#include "posthorn/message/base64.h"

#include <algorithm>
#include <array>
#include <cstring>

namespace posthorn::message {
namespace {

constexpr char kAlphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// Per-character classes of the careful path.
constexpr std::uint8_t kIgnore = 0x40;   // CR, LF, SP, HT (RFC 2045 6.8)
constexpr std::uint8_t kPad = 0x41;      // "="
constexpr std::uint8_t kInvalid = 0x42;  // anything else outside the alphabet

constexpr std::array<std::uint8_t, 256> kSextet = [] {
  std::array<std::uint8_t, 256> t{};
  for (auto& v : t) v = kInvalid;
  for (int i = 0; i < 64; ++i) {
    t[static_cast<unsigned char>(kAlphabet[i])] = static_cast<std::uint8_t>(i);
  }
  t['\r'] = t['\n'] = t[' '] = t['\t'] = kIgnore;
  t['='] = kPad;
  return t;
}();

constexpr std::uint32_t kBadBit = 0x01000000;

constexpr std::array<std::uint32_t, 256> MakeShifted(int shift) {
  std::array<std::uint32_t, 256> t{};
  for (int c = 0; c < 256; ++c) {
    std::uint8_t v = kSextet[c];
    t[c] = v < 64 ? static_cast<std::uint32_t>(v) << shift : kBadBit;
  }
  return t;
}

constexpr std::array<std::uint32_t, 256> kD0 = MakeShifted(18);
constexpr std::array<std::uint32_t, 256> kD1 = MakeShifted(12);
constexpr std::array<std::uint32_t, 256> kD2 = MakeShifted(6);
constexpr std::array<std::uint32_t, 256> kD3 = MakeShifted(0);

inline std::uint32_t DecodeQuantum(const unsigned char* p) {
  return kD0[p[0]] | kD1[p[1]] | kD2[p[2]] | kD3[p[3]];
}

inline void Put3(std::uint32_t x, char* o) {
  o[0] = static_cast<char>(x >> 16);
  o[1] = static_cast<char>(x >> 8);
  o[2] = static_cast<char>(x);
}

}  // namespace

void Base64Decoder::Update(std::string_view chunk, std::string* out) {
  if (chunk.empty()) return;
  const std::size_t old_size = out->size();
  // At most 3 bytes per 4 characters, plus what the held quantum completes.
  out->resize(old_size + (chunk.size() / 4 + 2) * 3);
  char* const begin = out->data() + old_size;
  char* o = begin;
  const unsigned char* p =
      reinterpret_cast<const unsigned char*>(chunk.data());
  const unsigned char* const end = p + chunk.size();

  // The careful path for one character: whitespace, padding, junk, and
  // quanta interrupted by any of these or by a chunk boundary.
  auto step = [&](unsigned char c) {
    const std::uint8_t v = kSextet[c];
    if (v < 64) {
      if (padding_ != 0) {
        // Data after "=" (or after a single "=" that wanted a second one):
        // decoded anyway, as mail readers do, but counted.
        ++invalid_;
        padding_ = 0;
      }
      quantum_ = (quantum_ << 6) | v;
      if (++sextets_ == 4) {
        Put3(quantum_, o);
        o += 3;
        quantum_ = 0;
        sextets_ = 0;
      }
    } else if (v == kIgnore) {
      // RFC 2045: line breaks and white space carry no data.
    } else if (v == kPad) {
      if (sextets_ == 2) {  // "xx==": one byte, one more "=" expected
        *o++ = static_cast<char>(quantum_ >> 4);
        quantum_ = 0;
        sextets_ = 0;
        padding_ = 1;
      } else if (sextets_ == 3) {  // "xxx=": two bytes, done
        *o++ = static_cast<char>(quantum_ >> 10);
        *o++ = static_cast<char>(quantum_ >> 2);
        quantum_ = 0;
        sextets_ = 0;
        padding_ = 2;
      } else if (sextets_ == 0 && padding_ == 1) {
        padding_ = 2;
      } else {
        ++invalid_;  // "=" where no padding can be
      }
    } else {
      ++invalid_;
    }
  };

  while (end - p >= 4) {
    if (sextets_ == 0 && padding_ == 0) {
      // Fast path: whole quanta of alphabet characters. The line break
      // after a run of whole quanta (CRLF or a bare LF) is skipped here,
      // so a MIME body stays on this path from line to line.
      for (;;) {
        while (end - p >= 8) {
          const std::uint32_t a = DecodeQuantum(p);
          const std::uint32_t b = DecodeQuantum(p + 4);
          if ((a | b) & kBadBit) break;
          Put3(a, o);
          Put3(b, o + 3);
          o += 6;
          p += 8;
        }
        if (end - p >= 4) {
          const std::uint32_t a = DecodeQuantum(p);
          if (!(a & kBadBit)) {
            Put3(a, o);
            o += 3;
            p += 4;
          }
        }
        if (end - p >= 2 && p[0] == '\r' && p[1] == '\n') {
          p += 2;
        } else if (end - p >= 1 && p[0] == '\n') {
          ++p;
        } else {
          break;
        }
      }
      if (end - p < 4) break;
    }
    step(*p++);
  }
  while (p < end) step(*p++);
  out->resize(old_size + static_cast<std::size_t>(o - begin));
}

void Base64Decoder::Finish(std::string* out) {
  // A final quantum without its padding: decode the whole bytes it holds.
  if (sextets_ == 1) {
    ++invalid_;  // six bits cannot make a byte
  } else if (sextets_ == 2) {
    out->push_back(static_cast<char>(quantum_ >> 4));
    ++invalid_;
  } else if (sextets_ == 3) {
    out->push_back(static_cast<char>(quantum_ >> 10));
    out->push_back(static_cast<char>(quantum_ >> 2));
    ++invalid_;
  }
  if (padding_ == 1) ++invalid_;  // "xx=" without its second "="
  quantum_ = 0;
  sextets_ = 0;
  padding_ = 0;
}

void Base64Encoder::Update(std::string_view chunk, std::string* out) {
  if (chunk.empty()) return;
  const unsigned char* p =
      reinterpret_cast<const unsigned char*>(chunk.data());
  const unsigned char* end = p + chunk.size();

  // Complete the held partial triple first.
  unsigned char first[3];
  bool have_first = false;
  if (pending_size_ > 0) {
    while (pending_size_ < 3 && p < end) pending_[pending_size_++] = *p++;
    if (pending_size_ < 3) return;
    std::memcpy(first, pending_, 3);
    have_first = true;
    pending_size_ = 0;
  }
  const std::size_t triples =
      static_cast<std::size_t>(end - p) / 3 + (have_first ? 1 : 0);
  const std::size_t chars = triples * 4;
  const std::size_t breaks =
      line_length_ == 0 ? 0 : (column_ + chars) / line_length_ + 1;
  const std::size_t old_size = out->size();
  out->resize(old_size + chars + 2 * breaks);
  char* const begin = out->data() + old_size;
  char* o = begin;
  const std::size_t line = line_length_;
  std::size_t column = column_;

  auto emit4 = [&](const unsigned char* t) {
    const char c[4] = {kAlphabet[t[0] >> 2],
                       kAlphabet[((t[0] & 3) << 4) | (t[1] >> 4)],
                       kAlphabet[((t[1] & 15) << 2) | (t[2] >> 6)],
                       kAlphabet[t[2] & 63]};
    if (line == 0) {
      std::memcpy(o, c, 4);
      o += 4;
      return;
    }
    if (column + 4 <= line) {
      std::memcpy(o, c, 4);
      o += 4;
      column += 4;
      return;
    }
    for (char ch : c) {
      if (column == line) {
        *o++ = '\r';
        *o++ = '\n';
        column = 0;
      }
      *o++ = ch;
      ++column;
    }
  };
  // A line break is written lazily, before the first character of the next
  // line, so that Finish decides about the last one.
  auto line_break_if_full = [&] {
    if (line != 0 && column == line) {
      *o++ = '\r';
      *o++ = '\n';
      column = 0;
    }
  };

  if (have_first) {
    line_break_if_full();
    emit4(first);
  }
  if (line == 0 || (line % 4 == 0 && column % 4 == 0)) {
    // The fast path: whole quanta per line, no per-character checks.
    while (end - p >= 3) {
      line_break_if_full();
      std::size_t quanta = static_cast<std::size_t>(end - p) / 3;
      if (line != 0) quanta = std::min(quanta, (line - column) / 4);
      for (std::size_t k = 0; k < quanta; ++k, p += 3, o += 4) {
        const std::uint32_t v = (std::uint32_t{p[0]} << 16) |
                                (std::uint32_t{p[1]} << 8) | p[2];
        o[0] = kAlphabet[v >> 18];
        o[1] = kAlphabet[(v >> 12) & 63];
        o[2] = kAlphabet[(v >> 6) & 63];
        o[3] = kAlphabet[v & 63];
      }
      if (line != 0) column += quanta * 4;
    }
  } else {
    for (; end - p >= 3; p += 3) {
      line_break_if_full();
      emit4(p);
    }
  }
  while (p < end) pending_[pending_size_++] = *p++;
  column_ = column;
  out->resize(old_size + static_cast<std::size_t>(o - begin));
}

void Base64Encoder::Finish(std::string* out) {
  auto put = [&](char c) {
    if (line_length_ != 0 && column_ == line_length_) {
      out->append("\r\n");
      column_ = 0;
    }
    out->push_back(c);
    ++column_;
  };
  if (pending_size_ > 0) {
    const unsigned char a = pending_[0];
    const unsigned char b = pending_size_ > 1 ? pending_[1] : 0;
    put(kAlphabet[a >> 2]);
    put(kAlphabet[((a & 3) << 4) | (b >> 4)]);
    put(pending_size_ > 1 ? kAlphabet[(b & 15) << 2] : '=');
    put('=');
    pending_size_ = 0;
  }
  if (line_length_ != 0 && column_ > 0) out->append("\r\n");
  column_ = 0;
}

std::string Base64Decode(std::string_view in, bool* invalid) {
  std::string out;
  Base64Decoder decoder;
  decoder.Update(in, &out);
  decoder.Finish(&out);
  if (invalid != nullptr) *invalid = decoder.saw_invalid();
  return out;
}

std::string Base64Encode(std::string_view in, std::size_t line_length) {
  std::string out;
  Base64Encoder encoder(line_length);
  encoder.Update(in, &out);
  encoder.Finish(&out);
  return out;
}

}  // namespace posthorn::message
