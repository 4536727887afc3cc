// store/maildir/crlf_reader.h — a MessageReader that yields a stored (LF)
// message in POP form (CRLF), whole or cut after the header and N body
// lines (RFC 1939 TOP).
//
// The stored bytes come from a RawSource: a file read with pread (Maildir)
// or a string in memory (memory store). Conversion follows line_ends.h.
// Memory use is bounded: one raw chunk and its converted copy (at most
// twice kRawChunk), whatever the message or line length.
//
// TOP: the header section is every line up to and including the first
// empty line ("\n" or "\r\n" stored). A message without one is all header
// and is sent whole. After the empty line at most `body_lines` lines follow.

#ifndef POSTHORN_SRC_STORE_MAILDIR_CRLF_READER_H_
#define POSTHORN_SRC_STORE_MAILDIR_CRLF_READER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "absl/status/statusor.h"
#include "posthorn/store/message_reader.h"

namespace posthorn::store::maildir {

// Stored message bytes in order; Read returns 0 at the end.
class RawSource {
 public:
  virtual ~RawSource() = default;
  virtual absl::StatusOr<std::size_t> ReadRaw(std::span<char> buffer) = 0;
};

class CrlfReader final : public MessageReader {
 public:
  static constexpr std::size_t kRawChunk = 64 * 1024;

  // `top_body_lines` empty: the whole message; else TOP with that many
  // body lines.
  CrlfReader(std::unique_ptr<RawSource> source,
             std::optional<std::uint64_t> top_body_lines);

  absl::StatusOr<std::size_t> Read(std::span<char> buffer) override;

 private:
  // Converts `raw` into out_, stopping early once TOP is complete.
  void Convert(std::string_view raw);

  std::unique_ptr<RawSource> source_;
  std::optional<std::uint64_t> top_body_lines_;
  std::string raw_;
  std::string out_;          // converted bytes not yet handed out
  std::size_t out_offset_ = 0;
  bool source_ended_ = false;
  bool top_complete_ = false;
  // Line state for conversion and TOP.
  bool previous_was_cr_ = false;
  std::uint64_t line_bytes_ = 0;  // stored bytes of the current line so far
  bool in_header_ = true;
  std::uint64_t body_lines_sent_ = 0;
};

}  // namespace posthorn::store::maildir

#endif  // POSTHORN_SRC_STORE_MAILDIR_CRLF_READER_H_
