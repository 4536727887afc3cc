// RFC 5321 4.1.2 paths: "<" [ A-d-l ":" ] Mailbox ">", "<>", "<Postmaster>".

#include <cstddef>
#include <string_view>

#include "smtp/syntax/char_class.h"
#include "smtp/syntax/path_syntax.h"

namespace posthorn::smtp::syntax_internal {
namespace {

bool Fail(PathError* error, const char* text) {
  error->text = text;
  error->has_char = false;
  error->code = 501;
  return false;
}

// The byte at s[i] is not allowed where it stands (or the path ended).
bool Unexpected(std::string_view s, std::size_t i, PathError* error) {
  if (i >= s.size()) return Fail(error, "missing '>'");
  const char c = s[i];
  if (Is(c, kEightBit)) return Fail(error, "8-bit character not allowed here");
  if (Is(c, kControl)) return Fail(error, "control character not allowed");
  error->text = "not allowed here";
  error->ch = c;
  error->has_char = true;
  error->code = 501;
  return false;
}

// Consumes one UTF-8 sequence at s[*i] (a non-ASCII lead byte).
bool TakeUtf8(std::string_view s, std::size_t* i, PathError* error) {
  const std::size_t len = Utf8SequenceLength(s, *i);
  if (len == 0) return Fail(error, "invalid UTF-8");
  *i += len;
  return true;
}

//   Dot-string     = Atom *("."  Atom)
//   Atom           = 1*atext                 ; RFC 6531: atext =/
//   UTF8-non-ascii
bool ScanDotString(std::string_view s, std::size_t* pos, bool* utf8,
                   PathError* error) {
  std::size_t i = *pos;
  for (;;) {
    const std::size_t atom_start = i;
    while (i < s.size()) {
      const char c = s[i];
      if (Is(c, kAtext)) {
        ++i;
      } else if (Is(c, kEightBit)) {
        if (!TakeUtf8(s, &i, error)) return false;
        *utf8 = true;
      } else {
        break;
      }
    }
    if (i == atom_start) {
      if (i < s.size() && s[i] == '.') return Fail(error, "misplaced '.'");
      if (i < s.size() && s[i] == '@' && i == *pos) {
        return Fail(error, "empty local part");
      }
      if (i > *pos) return Fail(error, "misplaced '.'");  // "a.@b"
      return Unexpected(s, i, error);
    }
    if (i < s.size() && s[i] == '.') {
      ++i;
      continue;
    }
    break;
  }
  *pos = i;
  return true;
}

//   Quoted-string  = DQUOTE *QcontentSMTP DQUOTE
//   QcontentSMTP   = qtextSMTP / quoted-pairSMTP
//   quoted-pairSMTP  = %d92 %d32-126
//   qtextSMTP      = %d32-33 / %d35-91 / %d93-126
//                  ; RFC 6531: qtextSMTP =/ UTF8-non-ascii
bool ScanQuotedString(std::string_view s, std::size_t* pos, bool* utf8,
                      PathError* error) {
  std::size_t i = *pos + 1;  // past the opening DQUOTE
  for (;;) {
    if (i >= s.size()) return Fail(error, "unterminated quoted string");
    const char c = s[i];
    if (c == '"') {
      ++i;
      break;
    }
    if (c == '\\') {
      if (i + 1 >= s.size()) return Fail(error, "unterminated quoted string");
      const auto d = static_cast<unsigned char>(s[i + 1]);
      if (d < 32 || d > 126) return Fail(error, "invalid quoted pair");
      i += 2;
    } else if (Is(c, kQtext)) {
      ++i;
    } else if (Is(c, kEightBit)) {
      if (!TakeUtf8(s, &i, error)) return false;
      *utf8 = true;
    } else {
      return Unexpected(s, i, error);
    }
  }
  *pos = i;
  return true;
}

}  // namespace

bool ScanDomain(std::string_view s, std::size_t* pos, bool allow_utf8,
                bool* utf8, PathError* error) {
  std::size_t i = *pos;
  for (;;) {
    const std::size_t label_start = i;
    bool label_utf8 = false;
    while (i < s.size()) {
      const char c = s[i];
      if (Is(c, kAlpha | kDigit) || c == '-') {
        ++i;
      } else if (allow_utf8 && Is(c, kEightBit)) {
        if (!TakeUtf8(s, &i, error)) return false;
        label_utf8 = true;
      } else {
        break;
      }
    }
    if (i == label_start) {
      if (i < s.size() && s[i] == '.') {
        return Fail(error, "misplaced '.' in domain");
      }
      if (i == *pos && (i >= s.size() || s[i] == '>')) {
        return Fail(error, "missing domain");
      }
      if (i > *pos) return Fail(error, "domain ends with '.'");
      return Unexpected(s, i, error);
    }
    if (s[label_start] == '-' || s[i - 1] == '-') {
      return Fail(error, "domain label starts or ends with '-'");
    }
    if (!label_utf8 && i - label_start > kMaxLabel) {
      return Fail(error, "domain label longer than 63 octets");
    }
    if (label_utf8) *utf8 = true;
    if (i < s.size() && s[i] == '.') {
      ++i;
      continue;
    }
    break;
  }
  *pos = i;
  return true;
}

// RFC 5321 4.1.2:
//   Reverse-path   = Path / "<>"
//   Forward-path   = Path
//   Path           = "<" [ A-d-l ":" ] Mailbox ">"
//   A-d-l          = At-domain *( "," At-domain )
//                  ; Note that this form, the so-called "source
//                  ; route", MUST BE accepted, SHOULD NOT be
//                  ; generated, and SHOULD be ignored.
//   At-domain      = "@" Domain
//   Mailbox        = Local-part "@" ( Domain / address-literal )
//   Local-part     = Dot-string / Quoted-string
// RFC 5321 4.1.1.3: "<Postmaster>" (any case) is a valid forward path.
bool ParsePath(std::string_view s, std::size_t* pos, PathKind kind, Path* path,
               PathError* error) {
  const std::size_t start = *pos;
  std::size_t i = start + 1;  // past '<'
  if (i < s.size() && s[i] == '>') {
    if (kind == PathKind::kForward) {
      return Fail(error, "null address not allowed here");
    }
    path->null = true;
    *pos = i + 1;
    return true;
  }
  bool route = false;
  if (i < s.size() && s[i] == '@') {
    // Source route: checked, then ignored (path->mailbox excludes it).
    route = true;
    for (;;) {
      ++i;  // past '@'
      bool ignored = false;
      if (!ScanDomain(s, &i, /*allow_utf8=*/false, &ignored, error)) {
        return false;
      }
      if (i < s.size() && s[i] == ',') {
        ++i;
        if (i >= s.size() || s[i] != '@') {
          return Fail(error, "malformed source route");
        }
        continue;
      }
      if (i < s.size() && s[i] == ':') {
        ++i;
        break;
      }
      return Fail(error, "malformed source route");
    }
  }
  const std::size_t local_start = i;
  bool utf8 = false;
  if (i < s.size() && s[i] == '"') {
    if (!ScanQuotedString(s, &i, &utf8, error)) return false;
  } else {
    if (!ScanDotString(s, &i, &utf8, error)) return false;
  }
  const std::string_view local = s.substr(local_start, i - local_start);
  if (i < s.size() && s[i] == '>') {
    if (kind == PathKind::kForward && !route &&
        EqualsLower(local, "postmaster")) {
      path->postmaster = true;
      path->local_part = local;
      path->mailbox = local;
      *pos = i + 1;
      return true;
    }
    return Fail(error, "missing '@domain'");
  }
  if (i >= s.size() || s[i] != '@') return Unexpected(s, i, error);
  ++i;
  const std::size_t domain_start = i;
  bool literal = false;
  if (i < s.size() && s[i] == '[') {
    const std::size_t close = s.find(']', i);
    if (close == std::string_view::npos) {
      return Fail(error, "unterminated address literal");
    }
    if (!IsValidAddressLiteral(s.substr(i, close + 1 - i))) {
      if (close + 1 - i > kMaxDomain) {
        error->text = "domain longer than 255 octets";
        error->has_char = false;
        error->code = 553;
        return false;
      }
      return Fail(error, "invalid address literal");
    }
    literal = true;
    i = close + 1;
  } else {
    if (!ScanDomain(s, &i, /*allow_utf8=*/true, &utf8, error)) return false;
  }
  const std::string_view domain = s.substr(domain_start, i - domain_start);
  if (i >= s.size() || s[i] != '>') return Unexpected(s, i, error);
  ++i;
  if (local.size() > kMaxLocalPart) {
    error->text = "local part longer than 64 octets";
    error->has_char = false;
    error->code = 553;
    return false;
  }
  if (domain.size() > kMaxDomain) {
    error->text = "domain longer than 255 octets";
    error->has_char = false;
    error->code = 553;
    return false;
  }
  if (i - start > kMaxPath) return Fail(error, "path longer than 256 octets");
  path->local_part = local;
  path->domain = domain;
  path->address_literal = literal;
  path->utf8 = utf8;
  path->mailbox =
      s.substr(local_start, domain_start + domain.size() - local_start);
  *pos = i;
  return true;
}

}  // namespace posthorn::smtp::syntax_internal
