// store/postgresql/pg_maildrop_session.cpp — a POP session on a maildrop
// in PostgreSQL (OpenPgMaildropSession in pg_mailstore.h).
//
// LOCK
//   A row of pop_locks per maildrop names the node holding it and a random
//   token of this session. Taking it is one statement: INSERT, or take over
//   a row whose lock is free — expired (`until` passed: lease_duration,
//   renewed while the session reads) or held by a node that is no longer
//   alive (its liveness session is gone: the process died, NodeAliveSql).
//   No row back means a live session holds it: IsInUse. The node registers
//   (again, after a database restart) before it locks, so its own lock
//   never looks dead.
//
// SNAPSHOT
//   The maildrop rows ordered by seq, read once the lock is held. Mail
//   delivered later is not in it and is left alone by Commit().
//
// COMMIT
//   One transaction: delete the lock row (token match; a lock lost to
//   another session after it expired changes nothing) and the maildrop
//   rows of the listed seqs, COMMIT. Then each message nothing refers to
//   any more is dropped; one a crash leaves behind is swept when a store
//   starts. Destruction without Commit() deletes the lock row only.

#include <algorithm>
#include <cstring>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/time/clock.h"
#include "fmt/format.h"
#include "posthorn/store/status.h"
#include "store/postgresql/pg_mailstore.h"
#include "store/postgresql/pg_message.h"
#include "store/postgresql/schema.h"

namespace posthorn::store::pg {
namespace {

absl::Status DeleteLock(PgPool& pool, const std::string& user,
                        const std::string& token) {
  PgResult result;
  return AcquireAndExec(
             pool, "DELETE FROM pop_locks WHERE user_name = $1 AND token = $2",
             {PgParam::Text(user), PgParam::Text(token)}, &result)
      .status();
}

void RememberUnreleasedLock(PgMailstoreShared& shared, const std::string& user,
                            const std::string& token) {
  std::lock_guard<std::mutex> lock(shared.unreleased_mu);
  shared.unreleased_locks.emplace_back(user, token);
  if (shared.unreleased_locks.size() > kMaxUnreleasedLocks) {
    shared.unreleased_locks.pop_front();
  }
}

// Deletes the locks whose release failed before (see PgMailstoreShared);
// those that fail again stay for the next try.
void ReleaseUnreleasedLocks(PgMailstoreShared& shared) {
  std::deque<std::pair<std::string, std::string>> pending;
  {
    std::lock_guard<std::mutex> lock(shared.unreleased_mu);
    if (shared.unreleased_locks.empty()) return;
    pending.swap(shared.unreleased_locks);
  }
  for (const auto& [user, token] : pending) {
    if (!DeleteLock(*shared.pool, user, token).ok()) {
      RememberUnreleasedLock(shared, user, token);
    }
  }
}

// A random lock token: 16 bytes as hex.
std::string NewToken() {
  thread_local std::mt19937_64 random(std::random_device{}());
  const std::uint64_t high = random();
  const std::uint64_t low = random();
  return fmt::format("{:016x}{:016x}", high, low);
}

std::string MillisecondsParam(absl::Duration d) {
  return std::to_string(std::max<std::int64_t>(1, absl::ToInt64Milliseconds(d)));
}

struct Entry {
  std::int64_t seq = 0;
  std::int64_t message_id = 0;
};

class PgMaildropSession final : public MaildropSession {
 public:
  PgMaildropSession(std::shared_ptr<PgMailstoreShared> shared,
                    std::string user, std::string token)
      : shared_(std::move(shared)),
        user_(std::move(user)),
        token_(std::move(token)),
        renewed_(absl::Now()) {}

  ~PgMaildropSession() override { Release(); }

  // Reads the maildrop rows (the lock is held).
  absl::Status TakeSnapshot() {
    PgResult result;
    absl::StatusOr<PgPool::Lease> lease = AcquireAndExec(
        *shared_->pool,
        "SELECT seq, uid, size, message_id FROM maildrop "
        "WHERE user_name = $1 ORDER BY seq",
        {PgParam::Text(user_)}, &result);
    if (!lease.ok()) return lease.status();
    entries_.reserve(static_cast<std::size_t>(result.rows()));
    infos_.reserve(static_cast<std::size_t>(result.rows()));
    for (int row = 0; row < result.rows(); ++row) {
      absl::StatusOr<std::int64_t> seq = result.Int(row, 0);
      absl::StatusOr<std::int64_t> size = result.Int(row, 2);
      absl::StatusOr<std::int64_t> message_id = result.Int(row, 3);
      if (!seq.ok() || !size.ok() || !message_id.ok() || *size < 0) {
        return absl::DataLossError(fmt::format(
            "postgresql: bad maildrop row {} of user {}", row, user_));
      }
      entries_.push_back({*seq, *message_id});
      infos_.push_back({.size = static_cast<std::uint64_t>(*size),
                        .uid = std::string(result.Text(row, 1))});
    }
    return absl::OkStatus();
  }

  std::span<const MessageInfo> messages() const override { return infos_; }

  absl::StatusOr<std::unique_ptr<MessageReader>> Read(
      std::size_t index) override {
    return OpenReader(index, std::nullopt);
  }

  absl::StatusOr<std::unique_ptr<MessageReader>> ReadTop(
      std::size_t index, std::uint64_t body_lines) override {
    return OpenReader(index, body_lines);
  }

  absl::Status Commit(std::span<const std::size_t> deleted) override {
    if (finished_) {
      return absl::FailedPreconditionError("the POP session is finished");
    }
    // Validate everything before touching anything.
    absl::flat_hash_set<std::size_t> seen;
    std::string seqs = "{";
    for (std::size_t index : deleted) {
      if (index >= entries_.size() || !seen.insert(index).second) {
        Release();
        return absl::InvalidArgumentError(fmt::format(
            "Commit: message index {} is out of range or repeated", index));
      }
      if (seqs.size() > 1) seqs.push_back(',');
      seqs += std::to_string(entries_[index].seq);
    }
    seqs.push_back('}');
    std::vector<std::int64_t> message_ids;
    if (absl::Status s = DeleteAndUnlock(seqs, deleted.empty(), message_ids);
        !s.ok()) {
      Release();  // nothing was removed; the lock must not wait to expire
      return s;
    }
    finished_ = true;
    // Best effort after the commit: what stays is swept at a later start.
    std::sort(message_ids.begin(), message_ids.end());
    message_ids.erase(std::unique(message_ids.begin(), message_ids.end()),
                      message_ids.end());
    if (message_ids.empty()) return absl::OkStatus();
    absl::StatusOr<PgPool::Lease> lease = shared_->pool->Acquire();
    if (!lease.ok()) return absl::OkStatus();
    (void)DropMessagesIfUnreferenced(**lease, message_ids);
    return absl::OkStatus();
  }

 private:
  // The commit's transaction: the lock row (token match) and the maildrop
  // rows `seqs` (an array literal) go together; the message ids of the
  // removed rows are appended to `message_ids`.
  absl::Status DeleteAndUnlock(const std::string& seqs, bool none,
                               std::vector<std::int64_t>& message_ids) {
    absl::StatusOr<PgWork> work = BeginWork(*shared_->pool);
    if (!work.ok()) return work.status();
    PgConnection& conn = *work->lease;
    absl::StatusOr<PgResult> unlocked = conn.Exec(
        "DELETE FROM pop_locks WHERE user_name = $1 AND token = $2",
        {PgParam::Text(user_), PgParam::Text(token_)});
    if (!unlocked.ok()) return unlocked.status();
    if (unlocked->affected() != 1) {
      return absl::UnavailableError(fmt::format(
          "the POP lock of {} expired and another session took it; "
          "nothing was removed",
          user_));
    }
    if (!none) {
      absl::StatusOr<PgResult> removed = conn.Exec(
          "DELETE FROM maildrop WHERE user_name = $1 AND seq = ANY($2::bigint[])"
          " RETURNING message_id",
          {PgParam::Text(user_), PgParam::Text(seqs)});
      if (!removed.ok()) return removed.status();
      for (int row = 0; row < removed->rows(); ++row) {
        absl::StatusOr<std::int64_t> id = removed->Int(row, 0);
        if (id.ok()) message_ids.push_back(*id);
      }
    }
    return work->tx->Commit();
  }

  absl::StatusOr<std::unique_ptr<MessageReader>> OpenReader(
      std::size_t index, std::optional<std::uint64_t> top_body_lines) {
    if (finished_) {
      return absl::FailedPreconditionError("the POP session is finished");
    }
    if (index >= entries_.size()) {
      return absl::NotFoundError(
          fmt::format("no message {} in this session", index + 1));
    }
    RenewIfDue();
    absl::StatusOr<std::unique_ptr<PgMessageReader>> stored =
        OpenStoredMessage(*shared_->pool, entries_[index].message_id,
                          /*with_first_chunk=*/true);
    if (!stored.ok()) return stored.status();
    auto whole =
        std::make_unique<StoredMessageReader>(shared_, *std::move(stored));
    if (!top_body_lines.has_value()) {
      return std::unique_ptr<MessageReader>(std::move(whole));
    }
    return std::unique_ptr<MessageReader>(
        std::make_unique<TopReader>(std::move(whole), *top_body_lines));
  }

  // A long session keeps its lock: once a third of the lease has passed,
  // the next read pushes `until` out again (best effort: a failure leaves
  // the old expiry, and Commit() notices a lock that was lost).
  void RenewIfDue() {
    const absl::Duration lease = shared_->pool->options().lease_duration;
    if (absl::Now() - renewed_ < lease / 3) return;
    PgResult result;
    absl::StatusOr<PgPool::Lease> conn = AcquireAndExec(
        *shared_->pool,
        "UPDATE pop_locks SET until = now() + $3::bigint * interval "
        "'1 millisecond' WHERE user_name = $1 AND token = $2",
        {PgParam::Text(user_), PgParam::Text(token_),
         PgParam::Text(MillisecondsParam(lease))},
        &result);
    if (conn.ok()) renewed_ = absl::Now();
  }

  // Gives the lock back without removing anything (best effort: a lock
  // that cannot be deleted now expires, or dies with this node).
  void Release() {
    if (finished_) return;
    finished_ = true;
    if (!DeleteLock(*shared_->pool, user_, token_).ok()) {
      RememberUnreleasedLock(*shared_, user_, token_);
    }
  }

  std::shared_ptr<PgMailstoreShared> shared_;
  std::string user_;
  std::string token_;
  absl::Time renewed_;
  std::vector<Entry> entries_;
  std::vector<MessageInfo> infos_;
  bool finished_ = false;
};

}  // namespace

absl::StatusOr<std::unique_ptr<MaildropSession>> OpenPgMaildropSession(
    std::shared_ptr<PgMailstoreShared> shared, std::string user) {
  if (absl::Status s = shared->node->EnsureRegistered(); !s.ok()) return s;
  ReleaseUnreleasedLocks(*shared);
  const PgStoreOptions& options = shared->pool->options();
  const std::string token = NewToken();
  const std::string lease_ms = MillisecondsParam(options.lease_duration);
  const std::string sql = fmt::format(
      "INSERT INTO pop_locks (user_name, node_id, token, until) "
      "VALUES ($1, $2, $3, now() + $4::bigint * interval '1 millisecond') "
      "ON CONFLICT (user_name) DO UPDATE SET node_id = EXCLUDED.node_id, "
      "token = EXCLUDED.token, until = EXCLUDED.until "
      "WHERE pop_locks.until < now() OR NOT {} "
      "RETURNING token",
      NodeAliveSql("pop_locks.node_id"));
  PgResult result;
  absl::StatusOr<PgPool::Lease> lease = AcquireAndExec(
      *shared->pool, sql,
      {PgParam::Text(user), PgParam::Text(shared->node->id()),
       PgParam::Text(token), PgParam::Text(lease_ms)},
      &result);
  if (!lease.ok()) return lease.status();
  if (result.rows() != 1) {
    return InUseError(
        fmt::format("maildrop of {} is in use by another POP session", user));
  }
  auto session =
      std::make_unique<PgMaildropSession>(std::move(shared), user, token);
  // The lease goes back before the snapshot takes a connection of its own.
  { PgPool::Lease done = *std::move(lease); }
  if (absl::Status s = session->TakeSnapshot(); !s.ok()) return s;  // unlocks
  return std::unique_ptr<MaildropSession>(std::move(session));
}

}  // namespace posthorn::store::pg
