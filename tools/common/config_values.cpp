// tools/common/config_values.cpp — parsers for the value kinds of
// posthorn.conf (booleans, numbers, durations, lists, paths, addresses).

#include "tools/common/config_values.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "fmt/format.h"
#include "posthorn/net/smtp_server.h"
#include "tools/common/config.h"

namespace posthorn::tools {
namespace {

constexpr std::uint64_t kMaxDurationSeconds = 100ULL * 366 * 24 * 3600;

absl::Status Invalid(std::string message) {
  return absl::InvalidArgumentError(std::move(message));
}

}  // namespace

absl::StatusOr<std::chrono::seconds> ParseDuration(std::string_view text) {
  std::string_view digits = text;
  std::uint64_t unit = 1;
  if (!text.empty() && !std::isdigit(static_cast<unsigned char>(text.back()))) {
    switch (text.back()) {
      case 's': unit = 1; break;
      case 'm': unit = 60; break;
      case 'h': unit = 3600; break;
      case 'd': unit = 24 * 3600; break;
      default:
        return Invalid(fmt::format(
            "bad duration \"{}\" (a number with an optional unit s, m, h "
            "or d)",
            text));
    }
    digits.remove_suffix(1);
  }
  auto number = config_values::ParseNumber(digits);
  if (!number.ok()) {
    return Invalid(fmt::format(
        "bad duration \"{}\" (a number with an optional unit s, m, h or d)",
        text));
  }
  if (*number > kMaxDurationSeconds / unit) {
    return Invalid(fmt::format("duration \"{}\" is too long", text));
  }
  return std::chrono::seconds(static_cast<std::int64_t>(*number * unit));
}

namespace config_values {

absl::StatusOr<bool> ParseBool(std::string_view text) {
  const std::string lower = absl::AsciiStrToLower(std::string(text));
  for (const char* yes : {"yes", "true", "on", "1"}) {
    if (lower == yes) return true;
  }
  for (const char* no : {"no", "false", "off", "0"}) {
    if (lower == no) return false;
  }
  return Invalid(fmt::format(
      "bad boolean \"{}\" (yes/no, true/false, on/off, 1/0)", text));
}

absl::StatusOr<std::uint64_t> ParseNumber(std::string_view text) {
  if (text.empty()) return Invalid("empty number");
  std::uint64_t value = 0;
  const auto [end, ec] =
      std::from_chars(text.data(), text.data() + text.size(), value);
  // from_chars accepts no sign for unsigned types but would stop early on
  // anything else: require that every byte was a digit.
  if (ec != std::errc() || end != text.data() + text.size()) {
    return Invalid(fmt::format("bad number \"{}\"", text));
  }
  return value;
}

std::vector<std::string> SplitList(std::string_view text) {
  std::vector<std::string> items;
  std::string current;
  for (const char c : text) {
    if (c == ',' || c == ' ' || c == '\t') {
      if (!current.empty()) items.push_back(std::move(current));
      current.clear();
    } else {
      current.push_back(c);
    }
  }
  if (!current.empty()) items.push_back(std::move(current));
  return items;
}

std::string ResolvePath(std::string_view text, std::string_view dir) {
  if (text.empty() || text.front() == '/' || dir.empty()) {
    return std::string(text);
  }
  if (dir.back() == '/') return fmt::format("{}{}", dir, text);
  return fmt::format("{}/{}", dir, text);
}

absl::Status CheckEndpoint(std::string_view text) {
  auto parsed = net::ParseEndpoint(text);
  return parsed.ok() ? absl::OkStatus() : parsed.status();
}

absl::Status CheckDnsServer(std::string_view text) {
  const auto bad = [text](std::string_view why) {
    return Invalid(fmt::format("bad DNS server \"{}\": {}", text, why));
  };
  std::string_view host = text;
  std::string_view port;
  bool has_port = false;
  if (!text.empty() && text.front() == '[') {
    const std::size_t close = text.find(']');
    if (close == std::string_view::npos) return bad("missing ']'");
    host = text.substr(1, close - 1);
    const std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return bad("expected ':' after ']'");
      port = rest.substr(1);
      has_port = true;
    }
  } else if (text.find(':') == text.rfind(':') &&
             text.find(':') != std::string_view::npos) {
    // One colon: IPv4 with a port. Several: a bare IPv6 address (no port).
    const std::size_t colon = text.find(':');
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    has_port = true;
  }
  if (host.empty()) return bad("empty address");
  // INET6_ADDRSTRLEN bounds any address inet_pton could accept.
  if (host.size() >= INET6_ADDRSTRLEN) return bad("not an IP address");
  std::array<unsigned char, 16> buffer{};
  const std::string host_z(host);
  if (::inet_pton(AF_INET, host_z.c_str(), buffer.data()) != 1 &&
      ::inet_pton(AF_INET6, host_z.c_str(), buffer.data()) != 1) {
    return bad("not an IP address (names cannot be resolved here)");
  }
  if (has_port) {
    auto number = ParseNumber(port);
    if (!number.ok() || *number == 0 || *number > 65535) {
      return bad("bad port");
    }
  }
  return absl::OkStatus();
}

absl::Status CheckNetwork(std::string_view text) {
  std::string_view address = text;
  std::string_view prefix;
  if (const auto slash = text.find('/'); slash != std::string_view::npos) {
    address = text.substr(0, slash);
    prefix = text.substr(slash + 1);
  }
  bool v6 = false;
  if (address.size() >= 2 && address.front() == '[' && address.back() == ']') {
    address = address.substr(1, address.size() - 2);
    v6 = true;
  } else {
    v6 = address.find(':') != std::string_view::npos;
  }
  std::array<unsigned char, 16> buffer{};
  const std::string host(address);
  if (::inet_pton(v6 ? AF_INET6 : AF_INET, host.c_str(), buffer.data()) != 1) {
    return Invalid(fmt::format("bad network \"{}\" (address/prefix)", text));
  }
  if (text.find('/') != std::string_view::npos) {
    auto bits = ParseNumber(prefix);
    if (!bits.ok() || *bits > (v6 ? 128U : 32U)) {
      return Invalid(fmt::format("bad prefix length in \"{}\"", text));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<RecipientSource>> ParseRecipientSources(
    std::string_view text) {
  const std::vector<std::string> items = SplitList(text);
  std::vector<RecipientSource> sources;
  if (items.size() == 1 && items[0] == "none") return sources;
  if (items.empty()) {
    return Invalid("empty list (\"none\" accepts every local name)");
  }
  struct Named {
    std::string_view name;
    RecipientSource source;
  };
  static constexpr Named kSources[] = {
      {"passwd", RecipientSource::kPasswd},
      {"aliases", RecipientSource::kAliases},
      {"auth_db", RecipientSource::kAuthDb},
      {"maildrop", RecipientSource::kMaildrop},
  };
  for (const std::string& item : items) {
    const Named* found = nullptr;
    for (const Named& n : kSources) {
      if (n.name == item) found = &n;
    }
    if (found == nullptr) {
      return Invalid(fmt::format(
          "bad source \"{}\" (passwd, aliases, auth_db, maildrop, or none)",
          item));
    }
    if (std::find(sources.begin(), sources.end(), found->source) !=
        sources.end()) {
      return Invalid(fmt::format("\"{}\" listed twice", item));
    }
    sources.push_back(found->source);
  }
  return sources;
}

}  // namespace config_values
}  // namespace posthorn::tools
