// tools/sendmail/alias_reload.cpp — an AliasTable that follows newaliases
// (see the header): a shared_ptr to the current table, swapped under a
// mutex when the files' identity changes.

#include "tools/sendmail/alias_reload.h"

#include <sys/stat.h>

#include <mutex>
#include <utility>
#include <vector>

#include "fmt/format.h"

namespace posthorn::tools {
namespace {

// What identifies one version of a file; all zero when it is missing.
struct FileStamp {
  dev_t dev = 0;
  ino_t ino = 0;
  off_t size = 0;
  long mtime_sec = 0;
  long mtime_nsec = 0;
  bool operator==(const FileStamp&) const = default;
};

FileStamp Stamp(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return {};
  return {st.st_dev, st.st_ino, st.st_size,
          static_cast<long>(st.st_mtim.tv_sec),
          static_cast<long>(st.st_mtim.tv_nsec)};
}

class ReloadingAliasTable final : public store::AliasTable {
 public:
  // The stamps are taken before `first` was opened: a change in between
  // is seen at the first check.
  ReloadingAliasTable(std::string alias_file, mta::LogFunction log,
                      std::unique_ptr<store::AliasTable> first,
                      FileStamp text, FileStamp database)
      : alias_file_(std::move(alias_file)),
        log_(std::move(log)),
        warnings_(first->warnings()),
        current_(std::move(first)),
        text_(text),
        database_(database),
        next_check_(std::chrono::steady_clock::now() + kAliasCheckInterval) {}

  absl::StatusOr<std::optional<std::vector<store::AliasTarget>>> Lookup(
      std::string_view name) const override {
    return Current()->Lookup(name);
  }
  absl::StatusOr<std::vector<store::AliasEntry>> All() const override {
    return Current()->All();
  }
  const std::vector<std::string>& warnings() const override {
    return warnings_;  // those of the first open (logged by the caller)
  }

 private:
  std::shared_ptr<const store::AliasTable> Current() const {
    std::lock_guard lock(mutex_);
    const auto now = std::chrono::steady_clock::now();
    if (now >= next_check_) {
      next_check_ = now + kAliasCheckInterval;
      const FileStamp text = Stamp(alias_file_);
      const FileStamp database = Stamp(alias_file_ + ".lmdb");
      if (!(text == text_) || !(database == database_)) {
        text_ = text;
        database_ = database;
        Reopen();
      }
    }
    return current_;
  }

  void Reopen() const {
    auto table = store::OpenAliasTable(alias_file_);
    if (!table.ok()) {
      if (log_) {
        log_(mta::LogLevel::kWarning,
             fmt::format("aliases not reloaded: {}",
                         std::string(table.status().message())));
      }
      return;
    }
    if (log_) {
      log_(mta::LogLevel::kInfo, fmt::format("aliases reloaded from {}",
                                             alias_file_));
      for (const std::string& warning : (*table)->warnings()) {
        log_(mta::LogLevel::kWarning, warning);
      }
    }
    current_ = std::shared_ptr<const store::AliasTable>(*std::move(table));
  }

  const std::string alias_file_;
  const mta::LogFunction log_;
  const std::vector<std::string> warnings_;
  mutable std::mutex mutex_;
  mutable std::shared_ptr<const store::AliasTable> current_;
  mutable FileStamp text_;
  mutable FileStamp database_;
  mutable std::chrono::steady_clock::time_point next_check_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<store::AliasTable>> OpenReloadingAliasTable(
    const std::string& alias_file, mta::LogFunction log) {
  const FileStamp text = Stamp(alias_file);
  const FileStamp database = Stamp(alias_file + ".lmdb");
  auto first = store::OpenAliasTable(alias_file);
  if (!first.ok()) return first.status();
  return std::unique_ptr<store::AliasTable>(new ReloadingAliasTable(
      alias_file, std::move(log), *std::move(first), text, database));
}

}  // namespace posthorn::tools
