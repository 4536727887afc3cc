// store/postgresql/pg_node.h — this process as a node of the shared store.
//
// A node is a row of `nodes` naming the database session (backend pid and
// start time) of a connection the node keeps open for that purpose only.
// While that session exists the node is alive (NodeAliveSql in schema.h);
// when the process dies the server ends the session, and at once every
// queue lease and POP lock of the node is free for other nodes. If the
// connection drops while the process lives (a database restart), the next
// EnsureRegistered() makes a new session and updates the row; leases taken
// before stay the node's own (they name the node id, not the session).

#ifndef POSTHORN_SRC_STORE_POSTGRESQL_PG_NODE_H_
#define POSTHORN_SRC_STORE_POSTGRESQL_PG_NODE_H_

#include <memory>
#include <mutex>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "posthorn/store/postgresql.h"
#include "store/postgresql/pg_connection.h"

namespace posthorn::store::pg {

// The node id of `options`: node_name, else "<hostname>:<pid>".
std::string NodeIdFor(const PgStoreOptions& options);

class PgNode {
 public:
  // Connects and registers (node id from options.node_name, else
  // "<hostname>:<pid>").
  static absl::StatusOr<std::unique_ptr<PgNode>> Register(
      const PgStoreOptions& options);
  ~PgNode();  // deletes the row (best effort) and closes the session

  const std::string& id() const { return id_; }
  // Checks the liveness connection (a cheap query); reconnects and
  // re-registers when it is gone. Unavailable when the database is down.
  absl::Status EnsureRegistered();

 private:
  PgNode(PgStoreOptions options, std::string id)
      : options_(std::move(options)), id_(std::move(id)) {}
  absl::Status RegisterLocked();

  PgStoreOptions options_;
  std::string id_;
  std::mutex mu_;
  std::unique_ptr<PgConnection> conn_;
};

}  // namespace posthorn::store::pg

#endif  // POSTHORN_SRC_STORE_POSTGRESQL_PG_NODE_H_
