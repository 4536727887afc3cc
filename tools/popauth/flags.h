// tools/popauth/flags.h — popauth's command line.
//
// PURPOSE
//   qpopper's popauth flags, as words (docs/popauth.md):
//     popauth [-C conf] [-db path] -init [-force]
//     popauth [-C conf] [-db path] -user name [-password-only]
//     popauth [-C conf] [-db path] -delete name
//     popauth [-C conf] [-db path] -list
//     popauth -h | --help
//   A word flag may also be written with two dashes ("--init"); a value
//   is the next argument. Exactly one action.
//
// THE TABLE
//   PopauthFlagSpecs() has one row per flag; the parser looks each
//   argument up there before acting on it, so a flag without a row is
//   refused. The usage text prints the rows; docs/man/popauth.8 lists them
//   (checked by tests/tools/man_pages_test.cpp).
//
// GUARANTEES
//   A usage error (no action, two actions, an unknown flag, a missing
//   value, an empty path, -force without -init, -password-only without
//   -user) is reported on stderr with the usage text; the caller exits 64.
//   Secrets are never flags.

#ifndef POSTHORN_TOOLS_POPAUTH_FLAGS_H_
#define POSTHORN_TOOLS_POPAUTH_FLAGS_H_

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "tools/common/flag_spec.h"

namespace posthorn::tools {

enum class PopauthAction { kNone, kInit, kUser, kDelete, kList };

struct PopauthFlags {
  PopauthAction action = PopauthAction::kNone;
  std::string user;  // -user / -delete
  bool force = false;
  bool password_only = false;
  bool help = false;  // -h / --help: print PopauthUsage(), exit 0
  std::optional<std::string> config;  // -C
  std::optional<std::string> db;      // -db
};

// Every flag popauth accepts, in the order of the usage text.
std::span<const FlagSpec> PopauthFlagSpecs();

// The usage text: the synopsis, then one line per row of
// PopauthFlagSpecs().
std::string_view PopauthUsage();

// Parses argv (argv[0] included). nullopt after a message on stderr: the
// caller exits 64.
std::optional<PopauthFlags> ParsePopauthFlags(int argc, char** argv);

}  // namespace posthorn::tools

#endif  // POSTHORN_TOOLS_POPAUTH_FLAGS_H_
