// tests/wire/chunking.h — ways to cut an input into chunks for stream tests.
//
// Every stream parser is tested with its input fed whole, split in two at
// every byte offset, byte by byte, and in pseudo-random chunk sizes. Each
// chunk is copied into its own exactly-sized heap block that is freed as
// soon as the parser has consumed it, so AddressSanitizer catches both
// over-reads and views that outlive the chunk they point into.

#ifndef POSTHORN_TESTS_WIRE_CHUNKING_H_
#define POSTHORN_TESTS_WIRE_CHUNKING_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace posthorn::wire::chunking {

// Chunk sizes that add up to `size` (no empty chunk unless size is 0).
using Cuts = std::vector<std::size_t>;

inline std::vector<Cuts> AllChunkings(std::size_t size,
                                      std::uint32_t seed = 1) {
  std::vector<Cuts> result;
  result.push_back({size});  // whole
  for (std::size_t k = 1; k < size; ++k) result.push_back({k, size - k});
  result.push_back(Cuts(size, 1));  // byte by byte
  std::mt19937 rng(seed);
  for (int round = 0; round < 8; ++round) {
    Cuts cuts;
    std::size_t left = size;
    while (left > 0) {
      const std::size_t n =
          std::min<std::size_t>(left, 1 + rng() % (round < 4 ? 4 : 32));
      cuts.push_back(n);
      left -= n;
    }
    result.push_back(cuts);
  }
  return result;
}

inline std::string Describe(const Cuts& cuts) {
  std::string s = "chunks:";
  for (std::size_t c : cuts) s += " " + std::to_string(c);
  return s;
}

// An exactly-sized copy of one chunk, freed when it goes out of scope.
class Chunk {
 public:
  explicit Chunk(std::string_view bytes)
      : data_(new char[bytes.size() == 0 ? 1 : bytes.size()]),
        size_(bytes.size()) {
    if (size_ != 0) std::memcpy(data_.get(), bytes.data(), size_);
  }
  std::string_view view() const { return {data_.get(), size_}; }

 private:
  std::unique_ptr<char[]> data_;
  std::size_t size_;
};

}  // namespace posthorn::wire::chunking

#endif  // POSTHORN_TESTS_WIRE_CHUNKING_H_
