// popauth — manages the APOP / password database of popper.
//
// SYNOPSIS
//   popauth [-C conf] [-db path] -init [-force]
//   popauth [-C conf] [-db path] -user name [-password-only]
//   popauth [-C conf] [-db path] -delete name
//   popauth [-C conf] [-db path] -list
//   popauth -h | --help
//
// DESCRIPTION
//   The database is -db (a file), else the config's: with `store =
//   postgresql` the table auth_users of postgresql_dsn (shared by every
//   node; -init there makes the tables, and with -force removes every
//   user), else the file auth_db, else /etc/pop.auth.
//   -init creates it empty (mode 0600); on an existing database it needs
//   -force, which empties it. -user sets a user's secret: asked twice
//   without echo on a terminal, else one line from stdin. -password-only
//   keeps only a crypt hash (USER/PASS and AUTH PLAIN work, APOP does
//   not). -list prints "name apop+pass" or "name pass-only" per user.
//   The flags are parsed in tools/popauth/flags.cpp.
//
// EXIT STATUS (sysexits.h)
//   0 ok; 64 usage; 65 not an auth database, bad user name or secret;
//   66 no database; 67 -delete of an unknown user; 73 -init on an existing
//   database without -force (or it cannot be created); 77 permission
//   denied; 78 configuration error.
//
// SECURITY
//   Secrets never appear on the command line (ps would show them) nor in
//   messages; their buffers are wiped after use. See docs/popauth.md.

#include <unistd.h>

#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "fmt/format.h"
#include "posthorn/store/auth_db.h"
#include "posthorn/store/mailstore.h"
#include "posthorn/store/postgresql.h"
#include "tools/common/config.h"
#include "tools/common/exit_codes.h"
#include "tools/common/mailstore_config.h"
#include "tools/popauth/flags.h"
#include "tools/popauth/secret_prompt.h"

namespace posthorn::tools {
namespace {

int Fail(int code, std::string_view message) {
  fmt::print(stderr, "popauth: {}\n", message);
  return code;
}

// The database to work on: a file (-db or auth_db) or PostgreSQL.
struct Target {
  std::string path;                           // the file; "" for PostgreSQL
  std::optional<store::PgStoreOptions> pg;    // store = postgresql
  std::string name;                           // for messages
};

absl::StatusOr<std::unique_ptr<store::AuthDb>> Open(const Target& target,
                                                    bool writable) {
  if (target.pg) return store::OpenPgAuthDb(*target.pg, writable);
  return store::OpenAuthDb(target.path, writable);
}

// Exit code and message for a failed OpenAuthDb.
int OpenFailure(const absl::Status& status, const std::string& path) {
  if (absl::IsNotFound(status)) {
    return Fail(kExitNoInput,
                fmt::format("{}: no such database; create it with popauth "
                            "-init",
                            path));
  }
  if (absl::IsDataLoss(status)) {
    return Fail(kExitDataErr, StatusText(status));
  }
  return Fail(ExitCodeFor(status), StatusText(status));
}

int Init(const PopauthFlags& args, const Target& target) {
  const absl::Status status =
      target.pg ? store::InitPgAuthDb(*target.pg, args.force)
                : store::CreateAuthDb(target.path, args.force);
  if (status.ok()) return kExitOk;
  if (absl::IsFailedPrecondition(status)) {
    return Fail(kExitCantCreat,
                fmt::format("{}: the database exists; -init -force empties "
                            "it",
                            target.name));
  }
  if (target.pg) return Fail(ExitCodeFor(status), StatusText(status));
  if (absl::IsPermissionDenied(status)) {
    return Fail(kExitNoPerm, StatusText(status));
  }
  return Fail(kExitCantCreat, StatusText(status));
}

int SetUser(const PopauthFlags& args, const Target& target) {
  auto db = Open(target, /*writable=*/true);
  if (!db.ok()) return OpenFailure(db.status(), target.name);
  auto secret = ReadSecret(STDIN_FILENO, STDERR_FILENO);
  if (!secret.ok()) return Fail(ExitCodeFor(secret.status()),
                                StatusText(secret.status()));
  const absl::Status status =
      args.password_only ? (*db)->SetPasswordOnly(args.user, *secret)
                         : (*db)->SetSecret(args.user, *secret);
  WipeString(&*secret);
  if (!status.ok()) return Fail(ExitCodeFor(status), StatusText(status));
  return kExitOk;
}

int DeleteUser(const PopauthFlags& args, const Target& target) {
  auto db = Open(target, /*writable=*/true);
  if (!db.ok()) return OpenFailure(db.status(), target.name);
  const absl::Status status = (*db)->Delete(args.user);
  if (absl::IsNotFound(status)) {
    return Fail(kExitNoUser,
                fmt::format("{}: no user \"{}\"", target.name, args.user));
  }
  if (!status.ok()) return Fail(ExitCodeFor(status), StatusText(status));
  return kExitOk;
}

int List(const Target& target) {
  auto db = Open(target, /*writable=*/false);
  if (!db.ok()) return OpenFailure(db.status(), target.name);
  auto users = (*db)->List();
  if (!users.ok()) return Fail(ExitCodeFor(users.status()),
                               StatusText(users.status()));
  std::string out;
  for (const store::AuthUser& user : *users) {
    out += fmt::format("{} {}\n", user.name,
                       user.has_secret ? "apop+pass" : "pass-only");
  }
  std::fputs(out.c_str(), stdout);
  if (std::fflush(stdout) != 0) {
    return Fail(kExitIoErr, "cannot write the list");
  }
  return kExitOk;
}

int Main(int argc, char** argv) {
  const std::optional<PopauthFlags> args = ParsePopauthFlags(argc, argv);
  if (!args) return kExitUsage;
  if (args->help) {
    fmt::print("{}", PopauthUsage());
    return kExitOk;
  }

  // The user name is checked before anything touches a file.
  if (args->action == PopauthAction::kUser ||
      args->action == PopauthAction::kDelete) {
    if (absl::Status s = store::ValidateUserName(args->user); !s.ok()) {
      return Fail(kExitDataErr, fmt::format("bad user name \"{}\": {}",
                                            args->user, StatusText(s)));
    }
  }

  Target target;
  if (args->db) {
    target.path = *args->db;
  } else {
    const ConfigLocation where = ConfigPath(args->config);
    auto config = LoadConfig(where.path, !where.must_exist);
    if (!config.ok()) return Fail(kExitConfig, StatusText(config.status()));
    if (UsesPostgresql(*config)) {
      target.pg = PgOptionsFromConfig(*config, "users");
    } else {
      target.path = config->auth_db;
    }
    target.name = AuthDbName(*config);
  }
  if (target.name.empty()) target.name = target.path;

  switch (args->action) {
    case PopauthAction::kInit: return Init(*args, target);
    case PopauthAction::kUser: return SetUser(*args, target);
    case PopauthAction::kDelete: return DeleteUser(*args, target);
    case PopauthAction::kList: return List(target);
    case PopauthAction::kNone: break;
  }
  return kExitUsage;
}

}  // namespace
}  // namespace posthorn::tools

int main(int argc, char** argv) { return posthorn::tools::Main(argc, argv); }
