// Writing mailboxes and address lists (see address.h).

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "message/fields/lexer.h"
#include "posthorn/message/address.h"
#include "posthorn/message/encoded_word.h"

namespace posthorn::message {
namespace {

// RFC 5322 2.1.1: lines SHOULD be at most 78 octets, CRLF excluded.
constexpr std::size_t kFoldWidth = 78;

// quoted-string = DQUOTE *(qtext / quoted-pair) DQUOTE, well formed.
bool IsQuotedString(std::string_view s) {
  if (s.size() < 2 || s.front() != '"' || s.back() != '"') return false;
  for (std::size_t i = 1; i + 1 < s.size(); ++i) {
    const char c = s[i];
    if (c == '\\') {
      if (++i + 1 >= s.size()) return false;  // escapes the closing quote
    } else if (c == '"' || c == '\r' || c == '\n') {
      return false;
    }
  }
  return true;
}

// Atoms and dots only: "a..b" or ".a" are not dot-atoms but the parser
// keeps them as written (mailers accept them), so they are written back so.
bool IsAtomsAndDots(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!fields::Is(c, fields::kDotAtom)) return false;
  }
  return true;
}

void AppendAddrSpec(const Mailbox& m, std::string* out) {
  if (IsAtomsAndDots(m.local_part) || IsQuotedString(m.local_part)) {
    out->append(m.local_part);
  } else {
    out->append(QuoteLocalPart(m.local_part));
  }
  if (!m.domain.empty()) {
    out->push_back('@');
    out->append(m.domain);
  }
}

// The mailbox as written, and where its " <" is (npos without a display
// name): the place a long item may be folded. It must be found here, not by
// searching the text, since a quoted local part or a domain literal may
// hold " <" too, and a fold there would change the address.
std::string FormatMailboxAt(const Mailbox& m, std::size_t* angle) {
  std::string out;
  *angle = std::string::npos;
  if (m.display_name.empty()) {
    AppendAddrSpec(m, &out);
    return out;
  }
  out = EncodePhrase(m.display_name);
  *angle = out.size();
  out.append(" <");
  AppendAddrSpec(m, &out);
  out.push_back('>');
  return out;
}

}  // namespace

std::string QuoteLocalPart(std::string_view local_part) {
  if (fields::IsDotAtomText(local_part)) return std::string(local_part);
  std::string out;
  out.reserve(local_part.size() + 2);
  out.push_back('"');
  for (char c : local_part) {
    if (c == '\r' || c == '\n') continue;  // cannot be written
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

std::string FormatMailbox(const Mailbox& m) {
  std::size_t unused = 0;
  return FormatMailboxAt(m, &unused);
}

std::string FormatAddressList(const std::vector<Mailbox>& list,
                              std::size_t first_line_used) {
  std::string out;
  std::size_t line = first_line_used;  // octets on the current line
  for (std::size_t i = 0; i < list.size(); ++i) {
    std::size_t lt = std::string::npos;
    const std::string item = FormatMailboxAt(list[i], &lt);
    if (i > 0) {
      out.push_back(',');
      ++line;
      if (line + 1 + item.size() > kFoldWidth) {
        out.append("\r\n");
        line = 0;
      }
      out.push_back(' ');
      ++line;
    }
    // An item longer than a line on its own: break before its "<".
    if (line + item.size() > kFoldWidth && lt != std::string::npos &&
        line + lt <= kFoldWidth) {
      out.append(item, 0, lt);
      out.append("\r\n");
      out.append(item, lt);
      line = item.size() - lt;
    } else {
      out.append(item);
      line += item.size();
    }
    // The item may contain folds of its own (long encoded phrases).
    const std::size_t nl = out.rfind('\n');
    if (nl != std::string::npos && nl + 1 >= out.size() - item.size()) {
      line = out.size() - nl - 1;
    }
  }
  return out;
}

}  // namespace posthorn::message
