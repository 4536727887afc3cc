// mta::HostStatusTable: the last connection result per remote host, one
// small text file per host in <queue_dir>/.hoststat (sendmail's
// HostStatusDirectory). Files are replaced by write-temp + rename, so a
// reader never sees half a record; with several writers the last wins.
//
// FILE NAMES
//   The host key comes from DNS or the configuration; it must never name
//   a path outside the folder. It is lowercased and every byte outside
//   [a-z0-9.-_:[]] is written %XX, a leading '.' too (so "..", ".x" and
//   the writer's ".name.tmp..." temporary files cannot collide).
//
// FILE LAYOUT (text, one field a line)
//   host [127.0.0.1]:2526
//   when 1764147645123456        (microseconds since the epoch)
//   up no
//   reply 451 4.4.1 connect to [127.0.0.1]:2526: Connection refused
#include <dirent.h>
#include <fcntl.h>

#include <algorithm>
#include <charconv>
#include <memory>

#include <fmt/format.h>

#include "absl/strings/ascii.h"
#include "posthorn/mta/host_status.h"
#include "store/fs/file_util.h"

namespace posthorn::mta {
namespace {

namespace fs = store::fs;

// A host key longer than this is refused (a DNS name is at most 253).
constexpr std::size_t kMaxHostKey = 300;
// Stored reply text (RFC 5321 reply line limit).
constexpr std::size_t kMaxReplyText = 512;
// A record file is tiny; anything bigger is not ours.
constexpr std::size_t kMaxRecordFile = 4096;
// Files read by List() at most.
constexpr std::size_t kMaxHosts = 100000;

bool SafeFileByte(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '.' ||
         c == '-' || c == '_' || c == ':' || c == '[' || c == ']';
}

absl::StatusOr<std::string> FileNameFor(std::string_view host) {
  if (host.empty() || host.size() > kMaxHostKey) {
    return absl::InvalidArgumentError(
        fmt::format("bad host status key of {} octets", host.size()));
  }
  std::string name;
  for (std::size_t i = 0; i < host.size(); ++i) {
    const char c = absl::ascii_tolower(static_cast<unsigned char>(host[i]));
    if (SafeFileByte(c) && !(i == 0 && c == '.')) {
      name += c;
    } else {
      name += fmt::format("%{:02X}", static_cast<unsigned char>(c));
    }
  }
  return name;
}

// One line of text: CR, LF and other control bytes become spaces.
std::string OneLine(std::string_view text, std::size_t limit) {
  std::string out(text.substr(0, limit));
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  return out;
}

std::string Serialize(const HostStatus& status) {
  return fmt::format("host {}\nwhen {}\nup {}\nreply {}\n",
                     OneLine(status.host, kMaxHostKey),
                     absl::ToUnixMicros(status.when),
                     status.up ? "yes" : "no",
                     OneLine(status.reply, kMaxReplyText));
}

absl::StatusOr<HostStatus> Parse(std::string_view text,
                                 const std::string& path) {
  HostStatus status;
  bool have_host = false, have_when = false;
  while (!text.empty()) {
    const std::size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    const std::size_t space = line.find(' ');
    const std::string_view key = line.substr(0, space);
    const std::string_view value =
        space == std::string_view::npos ? "" : line.substr(space + 1);
    if (key == "host") {
      status.host = std::string(value);
      have_host = !value.empty();
    } else if (key == "when") {
      std::int64_t micros = 0;
      const auto [p, ec] =
          std::from_chars(value.data(), value.data() + value.size(), micros);
      if (ec != std::errc() || p != value.data() + value.size()) break;
      status.when = absl::FromUnixMicros(micros);
      have_when = true;
    } else if (key == "up") {
      status.up = value == "yes";
    } else if (key == "reply") {
      status.reply = std::string(value);
    }
  }
  if (!have_host || !have_when) {
    return absl::DataLossError(fmt::format("{}: not a host status record",
                                           path));
  }
  return status;
}

absl::StatusOr<HostStatus> ReadRecord(const std::string& path) {
  absl::StatusOr<std::string> text = fs::ReadSmallFile(path, kMaxRecordFile);
  if (!text.ok()) return text.status();
  return Parse(*text, path);
}

}  // namespace

absl::StatusOr<std::unique_ptr<HostStatusTable>> HostStatusTable::Open(
    std::string dir) {
  if (dir.empty()) return absl::InvalidArgumentError("empty host status dir");
  if (absl::Status status = fs::MakeDir(dir, 0700); !status.ok()) {
    return status;
  }
  return std::unique_ptr<HostStatusTable>(new HostStatusTable(std::move(dir)));
}

absl::Status HostStatusTable::Record(const HostStatus& status) {
  absl::StatusOr<std::string> name = FileNameFor(status.host);
  if (!name.ok()) return name.status();
  // Not fsynced: losing the last status in a crash costs one retry.
  return fs::AtomicWriteFile(fs::JoinPath(dir_, *name), Serialize(status),
                             0600, /*durable=*/false);
}

absl::StatusOr<std::vector<HostStatus>> HostStatusTable::List() const {
  std::unique_ptr<DIR, int (*)(DIR*)> dir(::opendir(dir_.c_str()), ::closedir);
  if (dir == nullptr) {
    if (errno == ENOENT) return std::vector<HostStatus>{};
    return fs::ErrnoStatus(errno, "opendir", dir_);
  }
  std::vector<HostStatus> hosts;
  std::size_t seen = 0;
  while (const dirent* entry = ::readdir(dir.get())) {
    if (entry->d_name[0] == '.') continue;  // ".", "..", temporary files
    if (++seen > kMaxHosts) break;
    absl::StatusOr<HostStatus> status =
        ReadRecord(fs::JoinPath(dir_, entry->d_name));
    // A file removed meanwhile (purgestat) or damaged is skipped.
    if (status.ok()) hosts.push_back(*std::move(status));
  }
  std::sort(hosts.begin(), hosts.end(),
            [](const HostStatus& x, const HostStatus& y) {
              return x.host < y.host;
            });
  return hosts;
}

absl::Status HostStatusTable::Purge() {
  std::unique_ptr<DIR, int (*)(DIR*)> dir(::opendir(dir_.c_str()), ::closedir);
  if (dir == nullptr) {
    if (errno == ENOENT) return absl::OkStatus();
    return fs::ErrnoStatus(errno, "opendir", dir_);
  }
  std::vector<std::string> names;
  while (const dirent* entry = ::readdir(dir.get())) {
    const std::string_view name = entry->d_name;
    if (name == "." || name == "..") continue;
    if (names.size() >= kMaxHosts) break;
    names.emplace_back(name);
  }
  for (const std::string& name : names) {
    if (absl::Status status = fs::Unlink(fs::JoinPath(dir_, name));
        !status.ok()) {
      return status;
    }
  }
  return absl::OkStatus();
}

bool HostStatusTable::RecentlyDown(std::string_view host,
                                   absl::Duration for_how_long) const {
  absl::StatusOr<std::string> name = FileNameFor(host);
  if (!name.ok()) return false;
  absl::StatusOr<HostStatus> status = ReadRecord(fs::JoinPath(dir_, *name));
  if (!status.ok()) return false;
  return !status->up && absl::Now() - status->when < for_how_long;
}

}  // namespace posthorn::mta
