// JSON string quoting: see json_text.h.

#include "json_text.h"

#include <string>
#include <string_view>

#include "fmt/format.h"

namespace posthorn::examples {

// RFC 8259 7: char = unescaped / escape ( %x22 / %x5C / %x2F / %x62 /
//   %x66 / %x6E / %x72 / %x74 / %x75 4HEXDIG )
//   unescaped = %x20-21 / %x23-5B / %x5D-10FFFF
void AppendJsonString(std::string_view text, std::string* out) {
  out->push_back('"');
  for (const char c : text) {
    switch (c) {
      case '"': *out += "\\\""; break;
      case '\\': *out += "\\\\"; break;
      case '\n': *out += "\\n"; break;
      case '\r': *out += "\\r"; break;
      case '\t': *out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          *out += fmt::format("\\u{:04x}", static_cast<unsigned char>(c));
        } else {
          out->push_back(c);
        }
    }
  }
  out->push_back('"');
}

}  // namespace posthorn::examples
