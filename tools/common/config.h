// tools/common/config.h — posthorn.conf, the one configuration file.
//
// PURPOSE
//   Reads the file every program shares (DESIGN.md "Configuration"):
//   `key = value` lines, `#` comments (a line whose first non-blank is #),
//   blank lines; a value continues on following lines that start with
//   white space (as Postfix's main.cf). Every key has a default (Config{}
//   below holds them); an unknown key, a key given twice, a bad value or
//   a line without `=` stops the program with "file:line: reason".
//   Relative paths are taken from the file's folder, so a whole instance
//   can live in one folder.
//
// WHERE IT COMES FROM
//   ConfigPath(): `-C file` when given; else $POSTHORN_CONF; else
//   /etc/posthorn/posthorn.conf. A missing default file means all
//   defaults; a missing explicit file is an error.
//
// VALUES
//   Booleans: yes/no/true/false/on/off/1/0. Lists: items separated by
//   commas and/or white space. Durations: see ParseDuration. Numbers:
//   decimal digits only. Addresses of the *_listen keys are checked like
//   net::ParseEndpoint. Every key, its default and an example:
//   docs/configuration.md.
//
// LIMITS
//   The file may hold at most kMaxConfigBytes; a `#` starts a comment only
//   at the beginning of a line (values may contain it).

#ifndef POSTHORN_TOOLS_COMMON_CONFIG_H_
#define POSTHORN_TOOLS_COMMON_CONFIG_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace posthorn::tools {

inline constexpr char kDefaultConfigPath[] = "/etc/posthorn/posthorn.conf";
inline constexpr std::size_t kMaxConfigBytes = 1 << 20;

enum class MailboxFormat { kMbox, kMaildir };
// Where queue, maildrops and the auth database live (`store`): the local
// files (queue_dir, spool_dir, auth_db) or one PostgreSQL database shared
// by several nodes (postgresql_dsn).
enum class StoreBackend { kLocal, kPostgresql };
enum class BareNewline { kReject, kNormalize };
// Where a local user must exist for RCPT to be accepted (local_recipients).
enum class RecipientSource { kPasswd, kAliases, kAuthDb, kMaildrop };

// Bounds the sendmail keys are checked against (docs/configuration.md).
inline constexpr std::uint64_t kMaxHopLimit = 1000;
inline constexpr std::uint64_t kMaxDeliveries = 1000;
inline constexpr std::uint64_t kMaxSmtpdThreads = 64;
inline constexpr std::uint64_t kMaxPostgresqlConnections = 1000;

struct Config {
  std::string path;  // the file read ("" when none: all defaults)

  std::string hostname;  // "" in the file: the system's (filled by Load)
  std::vector<std::string> local_domains;  // default: hostname, localhost
  std::vector<std::string> smtpd_listen = {"0.0.0.0:25", "[::]:25"};
  std::vector<std::string> trusted_networks = {"127.0.0.0/8", "[::1]/128"};
  std::string relay_host;     // "[host]:port" or "host"; "" = MX lookup
  std::string transport_map;  // path or ""
  std::vector<std::string> dns_servers;  // empty: the system's
  std::string queue_dir = "/var/spool/mqueue";
  std::string spool_dir = "/var/spool/mail";
  MailboxFormat mailbox_format = MailboxFormat::kMbox;
  std::string alias_file = "/etc/aliases";
  std::string auth_db = "/etc/pop.auth";
  std::string help_file = "/etc/mail/helpfile";
  std::string tls_cert;  // "" = TLS off
  std::string tls_key;
  bool plaintext_auth = false;
  std::uint64_t message_size_limit = 10240000;
  std::uint64_t recipient_limit = 1000;
  std::chrono::seconds smtpd_timeout{300};
  std::chrono::seconds pop3_timeout{600};
  std::chrono::seconds queue_run_interval{30 * 60};
  std::chrono::seconds max_backoff{4 * 3600};
  std::chrono::seconds queue_lifetime{5 * 24 * 3600};
  std::chrono::seconds delay_warning{4 * 3600};
  BareNewline bare_newline = BareNewline::kReject;
  std::string run_as = "mail";
  // popper -D (daemon by config); ignored without -D.
  std::vector<std::string> pop3_listen = {"127.0.0.1:1100", "[::1]:1100"};
  std::vector<std::string> pop3_tls_listen;  // implicit TLS (995)
  std::string bulletin_dir;                  // popper -b by config
  std::chrono::seconds pop3_failed_login_delay{1};  // before "-ERR" (0 ok)
  std::uint64_t pop3_address_max_failures = 10;      // per address; 0 = off
  std::chrono::seconds pop3_address_window{600};
  std::uint64_t pop3_max_connections = 1000;
  // sendmail (the MTA).
  std::uint64_t hop_limit = 100;         // Received: fields; 1..1000
  std::uint64_t max_deliveries = 8;      // parallel deliveries; 1..1000
  std::uint64_t smtpd_threads = 16;      // SMTP event-loop threads; 1..64
  std::uint64_t smtpd_max_connections = 1000;  // >= 1
  bool expn_enabled = false;
  bool allow_file_targets = false;       // aliases "/path"
  bool allow_program_targets = false;    // aliases "|command"
  // Empty (the value "none"): every local name is accepted at RCPT.
  std::vector<RecipientSource> local_recipients = {
      RecipientSource::kPasswd, RecipientSource::kAliases,
      RecipientSource::kAuthDb};
  std::chrono::seconds smtp_connect_timeout{30};   // >= 1s
  std::chrono::seconds smtp_reply_timeout{300};    // >= 1s
  std::string mail_log;  // "" = none; an extra log file (path)
  // The store. With kPostgresql, queue_dir, spool_dir, mailbox_format and
  // auth_db no longer name the queue, maildrops and users (queue_dir still
  // holds this node's .hoststat and .mailstats).
  StoreBackend store = StoreBackend::kLocal;
  std::string postgresql_dsn;  // libpq DSN or URI; needed for kPostgresql
  std::uint64_t postgresql_max_connections = 8;  // per store object; 1..1000
};

// Parses `text` as if read from `path` (relative paths resolve against
// dirname(path)). Errors: InvalidArgument "path:line: reason".
absl::StatusOr<Config> ParseConfig(std::string_view text,
                                   const std::string& path);

// Reads and parses `path`. NotFound when missing; with allow_missing
// (the default location) a missing file gives the defaults.
absl::StatusOr<Config> LoadConfig(const std::string& path,
                                  bool allow_missing = false);

// -C value, else $POSTHORN_CONF (when set and not empty), else
// kDefaultConfigPath; `must_exist` tells whether the file must exist
// (true for -C and $POSTHORN_CONF).
struct ConfigLocation {
  std::string path;
  bool must_exist = false;
};
ConfigLocation ConfigPath(const std::optional<std::string>& dash_c);

// Every key the parser knows, in the order of its table (the order of
// docs/configuration.md). For the tests that hold the manual page and the
// sample file to the parser.
std::vector<std::string_view> ConfigKeyNames();

// Durations as written in the file: "600", "600s", "30m", "4h", "5d", "0"
// (one number, one optional unit s/m/h/d). InvalidArgument otherwise, or
// when the value exceeds 100 years.
absl::StatusOr<std::chrono::seconds> ParseDuration(std::string_view text);

}  // namespace posthorn::tools

#endif  // POSTHORN_TOOLS_COMMON_CONFIG_H_
