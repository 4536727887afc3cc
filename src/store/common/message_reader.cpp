// store/common/message_reader.cpp — see posthorn/store/message_reader.h.

#include "posthorn/store/message_reader.h"

#include <algorithm>
#include <cstring>

namespace posthorn::store {

absl::StatusOr<std::size_t> StringReader::Read(std::span<char> buffer) {
  std::size_t n = std::min(buffer.size(), rest_.size());
  if (n > 0) std::memcpy(buffer.data(), rest_.data(), n);
  rest_.remove_prefix(n);
  return n;
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
