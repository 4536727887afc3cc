// Internal: the RFC 5322 lexical tokens shared by the structured field
// parsers (addresses, dates, message ids, Received).
//
// STANDARDS
//   RFC 5322 section 3.2 (lexical tokens) and 4.1 / 4.2 (obsolete forms).
//
//   FWS           = ([*WSP CRLF] 1*WSP) / obs-FWS
//   ctext         = %d33-39 / %d42-91 / %d93-126 / obs-ctext
//   ccontent      = ctext / quoted-pair / comment
//   comment       = "(" *([FWS] ccontent) [FWS] ")"
//   CFWS          = (1*([FWS] comment) [FWS]) / FWS
//   quoted-pair   = ("\" (VCHAR / WSP)) / obs-qp
//   atext         = ALPHA / DIGIT / "!" / "#" / "$" / "%" / "&" / "'" /
//                   "*" / "+" / "-" / "/" / "=" / "?" / "^" / "_" / "`" /
//                   "{" / "|" / "}" / "~"
//   atom          = [CFWS] 1*atext [CFWS]
//   dot-atom-text = 1*atext *("." 1*atext)
//   qcontent      = qtext / quoted-pair
//   quoted-string = [CFWS] DQUOTE *([FWS] qcontent) [FWS] DQUOTE [CFWS]
//   domain-literal = [CFWS] "[" *([FWS] dtext) [FWS] "]" [CFWS]
//
// LENIENCY
//   Octets >= 0x80 are atext (RFC 6532 UTF-8, and raw 8-bit mail). CR and
//   LF count as whitespace anywhere, so folded values work too. Unterminated
//   comments, quoted strings and domain literals end at the end of the input
//   and are recorded. Nesting of comments is counted, never recursed.

#ifndef POSTHORN_SRC_MESSAGE_FIELDS_LEXER_H_
#define POSTHORN_SRC_MESSAGE_FIELDS_LEXER_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "posthorn/message/defect.h"

namespace posthorn::message::fields {

enum CharBits : std::uint8_t {
  kAtext = 1,       // atext, 8-bit octets included
  kSpace = 2,       // SP, HTAB, CR, LF
  kDotAtom = 4,     // atext or "."
  kDigit = 8,
  kAlpha = 16,
};

constexpr std::array<std::uint8_t, 256> MakeCharTable() {
  std::array<std::uint8_t, 256> t{};
  for (int c = 0; c < 256; ++c) {
    std::uint8_t bits = 0;
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    const bool digit = c >= '0' && c <= '9';
    bool atext = alpha || digit || c >= 0x80;
    for (char s : std::string_view("!#$%&'*+-/=?^_`{|}~")) {
      if (c == static_cast<unsigned char>(s)) atext = true;
    }
    if (atext) bits |= kAtext | kDotAtom;
    if (c == '.') bits |= kDotAtom;
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') bits |= kSpace;
    if (digit) bits |= kDigit;
    if (alpha) bits |= kAlpha;
    t[static_cast<std::size_t>(c)] = bits;
  }
  return t;
}

inline constexpr std::array<std::uint8_t, 256> kCharTable = MakeCharTable();

inline bool Is(char c, std::uint8_t bits) {
  return (kCharTable[static_cast<unsigned char>(c)] & bits) != 0;
}

// The body of a quoted string, quotes excluded, still escaped.
struct QuotedSpan {
  std::string_view content;
  bool has_escape = false;  // a quoted-pair or a line break inside
  bool terminated = true;   // false: the input ended inside it
};

// A cursor over one field value. Every read is bounded by in.size().
class Lexer {
 public:
  Lexer(std::string_view in, Defects* defects, std::size_t base_offset)
      : in_(in), defects_(defects), base_(base_offset) {}

  std::string_view input() const { return in_; }
  std::size_t pos() const { return pos_; }
  void set_pos(std::size_t p) { pos_ = p; }
  bool AtEnd() const { return pos_ >= in_.size(); }
  // The current octet, or NUL at the end (NUL is no token's first octet).
  char Peek() const { return pos_ < in_.size() ? in_[pos_] : '\0'; }
  void Advance() { ++pos_; }

  void Record(DefectKind kind, std::size_t at) const {
    if (defects_ != nullptr) defects_->push_back({kind, base_ + at});
  }
  Defects* defects() const { return defects_; }
  std::size_t base() const { return base_; }

  // Skips CFWS; true when anything was skipped.
  bool SkipCfws() {
    const std::size_t start = pos_;
    while (pos_ < in_.size()) {
      const char c = in_[pos_];
      if (Is(c, kSpace)) {
        ++pos_;
      } else if (c == '(') {
        SkipComment();
      } else {
        break;
      }
    }
    return pos_ != start;
  }

  // At "(": skips the comment with everything nested in it.
  void SkipComment() {
    const std::size_t start = pos_;
    std::size_t depth = 0;
    while (pos_ < in_.size()) {
      const char c = in_[pos_++];
      if (c == '(') {
        ++depth;
      } else if (c == ')') {
        if (--depth == 0) return;
      } else if (c == '\\' && pos_ < in_.size()) {
        ++pos_;
      }
    }
    Record(DefectKind::kUnterminatedComment, start);
  }

  // 1*atext (with dots too when `dots`); empty when none.
  std::string_view ScanAtom(bool dots) {
    const std::uint8_t bits = dots ? kDotAtom : kAtext;
    const std::size_t start = pos_;
    while (pos_ < in_.size() && Is(in_[pos_], bits)) ++pos_;
    return in_.substr(start, pos_ - start);
  }

  // At DQUOTE: the quoted string's content (quotes excluded).
  QuotedSpan ScanQuotedString() {
    const std::size_t start = ++pos_;
    QuotedSpan q;
    while (pos_ < in_.size()) {
      const char c = in_[pos_];
      if (c == '"') {
        q.content = in_.substr(start, pos_ - start);
        ++pos_;
        return q;
      }
      if (c == '\\') {
        q.has_escape = true;
        pos_ += pos_ + 1 < in_.size() ? 2 : 1;
      } else {
        if (c == '\r' || c == '\n') q.has_escape = true;
        ++pos_;
      }
    }
    Record(DefectKind::kUnterminatedQuotedString, start - 1);
    q.content = in_.substr(start);
    q.terminated = false;
    return q;
  }

  // At "[": the domain literal as written, brackets included (a closing
  // bracket is not added when missing; the defect says so).
  std::string_view ScanDomainLiteral() {
    const std::size_t start = pos_++;
    while (pos_ < in_.size()) {
      const char c = in_[pos_];
      if (c == ']') {
        ++pos_;
        return in_.substr(start, pos_ - start);
      }
      if (c == '[') break;  // not dtext: cannot be inside
      pos_ += (c == '\\' && pos_ + 1 < in_.size()) ? 2 : 1;
    }
    Record(DefectKind::kUnterminatedDomainLiteral, start);
    return in_.substr(start, pos_ - start);
  }

 private:
  std::string_view in_;
  std::size_t pos_ = 0;
  Defects* defects_;
  std::size_t base_;
};

// Appends the unescaped content of a quoted string: quoted-pairs resolved,
// line breaks (folds, escaped or not) dropped.
inline void AppendUnquoted(const QuotedSpan& q, std::string* out) {
  if (!q.has_escape) {
    out->append(q.content);
    return;
  }
  const std::string_view s = q.content;
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '\\' && i + 1 < s.size()) c = s[++i];
    // A line break is a fold even when escaped (obs-qp): never content.
    if (c == '\r' || c == '\n') continue;
    out->push_back(c);
  }
}

// True for dot-atom-text: 1*atext *("." 1*atext).
inline bool IsDotAtomText(std::string_view s) {
  if (s.empty() || s.front() == '.' || s.back() == '.') return false;
  char prev = '\0';
  for (char c : s) {
    if (c == '.') {
      if (prev == '.') return false;
    } else if (!Is(c, kAtext)) {
      return false;
    }
    prev = c;
  }
  return true;
}

constexpr char AsciiLower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + ('a' - 'A')) : c;
}

inline bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (AsciiLower(a[i]) != AsciiLower(b[i])) return false;
  }
  return true;
}

}  // namespace posthorn::message::fields

#endif  // POSTHORN_SRC_MESSAGE_FIELDS_LEXER_H_
