// tools/sendmail/recipient_check.cpp — local_recipients: where a local user
// must exist for RCPT (and a command-line recipient) to be accepted.
//
//   passwd    getpwnam_r knows the name
//   aliases   the alias table has it
//   auth_db   popauth listed the user
//   maildrop  spool_dir/<user> exists (an mbox file or a Maildir folder)
// The first source that knows the user answers; an error of one source is
// the answer only when no other source knows the user (451 at RCPT).

#include <pwd.h>
#include <sys/stat.h>

#include <cerrno>
#include <string>
#include <vector>

#include "fmt/format.h"
#include "tools/common/exit_codes.h"
#include "tools/sendmail/setup.h"

namespace posthorn::tools {
namespace {

// getpwnam_r's buffer; ERANGE for an entry larger than this is an error.
constexpr std::size_t kPasswdBuffer = 16384;

absl::StatusOr<bool> InPasswd(const std::string& user) {
  struct passwd entry;
  struct passwd* found = nullptr;
  std::vector<char> buffer(kPasswdBuffer);
  const int err =
      ::getpwnam_r(user.c_str(), &entry, buffer.data(), buffer.size(), &found);
  // ENOENT, ESRCH, EBADF, EPERM: "not found" for some libcs.
  if (err != 0 && err != ENOENT && err != ESRCH && err != EBADF &&
      err != EPERM) {
    return StatusFromErrno(err, fmt::format("getpwnam {}", user));
  }
  return found != nullptr;
}

}  // namespace

mta::RecipientCheck MakeRecipientCheck(const Config& config,
                                       const Stores& stores) {
  if (config.local_recipients.empty()) return nullptr;
  const std::vector<RecipientSource> sources = config.local_recipients;
  const std::string spool_dir = config.spool_dir;
  const store::AliasTable* aliases = stores.aliases.get();
  const store::AuthDb* auth_db = stores.auth_db.get();
  return [sources, spool_dir, aliases,
          auth_db](std::string_view local_part) -> absl::StatusOr<bool> {
    const std::string user(local_part);
    absl::Status first_error;
    for (const RecipientSource source : sources) {
      absl::StatusOr<bool> known = false;
      switch (source) {
        case RecipientSource::kPasswd:
          known = InPasswd(user);
          break;
        case RecipientSource::kAliases:
          if (aliases != nullptr) {
            auto targets = aliases->Lookup(user);
            if (!targets.ok()) {
              known = targets.status();
            } else {
              known = targets->has_value();
            }
          }
          break;
        case RecipientSource::kAuthDb:
          if (auth_db != nullptr) {
            auto users = auth_db->List();
            if (!users.ok()) {
              known = users.status();
            } else {
              bool listed = false;
              for (const store::AuthUser& u : *users) {
                if (u.name == user) listed = true;
              }
              known = listed;
            }
          }
          break;
        case RecipientSource::kMaildrop: {
          // Only names that could be maildrops ("../x" never is).
          if (!store::ValidateUserName(user).ok()) break;
          struct stat st;
          const std::string path = fmt::format("{}/{}", spool_dir, user);
          if (::stat(path.c_str(), &st) == 0) {
            known = true;
          } else if (errno != ENOENT && errno != ENOTDIR) {
            known = StatusFromErrno(errno, path);
          }
          break;
        }
      }
      if (known.ok() && *known) return true;
      if (!known.ok() && first_error.ok()) first_error = known.status();
    }
    if (!first_error.ok()) return first_error;
    return false;
  };
}

}  // namespace posthorn::tools
