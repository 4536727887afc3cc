// store/aliases/alias_table.cpp — OpenAliasTable and MakeAliasTable
// (posthorn/store/aliases.h).
//
// Which source is read:
//   database present, and no text file or text not newer  -> the database
//   database present but older than the text file         -> text + warning
//   database missing, text present                         -> text + warning
//   database unreadable (corrupt, wrong kind, ...)         -> text + warning
//                                     (or the error when there is no text)
//   neither                                                -> empty table
// "Older" compares modification times with nanoseconds; equal counts as
// current, as newaliases writes the database after reading the text.

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "fmt/format.h"
#include "posthorn/store/aliases.h"
#include "store/aliases/alias_record.h"
#include "store/aliases/alias_syntax.h"
#include "store/fs/file_util.h"
#include "store/lmdb/lmdb_env.h"

namespace posthorn::store {
namespace {

// The largest alias text file read (newaliases and the fallback).
constexpr std::size_t kMaxAliasFileSize = std::size_t{64} << 20;

class MemoryAliasTable final : public AliasTable {
 public:
  MemoryAliasTable(AliasFile file, std::vector<std::string> warnings)
      : warnings_(std::move(warnings)) {
    for (AliasEntry& entry : file.entries) {
      entry.name = aliases::LowerAscii(entry.name);
      // Later entries win, as in ParseAliases.
      auto [it, inserted] = index_.try_emplace(entry.name, entries_.size());
      if (inserted) {
        entries_.push_back(std::move(entry));
      } else {
        entries_[it->second] = std::move(entry);
      }
    }
    std::sort(entries_.begin(), entries_.end(),
              [](const AliasEntry& a, const AliasEntry& b) {
                return a.name < b.name;
              });
    for (std::size_t i = 0; i < entries_.size(); ++i) {
      index_[entries_[i].name] = i;
    }
  }

  absl::StatusOr<std::optional<std::vector<AliasTarget>>> Lookup(
      std::string_view name) const override {
    auto it = index_.find(aliases::LowerAscii(name));
    if (it == index_.end()) return std::nullopt;
    return entries_[it->second].targets;
  }

  absl::StatusOr<std::vector<AliasEntry>> All() const override {
    return entries_;
  }

  const std::vector<std::string>& warnings() const override {
    return warnings_;
  }

 private:
  std::vector<AliasEntry> entries_;  // sorted by name
  absl::flat_hash_map<std::string, std::size_t> index_;
  std::vector<std::string> warnings_;
};

class LmdbAliasTable final : public AliasTable {
 public:
  explicit LmdbAliasTable(std::unique_ptr<lmdb::Env> env)
      : env_(std::move(env)) {}

  absl::StatusOr<std::optional<std::vector<AliasTarget>>> Lookup(
      std::string_view name) const override {
    std::string key = aliases::LowerAscii(name);
    std::optional<std::vector<AliasTarget>> result;
    absl::Status status = env_->Read([&](const lmdb::Txn& txn) -> absl::Status {
      if (key.empty() || key.front() == '\0') return absl::OkStatus();
      auto value = txn.Get(key);
      if (!value.ok()) return value.status();
      if (!value->has_value()) return absl::OkStatus();
      auto targets = aliases::DecodeTargets(**value, env_->path(), key);
      if (!targets.ok()) return targets.status();
      result = *std::move(targets);
      return absl::OkStatus();
    });
    if (!status.ok()) return status;
    return result;
  }

  absl::StatusOr<std::vector<AliasEntry>> All() const override {
    std::vector<AliasEntry> entries;
    absl::Status status = env_->Read([&](const lmdb::Txn& txn) {
      return txn.ForEach([&](std::string_view key,
                             std::string_view value) -> absl::Status {
        if (key.front() == '\0') return absl::OkStatus();  // kind marker
        auto targets = aliases::DecodeTargets(value, env_->path(), key);
        if (!targets.ok()) return targets.status();
        entries.push_back(AliasEntry{std::string(key), *std::move(targets), 0});
        return absl::OkStatus();
      });
    });
    if (!status.ok()) return status;
    return entries;  // LMDB's key order is bytewise: sorted by name
  }

  const std::vector<std::string>& warnings() const override {
    return warnings_;
  }

 private:
  std::unique_ptr<lmdb::Env> env_;
  std::vector<std::string> warnings_;  // none: the database is current
};

// NotFound -> nullopt; other stat errors are returned.
absl::StatusOr<std::optional<struct stat>> StatIfExists(
    const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) == 0) return st;
  if (errno == ENOENT) return std::nullopt;
  return fs::ErrnoStatus(errno, "stat", path);
}

bool OlderThan(const struct stat& a, const struct stat& b) {
  if (a.st_mtim.tv_sec != b.st_mtim.tv_sec) {
    return a.st_mtim.tv_sec < b.st_mtim.tv_sec;
  }
  return a.st_mtim.tv_nsec < b.st_mtim.tv_nsec;
}

absl::StatusOr<std::unique_ptr<lmdb::Env>> OpenAliasDatabase(
    const std::string& path) {
  auto env = lmdb::Env::Open(path, {.read_only = true, .no_lock = true});
  if (!env.ok()) return env.status();
  absl::Status kind =
      lmdb::CheckKind(**env, aliases::kAliasesKind, "alias database");
  if (!kind.ok()) return kind;
  return env;
}

}  // namespace

namespace aliases {

// The alias file is configuration, not spool: it may be a symlink (say to
// /etc/mail/aliases), so it is opened with plain open(2), read-only and
// bounded.
absl::StatusOr<std::string> ReadAliasText(const std::string& alias_file) {
  fs::UniqueFd fd(::open(alias_file.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return fs::ErrnoStatus(errno, "open", alias_file);
  auto st = fs::Stat(fd.get(), alias_file);
  if (!st.ok()) return st.status();
  if (!S_ISREG(st->st_mode)) {
    return absl::FailedPreconditionError(
        fmt::format("{}: not a regular file", alias_file));
  }
  if (static_cast<std::uint64_t>(st->st_size) > kMaxAliasFileSize) {
    return absl::OutOfRangeError(
        fmt::format("{}: {} bytes, more than the {} allowed", alias_file,
                    st->st_size, kMaxAliasFileSize));
  }
  std::string data(static_cast<std::size_t>(st->st_size), '\0');
  auto n = fs::PReadSome(fd.get(), data.data(), data.size(), 0, alias_file);
  if (!n.ok()) return n.status();
  data.resize(*n);
  return data;
}

}  // namespace aliases

std::unique_ptr<AliasTable> MakeAliasTable(AliasFile file) {
  std::vector<std::string> warnings = std::move(file.warnings);
  return std::make_unique<MemoryAliasTable>(std::move(file),
                                            std::move(warnings));
}

absl::StatusOr<std::unique_ptr<AliasTable>> OpenAliasTable(
    const std::string& alias_file) {
  const std::string db_path = alias_file + ".lmdb";
  auto text_stat = StatIfExists(alias_file);
  if (!text_stat.ok()) return text_stat.status();
  auto db_stat = StatIfExists(db_path);
  if (!db_stat.ok()) return db_stat.status();

  std::vector<std::string> warnings;
  if (db_stat->has_value()) {
    if (!text_stat->has_value() || !OlderThan(**db_stat, **text_stat)) {
      auto env = OpenAliasDatabase(db_path);
      if (env.ok()) return std::make_unique<LmdbAliasTable>(*std::move(env));
      if (!text_stat->has_value()) return env.status();
      warnings.push_back(fmt::format("{}: reading {} instead; run newaliases",
                                     std::string(env.status().message()), alias_file));
    } else {
      warnings.push_back(fmt::format(
          "{} is older than {}: reading the text file; run newaliases",
          db_path, alias_file));
    }
  } else if (text_stat->has_value()) {
    warnings.push_back(fmt::format(
        "{} is missing: reading {}; run newaliases", db_path, alias_file));
  }
  if (!text_stat->has_value()) {
    return std::make_unique<MemoryAliasTable>(AliasFile{}, std::move(warnings));
  }
  auto text = aliases::ReadAliasText(alias_file);
  if (!text.ok()) return text.status();
  auto parsed = ParseAliases(*text, alias_file);
  if (!parsed.ok()) return parsed.status();
  for (std::string& w : parsed->warnings) warnings.push_back(std::move(w));
  parsed->warnings.clear();
  return std::make_unique<MemoryAliasTable>(*std::move(parsed),
                                            std::move(warnings));
}

}  // namespace posthorn::store
