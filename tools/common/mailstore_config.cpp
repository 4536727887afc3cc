// tools/common/mailstore_config.cpp — store, spool_dir, mailbox_format,
// auth_db and postgresql_* turned into a store::Mailstore and a
// store::AuthDb (see mailstore_config.h).

#include "tools/common/mailstore_config.h"

#include <unistd.h>

#include <atomic>
#include <cstddef>
#include <utility>

#include "fmt/format.h"
#include "posthorn/store/maildir.h"
#include "posthorn/store/mbox.h"
#include "tools/common/exit_codes.h"

namespace posthorn::tools {

bool UsesPostgresql(const Config& config) {
  return config.store == StoreBackend::kPostgresql;
}

store::PgStoreOptions PgOptionsFromConfig(const Config& config,
                                          std::string_view part) {
  store::PgStoreOptions options;
  options.dsn = config.postgresql_dsn;
  options.max_connections =
      static_cast<std::size_t>(config.postgresql_max_connections);
  // The pid now, not at startup: a forked child (sendmail -odb) is a node
  // of its own. The count: a store reopened in the same process (sendmail
  // -odi queues, closes the queue, opens it again to deliver) must not
  // wait for the server to end the session of the one before.
  static std::atomic<unsigned> opened{0};
  options.node_name = fmt::format("{}:{}:{}.{}", config.hostname, ::getpid(),
                                  part, ++opened);
  return options;
}

absl::StatusOr<std::unique_ptr<store::Mailstore>> OpenConfiguredMailstore(
    const Config& config) {
  if (UsesPostgresql(config)) {
    return store::MakePgMailstore(PgOptionsFromConfig(config, "maildrops"));
  }
  absl::StatusOr<std::unique_ptr<store::Mailstore>> mailstore;
  if (config.mailbox_format == MailboxFormat::kMaildir) {
    store::MaildirStoreOptions options;
    options.root_dir = config.spool_dir;
    options.hostname = config.hostname;
    mailstore = store::MakeMaildirStore(options);
  } else {
    store::MboxStoreOptions options;
    options.spool_dir = config.spool_dir;
    mailstore = store::MakeMboxStore(options);
  }
  if (mailstore.ok()) return mailstore;
  const absl::Status& s = mailstore.status();
  return absl::Status(s.code(), fmt::format("spool_dir {}: {}",
                                            config.spool_dir, StatusText(s)));
}

int MailstoreExitCode(const absl::Status& status) {
  if (absl::IsPermissionDenied(status)) return kExitNoPerm;
  if (absl::IsNotFound(status) || absl::IsInvalidArgument(status)) {
    return kExitConfig;
  }
  return kExitUnavailable;
}

absl::StatusOr<std::unique_ptr<store::AuthDb>> OpenConfiguredAuthDb(
    const Config& config, bool writable) {
  if (UsesPostgresql(config)) {
    return store::OpenPgAuthDb(PgOptionsFromConfig(config, "users"), writable);
  }
  return store::OpenAuthDb(config.auth_db, writable);
}

std::string AuthDbName(const Config& config) {
  return UsesPostgresql(config) ? "postgresql auth_users" : config.auth_db;
}

}  // namespace posthorn::tools
