// pop3d/bulletins.cpp — ListBulletins and DeliverBulletins
// (posthorn/pop3d/bulletins.h).
//
// Files are opened with O_NOFOLLOW | O_NONBLOCK (a symlink fails, a FIFO
// does not hang the login) and checked with fstat() on the open
// descriptor, so what is checked is what is read: a regular file, one
// link (a hard link to another user's mail in a world-writable folder
// would otherwise be mailed out), at most kMaxBulletinSize octets.
// ListBulletins checks every file; DeliverBulletins checks only the files
// due for the user, as it reads them (an old bad file is not reopened and
// reported at every login).
//
// The user's record (note "bulletin") is the decimal number of the last
// bulletin delivered or skipped. A new user gets the newest bulletin that
// passes the checks (an unsafe newest file is passed over) and a record
// at the newest number. It moves after each delivery, never
// before, so a failure or a crash repeats at most one bulletin. A file
// skipped for what it is (symlink, links, size, empty) is passed over and
// the record moves past it; an I/O error stops the delivery with the
// record before it, so it is tried again at the next login.

#include "posthorn/pop3d/bulletins.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "fmt/format.h"
#include "pop3d/bulletin_text.h"
#include "posthorn/pop3d/pop3_service.h"
#include "posthorn/store/message_reader.h"

namespace posthorn::pop3d {
namespace {

constexpr std::string_view kRecordKey = "bulletin";
constexpr std::size_t kMaxNumberDigits = 19;  // fits std::uint64_t

void Warn(std::vector<std::string>* warnings, std::string_view path,
          std::string_view reason) {
  if (warnings != nullptr) {
    warnings->push_back(fmt::format("{}: {}", EscapeForLog(path), reason));
  }
}

// The number of a name "NNNNN.name" (digits, a dot, at least one more
// character), or nullopt.
std::optional<std::uint64_t> BulletinNumber(std::string_view name) {
  const std::size_t dot = name.find('.');
  if (dot == 0 || dot == std::string_view::npos || dot + 1 == name.size() ||
      dot > kMaxNumberDigits) {
    return std::nullopt;
  }
  std::uint64_t number = 0;
  const char* end = name.data() + dot;
  const auto [stop, error] = std::from_chars(name.data(), end, number);
  if (error != std::errc() || stop != end) return std::nullopt;
  return number;
}

// Why `path` (already open as `fd`) is not a bulletin, or "" when it is.
std::string RejectReason(int fd, struct stat* info) {
  if (::fstat(fd, info) != 0) return fmt::format("fstat: {}", std::strerror(errno));
  if (!S_ISREG(info->st_mode)) return "not a regular file";
  if (info->st_nlink != 1) return "has more than one link";
  if (static_cast<std::uint64_t>(info->st_size) > kMaxBulletinSize) {
    return fmt::format("larger than {} octets", kMaxBulletinSize);
  }
  return "";
}

class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

int OpenBulletin(const std::string& path) {
  return ::open(path.c_str(),
                O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
}

// The outcome of reading one bulletin file.
struct BulletinFile {
  bool skipped = false;  // not a bulletin (reason in the warnings)
  std::string text;
};

absl::StatusOr<BulletinFile> ReadBulletin(const std::string& path,
                                          std::vector<std::string>* warnings) {
  BulletinFile result;
  FileDescriptor fd(OpenBulletin(path));
  if (fd.get() < 0) {
    const int error = errno;
    if (error == ELOOP || error == ENOENT || error == ENXIO) {
      Warn(warnings, path,
           error == ELOOP ? "is a symbolic link" : std::strerror(error));
      result.skipped = true;
      return result;
    }
    return absl::UnavailableError(fmt::format(
        "{}: cannot open: {}", EscapeForLog(path), std::strerror(error)));
  }
  struct stat info {};
  const std::string reason = RejectReason(fd.get(), &info);
  if (!reason.empty()) {
    Warn(warnings, path, reason);
    result.skipped = true;
    return result;
  }
  // Read at most one octet more than the limit: a file that grew since
  // fstat() is refused, not cut.
  result.text.resize(kMaxBulletinSize + 1);
  std::size_t filled = 0;
  while (filled < result.text.size()) {
    const ssize_t n =
        ::read(fd.get(), result.text.data() + filled, result.text.size() - filled);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      return absl::UnavailableError(fmt::format(
          "{}: read: {}", EscapeForLog(path), std::strerror(errno)));
    }
    if (n == 0) break;
    filled += static_cast<std::size_t>(n);
  }
  if (filled > kMaxBulletinSize) {
    Warn(warnings, path, "grew beyond the size limit");
    result.skipped = true;
    return result;
  }
  result.text.resize(filled);
  if (result.text.empty()) {
    Warn(warnings, path, "is empty");
    result.skipped = true;
  }
  return result;
}

// Reads, checks, rewrites and delivers one bulletin: true when delivered,
// false when the file was skipped (reason in the warnings).
absl::StatusOr<bool> DeliverOne(store::Mailstore& store,
                                const Bulletin& bulletin, std::string_view user,
                                std::string_view hostname,
                                std::vector<std::string>* warnings) {
  auto file = ReadBulletin(bulletin.path, warnings);
  if (!file.ok()) return file.status();
  if (file->skipped) return false;
  const std::string text = RewriteBulletin(file->text, user, hostname);
  store::StringReader source(text);
  const store::DeliveryInfo info{
      .envelope_sender = detail::BulletinSender(file->text),
      .arrival = absl::Now()};
  if (absl::Status sent = store.Deliver(user, info, source); !sent.ok()) {
    return sent;
  }
  return true;
}

// The user's record, or nullopt for a user without one (or a damaged
// one, which is treated the same and reported).
absl::StatusOr<std::optional<std::uint64_t>> ReadRecord(
    store::Mailstore& store, std::string_view user,
    std::vector<std::string>* warnings) {
  auto note = store.ReadUserNote(user, kRecordKey);
  if (absl::IsNotFound(note.status())) return std::nullopt;
  if (!note.ok()) return note.status();
  std::uint64_t number = 0;
  const char* end = note->data() + note->size();
  const auto [stop, error] = std::from_chars(note->data(), end, number);
  if (note->empty() || error != std::errc() || stop != end) {
    Warn(warnings, fmt::format("bulletin record of {}", user),
         "not a number; treated as a new user");
    return std::nullopt;
  }
  return number;
}

// The files of `dir` named NNNNN.name, by number (then name) ascending,
// not yet opened; other names are reported. A missing folder is empty.
absl::StatusOr<std::vector<Bulletin>> ListBulletinNames(
    const std::string& dir, std::vector<std::string>* warnings) {
  DIR* folder = ::opendir(dir.c_str());
  if (folder == nullptr) {
    if (errno == ENOENT) return std::vector<Bulletin>{};
    const int error = errno;
    return absl::UnavailableError(fmt::format(
        "bulletin folder {}: {}", EscapeForLog(dir), std::strerror(error)));
  }
  std::vector<std::pair<Bulletin, std::string>> found;  // with the name
  int read_error = 0;
  for (;;) {
    errno = 0;
    const struct dirent* entry = ::readdir(folder);
    if (entry == nullptr) {
      read_error = errno;
      break;
    }
    const std::string_view name = entry->d_name;
    if (name == "." || name == "..") continue;
    const std::string path = dir + "/" + std::string(name);
    const auto number = BulletinNumber(name);
    if (!number.has_value()) {
      Warn(warnings, path, "name is not NNNNN.name");
      continue;
    }
    found.push_back({Bulletin{*number, path}, std::string(name)});
  }
  ::closedir(folder);
  if (read_error != 0) {
    return absl::UnavailableError(fmt::format("bulletin folder {}: {}",
                                              EscapeForLog(dir),
                                              std::strerror(read_error)));
  }
  std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) {
    return a.first.number != b.first.number ? a.first.number < b.first.number
                                            : a.second < b.second;
  });
  std::vector<Bulletin> bulletins;
  bulletins.reserve(found.size());
  for (auto& [bulletin, name] : found) bulletins.push_back(std::move(bulletin));
  return bulletins;
}

}  // namespace

absl::StatusOr<std::vector<Bulletin>> ListBulletins(
    const std::string& dir, std::vector<std::string>* warnings) {
  auto named = ListBulletinNames(dir, warnings);
  if (!named.ok()) return named.status();
  std::vector<Bulletin> bulletins;
  bulletins.reserve(named->size());
  for (Bulletin& bulletin : *named) {
    FileDescriptor fd(OpenBulletin(bulletin.path));
    if (fd.get() < 0) {
      Warn(warnings, bulletin.path,
           errno == ELOOP ? "is a symbolic link" : std::strerror(errno));
      continue;
    }
    struct stat info {};
    if (const std::string reason = RejectReason(fd.get(), &info);
        !reason.empty()) {
      Warn(warnings, bulletin.path, reason);
      continue;
    }
    bulletins.push_back(std::move(bulletin));
  }
  return bulletins;
}

absl::StatusOr<std::size_t> DeliverBulletins(
    store::Mailstore& store, const std::string& dir, std::string_view user,
    std::string_view hostname, std::vector<std::string>* warnings) {
  if (absl::Status valid = store::ValidateUserName(user); !valid.ok()) {
    return valid;
  }
  // Only the files due are opened and checked: an old bad file is not
  // reopened (and reported) at every login.
  auto bulletins = ListBulletinNames(dir, warnings);
  if (!bulletins.ok()) return bulletins.status();
  auto record = ReadRecord(store, user, warnings);
  if (!record.ok()) return record.status();

  if (!record->has_value()) {
    // A new user: only the newest bulletin that can be read (an unsafe
    // newest one is passed over), then the record at the newest number,
    // so the older ones never follow. With no bulletins the record starts
    // at 0 and every bulletin posted later reaches them.
    std::uint64_t newest = 0;
    std::size_t delivered = 0;
    for (auto it = bulletins->rbegin(); it != bulletins->rend(); ++it) {
      newest = std::max(newest, it->number);
      auto sent = DeliverOne(store, *it, user, hostname, warnings);
      if (!sent.ok()) return sent.status();
      if (*sent) {
        delivered = 1;
        break;
      }
    }
    if (absl::Status written =
            store.WriteUserNote(user, kRecordKey, std::to_string(newest));
        !written.ok()) {
      return written;
    }
    return delivered;
  }

  std::size_t delivered = 0;
  for (const Bulletin& bulletin : *bulletins) {
    if (bulletin.number <= **record) continue;
    auto sent = DeliverOne(store, bulletin, user, hostname, warnings);
    if (!sent.ok()) return sent.status();
    if (*sent) ++delivered;
    // Moves only after the delivery is durable (or the file was skipped).
    if (absl::Status written = store.WriteUserNote(
            user, kRecordKey, std::to_string(bulletin.number));
        !written.ok()) {
      return written;
    }
  }
  return delivered;
}

}  // namespace posthorn::pop3d
