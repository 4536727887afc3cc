// store/maildir/maildir_store.cpp — MakeMaildirStore (posthorn/store/
// maildir.h): delivery and user notes; POP sessions are in
// maildir_session.cpp.
//
// DELIVERY (the Maildir protocol, no locks)
//   1. create the Maildir if missing (maildir_layout.h);
//   2. write tmp/<unique base> with O_EXCL, converting line ends
//      (line_ends.h) and counting sizes as it streams;
//   3. fsync the file;
//   4. rename it to new/<base>,S=<bytes>,W=<crlf size> without replacing
//      anything (a taken name gets a fresh counter);
//   5. fsync new/.
//   A crash before 4 leaves only a tmp/ file, which no session shows and
//   the 36-hour rule removes; after 4 the whole message is there.
//   The name is made from the current time, not DeliveryInfo::arrival:
//   Maildir names carry the delivery time, and sessions order by it.
//
// KEYED DELIVERY (DeliveryInfo::delivery_id set)
//   The final name comes from the arrival time and the id
//   (MakeDeliveryBase) plus the sizes, so a retry of the same delivery
//   computes the same name. After step 3 the delivery looks for that name
//   in new/ and, as this store's sessions move it, in cur/ with ":2,"
//   (two stats, no folder scan); found, or the no-replace rename reporting
//   it taken, means an earlier call delivered it: the tmp/ copy is
//   removed, new/ fsynced (the earlier call may have died before its
//   sync) and OK returned. A copy another program renamed with other
//   flags, or one a POP session deleted, is not found: delivered again.

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "posthorn/store/maildir.h"
#include "store/fs/crash_point.h"
#include "store/fs/file_util.h"
#include "store/maildir/line_ends.h"
#include "store/maildir/maildir_layout.h"
#include "store/maildir/maildir_name.h"
#include "store/maildir/maildir_session.h"
#include "store/maildir/user_note.h"

namespace posthorn::store {
namespace {

using maildir::MaildirPaths;

constexpr std::size_t kDeliveryChunk = 64 * 1024;
// Attempts at a free name in new/ before giving up (a clash needs a
// foreign file with our pid, counter and microsecond: never in practice).
constexpr int kNameAttempts = 5;

std::string LocalHostName() {
  char buffer[256] = {};
  if (::gethostname(buffer, sizeof buffer - 1) != 0) return "localhost";
  return buffer;
}

class MaildirStore final : public Mailstore {
 public:
  explicit MaildirStore(const MaildirStoreOptions& options)
      : options_(options),
        escaped_host_(maildir::EscapeHostForMaildir(
            options.hostname.empty() ? LocalHostName() : options.hostname)) {}

  absl::Status Deliver(std::string_view user, const DeliveryInfo& info,
                       MessageReader& source) override;
  absl::StatusOr<std::unique_ptr<MaildropSession>> OpenSession(
      std::string_view user) override;
  absl::StatusOr<std::string> ReadUserNote(std::string_view user,
                                           std::string_view key) override;
  absl::Status WriteUserNote(std::string_view user, std::string_view key,
                             std::string_view value) override;

 private:
  // Steps 2-3 of DELIVERY into the open `fd`; returns the name suffix.
  absl::StatusOr<std::string> WriteMessage(int fd, const std::string& path,
                                           MessageReader& source);
  // Steps 4-5 of DELIVERY for a keyed delivery (see KEYED DELIVERY):
  // `name` is the final name, tmp_path holds the written message.
  absl::Status DeliverKeyed(const MaildirPaths& paths,
                            const std::string& tmp_path,
                            const std::string& name);

  MaildirStoreOptions options_;
  std::string escaped_host_;
};

absl::StatusOr<std::string> MaildirStore::WriteMessage(int fd,
                                                       const std::string& path,
                                                       MessageReader& source) {
  maildir::LfNormalizer normalizer;
  std::string input(kDeliveryChunk, '\0');
  std::string stored;
  stored.reserve(kDeliveryChunk + 2);
  for (;;) {
    auto n = source.Read(std::span<char>(input.data(), input.size()));
    if (!n.ok()) return n.status();
    if (*n == 0) break;
    stored.clear();
    normalizer.Feed(std::string_view(input.data(), *n), stored);
    if (auto s = fs::WriteAll(fd, stored, path); !s.ok()) return s;
  }
  stored.clear();
  normalizer.Finish(stored);
  if (auto s = fs::WriteAll(fd, stored, path); !s.ok()) return s;
  if (normalizer.stored_size() == 0) {
    return absl::InvalidArgumentError("Deliver: the message is empty");
  }
  if (options_.fsync) {
    if (auto s = fs::Fsync(fd, path); !s.ok()) return s;
  }
  return absl::StrCat(",S=", normalizer.stored_size(),
                      ",W=", normalizer.crlf_size());
}

absl::Status MaildirStore::DeliverKeyed(const MaildirPaths& paths,
                                        const std::string& tmp_path,
                                        const std::string& name) {
  // Where this store's own sessions put it (maildir_session.cpp, CurName).
  std::string in_new = fs::JoinPath(paths.new_dir, name);
  std::string in_cur = fs::JoinPath(paths.cur, name + ":2,");
  bool delivered = false;
  for (const std::string* path : {&in_new, &in_cur}) {
    auto st = fs::LStat(*path);
    if (st.ok()) {
      delivered = true;
      break;
    }
    if (!absl::IsNotFound(st.status())) {
      (void)fs::Unlink(tmp_path);
      return st.status();
    }
  }
  absl::Status status;
  if (!delivered) {
    status = maildir::RenameNoReplace(tmp_path, in_new);
    delivered = absl::IsAlreadyExists(status);
  }
  if (delivered) status = fs::Unlink(tmp_path);  // the earlier copy stays
  if (!status.ok()) {
    (void)fs::Unlink(tmp_path);
    return status;
  }
  // A copy in cur/ was put there by a session, which synced cur/.
  if (!options_.fsync) return absl::OkStatus();
  return fs::FsyncDir(paths.new_dir);
}

absl::Status MaildirStore::Deliver(std::string_view user,
                                   const DeliveryInfo& info,
                                   MessageReader& source) {
  if (auto s = ValidateUserName(user); !s.ok()) return s;
  if (auto s = ValidateDeliveryId(info.delivery_id); !s.ok()) return s;
  MaildirPaths paths(options_.root_dir, user);
  if (auto s = maildir::EnsureMaildir(paths, options_.fsync); !s.ok()) {
    return s;
  }
  std::string base = maildir::MakeUniqueBase(absl::Now(), escaped_host_);
  std::string tmp_path = fs::JoinPath(paths.tmp, base);
  auto fd = fs::OpenFile(tmp_path, O_WRONLY | O_CREAT | O_EXCL,
                         static_cast<mode_t>(options_.file_mode));
  if (!fd.ok()) return fd.status();
  auto suffix = WriteMessage(fd->get(), tmp_path, source);
  fd->reset();
  absl::Status status = suffix.status();
  if (status.ok() && !info.delivery_id.empty()) {
    return DeliverKeyed(paths, tmp_path,
                        maildir::MakeDeliveryBase(info.arrival,
                                                  info.delivery_id,
                                                  escaped_host_) +
                            *suffix);
  }
  for (int attempt = 0; status.ok(); ++attempt) {
    status = maildir::RenameNoReplace(
        tmp_path, fs::JoinPath(paths.new_dir, base + *suffix));
    if (!absl::IsAlreadyExists(status)) break;
    if (attempt + 1 == kNameAttempts) break;
    base = maildir::MakeUniqueBase(absl::Now(), escaped_host_);
    status = absl::OkStatus();
  }
  if (!status.ok()) {
    (void)fs::Unlink(tmp_path);  // not a message; the 36-hour rule backs this
    return status;
  }
  if (options_.fsync) return fs::FsyncDir(paths.new_dir);
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<MaildropSession>> MaildirStore::OpenSession(
    std::string_view user) {
  if (auto s = ValidateUserName(user); !s.ok()) return s;
  MaildirPaths paths(options_.root_dir, user);
  if (auto s = maildir::EnsureMaildir(paths, options_.fsync); !s.ok()) {
    return s;
  }
  return maildir::OpenMaildirSession(paths, options_.fsync);
}

absl::StatusOr<std::string> MaildirStore::ReadUserNote(std::string_view user,
                                                       std::string_view key) {
  if (auto s = ValidateUserName(user); !s.ok()) return s;
  if (auto s = maildir::ValidateNoteKey(key); !s.ok()) return s;
  MaildirPaths paths(options_.root_dir, user);
  std::string path = fs::JoinPath(paths.user_dir, absl::StrCat(".", std::string(key), ".note"));
  auto value = fs::ReadSmallFile(path, maildir::kMaxNoteValueSize);
  if (absl::IsNotFound(value.status())) {
    return absl::NotFoundError(
        absl::StrCat("no note '", std::string(key), "' for user ",
                     std::string(user)));
  }
  return value;
}

absl::Status MaildirStore::WriteUserNote(std::string_view user,
                                         std::string_view key,
                                         std::string_view value) {
  if (auto s = ValidateUserName(user); !s.ok()) return s;
  if (auto s = maildir::ValidateNoteKey(key); !s.ok()) return s;
  if (auto s = maildir::ValidateNoteValue(value); !s.ok()) return s;
  MaildirPaths paths(options_.root_dir, user);
  if (auto s = maildir::EnsureMaildir(paths, options_.fsync); !s.ok()) {
    return s;
  }
  std::string path = fs::JoinPath(paths.user_dir, absl::StrCat(".", std::string(key), ".note"));
  return fs::AtomicWriteFile(path, value,
                             static_cast<mode_t>(options_.file_mode),
                             options_.fsync);
}

}  // namespace

absl::StatusOr<std::unique_ptr<Mailstore>> MakeMaildirStore(
    const MaildirStoreOptions& options) {
  struct stat st;  // stat, not lstat: the root itself may be a symlink
  if (::stat(options.root_dir.c_str(), &st) != 0) {
    return fs::ErrnoStatus(errno, "stat", options.root_dir);
  }
  if (!S_ISDIR(st.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat(options.root_dir, ": Maildir root is not a folder"));
  }
  return std::unique_ptr<Mailstore>(std::make_unique<MaildirStore>(options));
}

}  // namespace posthorn::store
