// posthorn/store/aliases.h — /etc/aliases: parse, compile, look up, expand.
//
// PURPOSE
//   The classic alias file of sendmail:
//
//     # comment
//     postmaster: root
//     staff:      alice, bob@example.org,
//                 carol                     # continuation: leading blank
//     "odd name": alice
//     list:       :include:/etc/mail/list.members
//     archive:    /var/mail/archive         # file target
//     bugs:       "|/usr/bin/bug-tracker"   # program target
//     owner-list: alice                     # errors for `list` go here
//
//   newaliases (CompileAliasDatabase) writes `<alias_file>.lmdb` beside it
//   atomically (a new file, fsynced, renamed over the old). AliasTable
//   reads that database, and falls back to parsing the text file, with a
//   warning, when the database is missing or older than the text.
//
// STANDARDS
//   sendmail's aliases(5); addresses as RFC 5321 mailboxes. Names compare
//   case-insensitively (stored lowercased).
//
// SECURITY
//   File and program targets run with the MTA's privileges: they are
//   recognised and reported, and ExpandAlias refuses them unless the
//   options allow them. :include: files are read through the caller's
//   function (the MTA decides who may own them).
//
// LIMITS
//   A logical line (with continuations) up to 64 KiB; 1,000 targets per
//   alias; expansion depth 20 and 10,000 resulting recipients.

#ifndef POSTHORN_STORE_ALIASES_H_
#define POSTHORN_STORE_ALIASES_H_

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace posthorn::store {

enum class AliasTargetKind {
  kAddress,  // local name or user@domain
  kFile,     // /path/file: append the message to this file
  kProgram,  // |command: pipe the message to this command
  kInclude,  // :include:/path: more targets, one or more per line
};

struct AliasTarget {
  AliasTargetKind kind = AliasTargetKind::kAddress;
  std::string value;  // address, path, or command (without '|')
  friend bool operator==(const AliasTarget&, const AliasTarget&) = default;
};

struct AliasEntry {
  std::string name;  // lowercased
  std::vector<AliasTarget> targets;
  int line = 0;      // where it starts in the text file (0 from a database)
};

struct AliasFile {
  std::vector<AliasEntry> entries;   // in file order
  std::vector<std::string> warnings; // "file:line: duplicate alias ..." etc.
};

// Parses alias-file text. A syntax error is InvalidArgument
// "<file_name>:<line>: <reason>".
absl::StatusOr<AliasFile> ParseAliases(std::string_view text,
                                       std::string_view file_name);

struct CompileResult {
  std::size_t aliases = 0;  // entries written ("N aliases" in newaliases)
  std::vector<std::string> warnings;
};

// newaliases: parses `alias_file` and atomically replaces
// `alias_file + ".lmdb"`. On any error the old database stays as it was.
absl::StatusOr<CompileResult> CompileAliasDatabase(
    const std::string& alias_file);

// Read side. Thread-safe for lookups.
class AliasTable {
 public:
  virtual ~AliasTable() = default;
  // Targets for `name` (compared lowercased), nullopt when no alias.
  virtual absl::StatusOr<std::optional<std::vector<AliasTarget>>> Lookup(
      std::string_view name) const = 0;
  // Every alias, sorted by name (praliases).
  virtual absl::StatusOr<std::vector<AliasEntry>> All() const = 0;
  // E.g. "aliases.lmdb is older than aliases: reading the text file; run
  // newaliases".
  virtual const std::vector<std::string>& warnings() const = 0;
};

// Opens the database beside `alias_file`, or the text file as described
// above. A missing text file and database is an empty table.
absl::StatusOr<std::unique_ptr<AliasTable>> OpenAliasTable(
    const std::string& alias_file);

// An in-memory table (tests, embedding).
std::unique_ptr<AliasTable> MakeAliasTable(AliasFile file);

struct ExpandOptions {
  bool allow_file_targets = false;
  bool allow_program_targets = false;
  bool allow_include = true;
  std::size_t max_depth = 20;
  std::size_t max_recipients = 10000;
  // Returns the local part when `address` is local (to be looked up
  // again), nullopt when it is remote. Default: no '@' means local.
  std::function<std::optional<std::string>(std::string_view address)>
      local_part;
  // Reads an :include: file. Default: refuse (allow_include needs it).
  std::function<absl::StatusOr<std::string>(std::string_view path)>
      read_include;
};

struct ExpandedRecipient {
  AliasTargetKind kind = AliasTargetKind::kAddress;  // never kInclude
  std::string value;  // a local name without alias, a remote address, a
                      // path or a command
  std::string owner;  // "owner-<alias>" of the nearest alias that has one,
                      // "" otherwise: the envelope sender for this branch
};

struct Expansion {
  std::vector<ExpandedRecipient> recipients;  // duplicates removed
  std::vector<std::string> problems;  // refused targets, loops, bad includes
};

// Expands `name` recursively. A name that is not an alias expands to
// itself. A name met again on its own path is a loop: it is reported and
// that branch dropped (an alias listing itself, "root: root, log", keeps
// the name as a final recipient, as sendmail does). Exceeding a limit is
// an error.
absl::StatusOr<Expansion> ExpandAlias(const AliasTable& table,
                                      std::string_view name,
                                      const ExpandOptions& options);

}  // namespace posthorn::store

#endif  // POSTHORN_STORE_ALIASES_H_
