// posthorn/smtp/reply.h — SMTP replies: the value, its wire form, a parser.
//
// PURPOSE
//   A Reply is what a server answers to a command: a three-digit code, an
//   optional enhanced status code (RFC 3463) and one or more text lines.
//   AppendReply() writes the wire form (multi-line with "250-" continuation
//   lines); ReplyParser reads replies back from a byte stream, for the client
//   session and for tests.
//
// STANDARDS
//   RFC 5321 section 4.2 (reply syntax, multi-line replies, codes),
//   section 4.5.3.1.5 (reply line: 512 octets including CRLF);
//   RFC 3463 (enhanced status codes class.subject.detail),
//   RFC 2034 (ENHANCEDSTATUSCODES: the code starts each text line).
//
// LENIENCY (parser)
//   Accepts a bare code line ("250" with no text), a code followed by CRLF,
//   lines ending in bare LF (counted as a defect, not fatal), and tolerates
//   continuation lines whose code differs from the first (the first wins,
//   as most clients do). Refuses: a line not starting with three digits, a
//   first digit outside 2..5, a bare CR inside a line, a line over the
//   limit, more lines than the limit. A refused reply is an error the
//   client turns into "try later".
//
//   With enhanced codes expected, a code is split off a line only when its
//   class equals the reply code's first digit and it is followed by SP or
//   the line end; if the first line carries none, the later lines are kept
//   as text.
//
// LIMITS
//   kMaxReplyLines lines per reply, kSmtpReplyLineMax octets per line.

#ifndef POSTHORN_SMTP_REPLY_H_
#define POSTHORN_SMTP_REPLY_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace posthorn::smtp {

// RFC 5321 4.5.3.1.5: a reply line is at most 512 octets with its CRLF.
inline constexpr std::size_t kSmtpReplyLineMax = 512;
// More lines than any real server sends (EHLO lists ~20).
inline constexpr std::size_t kMaxReplyLines = 100;

// The first digit of the code (RFC 5321 4.2.1).
enum class ReplyClass : std::uint8_t {
  kPositive = 2,      // 2yz: done
  kIntermediate = 3,  // 3yz: go on (354, 334)
  kTransient = 4,     // 4yz: try again later
  kPermanent = 5,     // 5yz: give up
};

struct Reply {
  int code = 0;          // 200..599
  std::string enhanced;  // "2.1.0", or empty when none
  // Text lines without the code, the enhanced code or the line end. At least
  // one (may be empty).
  std::vector<std::string> lines;

  ReplyClass reply_class() const { return static_cast<ReplyClass>(code / 100); }
  bool positive() const { return code >= 200 && code < 300; }
  bool intermediate() const { return code >= 300 && code < 400; }
  bool transient() const { return code >= 400 && code < 500; }
  bool permanent() const { return code >= 500 && code < 600; }
  // All lines joined with "\n" (for logs and error messages).
  std::string text() const;
};

// Convenience constructor: MakeReply(250, "2.1.0", "Ok"). A "\n" in `text`
// starts a new line (a CR before it is dropped), so MakeReply(250, "",
// "host\nPIPELINING") is a two-line reply.
Reply MakeReply(int code, std::string_view enhanced, std::string_view text);

// Appends the wire form of `reply` to *out: every line "code-enh text\r\n"
// except the last, which uses "code enh text\r\n". The enhanced code is
// written on every line when not empty (RFC 2034 section 4). Text is
// written as given: callers never put CR or LF in it (checked in debug
// builds; in release a CR or LF is replaced by a space).
void AppendReply(const Reply& reply, std::string* out);
// Single-line fast path used by the server session: no allocation besides
// growing *out.
void AppendReply(int code, std::string_view enhanced, std::string_view text,
                 std::string* out);
std::string FormatReply(const Reply& reply);

// Checks the form "c.s.d" with c in {2,4,5}, s 1..3 digits, d 1..3 digits.
bool IsEnhancedStatusCode(std::string_view text);

// Streaming reply reader. Feed it the server's bytes; take complete replies.
class ReplyParser {
 public:
  enum class Event : std::uint8_t {
    kReply,         // reply() holds a complete reply
    kNeedMoreData,  // *input is now empty
    kError,         // status() says why; the connection should be dropped
  };

  explicit ReplyParser(bool expect_enhanced_codes = false);

  // Consumes bytes from the front of *input until a reply is complete, more
  // data is needed, or the input is malformed. When it returns kReply, the
  // bytes after the reply are still in *input (needed after STARTTLS: the
  // caller discards them).
  [[nodiscard]] Event Next(std::string_view* input);
  // Splits the enhanced code off the text of each line when present
  // (turned on after EHLO announced ENHANCEDSTATUSCODES).
  void set_expect_enhanced_codes(bool on) { expect_enhanced_codes_ = on; }

  const Reply& reply() const { return reply_; }
  Reply TakeReply() { return std::move(reply_); }
  absl::Status status() const { return status_; }
  // Drops partial state (after STARTTLS).
  void Reset();
  // Lines so far that ended in a bare LF instead of CRLF (tolerated).
  std::size_t bare_lf_lines() const { return bare_lf_lines_; }

 private:
  // Handles one complete line (without its LF); true when the reply ends.
  bool HandleLine(std::string_view line);

  bool expect_enhanced_codes_;
  Reply reply_;
  std::string partial_line_;
  bool in_reply_ = false;
  absl::Status status_;
  std::size_t bare_lf_lines_ = 0;
};

// Whole-buffer helper for tests: parses one reply from the start of `wire`.
absl::StatusOr<Reply> ParseReply(std::string_view wire,
                                 bool expect_enhanced_codes = true);

}  // namespace posthorn::smtp

#endif  // POSTHORN_SMTP_REPLY_H_
