// Internal: multipart boundaries derived from the caller's randomness.
//
//   boundary := 0*69<bchars> bcharsnospace
//   bchars := bcharsnospace / " "
//   bcharsnospace := DIGIT / ALPHA / "'" / "(" / ")" / "+" / "_" / "," /
//                    "-" / "." / "/" / ":" / "=" / "?"      (RFC 2046 5.1.1)
//
// Every boundary is "=_posthorn_" followed by 16 hex digits. "=_" never
// appears in base64 (no "_" in its alphabet) nor in quoted-printable ("="
// is always followed by two hex digits or a line end), so only bodies
// written as they are need to be searched. All boundaries have the same
// length, so one is never a prefix of another (a nested delimiter cannot be
// mistaken for an outer one).

#ifndef POSTHORN_SRC_MESSAGE_BUILDER_BOUNDARY_H_
#define POSTHORN_SRC_MESSAGE_BUILDER_BOUNDARY_H_

#include <cstddef>
#include <cstdint>
#include <string>

namespace posthorn::message::builder_internal {

inline constexpr std::size_t kBoundaryLength = 27;

// The boundary number `index` (0, 1, 2, ...) derived from `random`
// (SplitMix64 of random + index): deterministic, and different for
// different indexes.
std::string DeriveBoundary(std::uint64_t random, std::uint64_t index);

}  // namespace posthorn::message::builder_internal

#endif  // POSTHORN_SRC_MESSAGE_BUILDER_BOUNDARY_H_
