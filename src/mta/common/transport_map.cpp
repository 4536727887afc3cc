// mta::ParseTransportMap: "domain [host]:port" lines.
#include <fmt/format.h>

#include "absl/strings/ascii.h"
#include "posthorn/mta/routing.h"
#include "store/common/text_lines.h"

namespace posthorn::mta {
namespace {

std::string_view NextWord(std::string_view& line) {
  std::size_t start = 0;
  while (start < line.size() && (line[start] == ' ' || line[start] == '\t')) {
    ++start;
  }
  std::size_t end = start;
  while (end < line.size() && line[end] != ' ' && line[end] != '\t') ++end;
  std::string_view word = line.substr(start, end - start);
  line.remove_prefix(end);
  return word;
}

}  // namespace

absl::StatusOr<std::vector<TransportEntry>> ParseTransportMap(
    std::string_view text, std::string_view file_name) {
  std::vector<TransportEntry> entries;
  int line_number = 0;
  while (!text.empty()) {
    ++line_number;
    std::string_view line = store::TakeLine(&text);
    if (std::size_t hash = line.find('#'); hash != std::string_view::npos) {
      line = line.substr(0, hash);
    }
    std::string_view domain = NextWord(line);
    if (domain.empty()) continue;
    std::string_view target = NextWord(line);
    auto error = [&](std::string_view reason) {
      return absl::InvalidArgumentError(
          fmt::format("{}:{}: {}", file_name, line_number, reason));
    };
    if (target.empty()) return error("expected \"domain [host]:port\"");
    if (!NextWord(line).empty()) return error("more than two fields");
    auto hop = ParseNextHop(target);
    if (!hop.ok()) return error(std::string(hop.status().message()));
    TransportEntry entry;
    entry.domain = absl::AsciiStrToLower(std::string(domain));
    if (entry.domain.size() > 1 && entry.domain.back() == '.') {
      entry.domain.pop_back();
    }
    entry.hop = *hop;
    entry.line = line_number;
    for (const TransportEntry& seen : entries) {
      if (seen.domain == entry.domain) {
        return error(fmt::format("domain {} already listed on line {}",
                                 entry.domain, seen.line));
      }
    }
    entries.push_back(std::move(entry));
  }
  return entries;
}

}  // namespace posthorn::mta
