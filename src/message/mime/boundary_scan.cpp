#include "message/mime/boundary_scan.h"

#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace posthorn::message::mime_internal {
namespace {

inline bool IsLineEnd(char c) { return c == '\n' || c == '\r'; }

// Scalar search for (LF|CR) "-" "-" starting with the line-end byte at `i`.
// Returns the offset of the first '-', or kNpos.
std::size_t ScanScalar(const char* d, std::size_t i, std::size_t n) {
  while (i + 2 < n) {
    if (IsLineEnd(d[i]) && d[i + 1] == '-' && d[i + 2] == '-') return i + 1;
    ++i;
  }
  return kNpos;
}

}  // namespace

std::size_t FindDashDashLine(std::string_view data, std::size_t from) {
  const char* d = data.data();
  const std::size_t n = data.size();
  if (from + 2 > n) return kNpos;
  if (from == 0) {
    if (d[0] == '-' && d[1] == '-') return 0;
    from = 1;
  }
  // The line-end byte sits just before the candidate.
  std::size_t i = from - 1;
#if defined(__SSE2__)
  // Three overlapping loads compare positions i, i+1, i+2 at once; the last
  // one reads d[i + 17], hence the bound.
  const __m128i lf = _mm_set1_epi8('\n');
  const __m128i cr = _mm_set1_epi8('\r');
  const __m128i dash = _mm_set1_epi8('-');
  while (i + 18 <= n) {
    const __m128i a =
        _mm_loadu_si128(reinterpret_cast<const __m128i*>(d + i));
    const __m128i b =
        _mm_loadu_si128(reinterpret_cast<const __m128i*>(d + i + 1));
    const __m128i c =
        _mm_loadu_si128(reinterpret_cast<const __m128i*>(d + i + 2));
    const __m128i eol =
        _mm_or_si128(_mm_cmpeq_epi8(a, lf), _mm_cmpeq_epi8(a, cr));
    const __m128i hit = _mm_and_si128(
        eol, _mm_and_si128(_mm_cmpeq_epi8(b, dash), _mm_cmpeq_epi8(c, dash)));
    const unsigned mask = static_cast<unsigned>(_mm_movemask_epi8(hit));
    if (mask != 0) return i + static_cast<std::size_t>(__builtin_ctz(mask)) + 1;
    i += 16;
  }
#endif
  return ScanScalar(d, i, n);
}

bool MatchDelimiter(std::string_view data, std::size_t p,
                    std::string_view boundary, DelimiterMatch* match) {
  const std::size_t n = data.size();
  std::size_t q = p + 2;
  if (boundary.empty() || q + boundary.size() > n) return false;
  if (data[q] != boundary[0] ||
      std::memcmp(data.data() + q, boundary.data(), boundary.size()) != 0) {
    return false;
  }
  q += boundary.size();
  bool is_close = false;
  if (q + 1 < n && data[q] == '-' && data[q + 1] == '-') {
    is_close = true;
    q += 2;
  }
  while (q < n && (data[q] == ' ' || data[q] == '\t')) ++q;
  if (q < n) {
    if (data[q] == '\r') {
      ++q;
      if (q < n && data[q] == '\n') ++q;
    } else if (data[q] == '\n') {
      ++q;
    } else {
      return false;  // "--abcd" is not a delimiter of "abc"
    }
  }
  match->is_close = is_close;
  match->line_end = q;
  return true;
}

}  // namespace posthorn::message::mime_internal
