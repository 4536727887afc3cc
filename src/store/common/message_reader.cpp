// store/common/message_reader.cpp — see posthorn/store/message_reader.h.

#include "posthorn/store/message_reader.h"

#include <algorithm>
#include <cstring>
#include <utility>

namespace posthorn::store {

absl::StatusOr<std::size_t> StringReader::Read(std::span<char> buffer) {
  std::size_t n = std::min(buffer.size(), rest_.size());
  if (n > 0) std::memcpy(buffer.data(), rest_.data(), n);
  rest_.remove_prefix(n);
  return n;
}

TopReader::TopReader(std::unique_ptr<MessageReader> whole,
                     std::uint64_t body_lines)
    : whole_(std::move(whole)) {
  cut_.Reset(body_lines);
}

absl::StatusOr<std::size_t> TopReader::Read(std::span<char> buffer) {
  if (cut_.done() || buffer.empty()) return 0;
  absl::StatusOr<std::size_t> n = whole_->Read(buffer);
  if (!n.ok() || *n == 0) return n;
  // Not done before this chunk: the prefix kept is at least one byte.
  return cut_.Filter(std::string_view(buffer.data(), *n)).size();
}

absl::StatusOr<std::string> ReadAll(MessageReader& reader) {
  std::string out;
  char buffer[16384];
  for (;;) {
    auto n = reader.Read(buffer);
    if (!n.ok()) return n.status();
    if (*n == 0) return out;
    out.append(buffer, *n);
  }
}

}  // namespace posthorn::store
