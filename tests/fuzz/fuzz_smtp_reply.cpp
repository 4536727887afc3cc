// libFuzzer target for posthorn/smtp/reply.h (ReplyParser).
//
// The first input byte picks where the stream is split in two (and, with
// its top bit, whether enhanced codes are expected); the rest is the
// server's byte stream. Invariants checked, not just "no crash":
//   - the stream fed whole and split in two gives the same replies and the
//     same outcome (error or not, same status code);
//   - every reply has a code in 200..599, 1..kMaxReplyLines lines, no CR or
//     LF in a line, and a valid enhanced code when one was split off;
//   - FormatReply of a parsed reply parses back to the same reply (or, when
//     adding the enhanced code to every line makes one too long, fails with
//     kResourceExhausted).

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "posthorn/smtp/reply.h"

namespace {

using posthorn::smtp::Reply;
using posthorn::smtp::ReplyParser;

void Check(bool ok) {
  if (!ok) std::abort();
}

struct Outcome {
  std::vector<Reply> replies;
  bool error = false;
  absl::StatusCode code = absl::StatusCode::kOk;
};

Outcome Run(std::string_view stream, std::size_t cut, bool enhanced) {
  Outcome out;
  ReplyParser parser(enhanced);
  const std::string_view parts[2] = {stream.substr(0, cut), stream.substr(cut)};
  for (std::string_view part : parts) {
    // A copy per chunk: the parser must not keep views into old chunks.
    const std::string chunk(part);
    std::string_view in(chunk);
    for (;;) {
      const auto ev = parser.Next(&in);
      if (ev == ReplyParser::Event::kReply) {
        out.replies.push_back(parser.TakeReply());
        continue;
      }
      if (ev == ReplyParser::Event::kError) {
        out.error = true;
        out.code = parser.status().code();
        Check(!parser.status().ok());
        return out;
      }
      Check(in.empty());
      break;
    }
  }
  return out;
}

bool Same(const Reply& a, const Reply& b) {
  return a.code == b.code && a.enhanced == b.enhanced && a.lines == b.lines;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  if (size == 0) return 0;
  const bool enhanced = (data[0] & 0x80) != 0;
  const std::string_view stream(reinterpret_cast<const char*>(data + 1),
                                size - 1);
  const std::size_t cut =
      stream.empty() ? 0 : (data[0] & 0x7F) % (stream.size() + 1);

  const Outcome whole = Run(stream, stream.size(), enhanced);
  const Outcome split = Run(stream, cut, enhanced);
  Check(whole.error == split.error && whole.code == split.code);
  Check(whole.replies.size() == split.replies.size());
  for (std::size_t i = 0; i < whole.replies.size(); ++i) {
    Check(Same(whole.replies[i], split.replies[i]));
  }

  for (const Reply& r : whole.replies) {
    Check(r.code >= 200 && r.code <= 599);
    Check(!r.lines.empty() && r.lines.size() <= posthorn::smtp::kMaxReplyLines);
    for (const std::string& line : r.lines) {
      Check(line.size() < posthorn::smtp::kSmtpReplyLineMax);
      Check(line.find_first_of("\r\n") == std::string::npos);
    }
    if (!r.enhanced.empty()) {
      Check(enhanced);
      Check(posthorn::smtp::IsEnhancedStatusCode(r.enhanced));
      Check(r.enhanced[0] == static_cast<char>('0' + r.code / 100));
    }
    const std::string wire = posthorn::smtp::FormatReply(r);
    auto again = posthorn::smtp::ParseReply(wire, enhanced);
    if (again.ok()) {
      Check(again->code == r.code && again->lines.size() == r.lines.size());
      Check(posthorn::smtp::FormatReply(*again) == wire);
    } else {
      Check(again.status().code() == absl::StatusCode::kResourceExhausted);
    }
  }
  return 0;
}
