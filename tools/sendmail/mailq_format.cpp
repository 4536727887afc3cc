// tools/sendmail/mailq_format.cpp — sendmail's mailq layout (see the
// header); network text in replies is escaped so a listing cannot be
// forged by a remote server's reply.

#include "tools/sendmail/mailq_format.h"

#include <algorithm>

#include "fmt/format.h"
#include "posthorn/mta/log.h"

namespace posthorn::tools {
namespace {

constexpr std::string_view kHeader =
    "-----Q-ID----------- --Size-- -----Q-Time----- "
    "------------Sender/Recipient-----------";
// A reply longer than this is cut in the listing (the envelope keeps it).
constexpr std::size_t kMaxReplyShown = 200;
constexpr std::size_t kIdWidth = 20;
constexpr std::size_t kReplyIndent = 17;

}  // namespace

std::string FormatQueueListing(std::string_view queue_dir,
                               const std::vector<store::QueueEnvelope>& queue,
                               absl::TimeZone zone) {
  if (queue.empty()) return "Mail queue is empty\n";
  std::string out = fmt::format("{} ({} request{})\n{}\n", queue_dir,
                                queue.size(), queue.size() == 1 ? "" : "s",
                                kHeader);
  for (const store::QueueEnvelope& e : queue) {
    const std::string id = fmt::format("{:<{}}", e.id, kIdWidth);
    const std::string when =
        e.arrival == absl::InfinitePast()
            ? std::string(16, ' ')
            : absl::FormatTime("%a %b %d %H:%M", e.arrival, zone);
    const std::string prefix = fmt::format("{} {:>8} {} ", id, e.size, when);
    out += fmt::format("{}<{}>\n", prefix, mta::EscapeForLog(e.sender));
    const std::string indent(prefix.size(), ' ');
    for (const store::QueuedRecipient& r : e.recipients) {
      if (r.state != store::RecipientState::kPending) continue;
      if (!r.last_reply.empty()) {
        std::string reply = mta::EscapeForLog(r.last_reply);
        if (reply.size() > kMaxReplyShown) reply.resize(kMaxReplyShown);
        out += fmt::format("{}({})\n", std::string(kReplyIndent, ' '), reply);
      }
      out += fmt::format("{}<{}>\n", indent, mta::EscapeForLog(r.address));
    }
  }
  return out;
}

}  // namespace posthorn::tools
