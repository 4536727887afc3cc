// store/maildir/maildir_session.cpp — see maildir_session.h.

#include "store/maildir/maildir_session.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "store/fs/crash_point.h"
#include "store/fs/file_util.h"
#include "store/maildir/crlf_reader.h"
#include "store/maildir/line_ends.h"
#include "store/maildir/maildir_name.h"

namespace posthorn::store::maildir {
namespace {

// A commit journal names at most every file of a maildrop; this bounds it.
constexpr std::size_t kMaxJournalSize = 64 * 1024 * 1024;

// Where a message of the snapshot lives.
struct MessageFile {
  bool in_new = false;  // new/ or cur/
  std::string name;
  // Ordering key (maildir_name.h).
  std::uint64_t seconds = 0, microseconds = 0, counter = 0;
};

// Stored bytes of one file, read with pread from an open descriptor.
class FileSource final : public RawSource {
 public:
  FileSource(fs::UniqueFd fd, std::string path)
      : fd_(std::move(fd)), path_(std::move(path)) {}
  absl::StatusOr<std::size_t> ReadRaw(std::span<char> buffer) override {
    auto n = fs::PReadSome(fd_.get(), buffer.data(), buffer.size(), offset_,
                           path_);
    if (n.ok()) offset_ += *n;
    return n;
  }

 private:
  fs::UniqueFd fd_;
  std::string path_;
  std::uint64_t offset_ = 0;
};

// The CRLF size of a stored file, by reading it.
absl::StatusOr<std::uint64_t> MeasureFile(const std::string& path) {
  auto fd = fs::OpenFile(path, O_RDONLY);
  if (!fd.ok()) return fd.status();
  CrlfSizeCounter counter;
  std::string buffer(64 * 1024, '\0');
  std::uint64_t offset = 0;
  for (;;) {
    auto n = fs::PReadSome(fd->get(), buffer.data(), buffer.size(), offset,
                           path);
    if (!n.ok()) return n.status();
    if (*n == 0) break;
    counter.Feed(std::string_view(buffer.data(), *n));
    offset += *n;
  }
  return counter.crlf_size();
}

// A journal line is "new/<name>" or "cur/<name>" with a message name;
// anything else (a planted or damaged journal) is ignored.
bool IsJournalEntry(std::string_view line) {
  if (!line.starts_with("new/") && !line.starts_with("cur/")) return false;
  return ParseMessageName(line.substr(4)).has_value();
}

// Finishes a Commit() that a crash interrupted (maildir_session.h, COMMIT).
absl::Status ReplayCommitJournal(const MaildirPaths& paths, bool fsync) {
  auto journal = fs::ReadSmallFile(paths.commit_journal, kMaxJournalSize);
  if (absl::IsNotFound(journal.status())) return absl::OkStatus();
  if (!journal.ok()) return journal.status();
  std::string_view rest = *journal;
  while (!rest.empty()) {
    std::size_t end = std::min(rest.find('\n'), rest.size());
    std::string_view line = rest.substr(0, end);
    rest.remove_prefix(std::min(end + 1, rest.size()));
    if (!IsJournalEntry(line)) continue;
    // Only regular files: a journal naming a folder or a symlink is not
    // one Commit() wrote; it must not stop the maildrop from opening.
    std::string path = fs::JoinPath(paths.user_dir, line);
    auto st = fs::LStat(path);
    if (!st.ok() || !S_ISREG(st->st_mode)) continue;
    if (auto s = fs::Unlink(path); !s.ok()) return s;
  }
  if (fsync) {
    if (auto s = fs::FsyncDir(paths.new_dir); !s.ok()) return s;
    if (auto s = fs::FsyncDir(paths.cur); !s.ok()) return s;
  }
  return fs::Unlink(paths.commit_journal);
}

// Removes tmp/ files older than kStaleTmpAge: deliveries that crashed.
void RemoveStaleTmpFiles(const MaildirPaths& paths) {
  std::vector<std::string> stale;
  absl::Time cutoff = absl::Now() - kStaleTmpAge;
  (void)ListFolder(paths.tmp, [&](std::string_view name) {
    std::string path = fs::JoinPath(paths.tmp, name);
    auto st = fs::LStat(path);
    if (st.ok() && S_ISREG(st->st_mode) &&
        absl::FromTimeT(st->st_mtime) < cutoff) {
      stale.push_back(std::move(path));
    }
  });
  // Best effort: a file we cannot remove now is tried next session.
  for (const auto& path : stale) (void)fs::Unlink(path);
}

class MaildirSession final : public MaildropSession {
 public:
  MaildirSession(MaildirPaths paths, bool fsync, fs::UniqueFd lock)
      : paths_(std::move(paths)), fsync_(fsync), lock_(std::move(lock)) {}

  absl::Status List();

  std::span<const MessageInfo> messages() const override { return infos_; }

  absl::StatusOr<std::unique_ptr<MessageReader>> Read(
      std::size_t index) override {
    return OpenReader(index, std::nullopt);
  }

  absl::StatusOr<std::unique_ptr<MessageReader>> ReadTop(
      std::size_t index, std::uint64_t body_lines) override {
    return OpenReader(index, body_lines);
  }

  absl::Status Commit(std::span<const std::size_t> deleted) override;

 private:
  std::string PathOf(const MessageFile& file) const {
    return fs::JoinPath(file.in_new ? paths_.new_dir : paths_.cur, file.name);
  }
  // The name a kept message gets in cur/.
  static std::string CurName(const std::string& name) {
    return name.find(':') == std::string::npos ? name + ":2," : name;
  }
  void ConsiderFile(bool in_new, std::string_view name);
  absl::StatusOr<std::unique_ptr<MessageReader>> OpenReader(
      std::size_t index, std::optional<std::uint64_t> top_body_lines);

  MaildirPaths paths_;
  bool fsync_;
  fs::UniqueFd lock_;  // invalid once the session is finished
  std::vector<MessageFile> files_;
  std::vector<MessageInfo> infos_;
};

void MaildirSession::ConsiderFile(bool in_new, std::string_view name) {
  if (name.starts_with('.')) return;
  auto parsed = ParseMessageName(name);
  if (!parsed) return;
  MessageFile file{.in_new = in_new,
                   .name = std::string(name),
                   .seconds = parsed->seconds,
                   .microseconds = parsed->microseconds,
                   .counter = parsed->counter};
  std::string path = PathOf(file);
  auto st = fs::LStat(path);
  if (!st.ok() || !S_ISREG(st->st_mode) || st->st_nlink != 1 ||
      st->st_size == 0) {
    return;  // a stray (see STRAYS), or gone meanwhile
  }
  MessageInfo info;
  if (parsed->crlf_size &&
      (!parsed->stored_size ||
       *parsed->stored_size == static_cast<std::uint64_t>(st->st_size))) {
    info.size = *parsed->crlf_size;
  } else {
    auto measured = MeasureFile(path);
    if (!measured.ok()) return;  // removed or replaced meanwhile
    info.size = *measured;
  }
  info.uid = std::string(parsed->base);  // made a UID in List()
  files_.push_back(std::move(file));
  infos_.push_back(std::move(info));
}

absl::Status MaildirSession::List() {
  for (bool in_new : {true, false}) {
    auto status = ListFolder(in_new ? paths_.new_dir : paths_.cur,
                             [&](std::string_view name) {
                               ConsiderFile(in_new, name);
                             });
    if (!status.ok()) return status;
  }
  // Sort both vectors by the delivery order of the files.
  std::vector<std::size_t> order(files_.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  auto key = [&](std::size_t i) {
    const MessageFile& f = files_[i];
    return std::tie(f.seconds, f.microseconds, f.counter, f.name);
  };
  std::sort(order.begin(), order.end(),
            [&](std::size_t a, std::size_t b) { return key(a) < key(b); });
  std::vector<MessageFile> files;
  std::vector<MessageInfo> infos;
  absl::flat_hash_set<std::string> used_uids;
  for (std::size_t i : order) {
    MessageInfo info = std::move(infos_[i]);
    info.uid = UidForBase(info.uid);
    if (!used_uids.insert(info.uid).second) {
      // The same base in new/ and cur/ (another program copied it).
      info.uid = UidForDuplicate(
          absl::StrCat(files_[i].in_new ? "new/" : "cur/", files_[i].name));
      used_uids.insert(info.uid);
    }
    files.push_back(std::move(files_[i]));
    infos.push_back(std::move(info));
  }
  files_ = std::move(files);
  infos_ = std::move(infos);
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<MessageReader>> MaildirSession::OpenReader(
    std::size_t index, std::optional<std::uint64_t> top_body_lines) {
  if (!lock_.valid()) {
    return absl::FailedPreconditionError("the POP session is finished");
  }
  if (index >= files_.size()) {
    return absl::NotFoundError(
        absl::StrCat("no message ", index + 1, " in this session"));
  }
  const MessageFile& file = files_[index];
  std::string path = PathOf(file);
  auto fd = fs::OpenFile(path, O_RDONLY);
  if (!fd.ok() && absl::IsNotFound(fd.status()) && file.in_new) {
    // Another mail program may have moved it to cur/ meanwhile.
    std::string moved = fs::JoinPath(paths_.cur, CurName(file.name));
    auto fd_moved = fs::OpenFile(moved, O_RDONLY);
    if (fd_moved.ok()) {
      fd = std::move(fd_moved);
      path = std::move(moved);
    }
  }
  if (!fd.ok()) {
    if (absl::IsNotFound(fd.status())) {
      return absl::NotFoundError(absl::StrCat(
          "message ", index + 1, " (", path,
          ") was removed by another program during the session"));
    }
    return fd.status();
  }
  return std::make_unique<CrlfReader>(
      std::make_unique<FileSource>(std::move(*fd), path), top_body_lines);
}

absl::Status MaildirSession::Commit(std::span<const std::size_t> deleted) {
  if (!lock_.valid()) {
    return absl::FailedPreconditionError("the POP session is finished");
  }
  // The session ends here whatever happens: the lock goes with `lock`.
  fs::UniqueFd lock = std::move(lock_);
  std::vector<bool> is_deleted(files_.size(), false);
  for (std::size_t index : deleted) {
    if (index >= files_.size() || is_deleted[index]) {
      return absl::InvalidArgumentError(absl::StrCat(
          "Commit: message index ", index, " is out of range or repeated"));
    }
    is_deleted[index] = true;
  }
  if (!deleted.empty()) {
    std::string journal;
    for (std::size_t index : deleted) {
      absl::StrAppend(&journal, files_[index].in_new ? "new/" : "cur/",
                      files_[index].name, "\n");
    }
    if (auto s = fs::AtomicWriteFile(paths_.commit_journal, journal, 0600,
                                     fsync_);
        !s.ok()) {
      return s;
    }
    fs::CrashPoint();  // from here on the deletions will happen
    for (std::size_t index : deleted) {
      if (auto s = fs::Unlink(PathOf(files_[index])); !s.ok()) return s;
    }
  }
  for (std::size_t i = 0; i < files_.size(); ++i) {
    if (is_deleted[i] || !files_[i].in_new) continue;
    auto s = RenameNoReplace(PathOf(files_[i]),
                             fs::JoinPath(paths_.cur, CurName(files_[i].name)));
    // A message another program moved or removed meanwhile is its business;
    // one whose cur/ name is taken stays in new/ rather than replace it.
    if (!s.ok() && !absl::IsNotFound(s) && !absl::IsAlreadyExists(s)) {
      return s;
    }
  }
  if (fsync_) {
    if (auto s = fs::FsyncDir(paths_.new_dir); !s.ok()) return s;
    if (auto s = fs::FsyncDir(paths_.cur); !s.ok()) return s;
  }
  if (!deleted.empty()) return fs::Unlink(paths_.commit_journal);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<MaildropSession>> OpenMaildirSession(
    const MaildirPaths& paths, bool fsync) {
  auto lock = fs::OpenFile(paths.lock, O_RDWR | O_CREAT, 0600);
  if (!lock.ok()) return lock.status();
  if (auto s = fs::TryLockOfd(lock->get(), paths.lock); !s.ok()) return s;
  if (auto s = ReplayCommitJournal(paths, fsync); !s.ok()) return s;
  RemoveStaleTmpFiles(paths);
  auto session = std::make_unique<MaildirSession>(paths, fsync,
                                                  std::move(*lock));
  if (auto s = session->List(); !s.ok()) return s;
  return session;
}

}  // namespace posthorn::store::maildir
