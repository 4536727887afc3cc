// posthorn/message/mime.h — a whole message as a MIME tree, and its bodies.
//
// ParseMessage() takes a complete message in memory (or mmapped) and returns
// its MIME tree: every part with its header section, its parsed Content-Type,
// Content-Transfer-Encoding and Content-Disposition, and views of its raw
// bytes. Nothing is decoded or copied during the parse; DecodeBody() streams
// a part's decoded body on demand, with bounded memory.
//
//   auto msg = posthorn::message::ParseMessage(bytes);
//   if (!msg.ok()) return msg.status();          // a limit was passed
//   for (const auto& [path, part] : msg->Leaves())
//     DecodeBody(*part, [&](std::string_view chunk) { ... });
//
// STANDARDS
//   RFC 2045 (MIME part one: header fields, transfer encodings),
//   RFC 2046 section 5.1 (multipart), 5.1.5 (multipart/digest: the default
//   type of its parts is message/rfc822), 5.2 (message/rfc822),
//   RFC 3501 section 6.4.5 (part numbers, used for Leaves() paths).
//
//   multipart-body := [preamble CRLF]
//                     dash-boundary transport-padding CRLF
//                     body-part *encapsulation
//                     close-delimiter transport-padding
//                     [CRLF epilogue]
//   dash-boundary  := "--" boundary
//   encapsulation  := delimiter transport-padding CRLF body-part
//   delimiter      := CRLF dash-boundary
//   close-delimiter := delimiter "--"
//   transport-padding := *LWSP-char
//
//   The CRLF before a delimiter belongs to the delimiter, not to the part.
//
// LENIENCY (as GMime and Python's email package; each recorded as a Defect)
//   - Line ends may be CRLF, LF or a bare CR, mixed in one message; a
//     delimiter line may start after any of them. (Risk: a reader that only
//     knows CRLF or LF may split such a message differently.)
//   - A delimiter line is "--" boundary, optionally "--", then only spaces
//     and tabs up to the line end: "--abcd" is not a delimiter of "abc".
//   - A multipart that is never closed (kBoundaryNeverClosed): its last part
//     runs to the end of its parent.
//   - A delimiter of an outer multipart inside an inner one closes the inner
//     one and its open parts (kBoundaryClosesOuter).
//   - multipart/* without boundary= (kMissingBoundary): the part is a leaf
//     whose body is kept as it is (its Content-Type is still multipart/...).
//   - A multipart with no delimiter line at all (kNoPartsInMultipart): a leaf
//     too; its whole body is its preamble.
//   - A part whose header section would run into the next delimiter line is
//     cut there (its body is empty).
//   - message/rfc822 bodies are parsed as messages only when their transfer
//     encoding is an identity one (7bit, 8bit, binary).
//
// SECURITY / LIMITS
//   The input is hostile. The parse is iterative (no recursion on the
//   input), linear in its size, and bounded by ParseOptions: nesting deeper
//   than max_depth is kept as one opaque leaf (kNestingTooDeep); more than
//   max_parts parts, or a header section over HeaderLimits, is a
//   kResourceExhausted status. Parsed values are views into the input, which
//   must outlive the Message. DecodeBody never holds more than about
//   chunk_size + 64 KiB of decoded data.

#ifndef POSTHORN_MESSAGE_MIME_H_
#define POSTHORN_MESSAGE_MIME_H_

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "posthorn/message/content_type.h"
#include "posthorn/message/defect.h"
#include "posthorn/message/header.h"

namespace posthorn::message {

struct ParseOptions {
  HeaderLimits header_limits;
  // Multipart / message/rfc822 nesting. A container at this depth is kept as
  // an opaque leaf (kNestingTooDeep). Values above kMaxDepthHardLimit are
  // clamped to it.
  std::size_t max_depth = 32;
  // Total parts (containers included). More gives a kResourceExhausted status.
  std::size_t max_parts = 10'000;
  // Parse message/rfc822 (and message/global) bodies as child messages.
  bool parse_encapsulated = true;
};

// Whatever ParseOptions::max_depth says, nesting never goes deeper than this
// (it bounds the recursion of MimePart's destructor).
inline constexpr std::size_t kMaxDepthHardLimit = 1000;

struct MimePart {
  // Offset of the part's first byte in the top-level buffer.
  std::size_t offset = 0;
  // The part: header section + body.
  std::string_view raw;
  HeaderSection headers;
  // The raw (still encoded) body; for a multipart, everything after its
  // headers (preamble, parts and epilogue).
  std::string_view body;
  // Parsed, or the default: text/plain; charset=us-ascii (message/rfc822
  // inside multipart/digest). The charset parameter value is lowercased.
  ContentType content_type;
  // False when the default applied.
  bool has_content_type = false;
  TransferEncoding encoding = TransferEncoding::k7Bit;
  std::optional<ContentDisposition> disposition;
  // Multipart only: before the first delimiter line and after the close
  // delimiter line (line ends belonging to the delimiters excluded).
  std::string_view preamble, epilogue;
  // The parts of a multipart, or the one message of message/rfc822.
  std::vector<MimePart> children;
  // 0 for the top-level message, parent's depth + 1 below it.
  std::size_t depth = 0;

  bool IsLeaf() const { return children.empty(); }
  // The charset parameter, lowercased, or "" when there is none.
  std::string_view Charset() const;
  // Content-Disposition filename, else Content-Type name, decoded (RFC 2231
  // / RFC 2047); "" if none.
  std::string Filename() const;
};

class Message;

// Parses a whole message. Errors: kResourceExhausted when a HeaderLimits
// bound (from ParseHeaderSection) or max_parts is passed. Everything else is
// a defect in Message::defects().
[[nodiscard]] absl::StatusOr<Message> ParseMessage(
    std::string_view input, const ParseOptions& options = {});

class Message {
 public:
  Message() = default;

  const MimePart& root() const { return root_; }
  const Defects& defects() const { return defects_; }

  // Leaves in document order with their paths: "1" for a single-part message;
  // "1", "2", "2.1" ... IMAP-style (RFC 3501 section 6.4.5) for multiparts.
  // The body of a message/rfc822 part "2" is "2.1" when it is a single part,
  // its parts are "2.1", "2.2", ... when it is a multipart.
  std::vector<std::pair<std::string, const MimePart*>> Leaves() const;

 private:
  friend absl::StatusOr<Message> ParseMessage(std::string_view input,
                                              const ParseOptions& options);
  MimePart root_;
  Defects defects_;
};

// Streams the decoded body of a part (base64 / quoted-printable / identity)
// to `sink` in chunks of at most `chunk_size` bytes; memory stays bounded by
// chunk_size whatever the body size. Encoding problems are appended as
// defects (kInvalidBase64, kInvalidQuotedPrintable). Identity bodies are
// passed as views of the input, without copying.
void DecodeBody(const MimePart& part,
                absl::FunctionRef<void(std::string_view)> sink,
                Defects* defects = nullptr,
                std::size_t chunk_size = 64 * 1024);
std::string DecodeBodyToString(const MimePart& part,
                               Defects* defects = nullptr);
// The decoded body converted from its charset (us-ascii when none) to UTF-8
// (text parts). An unknown charset keeps the bytes, invalid UTF-8 replaced
// by U+FFFD (kUnknownCharset).
std::string DecodeTextToUtf8(const MimePart& part, Defects* defects = nullptr);

}  // namespace posthorn::message

#endif  // POSTHORN_MESSAGE_MIME_H_
