// tools/popauth/flags.cpp — popauth's flag table and word-flag parser.

#include "tools/popauth/flags.h"

#include <cstdio>
#include <string>
#include <string_view>

#include "fmt/format.h"
#include "tools/common/args.h"

namespace posthorn::tools {
namespace {

// The synopsis; the flag lines come from kFlags.
constexpr char kSynopsis[] =
    "usage: popauth [-C conf] [-db path] -init [-force]\n"
    "       popauth [-C conf] [-db path] -user name [-password-only]\n"
    "       popauth [-C conf] [-db path] -delete name\n"
    "       popauth [-C conf] [-db path] -list\n"
    "flags:\n";

// Every flag the parser accepts; it refuses what is not here.
constexpr FlagSpec kFlags[] = {
    {"-init", "", "create an empty database (mode 0600)"},
    {"-force", "", "with -init: empty an existing database"},
    {"-user", "name", "set the secret (asked twice, or one line of stdin)"},
    {"-password-only", "", "with -user: keep only a crypt hash (no APOP)"},
    {"-delete", "name", "remove the user"},
    {"-list", "", "the users, one per line"},
    {"-db", "path", "the database (default: the config's auth_db)"},
    {"-C", "file", "configuration file"},
    {"-h", "", "this text"},
    {"--help", "", "this text"},
};

std::nullopt_t Usage(std::string_view problem) {
  fmt::print(stderr, "popauth: {}\n{}", problem, PopauthUsage());
  return std::nullopt;
}

// The row of `arg`: as written, else with one dash less or more (word
// flags take one or two: "--init", "-help").
const FlagSpec* Lookup(std::string_view arg) {
  if (!arg.starts_with("-")) return nullptr;
  if (const FlagSpec* spec = FindFlag(kFlags, arg)) return spec;
  if (arg.starts_with("--")) return FindFlag(kFlags, arg.substr(1));
  return FindFlag(kFlags, fmt::format("-{}", arg));
}

}  // namespace

std::span<const FlagSpec> PopauthFlagSpecs() { return kFlags; }

std::string_view PopauthUsage() {
  static const std::string text =
      std::string(kSynopsis) + FormatFlagHelp(kFlags);
  return text;
}

std::optional<PopauthFlags> ParsePopauthFlags(int argc, char** argv) {
  PopauthFlags flags;
  auto set_action = [&](PopauthAction action, std::string_view arg) {
    if (flags.action != PopauthAction::kNone) {
      Usage(fmt::format("{}: give only one of -init, -user, -delete, -list",
                        arg));
      return false;
    }
    flags.action = action;
    return true;
  };
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const FlagSpec* spec = Lookup(arg);
    if (spec == nullptr) {
      return Usage(fmt::format("unknown argument \"{}\"", arg));
    }
    const std::string_view name = spec->flag;
    std::string value;
    if (!spec->value_name.empty()) {
      auto v = TakeValue(argc, argv, &i);
      if (!v.has_value()) return Usage(fmt::format("{} needs a value", arg));
      value = std::string(*v);
    }
    if (name == "-h" || name == "--help") {
      flags.help = true;
      return flags;
    } else if (name == "-init") {
      if (!set_action(PopauthAction::kInit, arg)) return std::nullopt;
    } else if (name == "-list") {
      if (!set_action(PopauthAction::kList, arg)) return std::nullopt;
    } else if (name == "-user" || name == "-delete") {
      const PopauthAction action =
          name == "-user" ? PopauthAction::kUser : PopauthAction::kDelete;
      if (!set_action(action, arg)) return std::nullopt;
      flags.user = value;
    } else if (name == "-force") {
      flags.force = true;
    } else if (name == "-password-only") {
      flags.password_only = true;
    } else if (name == "-C" || name == "-db") {
      if (value.empty()) return Usage(fmt::format("{}: empty path", arg));
      (name == "-C" ? flags.config : flags.db) = value;
    } else {
      return Usage(fmt::format("unknown argument \"{}\"", arg));
    }
  }
  if (flags.action == PopauthAction::kNone) {
    return Usage("give one of -init, -user, -delete, -list");
  }
  if (flags.force && flags.action != PopauthAction::kInit) {
    return Usage("-force goes only with -init");
  }
  if (flags.password_only && flags.action != PopauthAction::kUser) {
    return Usage("-password-only goes only with -user");
  }
  return flags;
}

}  // namespace posthorn::tools
