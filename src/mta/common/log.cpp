// mta::EscapeForLog: network text made safe for one log line.
#include "posthorn/mta/log.h"

#include <fmt/format.h>

namespace posthorn::mta {

std::string EscapeForLog(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    if (c < 0x20 || c >= 0x7f || c == '\\') {
      out += fmt::format("\\x{:02x}", c);
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

}  // namespace posthorn::mta
