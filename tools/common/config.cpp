// tools/common/config.cpp — posthorn.conf: the line grammar, the table of
// keys, loading the file and finding it.
//
// The table below is the one place that knows every key; docs/
// configuration.md documents the same keys in the same order.

#include "tools/common/config.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstdlib>
#include <iterator>
#include <string>
#include <string_view>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "fmt/format.h"
#include "tools/common/config_values.h"
#include "tools/common/exit_codes.h"

namespace posthorn::tools {
namespace {

namespace cv = config_values;

using Setter = absl::Status (*)(Config& config, std::string_view value,
                                std::string_view dir);

struct KeySpec {
  std::string_view name;
  Setter set;
};

template <typename T>
absl::Status Assign(absl::StatusOr<T> parsed, T& target) {
  if (!parsed.ok()) return parsed.status();
  target = *std::move(parsed);
  return absl::OkStatus();
}

absl::Status SetEndpoints(std::string_view value,
                          std::vector<std::string>& target) {
  std::vector<std::string> items = cv::SplitList(value);
  for (const std::string& item : items) {
    if (absl::Status s = cv::CheckEndpoint(item); !s.ok()) return s;
  }
  target = std::move(items);
  return absl::OkStatus();
}

// A host name or a domain: printable ASCII without '/', '@' or brackets.
absl::Status CheckDomain(std::string_view name) {
  for (const char c : name) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f || c == '/' || c == '@' || c == '[' ||
        c == ']' || c == ',') {
      return absl::InvalidArgumentError(
          fmt::format("bad host name \"{}\"", name));
    }
  }
  return absl::OkStatus();
}

// A login name for run_as: the portable set of POSIX user names.
absl::Status CheckUserName(std::string_view name) {
  if (name.size() > 32 || (!name.empty() && name.front() == '-')) {
    return absl::InvalidArgumentError(fmt::format("bad user \"{}\"", name));
  }
  for (const char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_' &&
        c != '-' && c != '.') {
      return absl::InvalidArgumentError(fmt::format("bad user \"{}\"", name));
    }
  }
  return absl::OkStatus();
}

// A number in [min, max].
absl::Status AssignBounded(std::string_view value, std::uint64_t min,
                           std::uint64_t max, std::uint64_t& target) {
  auto number = cv::ParseNumber(value);
  if (!number.ok()) return number.status();
  if (*number < min || *number > max) {
    return absl::InvalidArgumentError(
        fmt::format("{} is out of range ({} to {})", *number, min, max));
  }
  target = *number;
  return absl::OkStatus();
}

// A duration of at least one second (a zero timeout would fail at once).
absl::Status AssignTimeout(std::string_view value,
                           std::chrono::seconds& target) {
  auto duration = ParseDuration(value);
  if (!duration.ok()) return duration.status();
  if (duration->count() < 1) {
    return absl::InvalidArgumentError("must be at least 1 second");
  }
  target = *duration;
  return absl::OkStatus();
}

// Every key of DESIGN.md "Configuration" and the POP3 keys. Adding a key:
// a field in Config, a row here, a section in docs/configuration.md.
constexpr KeySpec kKeys[] = {
    {"hostname",
     [](Config& c, std::string_view v, std::string_view) {
       if (absl::Status s = CheckDomain(v); !s.ok()) return s;
       c.hostname = std::string(v);
       return absl::OkStatus();
     }},
    {"local_domains",
     [](Config& c, std::string_view v, std::string_view) {
       std::vector<std::string> items = cv::SplitList(v);
       for (const std::string& item : items) {
         if (absl::Status s = CheckDomain(item); !s.ok()) return s;
       }
       c.local_domains = std::move(items);
       return absl::OkStatus();
     }},
    {"smtpd_listen",
     [](Config& c, std::string_view v, std::string_view) {
       return SetEndpoints(v, c.smtpd_listen);
     }},
    {"trusted_networks",
     [](Config& c, std::string_view v, std::string_view) {
       std::vector<std::string> items = cv::SplitList(v);
       for (const std::string& item : items) {
         if (absl::Status s = cv::CheckNetwork(item); !s.ok()) return s;
       }
       c.trusted_networks = std::move(items);
       return absl::OkStatus();
     }},
    {"relay_host",
     [](Config& c, std::string_view v, std::string_view) {
       if (v.find_first_of(" \t,") != std::string_view::npos) {
         return absl::InvalidArgumentError(
             fmt::format("bad relay host \"{}\" ([host]:port or host)", v));
       }
       c.relay_host = std::string(v);
       return absl::OkStatus();
     }},
    {"transport_map",
     [](Config& c, std::string_view v, std::string_view dir) {
       c.transport_map = cv::ResolvePath(v, dir);
       return absl::OkStatus();
     }},
    {"dns_servers",
     [](Config& c, std::string_view v, std::string_view) {
       std::vector<std::string> items = cv::SplitList(v);
       if (items.size() > cv::kMaxDnsServers) {
         return absl::InvalidArgumentError(
             fmt::format("too many DNS servers ({}, at most {})",
                         items.size(), cv::kMaxDnsServers));
       }
       for (const std::string& item : items) {
         if (absl::Status s = cv::CheckDnsServer(item); !s.ok()) return s;
       }
       c.dns_servers = std::move(items);
       return absl::OkStatus();
     }},
    {"queue_dir",
     [](Config& c, std::string_view v, std::string_view dir) {
       c.queue_dir = cv::ResolvePath(v, dir);
       return absl::OkStatus();
     }},
    {"spool_dir",
     [](Config& c, std::string_view v, std::string_view dir) {
       c.spool_dir = cv::ResolvePath(v, dir);
       return absl::OkStatus();
     }},
    {"mailbox_format",
     [](Config& c, std::string_view v, std::string_view) {
       if (v == "mbox") {
         c.mailbox_format = MailboxFormat::kMbox;
       } else if (v == "maildir") {
         c.mailbox_format = MailboxFormat::kMaildir;
       } else {
         return absl::InvalidArgumentError(fmt::format(
             "bad mailbox format \"{}\" (mbox or maildir)", v));
       }
       return absl::OkStatus();
     }},
    {"alias_file",
     [](Config& c, std::string_view v, std::string_view dir) {
       c.alias_file = cv::ResolvePath(v, dir);
       return absl::OkStatus();
     }},
    {"auth_db",
     [](Config& c, std::string_view v, std::string_view dir) {
       c.auth_db = cv::ResolvePath(v, dir);
       return absl::OkStatus();
     }},
    {"help_file",
     [](Config& c, std::string_view v, std::string_view dir) {
       c.help_file = cv::ResolvePath(v, dir);
       return absl::OkStatus();
     }},
    {"tls_cert",
     [](Config& c, std::string_view v, std::string_view dir) {
       c.tls_cert = cv::ResolvePath(v, dir);
       return absl::OkStatus();
     }},
    {"tls_key",
     [](Config& c, std::string_view v, std::string_view dir) {
       c.tls_key = cv::ResolvePath(v, dir);
       return absl::OkStatus();
     }},
    {"plaintext_auth",
     [](Config& c, std::string_view v, std::string_view) {
       return Assign(cv::ParseBool(v), c.plaintext_auth);
     }},
    {"message_size_limit",
     [](Config& c, std::string_view v, std::string_view) {
       return Assign(cv::ParseNumber(v), c.message_size_limit);
     }},
    {"recipient_limit",
     [](Config& c, std::string_view v, std::string_view) {
       return Assign(cv::ParseNumber(v), c.recipient_limit);
     }},
    {"smtpd_timeout",
     [](Config& c, std::string_view v, std::string_view) {
       return Assign(ParseDuration(v), c.smtpd_timeout);
     }},
    {"pop3_timeout",
     [](Config& c, std::string_view v, std::string_view) {
       return Assign(ParseDuration(v), c.pop3_timeout);
     }},
    {"queue_run_interval",
     [](Config& c, std::string_view v, std::string_view) {
       return Assign(ParseDuration(v), c.queue_run_interval);
     }},
    {"max_backoff",
     [](Config& c, std::string_view v, std::string_view) {
       return Assign(ParseDuration(v), c.max_backoff);
     }},
    {"queue_lifetime",
     [](Config& c, std::string_view v, std::string_view) {
       return Assign(ParseDuration(v), c.queue_lifetime);
     }},
    {"delay_warning",
     [](Config& c, std::string_view v, std::string_view) {
       return Assign(ParseDuration(v), c.delay_warning);
     }},
    {"bare_newline",
     [](Config& c, std::string_view v, std::string_view) {
       if (v == "reject") {
         c.bare_newline = BareNewline::kReject;
       } else if (v == "normalize") {
         c.bare_newline = BareNewline::kNormalize;
       } else {
         return absl::InvalidArgumentError(fmt::format(
             "bad bare_newline \"{}\" (reject or normalize)", v));
       }
       return absl::OkStatus();
     }},
    {"run_as",
     [](Config& c, std::string_view v, std::string_view) {
       if (absl::Status s = CheckUserName(v); !s.ok()) return s;
       c.run_as = std::string(v);
       return absl::OkStatus();
     }},
    {"pop3_listen",
     [](Config& c, std::string_view v, std::string_view) {
       return SetEndpoints(v, c.pop3_listen);
     }},
    {"pop3_tls_listen",
     [](Config& c, std::string_view v, std::string_view) {
       return SetEndpoints(v, c.pop3_tls_listen);
     }},
    {"bulletin_dir",
     [](Config& c, std::string_view v, std::string_view dir) {
       c.bulletin_dir = cv::ResolvePath(v, dir);
       return absl::OkStatus();
     }},
    {"pop3_failed_login_delay",
     [](Config& c, std::string_view v, std::string_view) {
       return Assign(ParseDuration(v), c.pop3_failed_login_delay);
     }},
    {"pop3_address_max_failures",
     [](Config& c, std::string_view v, std::string_view) {
       return Assign(cv::ParseNumber(v), c.pop3_address_max_failures);
     }},
    {"pop3_address_window",
     [](Config& c, std::string_view v, std::string_view) {
       return Assign(ParseDuration(v), c.pop3_address_window);
     }},
    {"pop3_max_connections",
     [](Config& c, std::string_view v, std::string_view) {
       return Assign(cv::ParseNumber(v), c.pop3_max_connections);
     }},
    // sendmail (the MTA).
    {"hop_limit",
     [](Config& c, std::string_view v, std::string_view) {
       return AssignBounded(v, 1, kMaxHopLimit, c.hop_limit);
     }},
    {"max_deliveries",
     [](Config& c, std::string_view v, std::string_view) {
       return AssignBounded(v, 1, kMaxDeliveries, c.max_deliveries);
     }},
    {"smtpd_threads",
     [](Config& c, std::string_view v, std::string_view) {
       return AssignBounded(v, 1, kMaxSmtpdThreads, c.smtpd_threads);
     }},
    {"smtpd_max_connections",
     [](Config& c, std::string_view v, std::string_view) {
       return AssignBounded(v, 1, UINT32_MAX, c.smtpd_max_connections);
     }},
    {"expn_enabled",
     [](Config& c, std::string_view v, std::string_view) {
       return Assign(cv::ParseBool(v), c.expn_enabled);
     }},
    {"allow_file_targets",
     [](Config& c, std::string_view v, std::string_view) {
       return Assign(cv::ParseBool(v), c.allow_file_targets);
     }},
    {"allow_program_targets",
     [](Config& c, std::string_view v, std::string_view) {
       return Assign(cv::ParseBool(v), c.allow_program_targets);
     }},
    {"local_recipients",
     [](Config& c, std::string_view v, std::string_view) {
       return Assign(cv::ParseRecipientSources(v), c.local_recipients);
     }},
    {"smtp_connect_timeout",
     [](Config& c, std::string_view v, std::string_view) {
       return AssignTimeout(v, c.smtp_connect_timeout);
     }},
    {"smtp_reply_timeout",
     [](Config& c, std::string_view v, std::string_view) {
       return AssignTimeout(v, c.smtp_reply_timeout);
     }},
    {"mail_log",
     [](Config& c, std::string_view v, std::string_view dir) {
       c.mail_log = cv::ResolvePath(v, dir);
       return absl::OkStatus();
     }},
    // The shared store (docs/postgresql.md).
    {"store",
     [](Config& c, std::string_view v, std::string_view) {
       if (v == "local") {
         c.store = StoreBackend::kLocal;
       } else if (v == "postgresql") {
         c.store = StoreBackend::kPostgresql;
       } else {
         return absl::InvalidArgumentError(
             fmt::format("bad store \"{}\" (local or postgresql)", v));
       }
       return absl::OkStatus();
     }},
    {"postgresql_dsn",
     [](Config& c, std::string_view v, std::string_view) {
       // Passed to libpq as it is; never echoed (it may hold a password).
       c.postgresql_dsn = std::string(v);
       return absl::OkStatus();
     }},
    {"postgresql_max_connections",
     [](Config& c, std::string_view v, std::string_view) {
       return AssignBounded(v, 1, kMaxPostgresqlConnections,
                            c.postgresql_max_connections);
     }},
};

const KeySpec* FindKey(std::string_view name) {
  for (const KeySpec& spec : kKeys) {
    if (spec.name == name) return &spec;
  }
  return nullptr;
}

// One `key = value` after continuation lines were joined.
struct Entry {
  std::string key;
  std::string value;
  int line = 0;
};

bool IsBlank(char c) { return c == ' ' || c == '\t'; }

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (IsBlank(text.front()) || text.front() == '\r')) {
    text.remove_prefix(1);
  }
  while (!text.empty() && (IsBlank(text.back()) || text.back() == '\r')) {
    text.remove_suffix(1);
  }
  return text;
}

bool IsKeyChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

absl::Status LineError(const std::string& path, int line,
                       std::string_view reason) {
  return absl::InvalidArgumentError(
      fmt::format("{}:{}: {}", path.empty() ? "<config>" : path, line, reason));
}

// Splits the text into entries: comments and blank lines dropped,
// continuation lines (leading white space) appended to the previous value.
absl::StatusOr<std::vector<Entry>> ReadEntries(std::string_view text,
                                               const std::string& path) {
  std::vector<Entry> entries;
  int line_number = 0;
  while (!text.empty()) {
    ++line_number;
    const std::size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    if (line.find('\0') != std::string_view::npos) {
      return LineError(path, line_number, "NUL byte in line");
    }
    const std::string_view content = Trim(line);
    if (content.empty() || content.front() == '#') continue;
    if (IsBlank(line.front())) {
      if (entries.empty()) {
        return LineError(path, line_number,
                         "continuation line (starts with white space) "
                         "without a key before it");
      }
      std::string& value = entries.back().value;
      if (!value.empty()) value.push_back(' ');
      value.append(content);
      continue;
    }
    const std::size_t equals = content.find('=');
    if (equals == std::string_view::npos) {
      return LineError(path, line_number,
                       fmt::format("missing '=' (expected \"key = value\"): "
                                   "\"{}\"",
                                   content.substr(0, 80)));
    }
    const std::string_view key = Trim(content.substr(0, equals));
    if (key.empty()) return LineError(path, line_number, "missing key");
    for (const char c : key) {
      if (!IsKeyChar(c)) {
        return LineError(path, line_number,
                         fmt::format("bad key \"{}\" (lower-case letters, "
                                     "digits and '_')",
                                     key.substr(0, 80)));
      }
    }
    entries.push_back(Entry{std::string(key),
                            std::string(Trim(content.substr(equals + 1))),
                            line_number});
  }
  return entries;
}

std::string DirName(const std::string& path) {
  const std::size_t slash = path.rfind('/');
  std::string dir;
  if (slash == std::string::npos) {
    dir = ".";
  } else if (slash == 0) {
    dir = "/";
  } else {
    dir = path.substr(0, slash);
  }
  if (dir.front() != '/') {
    // Absolute paths in the result, whatever the program's folder later.
    char cwd[PATH_MAX];
    if (::getcwd(cwd, sizeof cwd) != nullptr) {
      dir = dir == "." ? std::string(cwd) : fmt::format("{}/{}", cwd, dir);
    }
  }
  return dir;
}

std::string SystemHostName() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0 || name[0] == '\0') {
    return "localhost";
  }
  return name;
}

// Defaults that depend on other values.
void FillDerivedDefaults(Config& config, bool local_domains_set) {
  if (config.hostname.empty()) config.hostname = SystemHostName();
  if (!local_domains_set) config.local_domains = {config.hostname, "localhost"};
}

}  // namespace

absl::StatusOr<Config> ParseConfig(std::string_view text,
                                   const std::string& path) {
  auto entries = ReadEntries(text, path);
  if (!entries.ok()) return entries.status();
  Config config;
  config.path = path;
  const std::string dir = path.empty() ? std::string() : DirName(path);
  absl::flat_hash_map<std::string, int> seen;  // key -> its line
  for (const Entry& entry : *entries) {
    const KeySpec* spec = FindKey(entry.key);
    if (spec == nullptr) {
      return LineError(path, entry.line,
                       fmt::format("unknown key \"{}\"", entry.key));
    }
    const auto [it, inserted] = seen.emplace(entry.key, entry.line);
    if (!inserted) {
      return LineError(path, entry.line,
                       fmt::format("duplicate key \"{}\" (first set on line "
                                   "{})",
                                   entry.key, it->second));
    }
    if (absl::Status s = spec->set(config, entry.value, dir); !s.ok()) {
      return LineError(path, entry.line,
                       fmt::format("{}: {}", entry.key, StatusText(s)));
    }
  }
  if (config.store == StoreBackend::kPostgresql &&
      config.postgresql_dsn.empty()) {
    return LineError(path, seen.at("store"),
                     "store = postgresql needs postgresql_dsn");
  }
  // `maildrop` looks for spool_dir/<user>, which the database store has
  // not: better refused than every recipient unknown.
  if (config.store == StoreBackend::kPostgresql &&
      std::find(config.local_recipients.begin(),
                config.local_recipients.end(),
                RecipientSource::kMaildrop) != config.local_recipients.end()) {
    return LineError(path, seen.at("local_recipients"),
                     "local_recipients: maildrop needs store = local (it "
                     "looks in spool_dir)");
  }
  FillDerivedDefaults(config, seen.contains("local_domains"));
  return config;
}

absl::StatusOr<Config> LoadConfig(const std::string& path,
                                  bool allow_missing) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    const int err = errno;
    if (err == ENOENT && allow_missing) {
      Config config;
      FillDerivedDefaults(config, false);
      return config;
    }
    return StatusFromErrno(err, path);
  }
  std::string text;
  absl::Status status;
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    status = StatusFromErrno(errno, path);
  } else if (!S_ISREG(st.st_mode)) {
    status = absl::InvalidArgumentError(
        fmt::format("{}: not a regular file", path));
  } else {
    char buffer[8192];
    while (status.ok()) {
      const ssize_t n = ::read(fd, buffer, sizeof buffer);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        status = StatusFromErrno(errno, path);
      } else if (n == 0) {
        break;
      } else if (text.size() + static_cast<std::size_t>(n) > kMaxConfigBytes) {
        status = absl::InvalidArgumentError(fmt::format(
            "{}: larger than {} bytes", path, kMaxConfigBytes));
      } else {
        text.append(buffer, static_cast<std::size_t>(n));
      }
    }
  }
  ::close(fd);
  if (!status.ok()) return status;
  return ParseConfig(text, path);
}

std::vector<std::string_view> ConfigKeyNames() {
  std::vector<std::string_view> names;
  names.reserve(std::size(kKeys));
  for (const KeySpec& spec : kKeys) names.push_back(spec.name);
  return names;
}

ConfigLocation ConfigPath(const std::optional<std::string>& dash_c) {
  if (dash_c.has_value()) return {*dash_c, true};
  const char* env = std::getenv("POSTHORN_CONF");
  if (env != nullptr && env[0] != '\0') return {env, true};
  return {kDefaultConfigPath, false};
}

}  // namespace posthorn::tools
