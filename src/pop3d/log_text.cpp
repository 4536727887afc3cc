// pop3d/log_text.cpp — EscapeForLog and FormatStatsLine
// (posthorn/pop3d/pop3_service.h).
//
// Log lines are read by people and by scripts that split at line ends, so
// nothing a client sent may put a CR, LF, NUL or terminal escape into one:
// every byte outside 0x20..0x7E, and the backslash itself (so an escape in
// the output is never ambiguous), becomes \xHH. The input is cut at
// max_length octets, so one line stays bounded (at most 4 * max_length + 3
// octets of escaped text).

#include <string>
#include <string_view>

#include "fmt/format.h"
#include "posthorn/pop3d/pop3_service.h"

namespace posthorn::pop3d {

std::string EscapeForLog(std::string_view text, std::size_t max_length) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  const bool cut = text.size() > max_length;
  if (cut) text = text.substr(0, max_length);
  std::string out;
  out.reserve(text.size() + (cut ? 3 : 0));
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte <= 0x7E && byte != '\\') {
      out.push_back(c);
    } else {
      out += "\\x";
      out.push_back(kHex[byte >> 4]);
      out.push_back(kHex[byte & 0x0F]);
    }
  }
  if (cut) out += "...";
  return out;
}

std::string FormatStatsLine(const net::Pop3SessionSummary& summary) {
  // The user name was validated at login ([A-Za-z0-9._-]), so escaping
  // changes nothing for a real session; it guards a summary built elsewhere.
  return fmt::format("Stats: {} {} {} {} {}", EscapeForLog(summary.user),
                     summary.deleted_messages, summary.deleted_octets,
                     summary.left_messages, summary.left_octets);
}

}  // namespace posthorn::pop3d
