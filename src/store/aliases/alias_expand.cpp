// store/aliases/alias_expand.cpp — ExpandAlias (posthorn/store/aliases.h).
//
// Depth-first expansion with:
//   - a path of the aliases (and :include: files) being expanded: meeting
//     one again is a loop, reported and that branch dropped; an alias that
//     lists itself directly ("root: root, log") keeps the name as a final
//     recipient instead, as sendmail does;
//   - a set of aliases already expanded in this call: expanding one twice
//     could only add duplicates, and skipping it keeps the work linear in
//     the size of the table (no exponential blow-up on diamond shapes);
//   - duplicate suppression of the results: local names and domains
//     case-insensitively, remote local parts exactly (RFC 5321 2.4);
//   - the owner: "owner-<alias>" of the nearest enclosing alias that has
//     such an entry; it is the envelope sender for that branch.
// File and program targets, and :include:, are refused (reported in
// problems) unless the options allow them. Limits are errors
// (ResourceExhausted).

#include <utility>

#include "absl/container/flat_hash_set.h"
#include "fmt/ranges.h"
#include "fmt/format.h"
#include "posthorn/store/aliases.h"
#include "store/aliases/alias_syntax.h"

namespace posthorn::store {
namespace {

using aliases::LowerAscii;

std::string RecipientKey(AliasTargetKind kind, std::string_view value) {
  std::string key(1, static_cast<char>('0' + static_cast<int>(kind)));
  if (kind != AliasTargetKind::kAddress) return key.append(value);
  std::size_t at = value.rfind('@');
  if (at == std::string_view::npos) return key.append(LowerAscii(value));
  key.append(value.substr(0, at + 1));
  return key.append(LowerAscii(value.substr(at + 1)));
}

class Expander {
 public:
  Expander(const AliasTable& table, const ExpandOptions& options,
           std::string_view top)
      : table_(table), options_(options), top_(top) {}

  absl::Status ExpandName(std::string_view written, const std::string& owner,
                          std::size_t depth) {
    if (depth > options_.max_depth) return TooDeep();
    std::string key = LowerAscii(written);
    auto targets = table_.Lookup(key);
    if (!targets.ok()) return targets.status();
    if (!targets->has_value()) {
      return AddRecipient(AliasTargetKind::kAddress, std::string(written), owner);
    }
    if (!path_.empty() && path_.back() == key) {
      // The alias lists itself: the name is a final recipient.
      return AddRecipient(AliasTargetKind::kAddress, std::string(written), owner);
    }
    if (OnPath(key)) {
      ReportLoop(key);
      return absl::OkStatus();
    }
    if (done_.contains(key)) return absl::OkStatus();

    std::string branch_owner = owner;
    std::string owner_name = "owner-" + key;
    auto owner_alias = table_.Lookup(owner_name);
    if (!owner_alias.ok()) return owner_alias.status();
    if (owner_alias->has_value()) branch_owner = owner_name;

    path_.push_back(key);
    absl::Status status = ExpandTargets(key, **targets, branch_owner, depth);
    path_.pop_back();
    done_.insert(key);
    return status;
  }

  Expansion Take() { return std::move(out_); }

 private:
  absl::Status ExpandTargets(const std::string& alias,
                             const std::vector<AliasTarget>& targets,
                             const std::string& owner, std::size_t depth) {
    for (const AliasTarget& target : targets) {
      absl::Status status = absl::OkStatus();
      switch (target.kind) {
        case AliasTargetKind::kAddress:
          status = ExpandAddress(target.value, owner, depth);
          break;
        case AliasTargetKind::kFile:
          if (options_.allow_file_targets) {
            status = AddRecipient(target.kind, target.value, owner);
          } else {
            out_.problems.push_back(fmt::format(
                "alias \"{}\": file target \"{}\" refused (file targets are "
                "not allowed)", alias, target.value));
          }
          break;
        case AliasTargetKind::kProgram:
          if (options_.allow_program_targets) {
            status = AddRecipient(target.kind, target.value, owner);
          } else {
            out_.problems.push_back(fmt::format(
                "alias \"{}\": program target \"|{}\" refused (program targets "
                "are not allowed)", alias, target.value));
          }
          break;
        case AliasTargetKind::kInclude:
          status = ExpandInclude(alias, target.value, owner, depth);
          break;
      }
      if (!status.ok()) return status;
    }
    return absl::OkStatus();
  }

  absl::Status ExpandAddress(const std::string& address,
                             const std::string& owner, std::size_t depth) {
    std::optional<std::string> local;
    if (options_.local_part) {
      local = options_.local_part(address);
    } else if (address.find('@') == std::string::npos) {
      local = address;
    }
    if (!local) return AddRecipient(AliasTargetKind::kAddress, address, owner);
    return ExpandName(*local, owner, depth + 1);
  }

  absl::Status ExpandInclude(const std::string& alias, const std::string& path,
                             const std::string& owner, std::size_t depth) {
    if (!options_.allow_include || !options_.read_include) {
      out_.problems.push_back(fmt::format(
          "alias \"{}\": :include:{} refused (includes are not allowed)",
          alias, path));
      return absl::OkStatus();
    }
    if (depth + 1 > options_.max_depth) return TooDeep();
    std::string key = ":include:" + path;
    if (OnPath(key)) {
      ReportLoop(key);
      return absl::OkStatus();
    }
    if (done_.contains(key)) return absl::OkStatus();
    auto text = options_.read_include(path);
    if (!text.ok()) {
      out_.problems.push_back(fmt::format("alias \"{}\": :include:{}: {}",
                                          alias, path, std::string(text.status().message())));
      return absl::OkStatus();
    }
    auto targets = aliases::ParseIncludeText(*text, path);
    if (!targets.ok()) {
      out_.problems.push_back(fmt::format("alias \"{}\": {}", alias,
                                          std::string(targets.status().message())));
      return absl::OkStatus();
    }
    path_.push_back(key);
    absl::Status status = ExpandTargets(alias, *targets, owner, depth + 1);
    path_.pop_back();
    done_.insert(key);
    return status;
  }

  absl::Status AddRecipient(AliasTargetKind kind, std::string value,
                            const std::string& owner) {
    if (!seen_.insert(RecipientKey(kind, value)).second) return absl::OkStatus();
    if (out_.recipients.size() >= options_.max_recipients) {
      return absl::ResourceExhaustedError(fmt::format(
          "alias \"{}\" expands to more than {} recipients", top_,
          options_.max_recipients));
    }
    out_.recipients.push_back(ExpandedRecipient{kind, std::move(value), owner});
    return absl::OkStatus();
  }

  bool OnPath(const std::string& key) const {
    for (const std::string& p : path_) {
      if (p == key) return true;
    }
    return false;
  }

  void ReportLoop(const std::string& key) {
    out_.problems.push_back(fmt::format("alias loop: {} -> {} (branch dropped)",
                                        fmt::join(path_, " -> "), key));
  }

  absl::Status TooDeep() const {
    return absl::ResourceExhaustedError(fmt::format(
        "alias \"{}\" nests deeper than {} levels", top_, options_.max_depth));
  }

  const AliasTable& table_;
  const ExpandOptions& options_;
  std::string top_;
  std::vector<std::string> path_;           // lowercased names, ":include:..."
  absl::flat_hash_set<std::string> done_;   // fully expanded
  absl::flat_hash_set<std::string> seen_;   // RecipientKey of results
  Expansion out_;
};

}  // namespace

absl::StatusOr<Expansion> ExpandAlias(const AliasTable& table,
                                      std::string_view name,
                                      const ExpandOptions& options) {
  if (name.empty()) return absl::InvalidArgumentError("empty alias name");
  Expander expander(table, options, name);
  if (absl::Status s = expander.ExpandName(name, "", 0); !s.ok()) return s;
  return expander.Take();
}

}  // namespace posthorn::store
