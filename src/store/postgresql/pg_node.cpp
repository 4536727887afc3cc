// store/postgresql/pg_node.cpp — see pg_node.h: this process's row in
// `nodes`, naming the database session that proves it alive.
//
// Two live processes must never share a node id (they would share its
// leases and deliver a message twice): registering over a row whose session
// is still alive is refused. A process restarted under the same configured
// node_name may find its predecessor's session still closing, so
// registration retries for up to kRegisterWait before it gives up.

#include "store/postgresql/pg_node.h"

#include <unistd.h>

#include <array>
#include <string>
#include <thread>
#include <utility>

#include "absl/time/clock.h"
#include "fmt/format.h"

namespace posthorn::store::pg {
namespace {

// How long Register waits for a previous session with the same node id to
// end, and how often it looks.
constexpr absl::Duration kRegisterWait = absl::Seconds(5);
constexpr absl::Duration kRegisterPoll = absl::Milliseconds(100);
// gethostname's buffer (HOST_NAME_MAX is 64 on Linux).
constexpr std::size_t kHostNameBytes = 256;

// Inserts or takes over the row of `id` for this connection's session,
// unless another live session holds it (then 0 rows change).
constexpr std::string_view kUpsert = R"sql(
INSERT INTO nodes AS n (node_id, backend_pid, backend_start)
SELECT $1, a.pid, a.backend_start FROM pg_stat_activity a
 WHERE a.pid = pg_backend_pid()
ON CONFLICT (node_id) DO UPDATE
  SET backend_pid = EXCLUDED.backend_pid,
      backend_start = EXCLUDED.backend_start
  WHERE (n.backend_pid = EXCLUDED.backend_pid
         AND n.backend_start = EXCLUDED.backend_start)
     OR NOT EXISTS (SELECT 1 FROM pg_stat_activity s
                     WHERE s.pid = n.backend_pid
                       AND s.backend_start = n.backend_start)
)sql";

}  // namespace

std::string NodeIdFor(const PgStoreOptions& options) {
  if (!options.node_name.empty()) return options.node_name;
  std::array<char, kHostNameBytes> host{};
  if (::gethostname(host.data(), host.size() - 1) != 0) {
    host[0] = '\0';
  }
  host.back() = '\0';
  const std::string name = host[0] == '\0' ? "localhost" : host.data();
  return fmt::format("{}:{}", name, ::getpid());
}

absl::StatusOr<std::unique_ptr<PgNode>> PgNode::Register(
    const PgStoreOptions& options) {
  std::string id =
      NodeIdFor(options);
  std::unique_ptr<PgNode> node(new PgNode(options, std::move(id)));
  std::lock_guard<std::mutex> lock(node->mu_);
  const absl::Time deadline = absl::Now() + kRegisterWait;
  for (;;) {
    absl::Status s = node->RegisterLocked();
    if (s.ok()) break;
    if (!absl::IsAlreadyExists(s) || absl::Now() >= deadline) return s;
    std::this_thread::sleep_for(absl::ToChronoMilliseconds(kRegisterPoll));
  }
  return node;
}

PgNode::~PgNode() {
  std::lock_guard<std::mutex> lock(mu_);
  if (conn_ != nullptr && conn_->healthy()) {
    // Only our own registration: a successor may have taken the id over.
    (void)conn_->Exec(
        "DELETE FROM nodes WHERE node_id = $1 AND backend_pid = "
        "pg_backend_pid()",
        {PgParam::Text(id_)});
  }
  conn_.reset();
}

absl::Status PgNode::RegisterLocked() {
  if (conn_ == nullptr || !conn_->healthy()) {
    conn_.reset();
    absl::StatusOr<std::unique_ptr<PgConnection>> conn =
        PgConnection::Connect(options_);
    if (!conn.ok()) return conn.status();
    conn_ = *std::move(conn);
  }
  absl::StatusOr<PgResult> r = conn_->Exec(kUpsert, {PgParam::Text(id_)});
  if (!r.ok()) return r.status();
  if (r->affected() != 1) {
    return absl::AlreadyExistsError(fmt::format(
        "postgresql: node id \"{}\" is in use by another live process "
        "(node_name must differ per process)",
        id_));
  }
  return absl::OkStatus();
}

absl::Status PgNode::EnsureRegistered() {
  std::lock_guard<std::mutex> lock(mu_);
  if (conn_ != nullptr && conn_->healthy()) {
    // Still our session's row? (Cheap: a primary key lookup.)
    absl::StatusOr<PgResult> r = conn_->Exec(
        "SELECT 1 FROM nodes WHERE node_id = $1 AND backend_pid = "
        "pg_backend_pid()",
        {PgParam::Text(id_)});
    if (r.ok() && r->rows() == 1) return absl::OkStatus();
    if (!r.ok() && !absl::IsUnavailable(r.status())) return r.status();
    // Unavailable: the session is gone (conn_ is now unhealthy); no row:
    // someone removed it. Either way register again.
  }
  return RegisterLocked();
}

}  // namespace posthorn::store::pg
