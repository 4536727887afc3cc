// boundary_scan.h — finding multipart delimiter lines (RFC 2046 5.1.1).
//
// The hot loop of the MIME parse. A delimiter line starts with "--" at the
// start of a line, so instead of walking the body line by line the scanner
// looks, 16 bytes at a time, for the three-byte pattern (LF or CR) "-" "-"
// and checks the boundary only where it is found. Base64 bodies contain no
// "-", so they are crossed at memory speed.
//
//   dash-boundary     := "--" boundary
//   delimiter         := CRLF dash-boundary
//   close-delimiter   := delimiter "--"
//   transport-padding := *LWSP-char   ; RFC 2046: a sender may add it,
//                                     ; a receiver must ignore it

#ifndef POSTHORN_SRC_MESSAGE_MIME_BOUNDARY_SCAN_H_
#define POSTHORN_SRC_MESSAGE_MIME_BOUNDARY_SCAN_H_

#include <cstddef>
#include <string_view>

namespace posthorn::message::mime_internal {

inline constexpr std::size_t kNpos = std::string_view::npos;

// The smallest p >= from such that data[p] and data[p + 1] are '-' and p is
// a line start (p == 0, or data[p - 1] is LF or CR). kNpos when none.
std::size_t FindDashDashLine(std::string_view data, std::size_t from);

struct DelimiterMatch {
  bool is_close = false;     // "--" boundary "--"
  std::size_t line_end = 0;  // offset just after the line end (or data end)
};

// Whether the line starting at `p` (data[p..p+2) == "--") is a delimiter or
// close-delimiter line of `boundary`: "--" boundary ["--"] *(SP / HTAB)
// followed by CRLF, LF, CR or the end of data.
bool MatchDelimiter(std::string_view data, std::size_t p,
                    std::string_view boundary, DelimiterMatch* match);

// The start of the line end that precedes the line starting at `p`
// (p - 2 for CRLF, p - 1 for LF or CR), never below `floor`.
inline std::size_t LineEndBefore(std::string_view data, std::size_t p,
                                 std::size_t floor) {
  std::size_t e = p;
  if (e > floor && (data[e - 1] == '\n' || data[e - 1] == '\r')) {
    --e;
    if (data[e] == '\n' && e > floor && data[e - 1] == '\r') --e;
  }
  return e;
}

}  // namespace posthorn::message::mime_internal

#endif  // POSTHORN_SRC_MESSAGE_MIME_BOUNDARY_SCAN_H_
