// store/postgresql/schema.h — the tables posthorn keeps in PostgreSQL, and
// their creation and upgrade (MigratePgSchema in postgresql.h).
//
// Version 1 (kSchemaV1 in schema.cpp is the contract every part codes to):
//   posthorn_schema(version)                       one row
//   nodes(node_id, backend_pid, backend_start, started)
//       a process that uses the store; alive while the session
//       (backend_pid, backend_start) shows in pg_stat_activity
//   messages(id, size, crlf, created)              a message's bytes, once
//   message_chunks(message_id, seq, data)          its bytes, <= 256 KiB each
//   queue(id, message_id, envelope, next_attempt, lease_owner, lease_token,
//         lease_until)
//       envelope: the text form of the file queue's envelope
//       (store/queue/envelope_format.h), so both backends agree on fields
//   maildrop(user_name, seq, uid, message_id, size, arrival,
//            envelope_sender, delivery_id)
//   pop_locks(user_name, node_id, token, until)
//   user_notes(user_name, note_key, value)
//   auth_users(user_name, apop_secret, password_hash)

#ifndef POSTHORN_SRC_STORE_POSTGRESQL_SCHEMA_H_
#define POSTHORN_SRC_STORE_POSTGRESQL_SCHEMA_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "store/postgresql/pg_connection.h"

namespace posthorn::store::pg {

// The SQL that creates version 1 (several statements).
std::string_view SchemaV1Sql();

// Creates or upgrades the schema on `conn` under an advisory lock (nodes
// starting together migrate once); returns the version found before.
absl::StatusOr<int> MigrateSchema(PgConnection& conn);

// The node's liveness test as an SQL condition on a column holding a
// node_id, e.g. NodeAliveSql("q.lease_owner") ->
//   "EXISTS (SELECT 1 FROM nodes n JOIN pg_stat_activity a ON ... )".
std::string NodeAliveSql(std::string_view node_column);

}  // namespace posthorn::store::pg

#endif  // POSTHORN_SRC_STORE_POSTGRESQL_SCHEMA_H_
