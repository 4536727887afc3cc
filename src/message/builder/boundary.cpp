#include "message/builder/boundary.h"

namespace posthorn::message::builder_internal {
namespace {

// SplitMix64 (Steele, Lea, Flood 2014): a bijection with good mixing, so
// consecutive indexes give unrelated-looking boundaries.
std::uint64_t SplitMix64(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

}  // namespace

std::string DeriveBoundary(std::uint64_t random, std::uint64_t index) {
  // Index 0 must not give the raw value (the Message-ID shows it).
  std::uint64_t v = SplitMix64(random + 0x632BE59BD9B4E019ull * (index + 1));
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "=_posthorn_";
  out.resize(kBoundaryLength);
  for (int i = 0; i < 16; ++i) {
    out[kBoundaryLength - 1 - static_cast<std::size_t>(i)] = kHex[v & 0xF];
    v >>= 4;
  }
  return out;
}

}  // namespace posthorn::message::builder_internal
