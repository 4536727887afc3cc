// mta::MailStats: per-mailer counters in <queue_dir>/.mailstats.
//
// FILE LAYOUT (text)
//   posthorn-mailstats 1
//   since 1764147645                       (seconds since the epoch)
//   mailer local 2 4096 1 2048 0 0         (msgs_from bytes_from msgs_to
//                                           bytes_to rejected discarded)
// Add() and Clear() hold an open-file-description lock on
// "<path>.lock" (exclusive between processes and between threads) while
// they read, change and replace the file (write-temp + rename), so
// concurrent writers add up and a reader without the lock never sees half
// a file.
#include <fcntl.h>

#include <algorithm>
#include <charconv>
#include <map>

#include <fmt/format.h>

#include "absl/strings/ascii.h"
#include "mta/remote/mailer_numbers.h"
#include "posthorn/mta/host_status.h"
#include "store/fs/file_util.h"

namespace posthorn::mta {

namespace detail {

int KnownMailerNumber(std::string_view mailer) {
  static constexpr std::string_view kNames[] = {
      "prog", "file", "*include*", "local", "smtp",
      "esmtp", "smtp8", "dsmtp", "relay"};
  for (int i = 0; i < static_cast<int>(std::size(kNames)); ++i) {
    if (kNames[i] == mailer) return i;
  }
  if (mailer == "*file*") return 1;
  return -1;
}

}  // namespace detail

namespace {

namespace fs = store::fs;

constexpr std::string_view kMagic = "posthorn-mailstats 1";
// The file holds one line per mailer; far more than any configuration.
constexpr std::size_t kMaxStatsFile = 64 * 1024;
constexpr std::size_t kMaxMailers = 256;
constexpr std::size_t kMaxMailerName = 32;
// How long Add() waits for another writer.
constexpr absl::Duration kLockWait = absl::Seconds(10);

struct Table {
  absl::Time since = absl::Now();
  std::map<std::string, MailerCounters> mailers;
};

bool ValidMailerName(std::string_view name) {
  if (name.empty() || name.size() > kMaxMailerName) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_' ||
           c == '-' || c == '.' || c == '*';
  });
}

bool ParseNumber(std::string_view text, std::uint64_t* out) {
  const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(),
                                       *out);
  return ec == std::errc() && p == text.data() + text.size();
}

absl::StatusOr<Table> Parse(std::string_view text, const std::string& path) {
  auto bad = [&](std::string_view why) {
    return absl::DataLossError(fmt::format("{}: {}", path, why));
  };
  Table table;
  bool first = true;
  while (!text.empty()) {
    const std::size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    if (first) {
      if (line != kMagic) return bad("not a mailstats file");
      first = false;
      continue;
    }
    std::vector<std::string_view> fields;
    for (std::string_view rest = line; !rest.empty();) {
      const std::size_t space = rest.find(' ');
      fields.push_back(rest.substr(0, space));
      rest.remove_prefix(space == std::string_view::npos ? rest.size()
                                                         : space + 1);
      if (fields.size() > 8) break;
    }
    if (fields.size() == 2 && fields[0] == "since") {
      std::uint64_t seconds = 0;
      if (!ParseNumber(fields[1], &seconds)) return bad("bad since line");
      table.since = absl::FromUnixSeconds(static_cast<std::int64_t>(seconds));
    } else if (fields.size() == 8 && fields[0] == "mailer" &&
               ValidMailerName(fields[1])) {
      if (table.mailers.size() >= kMaxMailers) return bad("too many mailers");
      MailerCounters c;
      c.mailer = std::string(fields[1]);
      if (!ParseNumber(fields[2], &c.msgs_from) ||
          !ParseNumber(fields[3], &c.bytes_from) ||
          !ParseNumber(fields[4], &c.msgs_to) ||
          !ParseNumber(fields[5], &c.bytes_to) ||
          !ParseNumber(fields[6], &c.msgs_rejected) ||
          !ParseNumber(fields[7], &c.msgs_discarded)) {
        return bad("bad mailer line");
      }
      table.mailers[c.mailer] = c;
    } else if (!line.empty()) {
      return bad("unknown line");
    }
  }
  if (first) return bad("empty file");
  return table;
}

std::string Serialize(const Table& table) {
  std::string out = fmt::format("{}\nsince {}\n", kMagic,
                                std::max<std::int64_t>(
                                    absl::ToUnixSeconds(table.since), 0));
  for (const auto& [name, c] : table.mailers) {
    out += fmt::format("mailer {} {} {} {} {} {} {}\n", name, c.msgs_from,
                       c.bytes_from, c.msgs_to, c.bytes_to, c.msgs_rejected,
                       c.msgs_discarded);
  }
  return out;
}

// The table in the file; a missing file is an empty table from now.
absl::StatusOr<Table> Load(const std::string& path) {
  absl::StatusOr<std::string> text = fs::ReadSmallFile(path, kMaxStatsFile);
  if (!text.ok()) {
    if (absl::IsNotFound(text.status())) return Table{};
    return text.status();
  }
  return Parse(*text, path);
}

// Runs `change` on the table under the lock and writes the result.
template <typename Change>
absl::Status Update(const std::string& path, Change change) {
  const std::string lock_path = path + ".lock";
  absl::StatusOr<fs::UniqueFd> lock =
      fs::OpenFile(lock_path, O_RDWR | O_CREAT, 0600);
  if (!lock.ok()) return lock.status();
  if (absl::Status status = fs::LockOfd(lock->get(), lock_path, kLockWait);
      !status.ok()) {
    return status;
  }
  absl::StatusOr<Table> table = Load(path);
  // A damaged file is started afresh rather than blocking every delivery.
  if (!table.ok() && absl::IsDataLoss(table.status())) table = Table{};
  if (!table.ok()) return table.status();
  if (absl::Status status = change(*table); !status.ok()) return status;
  // Counters are statistics: not worth an fsync per message.
  return fs::AtomicWriteFile(path, Serialize(*table), 0600,
                             /*durable=*/false);
}

}  // namespace

absl::Status MailStats::Add(const MailerCounters& delta) {
  if (!ValidMailerName(delta.mailer)) {
    return absl::InvalidArgumentError(fmt::format(
        "bad mailer name \"{}\"", delta.mailer.substr(0, kMaxMailerName)));
  }
  return Update(path_, [&](Table& table) -> absl::Status {
    auto it = table.mailers.find(delta.mailer);
    if (it == table.mailers.end()) {
      if (table.mailers.size() >= kMaxMailers) {
        return absl::ResourceExhaustedError("too many mailers in mailstats");
      }
      MailerCounters fresh;
      fresh.mailer = delta.mailer;
      it = table.mailers.emplace(delta.mailer, fresh).first;
    }
    detail::AddCounters(delta, &it->second);
    return absl::OkStatus();
  });
}

absl::StatusOr<std::vector<MailerCounters>> MailStats::Read(
    absl::Time* since) const {
  absl::StatusOr<Table> table = Load(path_);
  if (!table.ok()) return table.status();
  if (since != nullptr) *since = table->since;
  std::vector<MailerCounters> out;
  for (auto& [name, counters] : table->mailers) out.push_back(counters);
  // sendmail's mailer order (mailer_numbers.h), then by name.
  std::stable_sort(out.begin(), out.end(),
                   [](const MailerCounters& x, const MailerCounters& y) {
                     const int a = detail::KnownMailerNumber(x.mailer);
                     const int b = detail::KnownMailerNumber(y.mailer);
                     return (a < 0 ? 1000 : a) < (b < 0 ? 1000 : b);
                   });
  return out;
}

absl::Status MailStats::Clear() {
  return Update(path_, [](Table& table) {
    table = Table{};
    return absl::OkStatus();
  });
}

}  // namespace posthorn::mta
