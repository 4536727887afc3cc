// posthorn/store/message_reader.h — a message read in chunks.
//
// PURPOSE
//   Messages never have to fit in memory: deliveries pull from a reader
//   (the queue's data file), POP sessions read RETR and TOP through one.
//   A reader yields the message bytes in order; Read() returns 0 at the end.
//
//     char buffer[16384];
//     for (;;) {
//       auto n = reader.Read(buffer);
//       if (!n.ok()) return n.status();
//       if (*n == 0) break;
//       Consume(std::string_view(buffer, *n));
//     }

#ifndef POSTHORN_STORE_MESSAGE_READER_H_
#define POSTHORN_STORE_MESSAGE_READER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "posthorn/wire/top_cut.h"

namespace posthorn::store {

class MessageReader {
 public:
  virtual ~MessageReader() = default;
  // Copies the next bytes into `buffer` (at most buffer.size(), at least 1
  // unless at the end); returns how many, 0 at the end of the message.
  virtual absl::StatusOr<std::size_t> Read(std::span<char> buffer) = 0;
};

// A reader over bytes the caller keeps alive (tests, small messages).
class StringReader final : public MessageReader {
 public:
  explicit StringReader(std::string_view bytes) : rest_(bytes) {}
  absl::StatusOr<std::size_t> Read(std::span<char> buffer) override;

 private:
  std::string_view rest_;
};

// The header section, the empty line after it and at most `body_lines`
// body lines of what `whole` yields (RFC 1939 TOP, by the rules of
// wire::TopCut); `whole` is not read past the cut.
class TopReader final : public MessageReader {
 public:
  TopReader(std::unique_ptr<MessageReader> whole, std::uint64_t body_lines);
  absl::StatusOr<std::size_t> Read(std::span<char> buffer) override;

 private:
  std::unique_ptr<MessageReader> whole_;
  wire::TopCut cut_;
};

// Reads `reader` to the end into a string (tests, small messages only).
absl::StatusOr<std::string> ReadAll(MessageReader& reader);

}  // namespace posthorn::store

#endif  // POSTHORN_STORE_MESSAGE_READER_H_
