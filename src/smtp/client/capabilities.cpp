// EHLO keywords -> ServerCapabilities. See capabilities.h.

#include "smtp/client/capabilities.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace posthorn::smtp::client_internal {
namespace {

// Longest decimal number we read: 20 digits still overflow-checked below.
constexpr std::size_t kMaxSizeDigits = 20;

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    char y = b[i];
    if (x >= 'a' && x <= 'z') x = static_cast<char>(x - 'a' + 'A');
    if (y >= 'a' && y <= 'z') y = static_cast<char>(y - 'a' + 'A');
    if (x != y) return false;
  }
  return true;
}

std::string_view TrimSpaces(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

// Takes the next space-separated word off the front of *s.
std::string_view NextWord(std::string_view* s) {
  *s = TrimSpaces(*s);
  std::size_t end = 0;
  while (end < s->size() && (*s)[end] != ' ' && (*s)[end] != '\t') ++end;
  std::string_view word = s->substr(0, end);
  s->remove_prefix(end);
  return word;
}

// RFC 1870: size-param = [1*DIGIT]. Not a number: 0 (no fixed limit).
std::uint64_t ParseSize(std::string_view text) {
  if (text.empty() || text.size() > kMaxSizeDigits) return 0;
  std::uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return 0;
    const auto digit = static_cast<std::uint64_t>(c - '0');
    if (value > (UINT64_MAX - digit) / 10) return 0;
    value = value * 10 + digit;
  }
  return value;
}

// "d.d.d" at the front of a keyword line (not RFC; seen in the wild).
bool LooksLikeEnhancedCode(std::string_view word) {
  return IsEnhancedStatusCode(word);
}

void AddMechanisms(std::string_view params, ServerCapabilities* caps) {
  for (std::string_view mech = NextWord(&params); !mech.empty();
       mech = NextWord(&params)) {
    if (EqualsIgnoreCase(mech, "PLAIN")) caps->auth_plain = true;
    if (EqualsIgnoreCase(mech, "LOGIN")) caps->auth_login = true;
  }
}

void ParseLine(std::string_view line, ServerCapabilities* caps) {
  std::string_view rest = TrimSpaces(line);
  {
    std::string_view probe = rest;
    if (LooksLikeEnhancedCode(NextWord(&probe))) rest = probe;
  }
  rest = TrimSpaces(rest);
  // ehlo-keyword, ended by SP, or by "=" in the obsolete AUTH= form.
  std::size_t end = 0;
  while (end < rest.size() && rest[end] != ' ' && rest[end] != '\t' &&
         rest[end] != '=') {
    ++end;
  }
  const std::string_view keyword = rest.substr(0, end);
  std::string_view params =
      end < rest.size() ? rest.substr(end + 1) : std::string_view();

  if (EqualsIgnoreCase(keyword, "PIPELINING")) {
    caps->pipelining = true;
  } else if (EqualsIgnoreCase(keyword, "STARTTLS")) {
    caps->starttls = true;
  } else if (EqualsIgnoreCase(keyword, "8BITMIME")) {
    caps->eightbitmime = true;
  } else if (EqualsIgnoreCase(keyword, "DSN")) {
    caps->dsn = true;
  } else if (EqualsIgnoreCase(keyword, "SMTPUTF8")) {
    caps->smtputf8 = true;
  } else if (EqualsIgnoreCase(keyword, "ENHANCEDSTATUSCODES")) {
    caps->enhanced_status_codes = true;
  } else if (EqualsIgnoreCase(keyword, "CHUNKING")) {
    caps->chunking = true;
  } else if (EqualsIgnoreCase(keyword, "SIZE")) {
    caps->size = ParseSize(NextWord(&params));
  } else if (EqualsIgnoreCase(keyword, "AUTH")) {
    AddMechanisms(params, caps);
  }
}

}  // namespace

ServerCapabilities ParseEhloReply(const Reply& reply) {
  ServerCapabilities caps;
  caps.esmtp = true;
  for (std::size_t i = 1; i < reply.lines.size(); ++i) {
    ParseLine(reply.lines[i], &caps);
  }
  return caps;
}

}  // namespace posthorn::smtp::client_internal
