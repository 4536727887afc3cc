// posthorn/wire/line_reader.h — sans-I/O line framing with a hard length limit.
//
// PURPOSE
//   Splits a byte stream (SMTP commands, POP3 commands and responses) into
//   lines. The caller hands in chunks of any size, from one byte to
//   megabytes, and pulls events out:
//
//     wire::LineReader reader(wire::kSmtpCommandLineMax);
//     void OnBytes(std::string_view input) {  // whatever the socket gave
//       for (;;) {
//         switch (reader.Next(&input)) {
//           case LineReader::Event::kLine:        Handle(reader.line()); break;
//           case LineReader::Event::kLineTooLong: Reply500(); break;
//           case LineReader::Event::kNeedMoreData:  // input is now empty
//           case LineReader::Event::kEndOfStream: return;
//         }
//       }
//     }
//
//   Next() consumes bytes from the front of *input. It returns kNeedMoreData
//   only once *input is empty, so the caller never has to keep unconsumed
//   bytes around; after STARTTLS it can still see (and must discard) what
//   follows the command in *input and in has_partial_line().
//
// LINE ENDINGS
//   Each line reports how it ended: CRLF, a bare LF, a bare CR (a CR not
//   followed by LF) or kNone (the stream ended inside the line, see Finish()).
//   A CR that is the last byte of a chunk is held back until the next byte
//   decides; at Finish() it is a bare CR. The reader never rejects anything
//   itself: the protocol layer decides (SMTP rejects bare CR and bare LF,
//   RFC 5321 section 2.3.8).
//
// LIMIT (RFC 5321 section 4.5.3.1, RFC 1939 section 3, RFC 2449 section 4)
//   max_line_length counts the line's content PLUS TWO octets for its end,
//   whatever that end is: a bare-LF line is measured as it would be after
//   normalisation to CRLF, so "512 octets including CRLF" is the same limit
//   for every ending. A longer line is reported exactly once, as
//   kLineTooLong, when its end has been seen (so a server answers 500 for it
//   in order and stays in sync with a pipelining client); its bytes are
//   discarded up to and including its end and reading resumes with the next
//   line. The internal buffer holds at most max_line_length - 2 bytes and is
//   allocated once, whatever the caller feeds.
//
// LIFETIME OF line().text
//   Zero-copy: when the whole line lies inside the chunk passed to Next(),
//   line().text points into that chunk; when the line spans chunks it points
//   into the reader's own buffer. Either way it stays valid until the next
//   call to Next(), Finish(), Reset() or set_max_line_length(), and (in the
//   first case) only as long as the caller keeps the chunk's bytes alive.
//
// SECURITY
//   Memory is bounded by the limit; a peer that never sends a line end only
//   makes the reader count discarded bytes. Scanning is linear in the input
//   for every input (no rescans), so a hostile stream of CRs cannot make it
//   quadratic.

#ifndef POSTHORN_WIRE_LINE_READER_H_
#define POSTHORN_WIRE_LINE_READER_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace posthorn::wire {

// Limits in octets, line end included.
// RFC 5321 4.5.3.1.4: command line, 512 octets including CRLF.
inline constexpr std::size_t kSmtpCommandLineMax = 512;
// RFC 5321 4.5.3.1.6: text line (DATA), 1000 octets including CRLF.
inline constexpr std::size_t kSmtpTextLineMax = 1000;
// RFC 1939 section 3: a response line is at most 512 octets including CRLF.
inline constexpr std::size_t kPop3ResponseLineMax = 512;
// RFC 2449 section 4: a command line is at most 255 octets including CRLF.
inline constexpr std::size_t kPop3CommandLineMax = 255;
// The smallest limit the reader accepts: an empty line with its end.
inline constexpr std::size_t kMinLineLengthLimit = 2;

enum class LineEnding : std::uint8_t {
  kCrLf,  // "\r\n"
  kLf,    // a bare "\n" (no CR before it)
  kCr,    // a bare "\r" (not followed by "\n")
  kNone,  // the stream ended inside the line (only from Finish())
};

// "crlf", "lf", "cr", "none".
std::string_view LineEndingName(LineEnding ending);
// Octets the ending occupied in the stream: 2, 1, 1, 0.
constexpr std::size_t LineEndingSize(LineEnding ending) {
  return ending == LineEnding::kCrLf ? 2 : ending == LineEnding::kNone ? 0 : 1;
}

struct Line {
  std::string_view text;  // content, without the line end (see LIFETIME)
  LineEnding ending = LineEnding::kNone;
  std::uint64_t offset = 0;  // stream offset of the line's first byte
};

// A line over the limit, after it has been discarded.
struct OverlongLine {
  std::uint64_t offset = 0;  // stream offset of the line's first byte
  std::uint64_t length = 0;  // its content length (line end excluded)
  LineEnding ending = LineEnding::kNone;
  // Bytes discarded in all, line end included.
  std::uint64_t dropped() const { return length + LineEndingSize(ending); }
};

class LineReader {
 public:
  enum class Event : std::uint8_t {
    kLine,          // line() holds the next line
    kLineTooLong,   // overlong() describes a discarded line
    kNeedMoreData,  // *input is empty: feed the next chunk
    kEndOfStream,   // Finish() was called and nothing is left
  };

  // `max_line_length` counts the line end as two octets (see LIMIT); values
  // below kMinLineLengthLimit are raised to it.
  explicit LineReader(std::size_t max_line_length);

  // Consumes bytes from the front of *input and returns the next event.
  // kNeedMoreData means *input has been consumed entirely.
  [[nodiscard]] Event Next(std::string_view* input);

  // Ends the stream: returns the unterminated last line (ending kNone, or
  // kCr when the stream ended in a CR) as kLine or kLineTooLong, then
  // kEndOfStream. Call after Next() returned kNeedMoreData. Next() returns
  // kEndOfStream after Finish() until Reset().
  [[nodiscard]] Event Finish();

  // The line of the last kLine event.
  const Line& line() const { return line_; }
  // The line of the last kLineTooLong event.
  const OverlongLine& overlong() const { return overlong_; }

  // Stream offset of the next byte Next() will consume.
  std::uint64_t offset() const { return offset_; }
  // True when part of a line (or a held-back CR) is buffered: after STARTTLS
  // this must be false, or the peer injected plaintext.
  bool has_partial_line() const { return in_line_; }
  std::size_t max_line_length() const { return max_content_ + 2; }

  // Changes the limit (e.g. for an AUTH exchange). Only between lines:
  // kFailedPrecondition when has_partial_line().
  [[nodiscard]] absl::Status set_max_line_length(std::size_t max_line_length);

  // Forgets any partial line and the end of stream; keeps the stream offset
  // and the limit. The STARTTLS rule: discard what was buffered.
  void Reset();

 private:
  Event CompleteLine(std::string_view text, LineEnding ending);
  Event CompleteOverlong(LineEnding ending);
  Event NextDiscarding(std::string_view* input);
  void Consume(std::string_view* input, std::size_t n);

  std::size_t max_content_;  // max_line_length - 2
  std::string buffer_;       // partial line; capacity max_content_, never more
  std::uint64_t offset_ = 0;
  std::uint64_t line_offset_ = 0;  // where the current line began
  bool in_line_ = false;           // a line has begun and not ended
  bool pending_cr_ = false;        // the line's content ended with a CR
  bool discarding_ = false;        // the current line is over the limit
  bool finished_ = false;
  Line line_;
  OverlongLine overlong_;
};

}  // namespace posthorn::wire

#endif  // POSTHORN_WIRE_LINE_READER_H_
