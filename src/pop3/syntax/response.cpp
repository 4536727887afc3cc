// POP3 status lines; see posthorn/pop3/response.h.

#include <optional>
#include <string>
#include <string_view>

#include "posthorn/pop3/response.h"

namespace posthorn::pop3 {
namespace {

void AppendSafe(std::string_view text, std::string* out) {
  for (const char c : text) {
    out->push_back(c == '\r' || c == '\n' || c == '\0' ? ' ' : c);
  }
}

}  // namespace

// RFC 2449 section 8:
//   resp-code  = "[" resp-level *("/" resp-level) "]"
//   resp-level = 1*rchar
//   rchar      = %x21-2E / %x30-5C / %x5E-7F   (VCHAR except "/" and "]")
bool IsResponseCode(std::string_view code) {
  if (code.empty()) return false;
  bool level_empty = true;
  for (const char c : code) {
    if (c == '/') {
      if (level_empty) return false;
      level_empty = true;
      continue;
    }
    if (c <= 0x20 || c >= 0x7f || c == ']') return false;
    level_empty = false;
  }
  return !level_empty;
}

void AppendStatusLine(bool ok, std::string_view code, std::string_view text,
                      std::string* out) {
  *out += ok ? "+OK" : "-ERR";
  if (!code.empty()) {
    *out += " [";
    AppendSafe(code, out);
    *out += ']';
  }
  if (!text.empty()) {
    *out += ' ';
    AppendSafe(text, out);
  }
  *out += "\r\n";
}

std::optional<Response> ParseStatusLine(std::string_view line) {
  Response r;
  std::string_view rest;
  if (line.substr(0, 3) == "+OK") {
    r.status = Status::kOk;
    rest = line.substr(3);
  } else if (line.substr(0, 4) == "-ERR") {
    r.status = Status::kErr;
    rest = line.substr(4);
  } else if (line == "+" || line.substr(0, 2) == "+ ") {
    // RFC 5034 section 4: continue-req = "+" SP [base64] CRLF; a lone
    // "+" is accepted for servers that drop the space.
    r.status = Status::kContinuation;
    r.text = std::string(line.size() > 2 ? line.substr(2) : std::string_view());
    return r;
  } else {
    return std::nullopt;
  }
  if (!rest.empty()) {
    // "+OKAY" is not a status indicator.
    if (rest[0] != ' ') return std::nullopt;
    rest.remove_prefix(1);
  }
  if (!rest.empty() && rest[0] == '[') {
    const std::size_t close = rest.find(']');
    if (close != std::string_view::npos &&
        IsResponseCode(rest.substr(1, close - 1))) {
      r.code = std::string(rest.substr(1, close - 1));
      rest.remove_prefix(close + 1);
      if (!rest.empty() && rest[0] == ' ') rest.remove_prefix(1);
    }
  }
  r.text = std::string(rest);
  return r;
}

}  // namespace posthorn::pop3
