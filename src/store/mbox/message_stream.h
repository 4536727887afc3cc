// store/mbox/message_stream.h — a MessageReader over one message of an
// open mbox: pread in 64 KiB chunks, decoded by MboxrdDecoder (CRLF line
// ends, mboxrd unquoting, optional TOP limit).
//
// The reader shares the session's descriptor, so it stays valid even if
// the session is destroyed first. Bytes before the session's snapshot end
// never change while the session holds its lock (appends go after it; a
// commit needs the session lock), so reads need no write lock.

#ifndef POSTHORN_SRC_STORE_MBOX_MESSAGE_STREAM_H_
#define POSTHORN_SRC_STORE_MBOX_MESSAGE_STREAM_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "posthorn/store/message_reader.h"
#include "store/fs/file_util.h"
#include "store/mbox/mboxrd_decoder.h"

namespace posthorn::store::mbox {

class MboxMessageReader final : public MessageReader {
 public:
  // Reads stored content bytes [offset, offset + length) of `fd`.
  MboxMessageReader(std::shared_ptr<const fs::UniqueFd> fd, std::string path,
                    std::uint64_t offset, std::uint64_t length,
                    std::optional<std::uint64_t> top_body_lines);

  absl::StatusOr<std::size_t> Read(std::span<char> buffer) override;

 private:
  std::shared_ptr<const fs::UniqueFd> fd_;
  std::string path_;
  std::uint64_t next_ = 0;  // file offset of the next chunk
  std::uint64_t end_ = 0;
  std::vector<char> chunk_;
  std::string_view unread_;  // decoded not yet, inside chunk_
  MboxrdDecoder decoder_;
};

}  // namespace posthorn::store::mbox

#endif  // POSTHORN_SRC_STORE_MBOX_MESSAGE_STREAM_H_
