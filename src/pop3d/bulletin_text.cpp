// pop3d/bulletin_text.cpp — RewriteBulletin (posthorn/pop3d/bulletins.h)
// and detail::BulletinSender (bulletin_text.h).
//
// The text is walked line by line, each line with its own line end kept.
// The header section is the run of lines from the start that are header
// fields ("name:" with a name of printable characters) or their folded
// continuation lines (starting with space or tab); it ends at the empty
// line, or at the first line that is neither — then an empty line is
// inserted, so that line and the rest become the body instead of being
// read as header by a mail program. Only the header section is changed:
//   - a leading mbox "From " line is dropped;
//   - the first To: field (with its continuation lines) becomes
//     "To: user@hostname"; further To: fields are dropped;
//   - Status: and X-Status: fields (with continuations) are dropped;
//   - without any To: field, "To: user@hostname" is added at the end of
//     the header section (the bulletin is addressed to this user now);
//   - everything else, and the whole body, is kept byte for byte.
// Lines added use the line end of the text's first line (CRLF or LF).

#include "pop3d/bulletin_text.h"

#include <cstddef>
#include <string>
#include <string_view>

#include "posthorn/pop3d/bulletins.h"

namespace posthorn::pop3d {
namespace {

constexpr std::size_t kMaxSenderLength = 254;

// Splits `text` into lines, each with its line end ("\n" or "\r\n"); the
// last one may have none.
class LineCursor {
 public:
  explicit LineCursor(std::string_view text) : rest_(text) {}
  bool done() const { return rest_.empty(); }
  std::string_view Peek() const {
    const std::size_t lf = rest_.find('\n');
    return lf == std::string_view::npos ? rest_ : rest_.substr(0, lf + 1);
  }
  std::string_view Next() {
    const std::string_view line = Peek();
    rest_.remove_prefix(line.size());
    return line;
  }
  std::string_view rest() const { return rest_; }

 private:
  std::string_view rest_;
};

bool IsBlank(char c) { return c == ' ' || c == '\t'; }

bool IsAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9');
}

std::string_view StripBlanks(std::string_view text) {
  while (!text.empty() && IsBlank(text.front())) text.remove_prefix(1);
  while (!text.empty() && IsBlank(text.back())) text.remove_suffix(1);
  return text;
}

std::string_view WithoutLineEnd(std::string_view line) {
  if (line.ends_with('\n')) line.remove_suffix(1);
  if (line.ends_with('\r')) line.remove_suffix(1);
  return line;
}

bool IsEmptyLine(std::string_view line) { return WithoutLineEnd(line).empty(); }

bool IsContinuation(std::string_view line) {
  return !line.empty() && (line[0] == ' ' || line[0] == '\t');
}

// The field name of a header line ("Subject" of "Subject: x"), lower-cased
// and without the obsolete white space before the colon; "" when the line
// is not a header field.
std::string FieldName(std::string_view line) {
  const std::size_t colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0) return "";
  std::string_view name = line.substr(0, colon);
  while (!name.empty() && IsBlank(name.back())) name.remove_suffix(1);
  if (name.empty()) return "";
  for (const char c : name) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 33 || byte > 126) return "";
  }
  std::string lower(name);
  for (char& c : lower) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return lower;
}

std::string_view LineEndOf(std::string_view text) {
  const std::size_t lf = text.find('\n');
  if (lf != std::string_view::npos && lf > 0 && text[lf - 1] == '\r') {
    return "\r\n";
  }
  return "\n";
}

bool IsAtext(char c) {
  if (IsAlnum(c)) return true;
  return std::string_view("!#$%&'*+/=?^_`{|}~.-").find(c) !=
         std::string_view::npos;
}

bool IsPlainAddress(std::string_view address) {
  if (address.empty() || address.size() > kMaxSenderLength) return false;
  const std::size_t at = address.find('@');
  if (at == std::string_view::npos || at == 0 || at + 1 == address.size()) {
    return false;
  }
  for (const char c : address.substr(0, at)) {
    if (!IsAtext(c)) return false;
  }
  for (const char c : address.substr(at + 1)) {
    if (!IsAlnum(c) && c != '.' &&
        c != '-') {
      return false;
    }
  }
  return true;
}

}  // namespace

std::string RewriteBulletin(std::string_view text, std::string_view user,
                            std::string_view hostname) {
  const std::string_view eol = LineEndOf(text);
  std::string to_field = "To: ";
  to_field.append(user).append("@").append(hostname).append(eol);

  std::string out;
  out.reserve(text.size() + to_field.size() + 2);
  LineCursor lines(text);
  if (lines.Peek().starts_with("From ")) lines.Next();

  bool to_written = false;
  bool dropping = false;  // inside a field being dropped or replaced
  bool in_field = false;  // a continuation line belongs to a field
  while (!lines.done()) {
    const std::string_view line = lines.Peek();
    if (IsEmptyLine(line)) break;
    if (IsContinuation(line) && in_field) {
      lines.Next();
      if (!dropping) out.append(line);
      continue;
    }
    const std::string name = FieldName(line);
    if (name.empty()) break;  // not a header line: the body starts here
    lines.Next();
    in_field = true;
    dropping = false;
    if (name == "to") {
      dropping = true;
      if (!to_written) out.append(to_field);
      to_written = true;
    } else if (name == "status" || name == "x-status") {
      dropping = true;
    } else {
      out.append(line);
    }
  }
  // A last header line without a line end must not run into ours.
  if (!out.empty() && out.back() != '\n') out.append(eol);
  if (!to_written) out.append(to_field);
  // The empty line is kept as it was; one is added before a body that
  // followed the header without it.
  if (!lines.done() && !IsEmptyLine(lines.Peek())) out.append(eol);
  out.append(lines.rest());
  return out;
}

namespace detail {

std::string BulletinSender(std::string_view text) {
  LineCursor lines(text);
  if (lines.Peek().starts_with("From ")) lines.Next();
  while (!lines.done()) {
    const std::string_view line = lines.Next();
    if (IsEmptyLine(line)) break;
    if (FieldName(line) != "from") continue;
    // The field with its folded continuation lines, unfolded.
    std::string value(WithoutLineEnd(line.substr(line.find(':') + 1)));
    while (!lines.done() && IsContinuation(lines.Peek())) {
      value.append(WithoutLineEnd(lines.Next()));
    }
    std::string_view address = StripBlanks(value);
    if (address.find(',') != std::string_view::npos) break;  // a list
    const std::size_t open = address.find('<');
    if (open != std::string_view::npos) {
      const std::size_t close = address.find('>', open);
      if (close == std::string_view::npos) break;
      address = address.substr(open + 1, close - open - 1);
    }
    if (IsPlainAddress(address)) return std::string(address);
    break;
  }
  return "MAILER-DAEMON";
}

}  // namespace detail
}  // namespace posthorn::pop3d
