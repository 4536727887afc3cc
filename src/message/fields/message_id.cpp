// RFC 5322 section 3.6.4 identification fields (see message_id.h).

#include "posthorn/message/message_id.h"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "message/fields/calendar.h"
#include "message/fields/lexer.h"

namespace posthorn::message {
namespace {

using fields::Is;
using fields::Lexer;

// id-left  = dot-atom-text / obs-id-left
// id-right = dot-atom-text / no-fold-literal / obs-id-right
// The usual id is checked exactly; anything else with one "@" and no
// whitespace is accepted without complaint (obs forms), the rest recorded.
bool LooksValid(std::string_view inner) {
  const std::size_t at = inner.rfind('@');
  if (at == std::string_view::npos || at == 0 || at + 1 == inner.size()) {
    return false;
  }
  for (char c : inner) {
    if (Is(c, fields::kSpace) || c == '<' || c == '>') return false;
  }
  return true;
}

// At "<": the bracketed id as written; records what is wrong with it.
// Empty when it is "<>".
std::string_view ScanBracketed(Lexer* lx) {
  const std::string_view in = lx->input();
  const std::size_t open = lx->pos();
  const void* close = std::memchr(in.data() + open + 1, '>',
                                  in.size() - open - 1);
  std::size_t end;
  if (close == nullptr) {
    lx->Record(DefectKind::kInvalidMessageId, open);
    end = in.size();
    while (end > open + 1 && Is(in[end - 1], fields::kSpace)) --end;
  } else {
    end = static_cast<std::size_t>(static_cast<const char*>(close) -
                                   in.data()) + 1;
  }
  lx->set_pos(end);
  const std::string_view id = in.substr(open, end - open);
  const std::string_view inner =
      id.substr(1, id.size() - (close == nullptr ? 1 : 2));
  if (inner.empty()) {
    lx->Record(DefectKind::kInvalidMessageId, open);
    return {};
  }
  if (close != nullptr && !LooksValid(inner)) {
    lx->Record(DefectKind::kInvalidMessageId, open);
  }
  return id;
}

// An id without brackets: the run of octets up to whitespace, a comment,
// a "<" or a ",".
std::string_view ScanBare(Lexer* lx) {
  const std::string_view in = lx->input();
  const std::size_t start = lx->pos();
  std::size_t p = start;
  while (p < in.size()) {
    const char c = in[p];
    if (Is(c, fields::kSpace) || c == '(' || c == '<' || c == ',') break;
    ++p;
  }
  lx->set_pos(p);
  return in.substr(start, p - start);
}

void AppendHex(std::uint64_t v, std::string* out) {
  char buf[16];
  int n = 0;
  do {
    buf[n++] = "0123456789abcdef"[v & 15];
    v >>= 4;
  } while (v != 0);
  while (n > 0) out->push_back(buf[--n]);
}

bool IsUsableHostname(std::string_view h) {
  if (fields::IsDotAtomText(h)) return true;
  if (h.size() < 2 || h.front() != '[' || h.back() != ']') return false;
  for (char c : h.substr(1, h.size() - 2)) {
    // dtext = %d33-90 / %d94-126
    if (c < 33 || c > 126 || c == '[' || c == ']' || c == '\\') return false;
  }
  return true;
}

}  // namespace

// msg-id = [CFWS] "<" id-left "@" id-right ">" [CFWS]
std::optional<std::string_view> ParseMessageId(std::string_view value,
                                               Defects* defects,
                                               std::size_t base_offset) {
  Lexer lx(value, defects, base_offset);
  lx.SkipCfws();
  if (lx.AtEnd()) {
    lx.Record(DefectKind::kInvalidMessageId, lx.pos());
    return std::nullopt;
  }
  std::string_view id;
  const std::size_t start = lx.pos();
  if (lx.Peek() == '<') {
    id = ScanBracketed(&lx);
    if (id.empty()) return std::nullopt;
  } else {
    id = ScanBare(&lx);
    lx.Record(DefectKind::kInvalidMessageId, start);
    if (id.empty()) return std::nullopt;
  }
  lx.SkipCfws();
  if (!lx.AtEnd()) lx.Record(DefectKind::kInvalidMessageId, lx.pos());
  return id;
}

// references      = "References:" 1*msg-id CRLF
// obs-references  = "References:" *(phrase / msg-id) CRLF
std::vector<std::string_view> ParseMessageIdList(std::string_view value,
                                                 Defects* defects,
                                                 std::size_t base_offset) {
  std::vector<std::string_view> ids;
  Lexer lx(value, defects, base_offset);
  for (;;) {
    lx.SkipCfws();
    if (lx.AtEnd()) break;
    const char c = lx.Peek();
    const std::size_t start = lx.pos();
    if (c == '<') {
      const std::string_view id = ScanBracketed(&lx);
      if (!id.empty()) ids.push_back(id);
    } else if (c == '"') {
      lx.ScanQuotedString();  // a phrase word (obsolete)
    } else if (c == ',' || c == ';' || c == '>' || c == ')') {
      lx.Advance();  // stray separators some mailers write
    } else {
      const std::string_view word = ScanBare(&lx);
      if (word.empty()) {
        lx.Advance();
      } else if (word.find('@') != std::string_view::npos) {
        lx.Record(DefectKind::kInvalidMessageId, start);
        ids.push_back(word);
      }
      // Otherwise a phrase word of obs-in-reply-to: skipped.
    }
  }
  if (ids.empty() && !value.empty()) {
    lx.Record(DefectKind::kInvalidMessageId, 0);
  }
  return ids;
}

std::string MakeMessageId(absl::Time now, std::uint64_t random,
                          std::string_view hostname) {
  if (!IsUsableHostname(hostname)) hostname = "localhost";
  std::int64_t secs = absl::ToUnixSeconds(now);
  std::int64_t days = secs / 86400;
  secs %= 86400;
  if (secs < 0) {
    secs += 86400;
    --days;
  }
  const fields::CivilDate d = fields::CivilFromDays(days);
  std::string out;
  out.reserve(40 + hostname.size());
  out.push_back('<');
  fields::AppendDigits(d.year < 0 ? 0 : d.year, 4, &out);
  fields::AppendDigits(d.month, 2, &out);
  fields::AppendDigits(d.day, 2, &out);
  fields::AppendDigits(secs / 3600, 2, &out);
  fields::AppendDigits(secs / 60 % 60, 2, &out);
  fields::AppendDigits(secs % 60, 2, &out);
  out.push_back('.');
  AppendHex(random, &out);
  out.push_back('@');
  out.append(hostname);
  out.push_back('>');
  return out;
}

}  // namespace posthorn::message
