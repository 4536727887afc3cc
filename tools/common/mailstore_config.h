// tools/common/mailstore_config.h — the maildrops and the auth database
// posthorn.conf names.
//
// PURPOSE
//   popper reads the maildrops and sendmail delivers into them; both open
//   them the same way. With `store = local` (the default): spool_dir in
//   mailbox_format (one mbox file per user, or one Maildir folder per
//   user; the Maildir store also needs hostname for its file names), and
//   the LMDB file auth_db. With `store = postgresql`: both in the database
//   of postgresql_dsn (store/postgresql.h), shared by every node. The
//   error says which key is wrong, and the exit code is the same in every
//   program.
//
//     auto store = OpenConfiguredMailstore(config);
//     if (!store.ok()) return Fail(MailstoreExitCode(store.status()),
//                                  StatusText(store.status()));
//
// ERRORS
//   Local: the store's status, its message prefixed with
//   "spool_dir <path>: ". PostgreSQL: the store's status as it is (its
//   message starts with "postgresql"; the DSN, which may hold a password,
//   is never part of it). MailstoreExitCode: 77 permission denied, 78 a
//   missing or unusable spool_dir or DSN (a configuration error), 69
//   anything else (also a database that cannot be reached).

#ifndef POSTHORN_TOOLS_COMMON_MAILSTORE_CONFIG_H_
#define POSTHORN_TOOLS_COMMON_MAILSTORE_CONFIG_H_

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "posthorn/store/auth_db.h"
#include "posthorn/store/mailstore.h"
#include "posthorn/store/postgresql.h"
#include "tools/common/config.h"

namespace posthorn::tools {

// True when the config puts queue, maildrops and users in PostgreSQL.
bool UsesPostgresql(const Config& config);

// postgresql_dsn and postgresql_max_connections as store options, for the
// store `part` ("queue", "maildrops", "users"). node_name is
// "<hostname>:<pid>:<part>.<n>" (n counts the calls in this process):
// every store object registers as a node of its own, and two objects of
// one process (sendmail's queue and maildrops, or a queue closed and
// opened again) must not claim the same node id.
store::PgStoreOptions PgOptionsFromConfig(const Config& config,
                                          std::string_view part);

absl::StatusOr<std::unique_ptr<store::Mailstore>> OpenConfiguredMailstore(
    const Config& config);

// The sysexits code for OpenConfiguredMailstore's error.
int MailstoreExitCode(const absl::Status& status);

// The auth database of the config: the file auth_db (OpenAuthDb: NotFound
// when it does not exist), or the PostgreSQL table (made when missing).
absl::StatusOr<std::unique_ptr<store::AuthDb>> OpenConfiguredAuthDb(
    const Config& config, bool writable);

// What messages call the auth database: the auth_db path, or
// "postgresql auth_users".
std::string AuthDbName(const Config& config);

}  // namespace posthorn::tools

#endif  // POSTHORN_TOOLS_COMMON_MAILSTORE_CONFIG_H_
