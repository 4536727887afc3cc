// tools/sendmail/store_setup.cpp — the queue, maildrops, aliases, the auth
// database and the HELP text, opened from posthorn.conf: the local files,
// or with `store = postgresql` queue, maildrops and users in the database
// (tools/common/mailstore_config.h).

#include <fcntl.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <utility>

#include "fmt/format.h"
#include "posthorn/store/postgresql.h"
#include "tools/common/exit_codes.h"
#include "tools/common/mailstore_config.h"
#include "tools/sendmail/alias_reload.h"
#include "tools/sendmail/setup.h"

namespace posthorn::tools {
namespace {

// HELP text: a few screens at most, each line short enough for a reply.
constexpr std::size_t kMaxHelpBytes = 64 * 1024;
constexpr std::size_t kMaxHelpLines = 200;
constexpr std::size_t kMaxHelpLineBytes = 400;

}  // namespace

namespace {

// store = postgresql: the queue is the database's, shared by every node.
// queue_dir still holds this node's own .hoststat and .mailstats, so it is
// made (0700) when missing, as the file queue would.
std::optional<Failure> OpenPgQueue(const Config& config, Stores* stores) {
  if (::mkdir(config.queue_dir.c_str(), 0700) != 0 && errno != EEXIST) {
    const absl::Status s = StatusFromErrno(errno, config.queue_dir);
    return Failure{absl::IsPermissionDenied(s) || absl::IsNotFound(s)
                       ? kExitCantCreat
                       : kExitTempFail,
                   fmt::format("queue_dir: {}", StatusText(s))};
  }
  auto queue = store::MakePgQueue(PgOptionsFromConfig(config, "queue"));
  if (!queue.ok()) {
    // A database that cannot be reached now may be back soon.
    const absl::Status& s = queue.status();
    return Failure{absl::IsInvalidArgument(s) ? kExitConfig : kExitTempFail,
                   fmt::format("queue: {}", StatusText(s))};
  }
  stores->queue = *std::move(queue);
  return std::nullopt;
}

}  // namespace

std::optional<Failure> OpenQueue(const Config& config, Stores* stores) {
  if (UsesPostgresql(config)) return OpenPgQueue(config, stores);
  store::FileQueueOptions options;
  options.dir = config.queue_dir;
  auto queue = store::MakeFileQueue(options);
  if (!queue.ok()) {
    const absl::Status& s = queue.status();
    const int code = absl::IsPermissionDenied(s) || absl::IsNotFound(s)
                         ? kExitCantCreat
                         : kExitTempFail;
    return Failure{code, fmt::format("queue_dir {}: {}", config.queue_dir,
                                     StatusText(s))};
  }
  stores->queue = *std::move(queue);
  return std::nullopt;
}

std::optional<Failure> OpenMailstore(const Config& config, Stores* stores) {
  auto mailstore = OpenConfiguredMailstore(config);
  if (!mailstore.ok()) {
    return Failure{MailstoreExitCode(mailstore.status()),
                   StatusText(mailstore.status())};
  }
  stores->mailstore = *std::move(mailstore);
  return std::nullopt;
}

namespace {

std::optional<Failure> AliasFailure(const Config& config,
                                    const absl::Status& s) {
  return Failure{absl::IsPermissionDenied(s) ? kExitNoPerm : kExitConfig,
                 fmt::format("alias_file {}: {}", config.alias_file,
                             StatusText(s))};
}

}  // namespace

std::optional<Failure> OpenReloadingAliases(const Config& config,
                                            Stores* stores,
                                            mta::LogFunction log) {
  auto table = OpenReloadingAliasTable(config.alias_file, std::move(log));
  if (!table.ok()) return AliasFailure(config, table.status());
  stores->aliases = *std::move(table);
  return std::nullopt;
}

std::optional<Failure> OpenAliases(const Config& config, Stores* stores) {
  auto table = store::OpenAliasTable(config.alias_file);
  if (!table.ok()) return AliasFailure(config, table.status());
  stores->aliases = *std::move(table);
  return std::nullopt;
}

std::optional<Failure> OpenAuthDbIfPresent(const Config& config,
                                           Stores* stores) {
  stores->auth_db.reset();
  if (UsesPostgresql(config)) {
    // The database's users: always there (the table is made when missing).
    auto db = OpenConfiguredAuthDb(config, /*writable=*/false);
    if (!db.ok()) {
      const absl::Status& s = db.status();
      return Failure{absl::IsInvalidArgument(s) ? kExitConfig
                                                : kExitUnavailable,
                     fmt::format("auth database: {}", StatusText(s))};
    }
    stores->auth_db = *std::move(db);
    return std::nullopt;
  }
  struct stat st;
  if (config.auth_db.empty() ||
      (::stat(config.auth_db.c_str(), &st) != 0 && errno == ENOENT)) {
    return std::nullopt;
  }
  auto db = store::OpenAuthDb(config.auth_db, /*writable=*/false);
  if (!db.ok()) {
    const absl::Status& s = db.status();
    if (absl::IsNotFound(s)) return std::nullopt;  // removed meanwhile
    return Failure{absl::IsPermissionDenied(s) ? kExitNoPerm
                   : absl::IsDataLoss(s)       ? kExitDataErr
                                               : kExitUnavailable,
                   fmt::format("auth_db {}", StatusText(s))};
  }
  stores->auth_db = *std::move(db);
  return std::nullopt;
}

std::vector<std::string> ReadHelpLines(const Config& config, Logger* log) {
  std::vector<std::string> lines;
  if (config.help_file.empty()) return lines;
  const int fd = ::open(config.help_file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno != ENOENT && log != nullptr) {
      log->Log(LOG_WARNING,
               StatusText(StatusFromErrno(errno, config.help_file)));
    }
    return lines;  // the built-in text
  }
  std::string text;
  char buffer[8192];
  while (text.size() < kMaxHelpBytes) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  if (text.size() > kMaxHelpBytes) text.resize(kMaxHelpBytes);
  std::string_view rest = text;
  while (!rest.empty() && lines.size() < kMaxHelpLines) {
    const std::size_t end = rest.find('\n');
    std::string line(rest.substr(0, end));
    rest.remove_prefix(end == std::string_view::npos ? rest.size() : end + 1);
    // Control bytes (sendmail.hf separates its tags with TABs) become
    // spaces: a reply line carries printable text only.
    for (char& c : line) {
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    if (line.size() > kMaxHelpLineBytes) line.resize(kMaxHelpLineBytes);
    lines.push_back(std::move(line));
  }
  while (!lines.empty() && lines.back().empty()) lines.pop_back();
  return lines;
}

}  // namespace posthorn::tools
