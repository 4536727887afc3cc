// Reply values and their wire form (RFC 5321 4.2, RFC 2034 4).
//
//   Reply-line     = *( Reply-code "-" [ textstring ] CRLF )
//                    Reply-code [ SP textstring ] CRLF
//   Reply-code     = %x32-35 %x30-35 %x30-39
//   textstring     = 1*(%d09 / %d32-126) ; HT, SP, Printable US-ASCII

#include <cassert>
#include <cstddef>
#include <string>
#include <string_view>

#include "posthorn/smtp/reply.h"

namespace posthorn::smtp {
namespace {

void AppendLine(int code, char separator, std::string_view enhanced,
                std::string_view text, std::string* out) {
  assert(code >= 200 && code <= 599);
  const unsigned c = static_cast<unsigned>(code) % 1000u;
  const char head[4] = {static_cast<char>('0' + c / 100),
                        static_cast<char>('0' + c / 10 % 10),
                        static_cast<char>('0' + c % 10), separator};
  const bool has_text = !text.empty();
  // A last line with neither enhanced code nor text is just "250".
  const bool bare = enhanced.empty() && !has_text && separator == ' ';
  out->append(head, bare ? 3 : 4);
  if (!enhanced.empty()) {
    out->append(enhanced);
    if (has_text) out->push_back(' ');
  }
  const std::size_t text_start = out->size();
  out->append(text);
  // Callers never put CR or LF in reply text; if one slips through it must
  // not end the line early (reply injection), so it becomes a space.
  for (std::size_t i = text_start; i < out->size(); ++i) {
    char& ch = (*out)[i];
    if (ch == '\r' || ch == '\n') {
      assert(false && "CR or LF in SMTP reply text");
      ch = ' ';
    }
  }
  out->append("\r\n", 2);
}

}  // namespace

std::string Reply::text() const {
  std::string out;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (i > 0) out.push_back('\n');
    out.append(lines[i]);
  }
  return out;
}

// The text is split at "\n" into lines (a CR before it is dropped), so
// MakeReply(250, "", "host\nPIPELINING\nSIZE 1000") is an EHLO reply.
Reply MakeReply(int code, std::string_view enhanced, std::string_view text) {
  Reply reply;
  reply.code = code;
  reply.enhanced = std::string(enhanced);
  std::size_t start = 0;
  for (;;) {
    std::size_t nl = text.find('\n', start);
    const bool last = nl == std::string_view::npos;
    if (last) nl = text.size();
    std::string_view line = text.substr(start, nl - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    reply.lines.emplace_back(line);
    if (last) break;
    start = nl + 1;
  }
  return reply;
}

void AppendReply(const Reply& reply, std::string* out) {
  if (reply.lines.empty()) {
    AppendLine(reply.code, ' ', reply.enhanced, {}, out);
    return;
  }
  const std::size_t n = reply.lines.size();
  for (std::size_t i = 0; i < n; ++i) {
    AppendLine(reply.code, i + 1 == n ? ' ' : '-', reply.enhanced,
               reply.lines[i], out);
  }
}

void AppendReply(int code, std::string_view enhanced, std::string_view text,
                 std::string* out) {
  AppendLine(code, ' ', enhanced, text, out);
}

std::string FormatReply(const Reply& reply) {
  std::string out;
  AppendReply(reply, &out);
  return out;
}

// RFC 3463 2:
//   status-code = class "." subject "." detail
//   class = "2"/"4"/"5"
//   subject = 1*3digit
//   detail = 1*3digit
bool IsEnhancedStatusCode(std::string_view text) {
  if (text.size() < 5 || (text[0] != '2' && text[0] != '4' && text[0] != '5') ||
      text[1] != '.') {
    return false;
  }
  std::size_t i = 2;
  for (int part = 0; part < 2; ++part) {
    const std::size_t start = i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
    if (i == start || i - start > 3) return false;
    if (part == 0) {
      if (i >= text.size() || text[i] != '.') return false;
      ++i;
    }
  }
  return i == text.size();
}

}  // namespace posthorn::smtp
