// ReplyParser: SMTP replies from a byte stream (RFC 5321 4.2).
//
//   Reply-line     = *( Reply-code "-" [ textstring ] CRLF )
//                    Reply-code [ SP textstring ] CRLF
//
// A line is kept in partial_line_ only while it is split across calls, so
// it never grows past kSmtpReplyLineMax.

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "posthorn/smtp/reply.h"

namespace posthorn::smtp {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

ReplyParser::ReplyParser(bool expect_enhanced_codes)
    : expect_enhanced_codes_(expect_enhanced_codes) {}

void ReplyParser::Reset() {
  reply_ = Reply{};
  partial_line_.clear();
  in_reply_ = false;
  status_ = absl::OkStatus();
  bare_lf_lines_ = 0;
}

bool ReplyParser::HandleLine(std::string_view line) {
  if (!line.empty() && line.back() == '\r') {
    line.remove_suffix(1);
  } else {
    ++bare_lf_lines_;  // LENIENCY: a bare LF ends the line too
  }
  // A CR inside the text could end the line for a later reader (a log, a
  // relayed reply): refused rather than carried.
  if (line.find('\r') != std::string_view::npos) {
    status_ = absl::InvalidArgumentError("bare CR in SMTP reply line");
    return false;
  }
  if (line.size() < 3 || !IsDigit(line[0]) || !IsDigit(line[1]) ||
      !IsDigit(line[2])) {
    status_ = absl::InvalidArgumentError(
        "SMTP reply line does not start with a three-digit code");
    return false;
  }
  if (line[0] < '2' || line[0] > '5') {
    status_ = absl::InvalidArgumentError("SMTP reply code outside 2xx..5xx");
    return false;
  }
  bool last = true;
  std::string_view text;
  if (line.size() > 3) {
    if (line[3] == '-') {
      last = false;
    } else if (line[3] != ' ') {
      status_ = absl::InvalidArgumentError(
          "SMTP reply code not followed by space or '-'");
      return false;
    }
    text = line.substr(4);
  }
  const int code =
      (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
  if (!in_reply_) {
    reply_ = Reply{};
    reply_.code = code;
    in_reply_ = true;
  }
  // LENIENCY: a continuation line with another code keeps the first code.
  if (reply_.lines.size() >= kMaxReplyLines) {
    status_ = absl::ResourceExhaustedError("SMTP reply has too many lines");
    return false;
  }
  // RFC 2034 4: the enhanced code (whose class matches the reply code's
  // first digit) starts each text line, followed by SP or the line end.
  // The first line decides: without a code there, later lines are text.
  if (expect_enhanced_codes_ &&
      (reply_.lines.empty() || !reply_.enhanced.empty())) {
    std::size_t len = text.find(' ');
    if (len == std::string_view::npos) len = text.size();
    const std::string_view candidate = text.substr(0, len);
    if (IsEnhancedStatusCode(candidate) && candidate[0] == line[0]) {
      if (reply_.lines.empty()) reply_.enhanced = std::string(candidate);
      text.remove_prefix(len);
      if (!text.empty()) text.remove_prefix(1);
    }
  }
  reply_.lines.emplace_back(text);
  if (last) in_reply_ = false;
  return true;
}

ReplyParser::Event ReplyParser::Next(std::string_view* input) {
  if (!status_.ok()) return Event::kError;
  for (;;) {
    if (input->empty()) return Event::kNeedMoreData;
    const std::size_t nl = input->find('\n');
    if (nl == std::string_view::npos) {
      // Without its LF the line may hold at most kSmtpReplyLineMax - 1.
      if (partial_line_.size() + input->size() > kSmtpReplyLineMax - 1) {
        status_ = absl::ResourceExhaustedError("SMTP reply line too long");
        return Event::kError;
      }
      partial_line_.append(*input);
      input->remove_prefix(input->size());
      return Event::kNeedMoreData;
    }
    if (partial_line_.size() + nl + 1 > kSmtpReplyLineMax) {
      status_ = absl::ResourceExhaustedError("SMTP reply line too long");
      return Event::kError;
    }
    bool ok;
    if (partial_line_.empty()) {
      ok = HandleLine(input->substr(0, nl));
    } else {
      partial_line_.append(input->data(), nl);
      ok = HandleLine(partial_line_);
      partial_line_.clear();
    }
    input->remove_prefix(nl + 1);
    if (!ok) return Event::kError;
    if (!in_reply_) return Event::kReply;
  }
}

absl::StatusOr<Reply> ParseReply(std::string_view wire,
                                 bool expect_enhanced_codes) {
  ReplyParser parser(expect_enhanced_codes);
  switch (parser.Next(&wire)) {
    case ReplyParser::Event::kReply:
      return parser.TakeReply();
    case ReplyParser::Event::kError:
      return parser.status();
    case ReplyParser::Event::kNeedMoreData:
      break;
  }
  return absl::InvalidArgumentError("incomplete SMTP reply");
}

}  // namespace posthorn::smtp
