// Internal: finds the end of a header line and notes suspicious bytes on the
// way, 16 bytes at a time with SSE2 (8 with SWAR elsewhere).
//
// In the header section every CR and every LF ends a line (CRLF, bare LF or
// bare CR: see the LENIENCY note of posthorn/message/header.h), so the scan
// stops at the first of them. NUL and 8-bit bytes do not stop it; the first of
// each is reported so the caller can record one defect per line.
// FindNameEnd does the same for the end of a field name.

#ifndef POSTHORN_SRC_MESSAGE_HEADER_LINE_SCAN_H_
#define POSTHORN_SRC_MESSAGE_HEADER_LINE_SCAN_H_

#include <cstdint>
#include <cstring>

#include "message/header/ascii.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace posthorn::message::header_internal {

struct LineOddities {
  const char* first_nul = nullptr;
  const char* first_eight_bit = nullptr;
};

// Notes byte `p` (known to be NUL or >= 0x80, or a line end). Returns true
// when it is a line end.
inline bool NoteByte(const char* p, LineOddities* odd) {
  const unsigned char c = static_cast<unsigned char>(*p);
  if (c == '\r' || c == '\n') return true;
  if (c == 0) {
    if (odd->first_nul == nullptr) odd->first_nul = p;
  } else if (c >= 0x80) {
    if (odd->first_eight_bit == nullptr) odd->first_eight_bit = p;
  }
  return false;
}

// Returns the first CR or LF in [p, end), or `end`. Never reads outside
// [p, end).
inline const char* FindLineEnd(const char* p, const char* end,
                               LineOddities* odd) {
#if defined(__SSE2__)
  const __m128i cr = _mm_set1_epi8('\r');
  const __m128i lf = _mm_set1_epi8('\n');
  const __m128i zero = _mm_setzero_si128();
  while (end - p >= 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    // A byte's high bit in `hits` is set for CR, LF, NUL, and 8-bit bytes
    // (whose own high bit is set).
    const __m128i hits =
        _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, cr), _mm_cmpeq_epi8(v, lf)),
                     _mm_or_si128(_mm_cmpeq_epi8(v, zero), v));
    unsigned mask = static_cast<unsigned>(_mm_movemask_epi8(hits));
    while (mask != 0) {
      const char* q = p + __builtin_ctz(mask);
      if (NoteByte(q, odd)) return q;
      mask &= mask - 1;
    }
    p += 16;
  }
#else
  constexpr std::uint64_t kOnes = 0x0101010101010101ull;
  constexpr std::uint64_t kHigh = 0x8080808080808080ull;
  while (end - p >= 8) {
    std::uint64_t v;
    std::memcpy(&v, p, 8);
    const std::uint64_t vcr = v ^ (kOnes * '\r');
    const std::uint64_t vlf = v ^ (kOnes * '\n');
    // Nonzero iff some byte is zero, CR, LF or has its high bit set.
    const std::uint64_t hits = ((v - kOnes) & ~v) | ((vcr - kOnes) & ~vcr) |
                               ((vlf - kOnes) & ~vlf) | v;
    if ((hits & kHigh) != 0) {
      for (int i = 0; i < 8; ++i) {
        if (NoteByte(p + i, odd)) return p + i;
      }
    }
    p += 8;
  }
#endif
  for (; p < end; ++p) {
    const unsigned char c = static_cast<unsigned char>(*p);
    if ((c == 0 || c >= 0x80 || c == '\r' || c == '\n') && NoteByte(p, odd)) {
      return p;
    }
  }
  return end;
}

// Returns the first byte in [p, end) that is not ftext (RFC 5322 3.6.8:
// %d33-57 / %d59-126), or `end`: the end of a field name. Never reads outside
// [p, end).
inline const char* FindNameEnd(const char* p, const char* end) {
#if defined(__SSE2__)
  const __m128i space = _mm_set1_epi8(32);
  const __m128i del = _mm_set1_epi8(127);
  const __m128i colon = _mm_set1_epi8(':');
  while (end - p >= 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    // Signed compares: 8-bit bytes are negative, so they fail "> 32".
    const __m128i printable =
        _mm_and_si128(_mm_cmpgt_epi8(v, space), _mm_cmplt_epi8(v, del));
    const __m128i ftext = _mm_andnot_si128(_mm_cmpeq_epi8(v, colon), printable);
    const unsigned mask =
        ~static_cast<unsigned>(_mm_movemask_epi8(ftext)) & 0xFFFFu;
    if (mask != 0) return p + __builtin_ctz(mask);
    p += 16;
  }
#endif
  while (p < end && kFtext[static_cast<unsigned char>(*p)]) ++p;
  return p;
}

}  // namespace posthorn::message::header_internal

#endif  // POSTHORN_SRC_MESSAGE_HEADER_LINE_SCAN_H_
