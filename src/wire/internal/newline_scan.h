// wire/internal/newline_scan.h — find the next CR or LF in a byte range.
//
// Every framing loop in the wire layer (line reader, dot-stuffing encoder and
// decoder) spends its time looking for the next line-end octet. This scan
// looks at 16 bytes per step with SSE2 where the compiler offers it and falls
// back to an 8-byte SWAR scan elsewhere; both return the FIRST match, so a
// caller can treat the result exactly like a byte-by-byte loop.
//
// The scan never reads outside [p, end): vector loads are made only while at
// least 16 (or 8) bytes remain, and the tail is scanned byte by byte.

#ifndef POSTHORN_SRC_WIRE_INTERNAL_NEWLINE_SCAN_H_
#define POSTHORN_SRC_WIRE_INTERNAL_NEWLINE_SCAN_H_

#include <bit>
#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace posthorn::wire::internal {

// Portable version: 8 bytes per step (SWAR) on little-endian targets, then
// byte by byte. Also the reference the SSE2 version is tested against.
inline const char* FindCrOrLfPortable(const char* p, const char* end) {
  if constexpr (std::endian::native == std::endian::little) {
    // A byte of (x - 0x01..) & ~x & 0x80.. is set where x had a zero byte;
    // the lowest set byte is exact (borrows only propagate upwards), and that
    // is the only one used.
    constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
    constexpr std::uint64_t kHigh = 0x8080808080808080ULL;
    while (end - p >= 8) {
      std::uint64_t w;
      std::memcpy(&w, p, 8);
      const std::uint64_t a = w ^ (kOnes * '\r');
      const std::uint64_t b = w ^ (kOnes * '\n');
      const std::uint64_t hit =
          ((a - kOnes) & ~a & kHigh) | ((b - kOnes) & ~b & kHigh);
      if (hit != 0) return p + std::countr_zero(hit) / 8;
      p += 8;
    }
  }
  for (; p < end; ++p) {
    if (*p == '\r' || *p == '\n') return p;
  }
  return end;
}

// Returns a pointer to the first '\r' or '\n' in [p, end), or `end`.
inline const char* FindCrOrLf(const char* p, const char* end) {
#if defined(__SSE2__)
  const __m128i cr = _mm_set1_epi8('\r');
  const __m128i lf = _mm_set1_epi8('\n');
  while (end - p >= 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const int mask = _mm_movemask_epi8(
        _mm_or_si128(_mm_cmpeq_epi8(v, cr), _mm_cmpeq_epi8(v, lf)));
    if (mask != 0) {
      return p + std::countr_zero(static_cast<unsigned>(mask));
    }
    p += 16;
  }
#endif
  return FindCrOrLfPortable(p, end);
}

}  // namespace posthorn::wire::internal

#endif  // POSTHORN_SRC_WIRE_INTERNAL_NEWLINE_SCAN_H_
