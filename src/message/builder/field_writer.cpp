#include "message/builder/field_writer.h"

#include <cstring>


namespace posthorn::message::builder_internal {
namespace {

bool IsWsp(char c) { return c == ' ' || c == '\t'; }

// True when a fold may go before seg[b]: a run of whitespace starts there
// (so the previous line keeps its last word) and something other than
// whitespace follows the run (a line of whitespace only is not allowed,
// RFC 5322 3.2.2).
bool IsBreak(std::string_view seg, std::size_t b) {
  if (b == 0 || b >= seg.size() || !IsWsp(seg[b]) || IsWsp(seg[b - 1])) {
    return false;
  }
  std::size_t i = b;
  while (i < seg.size() && IsWsp(seg[i])) ++i;
  return i < seg.size();
}

// Folds one physical line `seg` into *out (each piece followed by CRLF).
// No break is placed before `min_break` (the space after "Name:").
absl::Status FoldSegment(std::string_view name, std::string_view seg,
                         std::size_t min_break, std::string* out) {
  std::size_t pos = 0;
  while (seg.size() - pos > kFoldWidth) {
    std::size_t lo = pos + 1 > min_break ? pos + 1 : min_break;
    std::size_t b = std::string_view::npos;
    // The last break that keeps this line within kFoldWidth ...
    for (std::size_t i = pos + kFoldWidth; i >= lo && i > pos; --i) {
      if (IsBreak(seg, i)) {
        b = i;
        break;
      }
    }
    // ... or else the first one after it (the line stays long but short
    // of 998 if we are lucky; checked below).
    if (b == std::string_view::npos) {
      for (std::size_t i = pos + kFoldWidth + 1; i < seg.size(); ++i) {
        if (i >= lo && IsBreak(seg, i)) {
          b = i;
          break;
        }
      }
    }
    if (b == std::string_view::npos) break;
    if (b - pos > kMaxLineLength) {
      return absl::InvalidArgumentError(Cat(
          "header field ", name, ": ", b - pos,
          " octets without whitespace cannot be folded under the 998-octet "
          "line limit (RFC 5322 2.1.1)"));
    }
    out->append(seg.substr(pos, b - pos));
    out->append("\r\n");
    pos = b;
  }
  if (seg.size() - pos > kMaxLineLength) {
    return absl::InvalidArgumentError(Cat(
        "header field ", name, ": ", seg.size() - pos,
        " octets without whitespace cannot be folded under the 998-octet "
        "line limit (RFC 5322 2.1.1)"));
  }
  out->append(seg.substr(pos));
  out->append("\r\n");
  return absl::OkStatus();
}

}  // namespace

absl::Status AppendField(std::string_view name, std::string_view value,
                         std::string* out) {
  const std::size_t old_size = out->size();
  std::string line;
  line.reserve(name.size() + 2 + value.size());
  line.append(name);
  line.push_back(':');
  if (!value.empty()) line.push_back(' ');
  std::size_t min_break = line.size();
  line.append(value);

  std::string_view rest = line;
  bool first = true;
  while (true) {
    std::size_t eol = rest.find_first_of("\r\n");
    std::string_view seg = rest.substr(0, eol);
    absl::Status st = FoldSegment(name, seg, first ? min_break : 1, out);
    if (!st.ok()) {
      out->resize(old_size);
      return st;
    }
    if (eol == std::string_view::npos) break;
    // Only an existing fold may break the value: CRLF then WSP.
    if (rest.substr(eol, 2) != "\r\n" || eol + 2 >= rest.size() ||
        !IsWsp(rest[eol + 2])) {
      out->resize(old_size);
      return absl::InvalidArgumentError(
          Cat("header field ", name,
                       ": a line break in the value is not a fold"));
    }
    rest.remove_prefix(eol + 2);
    first = false;
  }
  return absl::OkStatus();
}

bool HasForbiddenControl(std::string_view text) {
  return text.find_first_of(std::string_view("\r\n\0", 3)) !=
         std::string_view::npos;
}

absl::Status CheckFieldText(std::string_view what, std::string_view text) {
  if (!HasForbiddenControl(text)) return absl::OkStatus();
  return absl::InvalidArgumentError(
      Cat(what,
                   " contains CR, LF or NUL (refused: it would inject header "
                   "fields)"));
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x + 32);
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y + 32);
    if (x != y) return false;
  }
  return true;
}

bool StartsWithIgnoreCase(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() &&
         EqualsIgnoreCase(text.substr(0, prefix.size()), prefix);
}

bool IsMimeToken(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 32 || u >= 127) return false;
    if (std::strchr("()<>@,;:\\\"/[]?=", c) != nullptr) return false;
  }
  return true;
}

}  // namespace posthorn::message::builder_internal
