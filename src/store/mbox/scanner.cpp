// store/mbox/scanner.cpp — see scanner.h.

#include "store/mbox/scanner.h"

#include <cstring>
#include <optional>

#include "fmt/format.h"
#include "store/fs/file_util.h"
#include "store/mbox/from_line.h"
#include "store/mbox/line_start.h"
#include "store/mbox/uid.h"

namespace posthorn::store::mbox {
namespace {

constexpr std::size_t kScanBufferSize = std::size_t{1} << 20;

// The message being scanned.
struct OpenMessage {
  std::uint64_t offset = 0;
  std::optional<std::uint64_t> from_line_end;
  std::uint64_t line_count = 0;    // LFs, the "From " line's included
  std::uint64_t quoted_lines = 0;  // lines that lose a '>' on reading
  bool last_line_empty = false;    // the last complete line was empty
  UidDigest digest;
};

IndexEntry Close(OpenMessage& message, std::uint64_t end,
                 bool ends_mid_line) {
  IndexEntry entry;
  entry.offset = message.offset;
  entry.disk_length = end - message.offset;
  std::uint64_t content_start = message.from_line_end.value_or(end);
  entry.from_line_length =
      static_cast<std::uint32_t>(content_start - message.offset);
  std::uint64_t content = end - content_start;
  std::uint64_t content_lines =
      message.from_line_end ? message.line_count - 1 : 0;
  if (!ends_mid_line && content > 0 && message.last_line_empty) {
    content -= 1;  // the separator
    content_lines -= 1;
  }
  entry.content_length = content;
  entry.wire_size = content + content_lines - message.quoted_lines;
  if (ends_mid_line && content > 0) entry.wire_size += 2;  // CRLF added
  entry.uid = message.digest.Finish();
  return entry;
}

}  // namespace

bool StartsWithFromLine(int fd, std::uint64_t offset) {
  char bytes[5];
  auto n = fs::PReadSome(fd, bytes, sizeof bytes, offset, "");
  return n.ok() && *n == sizeof bytes &&
         std::string_view(bytes, sizeof bytes) == kFromPrefix;
}

absl::StatusOr<std::vector<IndexEntry>> ScanMbox(int fd,
                                                 const std::string& path,
                                                 std::uint64_t start,
                                                 std::uint64_t end) {
  using Result = LineStartClassifier::Result;
  std::vector<IndexEntry> entries;
  if (start >= end) return entries;
  std::vector<char> buffer(kScanBufferSize);
  std::optional<OpenMessage> message;
  LineStartClassifier classifier;
  bool at_line_start = true;
  std::uint64_t line_start = start;
  // "From " bytes of an undecided line start carried over from the
  // previous buffer, not yet given to any digest (they belong to the next
  // message if the line is a "From " line, else to the current one).
  std::size_t carried = 0;

  std::uint64_t base = start;
  while (base < end) {
    std::size_t want =
        static_cast<std::size_t>(std::min<std::uint64_t>(end - base,
                                                         buffer.size()));
    auto got = fs::PReadSome(fd, buffer.data(), want, base, path);
    if (!got.ok()) return got.status();
    if (*got == 0) {
      return absl::DataLossError(fmt::format("{}: file shrank to {} bytes while being read", path, base));
    }
    const std::size_t n = *got;
    const char* data = buffer.data();
    std::size_t hash_from = 0;  // bytes before this are digested
    std::size_t i = 0;
    while (i < n) {
      if (at_line_start) {
        Result result = classifier.Feed(data[i]);
        if (result == Result::kUndecided) {
          ++i;
          continue;
        }
        if (result == Result::kFromLine) {
          // A new message starts at line_start.
          std::size_t split = line_start >= base
                                  ? static_cast<std::size_t>(line_start - base)
                                  : 0;
          if (message) {
            message->digest.Update(std::string_view(data + hash_from,
                                                    split - hash_from));
            entries.push_back(Close(*message, line_start, false));
          }
          message.emplace();
          message->offset = line_start;
          message->digest.Update(kFromPrefix.substr(0, carried));
          hash_from = split;
          carried = 0;
          ++i;
          at_line_start = false;
          continue;
        }
        if (!message) {
          return absl::DataLossError(fmt::format("{}: not an mbox: no \"From \" line at offset {}", path, start));
        }
        if (carried > 0) {
          message->digest.Update(kFromPrefix.substr(0, carried));
          carried = 0;
        }
        if (result == Result::kQuotedFrom) {
          ++message->quoted_lines;
          ++i;
        }
        at_line_start = false;
        continue;
      }
      const void* lf = std::memchr(data + i, '\n', n - i);
      if (lf == nullptr) {
        i = n;
        break;
      }
      std::size_t lf_index =
          static_cast<std::size_t>(static_cast<const char*>(lf) - data);
      std::uint64_t lf_offset = base + lf_index;
      ++message->line_count;
      if (!message->from_line_end) {
        message->from_line_end = lf_offset + 1;
      } else {
        message->last_line_empty = lf_offset == line_start;
      }
      i = lf_index + 1;
      at_line_start = true;
      classifier.Reset();
      line_start = base + i;
    }
    // Digest this buffer, except the bytes of an undecided "From" prefix.
    std::size_t hash_to = n;
    if (at_line_start && classifier.gt_count() == 0 &&
        classifier.from_matched() > 0) {
      hash_to = n - (classifier.from_matched() - carried);
      carried = classifier.from_matched();
    }
    if (message) {
      message->digest.Update(
          std::string_view(data + hash_from, hash_to - hash_from));
    }
    base += n;
  }
  if (!message) {
    return absl::DataLossError(fmt::format("{}: not an mbox: no \"From \" line at offset {}", path, start));
  }
  if (carried > 0) message->digest.Update(kFromPrefix.substr(0, carried));
  bool mid_line = !at_line_start || classifier.started();
  entries.push_back(Close(*message, end, mid_line));
  return entries;
}

}  // namespace posthorn::store::mbox
