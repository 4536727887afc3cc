// RFC 5322 section 3.4 / 4.4 address parsing (see address.h).

#include "posthorn/message/address.h"

#include <cstddef>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "message/fields/lexer.h"
#include "posthorn/message/encoded_word.h"

namespace posthorn::message {
namespace {

using fields::Is;
using fields::kAtext;
using fields::kDotAtom;
using fields::Lexer;
using fields::QuotedSpan;

// One word of a phrase or local part.
//   word = atom / quoted-string
// Atoms are scanned with their dots ("john.doe", "Q."): a lone "." of
// obs-local-part or obs-phrase is an atom of its own.
struct Word {
  std::string_view atom;  // when !quoted_word
  QuotedSpan quoted;      // when quoted_word
  std::size_t offset = 0;
  bool quoted_word = false;
  bool space_before = false;  // CFWS between it and the previous word
};

// Scans 1*atext from p; returns where the run ends. Unrolled: the bound
// is checked once per four octets.
inline const char* SkipAtext(const char* p, const char* end) {
  while (end - p >= 4) {
    if (!Is(p[0], kAtext)) return p;
    if (!Is(p[1], kAtext)) return p + 1;
    if (!Is(p[2], kAtext)) return p + 2;
    if (!Is(p[3], kAtext)) return p + 3;
    p += 4;
  }
  while (p < end && Is(*p, kAtext)) ++p;
  return p;
}

// Number of octets `c` in `s`.
inline std::size_t CountByte(std::string_view s, char c) {
  std::size_t n = 0;
  const char* p = s.data();
  const char* const end = p + s.size();
  while (p < end) {
    const void* hit = std::memchr(p, c, static_cast<std::size_t>(end - p));
    if (hit == nullptr) break;
    ++n;
    p = static_cast<const char*>(hit) + 1;
  }
  return n;
}

// Scans dot-atom-text from p; returns p itself when there is none (a
// trailing or doubled dot makes it none, leaving the case to the full
// parser).
inline const char* SkipDotAtomText(const char* p, const char* end) {
  const char* s = p;
  for (;;) {
    const char* e = SkipAtext(s, end);
    if (e == s) return p;
    if (e < end && *e == '.') {
      s = e + 1;
      continue;
    }
    return e;
  }
}

// Display names are text for people: leading and trailing whitespace is
// dropped and each run of SP / HTAB / CR / LF becomes one space, so no line
// break ever reaches a caller that writes the name back into a header.
void NormalizeSpaces(std::string* s) {
  const std::size_t n = s->size();
  bool clean = n == 0 || (!Is((*s)[0], fields::kSpace) &&
                          !Is((*s)[n - 1], fields::kSpace));
  for (std::size_t i = 0; clean && i < n; ++i) {
    const char c = (*s)[i];
    if (c == '\t' || c == '\r' || c == '\n' ||
        (c == ' ' && i + 1 < n && (*s)[i + 1] == ' ')) {
      clean = false;
    }
  }
  if (clean) return;
  std::size_t w = 0;
  bool pending_space = false;
  for (std::size_t i = 0; i < n; ++i) {
    const char c = (*s)[i];
    if (Is(c, fields::kSpace)) {
      pending_space = w > 0;
      continue;
    }
    if (pending_space) (*s)[w++] = ' ';
    pending_space = false;
    (*s)[w++] = c;
  }
  s->resize(w);
}

// True when a display name needs RFC 2047 / 8-bit decoding.
inline bool NeedsDecoding(std::string_view s) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80 || (c == '=' && i + 1 < s.size() && s[i + 1] == '?')) {
      return true;
    }
  }
  return false;
}

// Expected on the right of an element.
enum class Context { kList, kGroup };

class AddressParser {
 public:
  AddressParser(std::string_view value, Defects* defects,
                std::size_t base_offset)
      : lx_(value, defects, base_offset) {}

  void ParseList(AddressList* out);
  std::optional<Mailbox> ParseSingleMailbox();
  std::optional<Mailbox> ParseSingleAddrSpec();

 private:
  // The shapes most mail has, without comments, escapes or obsolete
  // forms: `local@domain`, `Name Words <local@domain>`,
  // `"Quoted Name" <local@domain>`, each followed by spaces and then ","
  // or the end. Fills *m and returns true; returns false with the cursor
  // unchanged for anything else, which the full parser then handles (with
  // the same result for these shapes).
  bool TryFastMailbox(Mailbox* m);
  // Sets *out to the display name `text` (a phrase written as atoms and
  // single spaces, or a quoted string's content without escapes).
  void SetDisplayName(std::string_view text, std::size_t offset,
                      std::string* out);
  // Reads *(word / "." / CFWS) into words_.
  void ReadWords();
  // `"Joe <joe@x>`: a quoted string that ran to the end of the input is
  // cut before its last "<", so that the angle address is still found.
  void RecoverUnterminatedQuote(Word* w);
  // Parses one element at the cursor into *a; false when it made nothing
  // (junk skipped, or the null address "<>").
  bool ParseElement(Address* a, Context ctx);
  // Mailboxes up to ";" (consumed) or the end.
  void ParseGroupMembers(std::vector<Mailbox>* members);
  // At "<": the angle address; false for "<>" or when nothing usable.
  bool ParseAngleAddr(Mailbox* m);
  // After "@": the domain into *out.
  void ParseDomain(std::string* out);
  // The local part made of words_[from, words_.size()).
  void BuildLocalPart(std::size_t from, std::string* out);
  // Index of the first word of the trailing dot-connected run of words_.
  std::size_t LocalPartStart() const;
  // The display name made of words_[0, end).
  void BuildPhrase(std::size_t end, std::string* out);
  // Skips to the next "," or ";" at depth 0 (always moves at least one
  // octet when not already at one).
  void SkipJunk();
  // After an element: consumes a separator. Returns false at the end of
  // the list or, in a group, at ";" (not consumed).
  bool NextElement(Context ctx);

  Lexer lx_;
  std::vector<Word> words_;
  std::string scratch_;
};

void AddressParser::SetDisplayName(std::string_view text, std::size_t offset,
                                   std::string* out) {
  if (!NeedsDecoding(text)) {
    out->assign(text.data(), text.size());
  } else {
    out->clear();
    DecodeUnstructured(text, out, lx_.defects(), lx_.base() + offset);
  }
  NormalizeSpaces(out);
}

bool AddressParser::TryFastMailbox(Mailbox* m) {
  const std::string_view in = lx_.input();
  const char* const begin = in.data();
  const char* const end = begin + in.size();
  const char* p = begin + lx_.pos();
  const char* name_begin = p;
  const char* name_end = p;
  // addr-spec alone?
  const char* q = SkipDotAtomText(p, end);
  if (q != p && q < end && *q == '@') {
    const char* d = q + 1;
    const char* e = SkipDotAtomText(d, end);
    if (e == d) return false;
    const char* t = e;
    while (t < end && (*t == ' ' || *t == '\t')) ++t;
    if (t < end && *t != ',') return false;
    m->display_name.clear();
    m->local_part.assign(p, q);
    m->domain.assign(d, e);
    lx_.set_pos(static_cast<std::size_t>(t - begin));
    return true;
  }
  // [display-name] "<"
  if (p < end && *p == '"') {
    q = p + 1;
    while (q < end && *q != '"' && *q != '\\' && *q != '\r' && *q != '\n') {
      ++q;
    }
    if (q >= end || *q != '"') return false;
    name_begin = p + 1;
    name_end = q;
    ++q;
  } else {
    q = p;
    for (;;) {
      const char* e = SkipAtext(q, end);
      if (e == q) break;
      name_end = e;
      q = e;
      if (e + 1 < end && *e == ' ' && Is(e[1], kAtext)) {
        q = e + 1;
        continue;
      }
      break;
    }
  }
  while (q < end && *q == ' ') ++q;
  if (q >= end || *q != '<') return false;
  const char* l = q + 1;
  const char* at = SkipDotAtomText(l, end);
  if (at == l || at >= end || *at != '@') return false;
  const char* d = at + 1;
  const char* e = SkipDotAtomText(d, end);
  if (e == d || e >= end || *e != '>') return false;
  const char* t = e + 1;
  while (t < end && (*t == ' ' || *t == '\t')) ++t;
  if (t < end && *t != ',') return false;
  const std::size_t name_offset =
      static_cast<std::size_t>(p - begin);
  SetDisplayName(std::string_view(name_begin,
                                  static_cast<std::size_t>(name_end -
                                                           name_begin)),
                 name_offset, &m->display_name);
  m->local_part.assign(l, at);
  m->domain.assign(d, e);
  lx_.set_pos(static_cast<std::size_t>(t - begin));
  return true;
}

void AddressParser::ReadWords() {
  words_.clear();
  bool space = false;
  for (;;) {
    space |= lx_.SkipCfws();
    const char c = lx_.Peek();
    Word w;
    w.offset = lx_.pos();
    w.space_before = space;
    if (Is(c, kDotAtom)) {
      w.atom = lx_.ScanAtom(/*dots=*/true);
    } else if (c == '"') {
      w.quoted_word = true;
      w.quoted = lx_.ScanQuotedString();
      if (!w.quoted.terminated) RecoverUnterminatedQuote(&w);
    } else {
      return;
    }
    words_.push_back(w);
    space = false;
  }
}

void AddressParser::RecoverUnterminatedQuote(Word* w) {
  const std::string_view in = lx_.input();
  const std::size_t open = w->offset;  // the DQUOTE
  const std::size_t lt = in.rfind('<');
  if (lt == std::string_view::npos || lt <= open) return;
  std::size_t end = lt;
  while (end > open + 1 && fields::Is(in[end - 1], fields::kSpace)) --end;
  w->quoted.content = in.substr(open + 1, end - open - 1);
  lx_.set_pos(lt);
}

// Two adjacent words are parts of one local part when a dot joins them
// ("john.doe", "john . doe", "\"a\".b") or nothing separates them.
static bool Joined(const Word& left, const Word& right) {
  if (!right.space_before) return true;
  const bool left_dot = !left.quoted_word && left.atom.back() == '.';
  const bool right_dot = !right.quoted_word && right.atom.front() == '.';
  return left_dot || right_dot;
}

std::size_t AddressParser::LocalPartStart() const {
  std::size_t i = words_.size();
  while (i > 1 && Joined(words_[i - 2], words_[i - 1])) --i;
  return i == 0 ? 0 : i - 1;
}

// local-part     = dot-atom / quoted-string / obs-local-part
// obs-local-part = word *("." word)
void AddressParser::BuildLocalPart(std::size_t from, std::string* out) {
  out->clear();
  const std::size_t n = words_.size();
  if (from >= n) return;
  // Fast path: one atom, the usual case.
  if (n - from == 1 && !words_[from].quoted_word) {
    const std::string_view atom = words_[from].atom;
    out->assign(atom.data(), atom.size());
    if (!fields::IsDotAtomText(atom)) {
      lx_.Record(DefectKind::kInvalidAddress, words_[from].offset);
    }
    return;
  }
  bool all_atoms = true;
  bool spaced = false;
  for (std::size_t i = from; i < n; ++i) {
    const Word& w = words_[i];
    if (w.quoted_word) {
      all_atoms = false;
      fields::AppendUnquoted(w.quoted, out);
    } else {
      out->append(w.atom);
    }
    if (i > from && w.space_before) spaced = true;
  }
  // A quoted-string alone is the modern form; anything else made of
  // several words is obs-local-part.
  if (spaced || (!all_atoms && n - from > 1)) {
    lx_.Record(DefectKind::kObsoleteAddressSyntax, words_[from].offset);
  }
  if (fields::IsDotAtomText(*out)) return;
  if (all_atoms) {
    // "a..b", ".a": not a dot-atom, kept as written (mailers accept it).
    lx_.Record(DefectKind::kInvalidAddress, words_[from].offset);
    return;
  }
  *out = QuoteLocalPart(*out);
}

// display-name = phrase
// phrase       = 1*word / obs-phrase
// obs-phrase   = word *(word / "." / CFWS)
void AddressParser::BuildPhrase(std::size_t end, std::string* out) {
  out->clear();
  if (end == 0) return;
  bool needs_decoding = false;
  for (std::size_t i = 0; i < end; ++i) {
    const Word& w = words_[i];
    if (i > 0 && w.space_before) out->push_back(' ');
    const std::size_t mark = out->size();
    if (w.quoted_word) {
      fields::AppendUnquoted(w.quoted, out);
    } else {
      out->append(w.atom);
      if (w.atom.find('.') != std::string_view::npos) {
        lx_.Record(DefectKind::kObsoleteAddressSyntax, w.offset);
      }
    }
    for (std::size_t j = mark; j < out->size() && !needs_decoding; ++j) {
      const unsigned char c = static_cast<unsigned char>((*out)[j]);
      needs_decoding = c >= 0x80 || (c == '=' && j + 1 < out->size() &&
                                     (*out)[j + 1] == '?');
    }
  }
  if (needs_decoding) {
    scratch_.clear();
    DecodeUnstructured(*out, &scratch_, lx_.defects(),
                       lx_.base() + words_[0].offset);
    out->swap(scratch_);
  }
  NormalizeSpaces(out);
}

// domain       = dot-atom / domain-literal / obs-domain
// obs-domain   = atom *("." atom)
void AddressParser::ParseDomain(std::string* out) {
  out->clear();
  const std::size_t start = lx_.pos();
  lx_.SkipCfws();
  if (lx_.Peek() == '[') {
    // domain-literal = [CFWS] "[" *([FWS] dtext) [FWS] "]" [CFWS]
    // FWS inside carries no meaning and is dropped.
    const std::string_view lit = lx_.ScanDomainLiteral();
    // Walk it as the lexer did: a quoted-pair is kept whole (an escaped
    // space is dtext, an escaped "]" does not close the literal).
    bool closed = false;
    bool dangling_backslash = false;
    for (std::size_t i = 0; i < lit.size(); ++i) {
      const char c = lit[i];
      if (c == '\\' && i + 1 < lit.size()) {
        // A fold right after the "\" is unfolded first (RFC 5322 2.2.3),
        // so the pair escapes the space that follows it; an escaped line
        // break without one is dropped, as in quoted strings.
        std::size_t j = i + 1;
        while (j < lit.size() && (lit[j] == '\r' || lit[j] == '\n')) ++j;
        if (j == i + 1) {
          out->push_back(c);
          out->push_back(lit[++i]);
        } else if (j < lit.size() && (lit[j] == ' ' || lit[j] == '\t')) {
          out->push_back(c);
          out->push_back(lit[j]);
          i = j;
        } else {
          i = j - 1;
        }
        continue;
      }
      dangling_backslash = c == '\\';
      closed = c == ']' && i + 1 == lit.size();
      if (!Is(c, fields::kSpace)) out->push_back(c);
    }
    if (!closed) {
      // Unterminated: close it, dropping a dangling "\" that would
      // otherwise escape the added bracket.
      if (dangling_backslash) out->pop_back();
      out->push_back(']');
    }
    lx_.SkipCfws();
    return;
  }
  bool spaced = false;
  for (;;) {
    const std::string_view atom = lx_.ScanAtom(/*dots=*/true);
    if (atom.empty()) break;
    out->append(atom);
    if (!lx_.SkipCfws()) break;
    // CFWS inside the domain is obs-domain only when a dot joins the atoms.
    if (!Is(lx_.Peek(), kDotAtom) ||
        (out->back() != '.' && lx_.Peek() != '.')) {
      break;
    }
    spaced = true;
  }
  if (spaced) lx_.Record(DefectKind::kObsoleteAddressSyntax, start);
  if (!fields::IsDotAtomText(*out)) {
    lx_.Record(DefectKind::kInvalidAddress, start);
  }
}

// angle-addr     = [CFWS] "<" addr-spec ">" [CFWS] / obs-angle-addr
// obs-angle-addr = [CFWS] "<" obs-route addr-spec ">" [CFWS]
// obs-route      = obs-domain-list ":"
// obs-domain-list = *(CFWS / ",") "@" domain *("," [CFWS] ["@" domain])
bool AddressParser::ParseAngleAddr(Mailbox* m) {
  const std::size_t open = lx_.pos();
  lx_.Advance();  // "<"
  lx_.SkipCfws();
  if (lx_.Peek() == '@' || lx_.Peek() == ',') {
    // The route is dropped: RFC 5321 appendix C says to ignore it.
    lx_.Record(DefectKind::kObsoleteAddressSyntax, lx_.pos());
    while (!lx_.AtEnd()) {
      const char c = lx_.Peek();
      if (c == ':' || c == '>') break;
      if (c == '(') {
        lx_.SkipComment();
      } else if (c == '[') {
        lx_.ScanDomainLiteral();
      } else {
        lx_.Advance();
      }
    }
    if (lx_.Peek() == ':') lx_.Advance();
  }
  // The caller built the display name already: words_ is free for reuse.
  ReadWords();
  bool ok = false;
  if (lx_.Peek() == '@') {
    const std::size_t start = LocalPartStart();
    if (start > 0) lx_.Record(DefectKind::kInvalidAddress, words_[0].offset);
    BuildLocalPart(start, &m->local_part);
    lx_.Advance();
    ParseDomain(&m->domain);
    ok = !m->local_part.empty();
  } else if (!words_.empty()) {
    // "<postmaster>": a local part alone.
    lx_.Record(DefectKind::kInvalidAddress, words_[0].offset);
    BuildLocalPart(LocalPartStart(), &m->local_part);
    m->domain.clear();
    ok = true;
  }
  const char c = lx_.Peek();
  if (c == '>') {
    lx_.Advance();
  } else if (lx_.AtEnd() || c == ',') {
    lx_.Record(DefectKind::kUnterminatedAngleAddress, open);
  } else {
    // Junk inside the brackets: skip to ">".
    lx_.Record(DefectKind::kInvalidAddress, lx_.pos());
    while (!lx_.AtEnd() && lx_.Peek() != '>') {
      if (lx_.Peek() == '"') {
        lx_.ScanQuotedString();
      } else if (lx_.Peek() == '(') {
        lx_.SkipComment();
      } else {
        lx_.Advance();
      }
    }
    if (lx_.AtEnd()) {
      lx_.Record(DefectKind::kUnterminatedAngleAddress, open);
    } else {
      lx_.Advance();
    }
  }
  if (!ok) lx_.Record(DefectKind::kInvalidAddress, open);
  lx_.SkipCfws();
  return ok;
}

void AddressParser::SkipJunk() {
  while (!lx_.AtEnd()) {
    const char c = lx_.Peek();
    if (c == ',' || c == ';') return;
    if (c == '"') {
      lx_.ScanQuotedString();
    } else if (c == '(') {
      lx_.SkipComment();
    } else if (c == '[') {
      lx_.ScanDomainLiteral();
    } else {
      lx_.Advance();
    }
  }
}

// address   = mailbox / group
// mailbox   = name-addr / addr-spec
// name-addr = [display-name] angle-addr
// addr-spec = local-part "@" domain
// group     = display-name ":" [group-list] ";" [CFWS]
bool AddressParser::ParseElement(Address* a, Context ctx) {
  const std::size_t start = lx_.pos();
  ReadWords();
  const char c = lx_.Peek();
  if (c == '<') {
    // The phrase must be built before ParseAngleAddr reuses words_.
    BuildPhrase(words_.size(), &a->mailbox.display_name);
    return ParseAngleAddr(&a->mailbox);
  }
  if (c == '@' && !words_.empty()) {
    const std::size_t from = LocalPartStart();
    if (from > 0) {
      // "Joe Smith joe@x": the words before are taken as a display name.
      lx_.Record(DefectKind::kInvalidAddress, words_[0].offset);
      BuildPhrase(from, &a->mailbox.display_name);
    }
    BuildLocalPart(from, &a->mailbox.local_part);
    lx_.Advance();
    ParseDomain(&a->mailbox.domain);
    return true;
  }
  if (c == ':' && ctx == Context::kList) {
    a->is_group = true;
    if (words_.empty()) lx_.Record(DefectKind::kInvalidAddress, start);
    BuildPhrase(words_.size(), &a->group.display_name);
    lx_.Advance();
    ParseGroupMembers(&a->group.members);
    return true;
  }
  if (!words_.empty() && (lx_.AtEnd() || c == ',' || c == ';')) {
    // A local part alone ("undisclosed-recipients", "root").
    lx_.Record(DefectKind::kInvalidAddress, start);
    BuildLocalPart(LocalPartStart(), &a->mailbox.local_part);
    return true;
  }
  lx_.Record(DefectKind::kInvalidAddress, lx_.pos());
  SkipJunk();
  return false;
}

bool AddressParser::NextElement(Context ctx) {
  lx_.SkipCfws();
  const char c = lx_.Peek();
  if (lx_.AtEnd()) return false;
  if (c == ',') {
    lx_.Advance();
    return true;
  }
  if (c == ';') {
    if (ctx == Context::kGroup) return false;
    // Outlook's ";" between addresses.
    lx_.Record(DefectKind::kInvalidAddress, lx_.pos());
    lx_.Advance();
    return true;
  }
  // A missing comma ("a@b c@d"): go on with the next element.
  lx_.Record(DefectKind::kInvalidAddress, lx_.pos());
  return true;
}

// group-list     = mailbox-list / CFWS / obs-group-list
// obs-group-list = 1*([CFWS] ",") [CFWS]
void AddressParser::ParseGroupMembers(std::vector<Mailbox>* members) {
  Address tmp;
  for (;;) {
    lx_.SkipCfws();
    if (lx_.AtEnd()) {
      lx_.Record(DefectKind::kInvalidAddress, lx_.pos());  // no ";"
      return;
    }
    const char c = lx_.Peek();
    if (c == ';') {
      lx_.Advance();
      return;
    }
    if (c == ',') {
      if (!members->empty()) {
        lx_.Record(DefectKind::kEmptyAddressListElement, lx_.pos());
      }
      lx_.Advance();
      continue;
    }
    tmp.mailbox = Mailbox();
    if (TryFastMailbox(&tmp.mailbox) || ParseElement(&tmp, Context::kGroup)) {
      members->push_back(std::move(tmp.mailbox));
    }
    if (!NextElement(Context::kGroup)) {
      if (lx_.Peek() == ';') {
        lx_.Advance();
      } else {
        lx_.Record(DefectKind::kInvalidAddress, lx_.pos());
      }
      return;
    }
  }
}

// address-list  = (address *("," address)) / obs-addr-list
// obs-addr-list = *([CFWS] ",") address *("," [address / CFWS])
void AddressParser::ParseList(AddressList* out) {
  // One element per comma at most (plus one): a single allocation.
  const std::string_view in = lx_.input();
  out->items.reserve(out->items.size() + 1 + CountByte(in, ','));
  bool after_separator = false;
  for (;;) {
    lx_.SkipCfws();
    if (lx_.AtEnd()) {
      if (after_separator) {
        lx_.Record(DefectKind::kEmptyAddressListElement, lx_.pos());
      }
      return;
    }
    if (lx_.Peek() == ',') {
      lx_.Record(DefectKind::kEmptyAddressListElement, lx_.pos());
      lx_.Advance();
      after_separator = true;
      continue;
    }
    Address& a = out->items.emplace_back();
    if (!TryFastMailbox(&a.mailbox) && !ParseElement(&a, Context::kList)) {
      out->items.pop_back();
    }
    if (!NextElement(Context::kList)) return;
    after_separator = true;
  }
}

std::optional<Mailbox> AddressParser::ParseSingleMailbox() {
  lx_.SkipCfws();
  Address a;
  std::optional<Mailbox> result;
  if (!lx_.AtEnd() &&
      (TryFastMailbox(&a.mailbox) || ParseElement(&a, Context::kList))) {
    if (!a.is_group) {
      result = std::move(a.mailbox);
    } else {
      lx_.Record(DefectKind::kInvalidAddress, 0);
      if (!a.group.members.empty()) {
        result = std::move(a.group.members.front());
      }
    }
  } else {
    lx_.Record(DefectKind::kInvalidAddress, lx_.pos());
  }
  lx_.SkipCfws();
  if (!lx_.AtEnd()) lx_.Record(DefectKind::kInvalidAddress, lx_.pos());
  return result;
}

std::optional<Mailbox> AddressParser::ParseSingleAddrSpec() {
  ReadWords();
  Mailbox m;
  if (lx_.Peek() != '@' || words_.empty()) {
    lx_.Record(DefectKind::kInvalidAddress, lx_.pos());
    return std::nullopt;
  }
  if (LocalPartStart() != 0) {
    lx_.Record(DefectKind::kInvalidAddress, 0);
    return std::nullopt;
  }
  BuildLocalPart(0, &m.local_part);
  lx_.Advance();
  ParseDomain(&m.domain);
  if (!lx_.AtEnd() || m.domain.empty()) {
    lx_.Record(DefectKind::kInvalidAddress, lx_.pos());
    return std::nullopt;
  }
  return m;
}

}  // namespace

std::string Mailbox::Address() const {
  std::string out;
  out.reserve(local_part.size() + 1 + domain.size());
  out.append(local_part);
  if (!domain.empty()) {
    out.push_back('@');
    out.append(domain);
  }
  return out;
}

std::vector<Mailbox> AddressList::Mailboxes() const {
  std::vector<Mailbox> out;
  std::size_t n = 0;
  for (const auto& a : items) n += a.is_group ? a.group.members.size() : 1;
  out.reserve(n);
  for (const auto& a : items) {
    if (a.is_group) {
      out.insert(out.end(), a.group.members.begin(), a.group.members.end());
    } else {
      out.push_back(a.mailbox);
    }
  }
  return out;
}

void ParseAddressList(std::string_view value, AddressList* out,
                      Defects* defects, std::size_t base_offset) {
  AddressParser p(value, defects, base_offset);
  p.ParseList(out);
}

AddressList ParseAddressList(std::string_view value, Defects* defects,
                             std::size_t base_offset) {
  AddressList list;
  ParseAddressList(value, &list, defects, base_offset);
  return list;
}

std::optional<Mailbox> ParseMailbox(std::string_view value, Defects* defects,
                                    std::size_t base_offset) {
  AddressParser p(value, defects, base_offset);
  return p.ParseSingleMailbox();
}

std::optional<Mailbox> ParseAddrSpec(std::string_view value, Defects* defects,
                                     std::size_t base_offset) {
  AddressParser p(value, defects, base_offset);
  return p.ParseSingleAddrSpec();
}

}  // namespace posthorn::message
