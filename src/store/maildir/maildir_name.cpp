// store/maildir/maildir_name.cpp — see maildir_name.h.

#include "store/maildir/maildir_name.h"

#include <unistd.h>

#include <atomic>
#include <charconv>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "store/common/checksum.h"

namespace posthorn::store::maildir {
namespace {

constexpr std::size_t kMaxUidLength = 70;  // RFC 1939 UIDL

bool IsUidByte(char c) {
  auto u = static_cast<unsigned char>(c);
  return u >= 0x21 && u <= 0x7E;
}

// Parses the decimal digits at the start of `text`; advances past them.
std::optional<std::uint64_t> TakeNumber(std::string_view& text) {
  std::uint64_t value = 0;
  auto [end, error] =
      std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end == text.data()) return std::nullopt;
  text.remove_prefix(static_cast<std::size_t>(end - text.data()));
  return value;
}

std::string Digest(std::string_view data) {
  // Two independent 64-bit hashes: 128 bits, ample for names in one folder.
  return absl::StrFormat("D%016x%016x", Fnv1a64(data, kFnvBasis),
                         Fnv1a64(data, 0x84222325cbf29ce4ULL));
}

}  // namespace

std::string EscapeHostForMaildir(std::string_view host) {
  std::string out;
  for (char c : host) {
    auto u = static_cast<unsigned char>(c);
    if (!IsUidByte(c) || c == '/' || c == ':' || c == ',' || c == '\\') {
      absl::StrAppendFormat(&out, "\\%03o", u);
    } else {
      out.push_back(c);
    }
  }
  if (out.empty()) out = "localhost";
  return out;
}

std::string MakeUniqueBase(absl::Time now, std::string_view escaped_host) {
  static std::atomic<std::uint64_t> counter{0};
  std::int64_t micros = absl::ToUnixMicros(now);
  if (micros < 0) micros = 0;
  return absl::StrCat(micros / 1000000, ".M", micros % 1000000, "P",
                      ::getpid(), "Q",
                      counter.fetch_add(1, std::memory_order_relaxed) + 1, ".",
                      std::string(escaped_host));
}

std::string MakeDeliveryBase(absl::Time arrival, std::string_view delivery_id,
                             std::string_view escaped_host) {
  std::int64_t micros = absl::ToUnixMicros(arrival);
  if (micros < 0) micros = 0;
  std::string keyed = absl::StrCat("posthorn delivery id\n",
                                   std::string(delivery_id));
  return absl::StrFormat("%d.M%dI%016x%016x.%s", micros / 1000000,
                         micros % 1000000, Fnv1a64(keyed, kFnvBasis),
                         Fnv1a64(keyed, 0x84222325cbf29ce4ULL),
                         std::string(escaped_host));
}

std::optional<ParsedName> ParseMessageName(std::string_view name) {
  if (name.empty() || name.front() < '0' || name.front() > '9') {
    return std::nullopt;
  }
  if (name.find('/') != std::string_view::npos) return std::nullopt;
  ParsedName parsed;
  parsed.base = name.substr(0, name.find(':'));
  std::string_view rest = parsed.base;
  auto seconds = TakeNumber(rest);
  if (!seconds) return std::nullopt;
  parsed.seconds = *seconds;
  // The middle part: "M<usec>P<pid>Q<counter>" in any order of fields we
  // know; other writers' forms (e.g. "12345_1") simply leave them 0.
  if (!rest.empty() && rest.front() == '.') {
    std::string_view middle = rest.substr(1, rest.find('.', 1) - 1);
    while (!middle.empty()) {
      char tag = middle.front();
      middle.remove_prefix(1);
      auto value = TakeNumber(middle);
      if (!value) break;
      if (tag == 'M') parsed.microseconds = *value;
      if (tag == 'Q') parsed.counter = *value;
    }
  }
  // ",S=<n>" and ",W=<n>" fields anywhere after the first ','.
  std::size_t comma = parsed.base.find(',');
  while (comma != std::string_view::npos) {
    std::string_view field = parsed.base.substr(comma + 1);
    if (field.size() > 2 && field[1] == '=') {
      std::string_view digits = field.substr(2);
      auto value = TakeNumber(digits);
      if (value && (digits.empty() || digits.front() == ',')) {
        if (field[0] == 'S') parsed.stored_size = *value;
        if (field[0] == 'W') parsed.crlf_size = *value;
      }
    }
    comma = parsed.base.find(',', comma + 1);
  }
  return parsed;
}

std::string UidForBase(std::string_view base) {
  bool usable = !base.empty() && base.size() <= kMaxUidLength;
  for (char c : base) usable = usable && IsUidByte(c);
  if (usable) return std::string(base);
  return Digest(base);
}

std::string UidForDuplicate(std::string_view where) {
  return Digest(absl::StrCat("duplicate:", std::string(where)));
}

}  // namespace posthorn::store::maildir
