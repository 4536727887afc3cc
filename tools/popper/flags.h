// tools/popper/flags.h — popper's command line.
//
// PURPOSE
//   The flags of qpopper 2.4 that still make sense, plus posthorn's
//   daemon and TLS flags (docs/popper.md):
//     popper [-s] [-d] [-D] [-b dir] [-T seconds] [-t file] [-C conf]
//            [-l addr:port]... [-L addr:port]...
//            [--tls-cert file --tls-key file] [-k]
//     popper -h | --help
//   Letters may be grouped ("-sd") and values attached ("-T600"), as
//   getopt allows. -k (Kerberos) is refused with its own message.
//
// THE TABLE
//   PopperFlagSpecs() has one row per flag; getopt's option string and
//   long options are built from it, so a flag without a row is refused.
//   The usage text prints the rows; docs/man/popper.8 lists them (checked
//   by tests/tools/man_pages_test.cpp).
//
// GUARANTEES
//   Values are checked here: -T is 1..31536000 seconds, -l/-L are
//   "host:port" or "[v6]:port" (net::ParseEndpoint), --tls-cert and
//   --tls-key come together. Anything else is a usage error (exit 64),
//   reported on stderr by ParsePopperCommandLine itself.

#ifndef POSTHORN_TOOLS_POPPER_FLAGS_H_
#define POSTHORN_TOOLS_POPPER_FLAGS_H_

#include <chrono>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tools/common/flag_spec.h"

namespace posthorn::tools {

struct PopperFlags {
  bool stats = false;   // -s
  bool debug = false;   // -d
  bool daemon = false;  // -D: listen on the config's pop3_listen
  std::optional<std::string> bulletin_dir;  // -b
  std::optional<std::chrono::seconds> timeout;  // -T
  std::optional<std::string> trace_file;  // -t
  std::optional<std::string> config;      // -C
  std::vector<std::string> listen;        // -l
  std::vector<std::string> listen_tls;    // -L
  std::optional<std::string> tls_cert;    // --tls-cert
  std::optional<std::string> tls_key;     // --tls-key
  bool help = false;                      // -h, --help
};

inline constexpr char kKerberosRefused[] =
    "popper: -k (Kerberos) is not supported; use STLS or pop3s with "
    "passwords or APOP";

// Every flag popper accepts, in the order of the usage text.
std::span<const FlagSpec> PopperFlagSpecs();

// The usage text: the synopsis, then one line per row of
// PopperFlagSpecs().
std::string_view PopperUsage();

// The flags (help set for -h / --help), or nullopt after a message on
// stderr (the caller exits 64).
std::optional<PopperFlags> ParsePopperCommandLine(int argc, char** argv);

}  // namespace posthorn::tools

#endif  // POSTHORN_TOOLS_POPPER_FLAGS_H_
