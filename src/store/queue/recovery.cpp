// store/queue/recovery.cpp — see recovery.h.

#include "store/queue/recovery.h"

#include <fcntl.h>

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "fmt/format.h"
#include "posthorn/store/status.h"
#include "store/fs/file_util.h"
#include "store/queue/queue_files.h"
#include "store/queue/queue_id.h"

namespace posthorn::store::queue {
namespace {

struct MsgEntry {
  bool has_data = false;
  bool has_env = false;
};

// Opens and locks `path` if nobody holds it. Unavailable (IsInUse) when a
// live writer or worker does.
absl::StatusOr<fs::UniqueFd> LockIfIdle(const std::string& path) {
  absl::StatusOr<fs::UniqueFd> fd = fs::OpenFile(path, O_RDWR);
  if (!fd.ok()) return fd.status();
  absl::Status locked = fs::TryLockOfd(fd->get(), path);
  if (!locked.ok()) return locked;
  return fd;
}

bool Exists(const std::string& path) { return fs::LStat(path).ok(); }

// A name in corrupt/ not yet taken: the original, else with .1, .2, ...
std::string FreeCorruptName(const QueueContext& context,
                            const std::string& name) {
  std::string candidate = fs::JoinPath(context.corrupt_dir, name);
  for (int n = 1; Exists(candidate) && n < 1000; ++n) {
    candidate =
        fs::JoinPath(context.corrupt_dir, fmt::format("{}.{}", name, n));
  }
  return candidate;
}

void CleanTmp(QueueContext& context, bool& changed) {
  absl::StatusOr<std::vector<std::string>> names = ListFolder(context.tmp_dir);
  if (!names.ok()) {
    context.problems.Add(std::string(names.status().message()));
    return;
  }
  for (const std::string& name : *names) {
    const std::string path = fs::JoinPath(context.tmp_dir, name);
    absl::StatusOr<struct stat> st = fs::LStat(path);
    if (!st.ok()) continue;  // gone meanwhile
    if (S_ISREG(st->st_mode) && st->st_nlink == 1) {
      absl::StatusOr<fs::UniqueFd> lock = LockIfIdle(path);
      if (!lock.ok()) {
        if (!IsInUse(lock.status()) && !absl::IsNotFound(lock.status())) {
          context.problems.Add(std::string(lock.status().message()));
        }
        continue;  // a live writer's file (or already gone)
      }
      // Unlinked while we hold the lock, so its writer (if it got the
      // file open just now) sees st_nlink == 0 and starts over.
    }
    absl::Status removed = fs::Unlink(path);
    if (!removed.ok()) {
      context.problems.Add(std::string(removed.message()));
      continue;
    }
    changed = true;
    context.problems.Add(
        fmt::format("{}: removed (interrupted enqueue or rewrite)", path));
  }
}

}  // namespace

void MoveToCorrupt(QueueContext& context, const std::string& id,
                   std::string_view reason) {
  const std::string env_path = context.EnvPath(id);
  const std::string data_path = context.DataPath(id);
  absl::StatusOr<fs::UniqueFd> data_lock = LockIfIdle(data_path);
  if (!data_lock.ok() && IsInUse(data_lock.status())) {
    // A worker holds it: perhaps it is saving a good envelope right now.
    context.problems.Add(
        fmt::format("{}: {} (left in place: leased)", env_path, reason));
    return;
  }
  // The data first: killed after it, the envelope is left without data and
  // the next recovery moves it too. (The other order would leave the data
  // as an orphan, which recovery deletes.)
  std::string what = "envelope";
  if (data_lock.ok()) {
    absl::Status data_moved =
        fs::Rename(data_path, FreeCorruptName(context, id + ".data"));
    if (data_moved.ok()) what = "envelope and data";
  }
  absl::Status moved =
      fs::Rename(env_path, FreeCorruptName(context, id + ".env"));
  if (!moved.ok()) {
    context.problems.Add(fmt::format("{}: {} (could not move aside: {})",
                                     env_path, reason,
                                     std::string(moved.message())));
    return;
  }
  context.problems.Add(fmt::format("{}: {} ({} moved to {})", env_path, reason,
                                   what, context.corrupt_dir));
}

absl::Status RecoverQueueFolder(QueueContext& context) {
  for (const std::string* dir : {&context.dir, &context.tmp_dir,
                                 &context.msg_dir, &context.corrupt_dir}) {
    absl::Status made = fs::MakeDir(*dir, 0700);
    if (!made.ok()) return made;
  }
  bool tmp_changed = false;
  bool msg_changed = false;
  CleanTmp(context, tmp_changed);

  absl::StatusOr<std::vector<std::string>> names = ListFolder(context.msg_dir);
  if (!names.ok()) return names.status();
  std::map<std::string, MsgEntry> entries;
  for (const std::string& name : *names) {
    std::string_view view = name;
    bool is_data = ConsumeSuffix(view, ".data");
    bool is_env = !is_data && ConsumeSuffix(view, ".env");
    if ((!is_data && !is_env) || !IsValidQueueId(view)) {
      context.problems.Add(fmt::format("{}: unexpected file, left alone",
                                       fs::JoinPath(context.msg_dir, name)));
      continue;
    }
    MsgEntry& entry = entries[std::string(view)];
    (is_data ? entry.has_data : entry.has_env) = true;
  }

  for (const auto& [id, entry] : entries) {
    if (entry.has_data && !entry.has_env) {
      const std::string data_path = context.DataPath(id);
      absl::StatusOr<fs::UniqueFd> lock = LockIfIdle(data_path);
      if (!lock.ok()) continue;  // a live enqueue or removal; or gone
      // Check again under the lock: the enqueue may have finished between
      // our listing and our lock.
      if (Exists(context.EnvPath(id))) continue;
      if (fs::Unlink(data_path).ok()) {
        msg_changed = true;
        context.problems.Add(fmt::format(
            "{}: removed (no envelope: interrupted enqueue or removal)",
            data_path));
      }
      continue;
    }
    absl::StatusOr<QueueEnvelope> envelope = ReadEnvelopeFile(context, id);
    if (!envelope.ok()) {
      if (absl::IsNotFound(envelope.status())) continue;  // removed meanwhile
      if (!absl::IsDataLoss(envelope.status())) {
        // Only a file read whole and found malformed is proof of
        // corruption. An I/O error, or a process that may not read the
        // file (a user running sendmail on a queue it cannot own), is not:
        // moving the envelope aside would orphan the data, and the next
        // recovery would delete the message.
        context.problems.Add(std::string(envelope.status().message()));
        continue;
      }
      MoveToCorrupt(context, id, std::string(envelope.status().message()));
      msg_changed = true;
      continue;
    }
    if (!entry.has_data && !Exists(context.DataPath(id))) {
      // Still there? A removal deletes the envelope first, so an envelope
      // without data is never a step of ours.
      if (Exists(context.EnvPath(id))) {
        MoveToCorrupt(context, id, "data file missing");
        msg_changed = true;
      }
    }
  }
  // One fsync per folder makes every repair above durable.
  if (context.fsync) {
    if (tmp_changed) (void)fs::FsyncDir(context.tmp_dir);
    if (msg_changed) {
      (void)fs::FsyncDir(context.corrupt_dir);
      absl::Status synced = fs::FsyncDir(context.msg_dir);
      if (!synced.ok()) return synced;
    }
  }
  return absl::OkStatus();
}

}  // namespace posthorn::store::queue
