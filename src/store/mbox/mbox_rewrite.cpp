// store/mbox/mbox_rewrite.cpp — see mbox_rewrite.h.

#include "store/mbox/mbox_rewrite.h"

#include <fcntl.h>
#include <unistd.h>

#include "fmt/format.h"
#include "store/fs/crash_point.h"

namespace posthorn::store::mbox {
namespace {

constexpr std::size_t kCopyBufferSize = std::size_t{1} << 20;

}  // namespace

absl::StatusOr<RewriteResult> RewriteMbox(const MboxPaths& paths, int old_fd,
                                          const std::vector<ByteRange>& ranges,
                                          const MboxStoreOptions& options) {
  auto old_stat = fs::Stat(old_fd, paths.mbox);
  if (!old_stat.ok()) return old_stat.status();
  // A leftover from a killed rewrite is garbage: we hold the lock.
  if (auto status = fs::Unlink(paths.commit_temp); !status.ok()) return status;
  auto temp = fs::OpenFile(paths.commit_temp, O_RDWR | O_CREAT | O_EXCL,
                           old_stat->st_mode & 07777);
  if (!temp.ok()) return temp.status();
  // Same owner as the mailbox (delivery may run as root for many users).
  if (::fchown(temp->get(), old_stat->st_uid, old_stat->st_gid) != 0 &&
      (::geteuid() == 0)) {
    return fs::ErrnoStatus(errno, "chown", paths.commit_temp);
  }
  ::fchmod(temp->get(), old_stat->st_mode & 07777);

  std::vector<char> buffer(kCopyBufferSize);
  std::uint64_t written = 0;
  for (std::size_t r = 0; r < ranges.size();) {
    ByteRange range = ranges[r++];
    while (r < ranges.size() &&
           ranges[r].offset == range.offset + range.length) {
      range.length += ranges[r++].length;
    }
    std::uint64_t done = 0;
    while (done < range.length) {
      std::size_t want = static_cast<std::size_t>(
          std::min<std::uint64_t>(range.length - done, buffer.size()));
      auto got = fs::PReadSome(old_fd, buffer.data(), want,
                               range.offset + done, paths.mbox);
      if (!got.ok()) return got.status();
      if (*got != want) {
        return absl::DataLossError(fmt::format("{}: shorter than expected while copying at offset {}", paths.mbox, range.offset + done));
      }
      if (auto status = fs::PWriteAll(temp->get(),
                                      std::string_view(buffer.data(), want),
                                      written, paths.commit_temp);
          !status.ok()) {
        return status;
      }
      done += want;
      written += want;
    }
  }
  if (options.fsync) {
    if (auto status = fs::Fsync(temp->get(), paths.commit_temp); !status.ok()) {
      return status;
    }
  }
  auto new_stat = fs::Stat(temp->get(), paths.commit_temp);
  if (!new_stat.ok()) return new_stat.status();
  fs::CrashPoint();
  if (auto status = fs::Rename(paths.commit_temp, paths.mbox); !status.ok()) {
    return status;
  }
  if (options.fsync) {
    if (auto status = fs::FsyncDir(paths.spool_dir); !status.ok()) {
      return status;
    }
  }
  RewriteResult result;
  result.new_fd = std::move(*temp);
  result.new_identity = MboxIdentity::FromStat(*new_stat);
  return result;
}

}  // namespace posthorn::store::mbox
