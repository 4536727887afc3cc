// store/aliases/alias_parser.cpp — ParseAliases (posthorn/store/aliases.h).
//
// Logical lines: an entry starts on a line that begins with neither a
// blank nor '#'; lines that begin with a space or tab continue it (each
// line break separates targets like a comma). An empty line or a '#'
// comment line ends the entry, as in sendmail; a continuation after it is
// an error. A blank-only line is ignored. Duplicate names: the later entry
// wins and a warning names both lines (sendmail does the same).

#include <utility>

#include "absl/container/flat_hash_map.h"
#include "fmt/format.h"
#include "posthorn/store/aliases.h"
#include "store/aliases/alias_syntax.h"
#include "store/common/text_lines.h"

namespace posthorn::store {
namespace {

using aliases::kMaxAliasNameLength;
using aliases::kMaxLogicalLine;
using aliases::kMaxTargetsPerAlias;

bool IsBlank(char c) { return c == ' ' || c == '\t'; }

std::string_view TrimBlanks(std::string_view s) {
  while (!s.empty() && IsBlank(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsBlank(s.back())) s.remove_suffix(1);
  return s;
}

// Splits "name: rhs" (comment already stripped) into the lowercased name
// and the right-hand side. Errors are reasons.
absl::Status SplitNameAndTargets(std::string_view line, std::string* name,
                                 std::string_view* rhs) {
  std::string_view raw_name;
  std::string unquoted;
  bool quoted = line.front() == '"';
  if (quoted) {
    std::size_t i = 1;
    for (; i < line.size() && line[i] != '"'; ++i) {
      if (line[i] == '\\' && i + 1 < line.size()) ++i;
      unquoted += line[i];
    }
    if (i >= line.size()) {
      return absl::InvalidArgumentError("unterminated quote in alias name");
    }
    std::string_view after = TrimBlanks(line.substr(i + 1));
    if (after.empty() || after.front() != ':') {
      return absl::InvalidArgumentError("missing ':' after the alias name");
    }
    *rhs = after.substr(1);
    raw_name = unquoted;
  } else {
    std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      return absl::InvalidArgumentError("missing ':' after the alias name");
    }
    raw_name = TrimBlanks(line.substr(0, colon));
    *rhs = line.substr(colon + 1);
  }
  if (raw_name.empty()) return absl::InvalidArgumentError("empty alias name");
  if (raw_name.size() > kMaxAliasNameLength) {
    return absl::InvalidArgumentError(fmt::format(
        "alias name longer than {} bytes", kMaxAliasNameLength));
  }
  if (!quoted) {
    if (raw_name.find_first_of(" \t") != std::string_view::npos) {
      return absl::InvalidArgumentError(fmt::format(
          "space in alias name \"{}\" (quote the name)", raw_name));
    }
    if (raw_name.find_first_of("\",<>()") != std::string_view::npos) {
      return absl::InvalidArgumentError(
          fmt::format("bad character in alias name \"{}\"", raw_name));
    }
  }
  if (raw_name.find('@') != std::string_view::npos) {
    return absl::InvalidArgumentError(fmt::format(
        "alias name \"{}\" is not a local name (it has an '@')", raw_name));
  }
  *name = aliases::LowerAscii(raw_name);
  return absl::OkStatus();
}

struct PendingEntry {
  AliasEntry entry;
  std::size_t logical_size = 0;
};

}  // namespace

absl::StatusOr<AliasFile> ParseAliases(std::string_view text,
                                       std::string_view file_name) {
  AliasFile result;
  absl::flat_hash_map<std::string, std::size_t> index_of;  // into entries
  std::vector<bool> superseded;
  std::optional<PendingEntry> pending;

  auto finish = [&]() -> absl::Status {
    if (!pending) return absl::OkStatus();
    AliasEntry& entry = pending->entry;
    if (entry.targets.empty()) {
      return absl::InvalidArgumentError(
          fmt::format("{}:{}: empty target list for alias \"{}\"", file_name,
                      entry.line, entry.name));
    }
    auto [it, inserted] = index_of.try_emplace(entry.name, result.entries.size());
    if (!inserted) {
      result.warnings.push_back(fmt::format(
          "{}:{}: duplicate alias \"{}\" (also at line {}): the later one wins",
          file_name, entry.line, entry.name,
          result.entries[it->second].line));
      superseded[it->second] = true;
      it->second = result.entries.size();
    }
    result.entries.push_back(std::move(entry));
    superseded.push_back(false);
    pending.reset();
    return absl::OkStatus();
  };

  int line_number = 0;
  while (!text.empty()) {
    ++line_number;
    std::string_view line = TakeLine(&text);

    auto fail = [&](int at, std::string_view reason) {
      return absl::InvalidArgumentError(
          fmt::format("{}:{}: {}", file_name, at, reason));
    };
    if (line.size() > kMaxLogicalLine) {
      return fail(line_number,
                  fmt::format("line longer than {} bytes", kMaxLogicalLine));
    }
    if (std::string bad = aliases::CheckLineBytes(line); !bad.empty()) {
      return fail(line_number, bad);
    }
    if (line.empty() || line.front() == '#') {
      if (absl::Status s = finish(); !s.ok()) return s;
      continue;
    }
    auto content = aliases::StripComment(line);
    if (!content.ok()) return fail(line_number, std::string(content.status().message()));

    std::string_view rhs;
    if (IsBlank(line.front())) {
      if (TrimBlanks(*content).empty()) continue;  // blank or comment only
      if (!pending) {
        return fail(line_number,
                    "continuation line without an alias before it");
      }
      pending->logical_size += line.size();
      rhs = *content;
    } else {
      if (absl::Status s = finish(); !s.ok()) return s;
      pending.emplace();
      pending->entry.line = line_number;
      pending->logical_size = line.size();
      if (absl::Status s = SplitNameAndTargets(*content, &pending->entry.name,
                                               &rhs);
          !s.ok()) {
        return fail(line_number, std::string(s.message()));
      }
    }
    if (pending->logical_size > kMaxLogicalLine) {
      return fail(pending->entry.line,
                  fmt::format("logical line longer than {} bytes",
                              kMaxLogicalLine));
    }
    if (absl::Status s = aliases::ParseTargetList(rhs, &pending->entry.targets);
        !s.ok()) {
      return fail(line_number, std::string(s.message()));
    }
    if (pending->entry.targets.size() > kMaxTargetsPerAlias) {
      return fail(pending->entry.line,
                  fmt::format("more than {} targets for alias \"{}\"",
                              kMaxTargetsPerAlias, pending->entry.name));
    }
  }
  if (absl::Status s = finish(); !s.ok()) return s;

  // Keep the winning entry of each name, in file order.
  std::vector<AliasEntry> kept;
  kept.reserve(result.entries.size());
  for (std::size_t i = 0; i < result.entries.size(); ++i) {
    if (!superseded[i]) kept.push_back(std::move(result.entries[i]));
  }
  result.entries = std::move(kept);
  return result;
}

}  // namespace posthorn::store
