// Dot-stuffing decoder and end-of-data detection; see
// posthorn/wire/dot_stuffing.h.
//
// RFC 5321 section 4.5.2:
//   When a line of mail text is received by the SMTP server, it checks the
//   line. If the line is composed of a single period, it is treated as the
//   end of mail indicator. If the first character is a period and there are
//   other characters on the line, the first character is deleted.
// RFC 5321 section 4.1.1.4:
//   The mail data are terminated by a line containing only a period, that
//   is, the character sequence "<CRLF>.<CRLF>", where the first <CRLF> is
//   actually the terminator of the previous line.
//
// Line ends for the purpose of unstuffing are CRLF, bare LF and bare CR (so
// that kNormalize output is stuffing-consistent), but the END is only a line
// "." that began after a CRLF (or at the start) and is itself ended by CRLF.
// Everything else about a "." line is data.
//
// Output is copied in runs: `run` marks the first byte not yet copied, and a
// run is flushed only where bytes must be dropped (the stuffing ".") or
// replaced (normalised line ends).

#include <string>

#include "absl/strings/str_cat.h"
#include "posthorn/wire/dot_stuffing.h"
#include "wire/internal/newline_scan.h"

namespace posthorn::wire {

void DotStuffingDecoder::Reset() {
  state_ = State::kLineStart;
  after_crlf_ = true;
  input_bytes_ = 0;
  content_bytes_ = 0;
  line_offset_ = 0;
  line_length_ = 0;
  size_exceeded_ = false;
  first_bare_lf_.reset();
  first_bare_cr_.reset();
  first_long_line_.reset();
}

void DotStuffingDecoder::Emit(const char* data, std::size_t size,
                              std::string* out) {
  const std::uint64_t before = content_bytes_;
  content_bytes_ += size;
  const std::uint64_t budget = options_.max_content_bytes;
  if (budget != 0 && content_bytes_ > budget) {
    size_exceeded_ = true;
    size = before >= budget ? 0 : static_cast<std::size_t>(budget - before);
  }
  out->append(data, size);
}

void DotStuffingDecoder::CheckLineLength() {
  if (options_.max_line_length != 0 && !first_long_line_.has_value() &&
      line_length_ + 2 > options_.max_line_length) {
    first_long_line_ = line_offset_;
  }
}

DotDecodeResult DotStuffingDecoder::Update(std::string_view chunk,
                                           std::string* out) {
  if (state_ == State::kDone) return {0, true};
  const bool normalize = options_.bare_newline == BareNewlinePolicy::kNormalize;
  const char* const begin = chunk.data();
  const char* const end = begin + chunk.size();
  const char* p = begin;
  const char* run = begin;
  const auto offset_of = [&](const char* at) {
    return input_bytes_ + static_cast<std::uint64_t>(at - begin);
  };
  const auto flush = [&](const char* upto) {
    if (upto > run) Emit(run, static_cast<std::size_t>(upto - run), out);
  };
  // The line ended in a bare LF or bare CR at `at` (output already taken
  // care of by the caller): record it; the next line does not follow a CRLF.
  const auto bare_end = [&](const char* at, bool is_lf) {
    auto& first = is_lf ? first_bare_lf_ : first_bare_cr_;
    if (!first.has_value()) first = offset_of(at);
    after_crlf_ = false;
    state_ = State::kLineStart;
  };

  while (p < end) {
    switch (state_) {
      case State::kLineStart:
        line_offset_ = offset_of(p);
        line_length_ = 0;
        if (*p == '.') {
          flush(p);
          run = ++p;  // hold the "." back
          line_length_ = 1;
          CheckLineLength();
          state_ = State::kDot;
        } else {
          state_ = State::kText;
        }
        break;

      case State::kDot:
        if (*p == '\r') {
          run = ++p;  // hold the CR back too: ".\r\n" may be the end
          state_ = State::kDotCr;
        } else if (*p == '\n') {
          // ".\n": a line holding just "." ended by a bare LF. Not the end;
          // nothing to unstuff ("there are [no] other characters").
          Emit(".", 1, out);
          if (normalize) Emit("\r\n", 2, out);
          run = normalize ? p + 1 : p;  // the LF itself stays, unless replaced
          bare_end(p, true);
          ++p;
        } else {
          state_ = State::kText;  // the held-back "." was stuffing: dropped
        }
        break;

      case State::kDotCr:
        if (*p == '\n') {
          if (after_crlf_) {  // <CRLF>.<CRLF>
            ++p;
            state_ = State::kDone;
            const std::size_t consumed = static_cast<std::size_t>(p - begin);
            input_bytes_ += consumed;
            return {consumed, true};
          }
          // ".\r\n" after a bare line end: data (smuggling attempt or a
          // broken client), kept as the line ".".
          Emit(".\r\n", 3, out);
          run = ++p;
          after_crlf_ = true;
          state_ = State::kLineStart;
        } else {
          // ".\r" + something: the line "." ended by a bare CR.
          Emit(".", 1, out);
          Emit(normalize ? "\r\n" : "\r", normalize ? 2 : 1, out);
          run = p;
          bare_end(p - 1, false);
        }
        break;

      case State::kText: {
        const char* q = internal::FindCrOrLf(p, end);
        line_length_ += static_cast<std::uint64_t>(q - p);
        CheckLineLength();
        if (q == end) {
          p = end;
          break;
        }
        if (*q == '\r') {
          p = q + 1;  // the CR stays in the run
          state_ = State::kCr;
          if (p < end && *p == '\n') {  // fast path: CRLF
            ++p;
            after_crlf_ = true;
            state_ = State::kLineStart;
          }
          break;
        }
        if (normalize) {
          flush(q);
          Emit("\r\n", 2, out);
          run = q + 1;
        }
        bare_end(q, true);
        p = q + 1;
        break;
      }

      case State::kCr:
        if (*p == '\n') {
          ++p;
          after_crlf_ = true;
          state_ = State::kLineStart;
        } else {
          if (normalize) {
            flush(p);  // up to and including the CR
            Emit("\n", 1, out);
            run = p;
          }
          bare_end(p - 1, false);
        }
        break;

      case State::kDone:
        break;  // unreachable: left by the return above
    }
  }
  flush(end);
  input_bytes_ += chunk.size();
  return {chunk.size(), false};
}

absl::Status DotStuffingDecoder::status() const {
  if (options_.bare_newline == BareNewlinePolicy::kReject) {
    if (first_bare_lf_.has_value() &&
        (!first_bare_cr_.has_value() || *first_bare_lf_ < *first_bare_cr_)) {
      return absl::InvalidArgumentError(
          absl::StrCat("bare LF in data at offset ", *first_bare_lf_));
    }
    if (first_bare_cr_.has_value()) {
      return absl::InvalidArgumentError(
          absl::StrCat("bare CR in data at offset ", *first_bare_cr_));
    }
  }
  if (first_long_line_.has_value()) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "data line longer than ", options_.max_line_length,
        " octets at offset ", *first_long_line_));
  }
  if (size_exceeded_) {
    return absl::ResourceExhaustedError(
        absl::StrCat("data larger than ", options_.max_content_bytes,
                     " octets (", content_bytes_, " so far)"));
  }
  return absl::OkStatus();
}

}  // namespace posthorn::wire
