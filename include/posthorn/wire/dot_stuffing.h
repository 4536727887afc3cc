// posthorn/wire/dot_stuffing.h — streaming dot-stuffing for SMTP DATA and
// POP3 multi-line responses.
//
// PURPOSE
//   DotStuffingEncoder turns message content into the bytes sent after
//   "354" (SMTP) or "+OK" (POP3 RETR/TOP): a "." is doubled at the start of
//   every line and Finish() adds the terminator. DotStuffingDecoder does the
//   reverse on the receiving side and finds the end of the data. Both take
//   chunks split anywhere (inside "\r\n", inside "\r\n.\r\n") and keep only
//   a few bytes of state, so no message has to fit in memory.
//
//   The SMTP hand-off: a LineReader returns the "DATA" line with the rest
//   of the chunk still in the caller's input; that rest goes to the decoder,
//   and once the decoder is done, chunk.substr(consumed) goes back to the
//   LineReader. Nothing is buffered in between, so pipelining stays exact.
//
// STANDARDS
//   RFC 5321 section 4.5.2 (transparency), section 4.1.1.4 (the end of mail
//   data is <CRLF>.<CRLF>), section 2.3.8 (CR and LF only as CRLF),
//   section 4.5.3.1.6 (text line limit); RFC 1939 section 3 (multi-line
//   responses, byte-stuffing with the termination octet "."); RFC 1870
//   (SIZE counts the message as CRLF text, without the stuffing).
//
// SECURITY: SMTP SMUGGLING (2023)
//   When two servers disagree on where DATA ends, an attacker can hide a
//   second message (with a forged sender) inside the first: the outbound
//   server sends the bytes as data, the inbound one sees an end marker and
//   reads the rest as new commands. The decoder therefore recognises the end
//   ONLY as <CRLF>.<CRLF> in its input, where the first CRLF may be the one
//   that ended the DATA command (the decoder starts at the beginning of a
//   line). <LF>.<LF>, <LF>.<CRLF>, <CR>.<CR>, <CRLF>.<LF>, <CR>.<LF> and all
//   other mixtures are data, under every policy.
//   Bare LF / bare CR (BareNewlinePolicy):
//     kReject (default): the bytes are passed through unchanged, the first
//       offset of each is recorded, and decoding continues to the real
//       <CRLF>.<CRLF> so the session stays in sync; the SMTP layer then
//       rejects the message (status() says why).
//     kNormalize: bare LF and bare CR become CRLF in the output and the
//       message is accepted. RISK: the stored message now holds line ends
//       the sender never sent as CRLF; a later hop that dot-stuffs it is
//       safe (the encoder below stuffs after every line end), but the
//       message's structure differs from what a strict peer would have
//       seen. The end is still recognised only as <CRLF>.<CRLF> in the
//       INPUT, so "\n.\n" never ends the data even though it normalises to
//       "\r\n.\r\n" in the output. Enable only for legacy clients.
//   The encoder never emits a bare CR or bare LF (RFC 5321 2.3.8): each is
//   sent as CRLF, so a lenient next hop can never read a stray newline plus
//   "." as the end of our data.
//
// LIMITS
//   The decoder's state is a few bytes; output is appended to the caller's
//   string per chunk. Optional checks: a text-line limit (reported, not
//   enforced) and a content budget for SIZE: past it, output stops but input
//   is consumed to the end marker, so the server can answer 552 in sync.

#ifndef POSTHORN_WIRE_DOT_STUFFING_H_
#define POSTHORN_WIRE_DOT_STUFFING_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace posthorn::wire {

// ---------------------------------------------------------------------------
// Encoder.

// What line ends the encoder's input uses. Either way the output has CRLF
// line ends only.
enum class EncoderInput : std::uint8_t {
  // Canonical CRLF text (a queued message, a maildrop message). A stray bare
  // LF or bare CR is still sent as CRLF and counted in stray_newlines().
  kCrlf,
  // Local text with LF line ends (sendmail -t / -bs input, Unix files): each
  // LF becomes CRLF, an existing CRLF stays one CRLF. A bare CR is sent as
  // CRLF and counted in stray_newlines().
  kLfToCrlf,
};

class DotStuffingEncoder {
 public:
  explicit DotStuffingEncoder(EncoderInput input = EncoderInput::kCrlf)
      : input_(input) {}

  // Appends the stuffed form of `chunk` to *out.
  void Update(std::string_view chunk, std::string* out);
  // Appends the terminator: CRLF "." CRLF, with the CRLF left out when the
  // content already ended with a line end (empty content gives ".\r\n").
  void Finish(std::string* out);
  // Ready for the next message.
  void Reset();

  // Line ends that were not the input's expected form (see EncoderInput).
  std::uint64_t stray_newlines() const { return stray_newlines_; }

 private:
  EncoderInput input_;
  bool at_line_start_ = true;
  bool skip_lf_ = false;  // a CR was sent as CRLF; an LF next belongs to it
  std::uint64_t stray_newlines_ = 0;
};

// Whole-buffer helper: content in, stuffed bytes with terminator out.
std::string DotStuff(std::string_view content,
                     EncoderInput input = EncoderInput::kCrlf);

// ---------------------------------------------------------------------------
// Decoder.

enum class BareNewlinePolicy : std::uint8_t {
  kReject,     // pass through, record, let the caller reject (default)
  kNormalize,  // turn into CRLF and accept (see SECURITY above)
};

struct DotDecoderOptions {
  BareNewlinePolicy bare_newline = BareNewlinePolicy::kReject;
  // Longest input line, counting its end as two octets (RFC 5321: 1000).
  // 0 = no check. Over-long lines are reported, not cut.
  std::size_t max_line_length = 0;
  // Content budget in decoded octets (the SIZE limit); 0 = none. Output
  // stops exactly at the budget; decoding goes on to the end marker.
  std::uint64_t max_content_bytes = 0;
};

struct DotDecodeResult {
  std::size_t consumed = 0;  // bytes of this chunk that belonged to the data
  bool done = false;         // the end marker was consumed
};

class DotStuffingDecoder {
 public:
  DotStuffingDecoder() = default;
  explicit DotStuffingDecoder(const DotDecoderOptions& options)
      : options_(options) {}

  // Decodes `chunk`, appending content (CRLF line ends, stuffing removed) to
  // *out. When the end marker is in the chunk, decoding stops right after
  // it: consumed < chunk.size() then, and chunk.substr(consumed) is the
  // next command (pipelining), which the caller must keep. After done,
  // Update() consumes nothing until Reset().
  [[nodiscard]] DotDecodeResult Update(std::string_view chunk,
                                       std::string* out);

  bool done() const { return state_ == State::kDone; }
  // Ready for the next message; options are kept.
  void Reset();

  // Offsets below count from the first byte given to Update() (the byte
  // after the "354" reply's command line or the "+OK" line).
  std::uint64_t input_bytes() const { return input_bytes_; }
  // Decoded octets so far, including any past the budget: the SIZE measure.
  std::uint64_t content_bytes() const { return content_bytes_; }
  bool size_exceeded() const { return size_exceeded_; }
  // First bare LF / bare CR in the input, if any (under both policies).
  std::optional<std::uint64_t> first_bare_lf() const { return first_bare_lf_; }
  std::optional<std::uint64_t> first_bare_cr() const { return first_bare_cr_; }
  bool saw_bare_newline() const {
    return first_bare_lf_.has_value() || first_bare_cr_.has_value();
  }
  // Offset of the first line over max_line_length, if any.
  std::optional<std::uint64_t> first_long_line() const {
    return first_long_line_;
  }

  // The verdict on what was decoded so far, first problem first:
  // kInvalidArgument for a bare LF/CR under kReject, kResourceExhausted for
  // an over-long line or an exceeded budget; OK otherwise.
  absl::Status status() const;

 private:
  enum class State : std::uint8_t {
    kLineStart,  // at the beginning of a line
    kDot,        // a "." began the line and was held back
    kDotCr,      // "." CR began the line, both held back
    kText,       // inside a line
    kCr,         // inside a line, just after a CR (already passed on)
    kDone,       // the end marker was consumed
  };

  void Emit(const char* data, std::size_t size, std::string* out);
  void CheckLineLength();

  DotDecoderOptions options_;
  State state_ = State::kLineStart;
  // The current line began after a CRLF (or at the start): only then can
  // ".\r\n" be the end marker.
  bool after_crlf_ = true;
  std::uint64_t input_bytes_ = 0;
  std::uint64_t content_bytes_ = 0;
  std::uint64_t line_offset_ = 0;  // where the current line began
  std::uint64_t line_length_ = 0;  // its input bytes so far
  bool size_exceeded_ = false;
  std::optional<std::uint64_t> first_bare_lf_;
  std::optional<std::uint64_t> first_bare_cr_;
  std::optional<std::uint64_t> first_long_line_;
};

}  // namespace posthorn::wire

#endif  // POSTHORN_WIRE_DOT_STUFFING_H_
