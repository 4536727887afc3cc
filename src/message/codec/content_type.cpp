// src/message/codec/content_type.cpp — Content-Type, Content-Disposition,
// Content-Transfer-Encoding and MIME parameters.
//
// RFC 2045 section 5.1:
//   content   := "Content-Type" ":" type "/" subtype *(";" parameter)
//   parameter := attribute "=" value
//   attribute := token
//   value     := token / quoted-string
// RFC 2231 sections 3, 4, 7:
//   extended-parameter := (extended-initial-name "=" extended-initial-value)
//                         / (extended-other-names "=" extended-other-values)
//   extended-initial-name  := attribute [initial-section] "*"
//   extended-initial-value := [charset] "'" [language] "'" extended-other-values
//   extended-other-values  := *(ext-octet / attribute-char)
//   ext-octet := "%" 2(DIGIT / "A" / "B" / "C" / "D" / "E" / "F")
//   section   := initial-section / other-sections
//   initial-section := "*0"
//   other-sections  := "*" ("1" / "2" / ... / "9") *DIGIT)
// RFC 2183 section 2:
//   disposition := "Content-Disposition" ":" disposition-type
//                  *(";" disposition-parm)
// RFC 2045 section 6.1:
//   encoding := "Content-Transfer-Encoding" ":" mechanism
//   mechanism := "7bit" / "8bit" / "binary" / "quoted-printable" /
//                "base64" / ietf-token / x-token
//
// The common case (a few parameters, no RFC 2231 names) takes a fast path
// that touches each byte once and allocates only the result strings.

#include "posthorn/message/content_type.h"

#include <algorithm>
#include <tuple>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "message/codec/ascii.h"
#include "posthorn/message/charset.h"
#include "posthorn/message/encoded_word.h"

namespace posthorn::message {
namespace {

using codec_internal::EqualsIgnoreCase;
using codec_internal::HasEightBit;
using codec_internal::IsTokenChar;
using codec_internal::kHexValue;
using codec_internal::kUpperHex;
using codec_internal::LowerAscii;

// Highest RFC 2231 section number accepted (a bound on the work one
// parameter can cause; real mail uses a few dozen at most).
constexpr long kMaxSection = 9999;
// RFC 5322 section 2.1.1: lines SHOULD be at most 78 octets.
constexpr std::size_t kMaxLine = 78;

class Lexer {
 public:
  Lexer(std::string_view s, Defects* defects, std::size_t base)
      : s_(s), defects_(defects), base_(base) {}

  bool AtEnd() const { return i_ >= s_.size(); }
  char Peek() const { return s_[i_]; }
  std::size_t pos() const { return i_; }
  void Advance() { ++i_; }

  void AddDefect(DefectKind kind, std::size_t at) {
    if (defects_ != nullptr) defects_->push_back({kind, base_ + at});
  }

  // CFWS: white space, line breaks and (nested) comments.
  void SkipCfws() {
    while (i_ < s_.size()) {
      const char c = s_[i_];
      if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
        ++i_;
      } else if (c == '(') {
        SkipComment();
      } else {
        break;
      }
    }
  }

  // ctext / quoted-pair / nested comments (RFC 5322 3.2.2).
  void SkipComment() {
    const std::size_t start = i_;
    int depth = 0;
    while (i_ < s_.size()) {
      const char c = s_[i_++];
      if (c == '\\') {
        if (i_ < s_.size()) ++i_;
      } else if (c == '(') {
        ++depth;
      } else if (c == ')') {
        if (--depth == 0) return;
      }
    }
    AddDefect(DefectKind::kUnterminatedComment, start);
  }

  std::string_view Token() {
    const std::size_t start = i_;
    while (i_ < s_.size() && IsTokenChar(s_[i_])) ++i_;
    return s_.substr(start, i_ - start);
  }

  // At a '"': the content of the quoted-string. A view of the input when it
  // holds no quoted-pair; otherwise unescaped into *scratch.
  std::string_view QuotedString(std::string* scratch, bool* owned) {
    const std::size_t start = ++i_;
    *owned = false;
    while (i_ < s_.size()) {
      const char c = s_[i_];
      if (c == '"') {
        ++i_;
        return s_.substr(start, i_ - 1 - start);
      }
      if (c == '\\') break;
      ++i_;
    }
    if (i_ < s_.size()) {  // a quoted-pair: unescape from here
      *owned = true;
      scratch->assign(s_.substr(start, i_ - start));
      while (i_ < s_.size()) {
        const char c = s_[i_++];
        if (c == '"') return *scratch;
        if (c == '\\' && i_ < s_.size()) {
          scratch->push_back(s_[i_++]);
        } else {
          scratch->push_back(c);
        }
      }
      AddDefect(DefectKind::kUnterminatedQuotedString, start - 1);
      return *scratch;
    }
    AddDefect(DefectKind::kUnterminatedQuotedString, start - 1);
    return s_.substr(start);
  }

  // Skips to the next ';' outside a quoted-string (or to the end).
  void SkipToSemicolon() {
    bool quoted = false;
    while (i_ < s_.size()) {
      const char c = s_[i_];
      if (quoted) {
        if (c == '\\') {
          ++i_;
        } else if (c == '"') {
          quoted = false;
        }
      } else if (c == '"') {
        quoted = true;
      } else if (c == ';') {
        return;
      }
      ++i_;
    }
    i_ = std::min(i_, s_.size());
  }

  // An unquoted value: leniently everything up to ';' (tspecials such as
  // "=" in boundary=----=_Part_1 included), comments and trailing white
  // space removed.
  std::string_view UnquotedValue() {
    const std::size_t start = i_;
    std::size_t end = i_;
    while (i_ < s_.size() && s_[i_] != ';') {
      const char c = s_[i_];
      if (c == '(') {
        SkipComment();
        continue;
      }
      ++i_;
      if (c != ' ' && c != '\t' && c != '\r' && c != '\n') end = i_;
    }
    return s_.substr(start, end - start);
  }

 private:
  std::string_view s_;
  Defects* defects_;
  std::size_t base_;
  std::size_t i_ = 0;
};

struct RawParameter {
  std::string_view name;
  std::string_view value;
  std::string owned;  // backing store of `value` when it was unescaped
  bool value_in_owned = false;  // `value` views `owned` (re-pointed below)
  std::size_t offset = 0;        // of the name, in the parsed text
  std::size_t value_offset = 0;  // of the value
  bool quoted = false;
};

void SetLower(std::string_view in, std::string* out) {
  out->resize(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) (*out)[i] = LowerAscii(in[i]);
}

// A plain (not RFC 2231) value: RFC 2047 words decoded (mailers put them
// in filename="..." although RFC 2047 section 5 forbids it), raw 8-bit kept
// as UTF-8 or taken as ISO-8859-1.
void PlainValue(std::string_view value, std::string* out, Defects* defects,
                std::size_t offset) {
  if (!MayContainEncodedWords(value) && !HasEightBit(value)) {
    out->assign(value);
    return;
  }
  out->clear();
  DecodeUnstructured(value, out, defects, offset);
}

// Bytes that are not valid in any declared charset: UTF-8 kept, otherwise
// ISO-8859-1.
void AppendUndeclared(std::string_view bytes, std::string* out) {
  std::string scratch;
  if (AppendValidUtf8(bytes, &scratch)) {
    out->append(scratch);
  } else {
    (void)ConvertToUtf8("iso-8859-1", bytes, out);
  }
}

void PercentDecode(std::string_view in, std::string* out, Lexer* lex,
                   std::size_t offset) {
  for (std::size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '%' && i + 2 < in.size() &&
        kHexValue[static_cast<unsigned char>(in[i + 1])] != 0xFF &&
        kHexValue[static_cast<unsigned char>(in[i + 2])] != 0xFF) {
      out->push_back(static_cast<char>(
          (kHexValue[static_cast<unsigned char>(in[i + 1])] << 4) |
          kHexValue[static_cast<unsigned char>(in[i + 2])]));
      i += 2;
      continue;
    }
    if (c == '%') lex->AddDefect(DefectKind::kInvalidParameter, offset + i);
    out->push_back(c);
  }
}

// The name of an RFC 2231 parameter, split.
struct SplitName {
  std::string_view base;
  long section = -1;  // -1: no section
  bool extended = false;
  bool valid = true;
};

SplitName SplitParameterName(std::string_view name) {
  SplitName r;
  if (!name.empty() && name.back() == '*') {
    r.extended = true;
    name.remove_suffix(1);
  }
  const std::size_t star = name.rfind('*');
  if (star == std::string_view::npos) {
    r.base = name;
    r.valid = !name.empty();
    return r;
  }
  r.base = name.substr(0, star);
  const std::string_view digits = name.substr(star + 1);
  if (r.base.empty() || digits.empty() || digits.size() > 4 ||
      r.base.find('*') != std::string_view::npos) {
    r.valid = false;
    return r;
  }
  long n = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') {
      r.valid = false;
      return r;
    }
    n = n * 10 + (c - '0');
  }
  if (n > kMaxSection) r.valid = false;
  r.section = n;
  return r;
}

using RawList = absl::InlinedVector<RawParameter, 6>;

// Tokenizes the parameter list.
void ScanParameters(Lexer* lex, RawList* raw) {
  while (true) {
    lex->SkipCfws();
    while (!lex->AtEnd() && lex->Peek() == ';') {
      lex->Advance();
      lex->SkipCfws();
    }
    if (lex->AtEnd()) return;
    const std::size_t name_at = lex->pos();
    const std::string_view name = lex->Token();
    if (name.empty()) {
      lex->AddDefect(DefectKind::kInvalidParameter, name_at);
      // A tspecial where a name should be; a quoted-string is skipped whole.
      if (lex->Peek() == '"') {
        std::string scratch;
        bool owned = false;
        (void)lex->QuotedString(&scratch, &owned);
      } else {
        lex->Advance();
      }
      lex->SkipToSemicolon();
      continue;
    }
    lex->SkipCfws();
    if (lex->AtEnd() || lex->Peek() != '=') {
      lex->AddDefect(DefectKind::kInvalidParameter, name_at);
      lex->SkipToSemicolon();
      continue;
    }
    lex->Advance();
    lex->SkipCfws();
    RawParameter& p = raw->emplace_back();
    p.name = name;
    p.offset = name_at;
    p.value_offset = lex->pos();
    if (!lex->AtEnd() && lex->Peek() == '"') {
      bool owned = false;
      p.value = lex->QuotedString(&p.owned, &owned);
      p.value_in_owned = owned;
      p.quoted = true;
      lex->SkipCfws();
      if (!lex->AtEnd() && lex->Peek() != ';') {
        lex->AddDefect(DefectKind::kInvalidParameter, lex->pos());
        lex->SkipToSemicolon();
      }
    } else {
      p.value = lex->UnquotedValue();
      if (p.value.empty()) {
        lex->AddDefect(DefectKind::kInvalidParameter, name_at);
      }
    }
  }
}

// The value of an RFC 2231 parameter from its sections in order (or its
// single extended value). `extended[k]` tells whether section k is
// percent-encoded; `initial` whether sections[0] is section 0, the only one
// that carries "charset'language'".
void JoinRfc2231(const std::vector<const RawParameter*>& sections,
                 const std::vector<bool>& extended, bool initial, Lexer* lex,
                 std::string* out) {
  std::string bytes;
  std::string_view charset;
  for (std::size_t k = 0; k < sections.size(); ++k) {
    std::string_view v = sections[k]->value;
    std::size_t off = sections[k]->value_offset;
    if (!extended[k]) {
      bytes.append(v);
      continue;
    }
    if (k == 0 && initial) {
      // extended-initial-value: charset'language'text
      const std::size_t q1 = v.find('\'');
      const std::size_t q2 =
          q1 == std::string_view::npos ? q1 : v.find('\'', q1 + 1);
      if (q2 == std::string_view::npos) {
        lex->AddDefect(DefectKind::kInvalidParameter, off);
      } else {
        charset = v.substr(0, q1);
        v.remove_prefix(q2 + 1);
        off += q2 + 1;
      }
    }
    PercentDecode(v, &bytes, lex, off);
  }
  out->clear();
  if (charset.empty()) {
    AppendUndeclared(bytes, out);
    return;
  }
  const CharsetResult r = ConvertToUtf8(charset, bytes, out);
  if (r == CharsetResult::kUnknownCharset) {
    lex->AddDefect(DefectKind::kUnknownCharset, sections[0]->value_offset);
    AppendUndeclared(bytes, out);
  } else if (r == CharsetResult::kInvalidData) {
    lex->AddDefect(DefectKind::kInvalidCharsetData, sections[0]->value_offset);
  }
}

// The general path: some names carry RFC 2231 stars.
void AssembleRfc2231(const RawList& raw, Lexer* lex, Defects* defects,
                     std::size_t base, std::vector<MimeParameter>* items) {
  struct Group {
    std::string name;  // lowercase base name
    const RawParameter* plain = nullptr;
    const RawParameter* single = nullptr;  // name*=
    std::size_t single_index = 0;
    // (section, index in raw, extended)
    std::vector<std::tuple<long, std::size_t, bool>> sections;
  };
  std::vector<Group> groups;
  for (std::size_t idx = 0; idx < raw.size(); ++idx) {
    const RawParameter& p = raw[idx];
    const SplitName split = SplitParameterName(p.name);
    if (!split.valid) {
      lex->AddDefect(DefectKind::kInvalidParameter, p.offset);
      continue;
    }
    Group* g = nullptr;
    for (Group& candidate : groups) {
      if (EqualsIgnoreCase(candidate.name, split.base)) g = &candidate;
    }
    if (g == nullptr) {
      g = &groups.emplace_back();
      SetLower(split.base, &g->name);
    }
    if (split.section >= 0) {
      g->sections.emplace_back(split.section, idx, split.extended);
    } else if (split.extended) {
      if (g->single != nullptr) {
        lex->AddDefect(DefectKind::kDuplicateParameter, p.offset);
      } else {
        g->single = &p;
        g->single_index = idx;
      }
    } else if (g->plain != nullptr) {
      lex->AddDefect(DefectKind::kDuplicateParameter, p.offset);
    } else {
      g->plain = &p;
    }
  }
  for (Group& g : groups) {
    MimeParameter& item = items->emplace_back();
    item.name = std::move(g.name);
    bool have_2231 = false;
    std::string value_2231;
    if (!g.sections.empty()) {
      auto& s = g.sections;
      if (!std::is_sorted(s.begin(), s.end())) {
        for (std::size_t k = 1; k < s.size(); ++k) {
          if (std::get<0>(s[k]) < std::get<0>(s[k - 1])) {
            lex->AddDefect(DefectKind::kRfc2231OutOfOrder,
                           raw[std::get<1>(s[k])].offset);
            break;
          }
        }
        std::stable_sort(s.begin(), s.end(), [](const auto& a, const auto& b) {
          return std::get<0>(a) < std::get<0>(b);
        });
      }
      std::vector<const RawParameter*> parts;
      std::vector<bool> extended;
      long expected = 0;
      bool missing_reported = false;
      for (std::size_t k = 0; k < s.size(); ++k) {
        const auto& [number, idx, ext] = s[k];
        if (k > 0 && number == std::get<0>(s[k - 1])) {
          lex->AddDefect(DefectKind::kDuplicateParameter, raw[idx].offset);
          continue;
        }
        if (number != expected && !missing_reported) {
          lex->AddDefect(DefectKind::kRfc2231MissingSection, raw[idx].offset);
          missing_reported = true;
        }
        expected = number + 1;
        parts.push_back(&raw[idx]);
        // Only section 0 carries charset'language'.
        extended.push_back(ext);
      }
      if (g.single != nullptr) {
        lex->AddDefect(DefectKind::kDuplicateParameter, g.single->offset);
      }
      JoinRfc2231(parts, extended, std::get<0>(s.front()) == 0, lex,
                  &value_2231);
      have_2231 = true;
    } else if (g.single != nullptr) {
      JoinRfc2231({g.single}, {true}, true, lex, &value_2231);
      have_2231 = true;
    }
    if (g.plain != nullptr) {
      PlainValue(g.plain->value, &item.value, defects,
                 base + g.plain->value_offset);
      if (have_2231 && item.value != value_2231) {
        lex->AddDefect(DefectKind::kConflictingParameter, g.plain->offset);
      }
    }
    if (have_2231) item.value = std::move(value_2231);
  }
}

}  // namespace

const std::string* MimeParameters::Find(std::string_view name) const {
  for (const MimeParameter& p : items_) {
    if (EqualsIgnoreCase(p.name, name)) return &p.value;
  }
  return nullptr;
}

bool ContentType::Is(std::string_view t, std::string_view s) const {
  return EqualsIgnoreCase(type, t) && (s == "*" || EqualsIgnoreCase(subtype, s));
}

bool ContentType::IsEncapsulatedMessage() const {
  return type == "message" && (subtype == "rfc822" || subtype == "global");
}

std::string ContentType::MimeType() const {
  std::string r;
  r.reserve(type.size() + 1 + subtype.size());
  r.append(type);
  r.push_back('/');
  r.append(subtype);
  return r;
}

MimeParameters ParseMimeParameters(std::string_view text, Defects* defects,
                                   std::size_t base_offset) {
  MimeParameters result;
  Lexer lex(text, defects, base_offset);
  RawList raw;
  ScanParameters(&lex, &raw);
  // Growing `raw` moved its elements, and a short `owned` string moves its
  // bytes with it (small-string buffer): views into it are re-made here.
  for (RawParameter& p : raw) {
    if (p.value_in_owned) p.value = p.owned;
  }
  if (raw.empty()) return result;
  std::vector<MimeParameter>& items = result.mutable_items();
  items.reserve(raw.size());
  bool rfc2231 = false;
  for (const RawParameter& p : raw) {
    if (p.name.find('*') != std::string_view::npos) rfc2231 = true;
  }
  if (rfc2231) {
    AssembleRfc2231(raw, &lex, defects, base_offset, &items);
    return result;
  }
  // The fast path: plain parameters only.
  for (const RawParameter& p : raw) {
    bool duplicate = false;
    for (const MimeParameter& seen : items) {
      if (EqualsIgnoreCase(seen.name, p.name)) duplicate = true;
    }
    if (duplicate) {
      lex.AddDefect(DefectKind::kDuplicateParameter, p.offset);
      continue;
    }
    MimeParameter& item = items.emplace_back();
    SetLower(p.name, &item.name);
    PlainValue(p.value, &item.value, defects, base_offset + p.value_offset);
  }
  return result;
}

ContentType ParseContentType(std::string_view value, Defects* defects,
                             std::size_t base_offset) {
  ContentType ct;
  Lexer lex(value, defects, base_offset);
  lex.SkipCfws();
  const std::size_t type_at = lex.pos();
  const std::string_view type = lex.Token();
  lex.SkipCfws();
  bool ok = !type.empty() && !lex.AtEnd() && lex.Peek() == '/';
  std::string_view subtype;
  if (ok) {
    lex.Advance();
    lex.SkipCfws();
    subtype = lex.Token();
    ok = !subtype.empty();
  }
  if (!ok) {
    // RFC 2045 5.2: an unparsable Content-Type means text/plain.
    lex.AddDefect(DefectKind::kInvalidContentType, type_at);
    lex.SkipToSemicolon();
  } else {
    SetLower(type, &ct.type);
    SetLower(subtype, &ct.subtype);
    lex.SkipCfws();
  }
  if (lex.AtEnd()) return ct;
  std::size_t params_at = lex.pos();
  if (lex.Peek() == ';') {
    ++params_at;
  } else {
    // "text/plain charset=us-ascii": the ";" is missing.
    lex.AddDefect(DefectKind::kInvalidParameter, params_at);
  }
  ct.parameters = ParseMimeParameters(value.substr(params_at), defects,
                                      base_offset + params_at);
  return ct;
}

ContentDisposition ParseContentDisposition(std::string_view value,
                                           Defects* defects,
                                           std::size_t base_offset) {
  ContentDisposition cd;
  Lexer lex(value, defects, base_offset);
  lex.SkipCfws();
  const std::size_t type_at = lex.pos();
  const std::string_view type = lex.Token();
  SetLower(type, &cd.type);
  lex.SkipCfws();
  if (type.empty() || (!lex.AtEnd() && lex.Peek() != ';')) {
    lex.AddDefect(DefectKind::kInvalidParameter, type_at);
  }
  // After ";" the parameters; without it ("attachment filename=a") they
  // are parsed from here.
  if (!lex.AtEnd() && lex.Peek() == ';') lex.Advance();
  if (lex.AtEnd()) return cd;
  cd.parameters = ParseMimeParameters(value.substr(lex.pos()), defects,
                                      base_offset + lex.pos());
  return cd;
}

TransferEncoding ParseTransferEncoding(std::string_view value,
                                       Defects* defects,
                                       std::size_t base_offset) {
  Lexer lex(value, defects, base_offset);
  lex.SkipCfws();
  const std::size_t at = lex.pos();
  const std::string_view token = lex.Token();
  lex.SkipCfws();
  if (!lex.AtEnd()) {
    lex.AddDefect(DefectKind::kInvalidContentTransferEncoding, lex.pos());
  }
  struct Name {
    std::string_view name;
    TransferEncoding encoding;
  };
  static constexpr Name kNames[] = {
      {"7bit", TransferEncoding::k7Bit},
      {"8bit", TransferEncoding::k8Bit},
      {"binary", TransferEncoding::kBinary},
      {"quoted-printable", TransferEncoding::kQuotedPrintable},
      {"base64", TransferEncoding::kBase64},
  };
  for (const Name& n : kNames) {
    if (EqualsIgnoreCase(token, n.name)) return n.encoding;
  }
  lex.AddDefect(DefectKind::kInvalidContentTransferEncoding, at);
  // An empty field says nothing: the RFC 2045 default.
  return token.empty() ? TransferEncoding::k7Bit : TransferEncoding::kUnknown;
}

std::string_view TransferEncodingName(TransferEncoding encoding) {
  switch (encoding) {
    case TransferEncoding::k7Bit: return "7bit";
    case TransferEncoding::k8Bit: return "8bit";
    case TransferEncoding::kBinary: return "binary";
    case TransferEncoding::kQuotedPrintable: return "quoted-printable";
    case TransferEncoding::kBase64: return "base64";
    case TransferEncoding::kUnknown: return "unknown";
  }
  return "unknown";
}

// ---------------------------------------------------------------------------
// Formatting.

namespace {

// RFC 2231 section 7: attribute-char := <any (US-ASCII) CHAR except SPACE,
// CTLs, "*", "'", "%", or tspecials>
inline bool IsAttributeChar(char c) {
  return IsTokenChar(c) && c != '*' && c != '\'' && c != '%';
}

std::string Quote(std::string_view v) {
  std::string q;
  q.reserve(v.size() + 2);
  q.push_back('"');
  for (char c : v) {
    if (c == '"' || c == '\\') q.push_back('\\');
    q.push_back(c);
  }
  q.push_back('"');
  return q;
}

// Length of the UTF-8 character at s[i] (valid input).
inline std::size_t CharLength(std::string_view s, std::size_t i) {
  const unsigned char c = static_cast<unsigned char>(s[i]);
  const std::size_t len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
  return std::min(len, s.size() - i);
}

void AppendPercent(std::string_view chars, std::string* out) {
  for (char ch : chars) {
    if (IsAttributeChar(ch)) {
      out->push_back(ch);
    } else {
      const unsigned char c = static_cast<unsigned char>(ch);
      out->push_back('%');
      out->push_back(kUpperHex[c >> 4]);
      out->push_back(kUpperHex[c & 15]);
    }
  }
}

}  // namespace

std::string FormatMimeParameter(std::string_view name, std::string_view value) {
  // Each parameter is assumed to start a folded line: " name=value;".
  constexpr std::size_t kLineOverhead = 2;  // the leading SP and the ";"
  bool token = !value.empty();
  bool printable = true;
  for (char c : value) {
    if (!IsTokenChar(c)) token = false;
    const unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u > 0x7E) printable = false;
  }
  // A value that holds "=?" would be taken for RFC 2047 words by readers
  // (and by ParseMimeParameters): it is written percent-encoded instead.
  if (value.find("=?") != std::string_view::npos) printable = false;
  const bool is_boundary = EqualsIgnoreCase(name, "boundary");
  if (printable) {
    std::string single(name);
    single.push_back('=');
    single.append(token ? std::string(value) : Quote(value));
    // A boundary is never split: too many readers do not join sections.
    if (single.size() + kLineOverhead <= kMaxLine || is_boundary) {
      return single;
    }
    // Long printable text: name*0="..."; name*1="..." (RFC 2231 3).
    std::string out;
    std::size_t i = 0;
    for (int section = 0; i < value.size(); ++section) {
      std::string head(name);
      head.push_back('*');
      head.append(std::to_string(section));
      head.append("=\"");
      const std::size_t room =
          kMaxLine > head.size() + 1 + kLineOverhead + 4
              ? kMaxLine - head.size() - 1 - kLineOverhead
              : 4;
      std::string part;
      while (i < value.size()) {
        const std::size_t need =
            (value[i] == '"' || value[i] == '\\') ? 2 : 1;
        if (part.size() + need > room && !part.empty()) break;
        if (need == 2) part.push_back('\\');
        part.push_back(value[i++]);
      }
      if (!out.empty()) out.append(";\r\n ");
      out.append(head);
      out.append(part);
      out.push_back('"');
    }
    return out;
  }
  // Not printable ASCII: RFC 2231 extended value in UTF-8.
  std::string valid;
  AppendValidUtf8(value, &valid);
  std::string single(name);
  single.append("*=utf-8''");
  AppendPercent(valid, &single);
  if (single.size() + kLineOverhead <= kMaxLine) return single;
  std::string out;
  std::size_t i = 0;
  for (int section = 0; i < valid.size(); ++section) {
    std::string line(name);
    line.push_back('*');
    line.append(std::to_string(section));
    line.append(section == 0 ? "*=utf-8''" : "*=");
    const std::size_t head = line.size();
    // Whole characters only, so that even a reader that decodes each
    // section on its own shows whole characters.
    while (i < valid.size()) {
      const std::size_t len = CharLength(valid, i);
      std::string enc;
      AppendPercent(valid.substr(i, len), &enc);
      if (line.size() + enc.size() + kLineOverhead > kMaxLine &&
          line.size() > head) {
        break;
      }
      line.append(enc);
      i += len;
    }
    if (!out.empty()) out.append(";\r\n ");
    out.append(line);
  }
  return out;
}

}  // namespace posthorn::message
