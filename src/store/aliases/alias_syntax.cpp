// store/aliases/alias_syntax.cpp — targets, comments and quoting of the
// aliases(5) format; see alias_syntax.h.

#include "store/aliases/alias_syntax.h"

#include "fmt/format.h"
#include "store/common/text_lines.h"

namespace posthorn::store::aliases {
namespace {

bool IsBlank(char c) { return c == ' ' || c == '\t'; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsBlank(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsBlank(s.back())) s.remove_suffix(1);
  return s;
}

bool HasBlank(std::string_view s) {
  return s.find_first_of(" \t") != std::string_view::npos;
}

constexpr std::string_view kIncludePrefix = ":include:";

char LowerChar(char c) { return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c; }

bool StartsWithIgnoreCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (LowerChar(s[i]) != LowerChar(prefix[i])) return false;
  }
  return true;
}

// Splits at commas outside quotes and angle brackets.
absl::StatusOr<std::vector<std::string_view>> SplitElements(
    std::string_view rhs) {
  std::vector<std::string_view> elements;
  bool in_quote = false;
  int angle = 0;
  std::size_t start = 0;
  for (std::size_t i = 0; i < rhs.size(); ++i) {
    char c = rhs[i];
    if (in_quote) {
      if (c == '\\') {
        ++i;  // the escaped byte, whatever it is
      } else if (c == '"') {
        in_quote = false;
      }
      continue;
    }
    if (c == '"') {
      in_quote = true;
    } else if (c == '<') {
      if (++angle > 1) return absl::InvalidArgumentError("nested '<'");
    } else if (c == '>') {
      if (--angle < 0) return absl::InvalidArgumentError("'>' without '<'");
    } else if (c == ',' && angle == 0) {
      elements.push_back(rhs.substr(start, i - start));
      start = i + 1;
    }
  }
  if (in_quote) return absl::InvalidArgumentError("unterminated quote");
  if (angle != 0) return absl::InvalidArgumentError("'<' without '>'");
  elements.push_back(rhs.substr(start));
  return elements;
}

// The content of the quoted string at the start of `s` (escapes resolved)
// and, in `rest`, what follows its closing quote.
absl::StatusOr<std::string> Unquote(std::string_view s, std::string_view* rest) {
  std::string value;
  for (std::size_t i = 1; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size()) {
      value += s[++i];
    } else if (s[i] == '"') {
      *rest = s.substr(i + 1);
      return value;
    } else {
      value += s[i];
    }
  }
  return absl::InvalidArgumentError("unterminated quote");
}

absl::StatusOr<AliasTarget> ClassifyUnquoted(std::string_view element,
                                             std::string_view shown) {
  if (element.front() == '|') {
    std::string_view command = Trim(element.substr(1));
    if (command.empty()) return absl::InvalidArgumentError("empty program target '|'");
    return AliasTarget{AliasTargetKind::kProgram, std::string(command)};
  }
  if (StartsWithIgnoreCase(element, kIncludePrefix)) {
    std::string_view path = Trim(element.substr(kIncludePrefix.size()));
    if (path.empty()) return absl::InvalidArgumentError("empty :include: path");
    if (path.front() != '/') {
      return absl::InvalidArgumentError(
          fmt::format(":include: path \"{}\" is not absolute", path));
    }
    return AliasTarget{AliasTargetKind::kInclude, std::string(path)};
  }
  if (element.front() == '/') {
    if (HasBlank(element)) {
      return absl::InvalidArgumentError(fmt::format(
          "space in file target \"{}\" (quote the path, or a ',' is missing)",
          shown));
    }
    return AliasTarget{AliasTargetKind::kFile, std::string(element)};
  }
  return AliasTarget{AliasTargetKind::kAddress, std::string(element)};
}

absl::StatusOr<AliasTarget> ParseElement(std::string_view element) {
  if (element.front() == '"') {
    std::string_view rest;
    auto value = Unquote(element, &rest);
    if (!value.ok()) return value.status();
    rest = Trim(rest);
    if (rest.empty()) {
      if (value->empty()) return absl::InvalidArgumentError("empty quoted target \"\"");
      // "|cmd", "/file", ":include:/x" or a quoted local name.
      if ((*value)[0] == '|' || (*value)[0] == '/' ||
          StartsWithIgnoreCase(*value, kIncludePrefix)) {
        if ((*value)[0] == '/') {
          return AliasTarget{AliasTargetKind::kFile, *value};
        }
        return ClassifyUnquoted(*value, *value);
      }
      return AliasTarget{AliasTargetKind::kAddress, *value};
    }
    if (rest.front() == '@' && !HasBlank(rest) && rest.size() > 1) {
      // "john doe"@example.org: kept as written, quotes included.
      return AliasTarget{AliasTargetKind::kAddress, std::string(element)};
    }
    return absl::InvalidArgumentError(fmt::format(
        "unexpected text after quoted string in \"{}\"", element));
  }
  std::size_t open = element.find('<');
  if (open != std::string_view::npos) {
    // [phrase] <address>: the phrase is a comment, the address the target.
    std::size_t close = element.find('>', open);
    if (close != element.size() - 1) {
      return absl::InvalidArgumentError(
          fmt::format("text after '>' in \"{}\"", element));
    }
    std::string_view address = Trim(element.substr(open + 1, close - open - 1));
    if (address.empty()) return absl::InvalidArgumentError("empty address <>");
    if (HasBlank(address) || address.find('"') != std::string_view::npos) {
      return absl::InvalidArgumentError(
          fmt::format("bad address in \"{}\"", element));
    }
    return AliasTarget{AliasTargetKind::kAddress, std::string(address)};
  }
  if (element.find('"') != std::string_view::npos &&
      element.front() != '|') {
    return absl::InvalidArgumentError(
        fmt::format("bad quoting in \"{}\"", element));
  }
  if (element.front() != '|' &&
      !StartsWithIgnoreCase(element, kIncludePrefix) &&
      element.front() != '/' && HasBlank(element)) {
    return absl::InvalidArgumentError(fmt::format(
        "space in address \"{}\" (a ',' is missing?)", element));
  }
  return ClassifyUnquoted(element, element);
}

}  // namespace

std::string LowerAscii(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = LowerChar(c);
  return out;
}

std::string CheckLineBytes(std::string_view line) {
  for (char c : line) {
    unsigned char u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t') || u == 0x7f) {
      return fmt::format("control byte 0x{:02x} in line", u);
    }
  }
  return "";
}

absl::StatusOr<std::string_view> StripComment(std::string_view line) {
  bool in_quote = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (in_quote) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_quote = false;
      }
    } else if (c == '"') {
      in_quote = true;
    } else if (c == '#' && (i == 0 || IsBlank(line[i - 1]))) {
      return line.substr(0, i);
    }
  }
  if (in_quote) return absl::InvalidArgumentError("unterminated quote");
  return line;
}

absl::Status ParseTargetList(std::string_view rhs,
                             std::vector<AliasTarget>* out) {
  auto elements = SplitElements(rhs);
  if (!elements.ok()) return elements.status();
  for (std::string_view raw : *elements) {
    std::string_view element = Trim(raw);
    if (element.empty()) continue;  // "a,,b" and a trailing ',' are fine
    auto target = ParseElement(element);
    if (!target.ok()) return target.status();
    out->push_back(*std::move(target));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<AliasTarget>> ParseIncludeText(
    std::string_view text, std::string_view file_name) {
  std::vector<AliasTarget> targets;
  int line_number = 0;
  while (!text.empty()) {
    ++line_number;
    std::string_view line = TakeLine(&text);
    auto fail = [&](std::string_view reason) {
      return absl::InvalidArgumentError(
          fmt::format("{}:{}: {}", file_name, line_number, reason));
    };
    if (line.size() > kMaxLogicalLine) {
      return fail(fmt::format("line longer than {} bytes", kMaxLogicalLine));
    }
    if (std::string bad = CheckLineBytes(line); !bad.empty()) return fail(bad);
    auto content = StripComment(line);
    if (!content.ok()) return fail(std::string(content.status().message()));
    if (absl::Status s = ParseTargetList(*content, &targets); !s.ok()) {
      return fail(std::string(s.message()));
    }
  }
  return targets;
}

}  // namespace posthorn::store::aliases
