// Line framing with a hard limit; see posthorn/wire/line_reader.h.
//
// States: between lines (!in_line_), inside a line that still fits
// (buffer_ holds what came in earlier chunks), inside a line being discarded
// (discarding_), and "content ended in CR, waiting for the next byte"
// (pending_cr_, combined with either of the two before it).

#include "posthorn/wire/line_reader.h"

#include <algorithm>

#include "wire/internal/newline_scan.h"

namespace posthorn::wire {

std::string_view LineEndingName(LineEnding ending) {
  switch (ending) {
    case LineEnding::kCrLf:
      return "crlf";
    case LineEnding::kLf:
      return "lf";
    case LineEnding::kCr:
      return "cr";
    case LineEnding::kNone:
      return "none";
  }
  return "none";
}

LineReader::LineReader(std::size_t max_line_length)
    : max_content_(std::max(max_line_length, kMinLineLengthLimit) - 2) {
  buffer_.reserve(max_content_);
}

absl::Status LineReader::set_max_line_length(std::size_t max_line_length) {
  if (in_line_) {
    return absl::FailedPreconditionError(
        "line length limit changed in the middle of a line");
  }
  max_content_ = std::max(max_line_length, kMinLineLengthLimit) - 2;
  buffer_.clear();
  buffer_.shrink_to_fit();
  buffer_.reserve(max_content_);
  return absl::OkStatus();
}

void LineReader::Reset() {
  buffer_.clear();
  in_line_ = false;
  pending_cr_ = false;
  discarding_ = false;
  finished_ = false;
}

void LineReader::Consume(std::string_view* input, std::size_t n) {
  input->remove_prefix(n);
  offset_ += n;
}

LineReader::Event LineReader::CompleteLine(std::string_view text,
                                           LineEnding ending) {
  line_ = Line{text, ending, line_offset_};
  in_line_ = false;
  pending_cr_ = false;
  return Event::kLine;
}

LineReader::Event LineReader::CompleteOverlong(LineEnding ending) {
  overlong_.ending = ending;
  in_line_ = false;
  pending_cr_ = false;
  discarding_ = false;
  return Event::kLineTooLong;
}

// The current line is over the limit: skip to its end, counting.
LineReader::Event LineReader::NextDiscarding(std::string_view* input) {
  const char* p = input->data();
  const char* end = p + input->size();
  const char* q = internal::FindCrOrLf(p, end);
  overlong_.length += static_cast<std::uint64_t>(q - p);
  if (q == end) {
    Consume(input, input->size());
    return Event::kNeedMoreData;
  }
  if (*q == '\n') {
    Consume(input, static_cast<std::size_t>(q - p) + 1);
    return CompleteOverlong(LineEnding::kLf);
  }
  if (q + 1 == end) {  // a CR ends the chunk: the next byte decides
    pending_cr_ = true;
    Consume(input, input->size());
    return Event::kNeedMoreData;
  }
  const bool crlf = q[1] == '\n';
  Consume(input, static_cast<std::size_t>(q - p) + (crlf ? 2 : 1));
  return CompleteOverlong(crlf ? LineEnding::kCrLf : LineEnding::kCr);
}

LineReader::Event LineReader::Next(std::string_view* input) {
  if (finished_) return Event::kEndOfStream;
  if (!in_line_) {
    // The view handed out for the previous line may point into buffer_;
    // it dies here, as documented.
    buffer_.clear();
  }
  if (input->empty()) return Event::kNeedMoreData;

  if (pending_cr_) {
    // The line's content is complete (in buffer_ or counted as discarded);
    // this byte tells CRLF from a bare CR. A bare CR's successor is not
    // consumed: it begins the next line.
    const bool crlf = input->front() == '\n';
    if (crlf) Consume(input, 1);
    const LineEnding ending = crlf ? LineEnding::kCrLf : LineEnding::kCr;
    if (discarding_) return CompleteOverlong(ending);
    return CompleteLine(buffer_, ending);
  }

  if (!in_line_) {
    in_line_ = true;
    line_offset_ = offset_;
  }
  if (discarding_) return NextDiscarding(input);

  // Look for the line end only as far as the limit allows: content may grow
  // by `room` bytes, and one more byte is needed to see the end.
  const char* p = input->data();
  const char* end = p + input->size();
  const std::size_t room = max_content_ - buffer_.size();
  const char* window_end =
      p + std::min(input->size(), room + std::size_t{1});
  const char* q = internal::FindCrOrLf(p, window_end);
  const std::size_t content = static_cast<std::size_t>(q - p);

  if (q == window_end) {
    if (content <= room) {  // all of *input fits: the line goes on later
      buffer_.append(p, content);
      Consume(input, content);
      return Event::kNeedMoreData;
    }
    // room + 1 more content bytes and no end among them: over the limit.
    discarding_ = true;
    overlong_ = OverlongLine{line_offset_, buffer_.size() + content,
                             LineEnding::kNone};
    buffer_.clear();
    Consume(input, content);
    return NextDiscarding(input);
  }

  LineEnding ending = LineEnding::kLf;
  std::size_t end_size = 1;
  if (*q == '\r') {
    if (q + 1 == end) {  // a CR ends the chunk: keep the content, wait
      buffer_.append(p, content);
      pending_cr_ = true;
      Consume(input, content + 1);
      return Event::kNeedMoreData;
    }
    if (q[1] == '\n') {
      ending = LineEnding::kCrLf;
      end_size = 2;
    } else {
      ending = LineEnding::kCr;
    }
  }
  std::string_view text(p, content);
  if (!buffer_.empty()) {  // the line began in an earlier chunk
    buffer_.append(p, content);
    text = buffer_;
  }
  Consume(input, content + end_size);
  return CompleteLine(text, ending);
}

LineReader::Event LineReader::Finish() {
  if (finished_) return Event::kEndOfStream;
  finished_ = true;
  if (!in_line_) return Event::kEndOfStream;
  const LineEnding ending = pending_cr_ ? LineEnding::kCr : LineEnding::kNone;
  if (discarding_) return CompleteOverlong(ending);
  return CompleteLine(buffer_, ending);
}

}  // namespace posthorn::wire
