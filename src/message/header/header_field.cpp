// HeaderField's value helpers and IsValidFieldName.

#include <cstring>
#include <string>
#include <string_view>

#include "message/header/ascii.h"
#include "posthorn/message/header.h"

namespace posthorn::message {

namespace {

using header_internal::IsWsp;

std::string_view TrimWsp(std::string_view s) {
  std::size_t b = 0;
  std::size_t e = s.size();
  while (b < e && IsWsp(s[b])) ++b;
  while (e > b && IsWsp(s[e - 1])) --e;
  return s.substr(b, e - b);
}

// RFC 5322 2.2.3: "Unfolding is accomplished by simply removing any CRLF
// that is immediately followed by WSP." Every line break inside raw_value is
// such a fold (the parser only joins lines that start with WSP), so dropping
// every CR and LF unfolds it. Appends to *out.
void AppendUnfolded(std::string_view raw, std::string* out) {
  const char* p = raw.data();
  const char* const end = p + raw.size();
  while (p < end) {
    const char* brk = p;
    while (brk < end && *brk != '\r' && *brk != '\n') ++brk;
    out->append(p, static_cast<std::size_t>(brk - p));
    p = brk;
    while (p < end && (*p == '\r' || *p == '\n')) ++p;
  }
}

}  // namespace

std::string_view HeaderField::Unfolded(std::string* scratch) const {
  if (!folded) return TrimWsp(raw_value);
  scratch->clear();
  scratch->reserve(raw_value.size());
  AppendUnfolded(raw_value, scratch);
  return TrimWsp(*scratch);
}

std::string HeaderField::Unfolded() const {
  if (!folded) return std::string(TrimWsp(raw_value));
  std::string out;
  out.reserve(raw_value.size());
  AppendUnfolded(raw_value, &out);
  const std::string_view trimmed = TrimWsp(out);
  if (trimmed.size() == out.size()) return out;
  return std::string(trimmed);
}

bool HeaderField::NameIs(std::string_view other) const {
  return header_internal::EqualsIgnoreCase(name, other);
}

bool IsValidFieldName(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (!header_internal::kFtext[static_cast<unsigned char>(c)]) return false;
  }
  return true;
}

}  // namespace posthorn::message
