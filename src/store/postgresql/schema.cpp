// store/postgresql/schema.cpp — see schema.h. The SQL of version 1 is the
// contract of every PostgreSQL part; the migration code around it is
// MigrateSchema below.

#include "store/postgresql/schema.h"

#include <string>
#include <string_view>

#include "fmt/format.h"

namespace posthorn::store::pg {
namespace {

// Version 1. Sizes are octets with CRLF line ends (what POP reports).
constexpr std::string_view kSchemaV1 = R"sql(
CREATE TABLE nodes (
  node_id       text PRIMARY KEY,
  backend_pid   integer NOT NULL,
  backend_start timestamptz NOT NULL,
  started       timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE messages (
  id       bigserial PRIMARY KEY,
  size     bigint NOT NULL,
  -- every line ends in CRLF (no bare LF or CR, ends with CRLF): such a
  -- message can be linked into a maildrop as it is
  crlf     boolean NOT NULL,
  created  timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE message_chunks (
  message_id bigint NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
  seq        integer NOT NULL,
  data       bytea NOT NULL,
  PRIMARY KEY (message_id, seq)
);
CREATE TABLE queue (
  id           text PRIMARY KEY,
  message_id   bigint NOT NULL REFERENCES messages(id),
  envelope     text NOT NULL,
  next_attempt timestamptz NOT NULL,
  lease_owner  text,
  lease_token  text,
  lease_until  timestamptz
);
CREATE INDEX queue_next_attempt ON queue (next_attempt);
CREATE TABLE maildrop (
  user_name       text NOT NULL,
  seq             bigserial,
  uid             text NOT NULL,
  message_id      bigint NOT NULL REFERENCES messages(id),
  size            bigint NOT NULL,
  arrival         timestamptz NOT NULL,
  envelope_sender text NOT NULL,
  delivery_id     text,
  PRIMARY KEY (user_name, seq),
  UNIQUE (user_name, uid),
  UNIQUE (user_name, delivery_id)
);
CREATE INDEX maildrop_message ON maildrop (message_id);
CREATE INDEX queue_message ON queue (message_id);
CREATE TABLE pop_locks (
  user_name text PRIMARY KEY,
  node_id   text NOT NULL,
  token     text NOT NULL,
  until     timestamptz NOT NULL
);
CREATE TABLE user_notes (
  user_name text NOT NULL,
  note_key  text NOT NULL,
  value     text NOT NULL,
  PRIMARY KEY (user_name, note_key)
);
CREATE TABLE auth_users (
  user_name     text PRIMARY KEY,
  apop_secret   text,
  password_hash text
);
)sql";

}  // namespace

std::string NodeAliveSql(std::string_view node_column) {
  return fmt::format(
      "EXISTS (SELECT 1 FROM nodes n JOIN pg_stat_activity a "
      "ON a.pid = n.backend_pid AND a.backend_start = n.backend_start "
      "WHERE n.node_id = {})",
      node_column);
}

// MigrateSchema: implemented by the core part (schema_migrate.cpp) around
// kSchemaV1; exposed here so it sees the SQL.
std::string_view SchemaV1Sql() { return kSchemaV1; }

}  // namespace posthorn::store::pg
