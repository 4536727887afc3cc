// store/postgresql/pg_connection.cpp — see pg_connection.h.

#include "store/postgresql/pg_connection.h"

#include <libpq-fe.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <string>
#include <utility>

#include "absl/time/clock.h"
#include "fmt/format.h"

namespace posthorn::store::pg {
namespace {

constexpr absl::Duration kFirstBackoff = absl::Milliseconds(100);
constexpr absl::Duration kMaxBackoff = absl::Seconds(5);
// Statements take at most this many parameters (libpq's limit is 65535).
constexpr std::size_t kMaxParams = 1000;

std::string OneLine(const char* text) {
  std::string out = text == nullptr ? "" : text;
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) {
    out.pop_back();
  }
  std::replace(out.begin(), out.end(), '\n', ' ');
  return out;
}

// The status for a failed statement, from its SQLSTATE.
absl::Status StatementError(const PGresult* result, PGconn* conn,
                            bool* healthy) {
  const char* state =
      result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  const std::string sqlstate = state != nullptr ? state : "";
  const std::string text = OneLine(result != nullptr
                                       ? PQresultErrorMessage(result)
                                       : PQerrorMessage(conn));
  const std::string message =
      sqlstate.empty() ? fmt::format("postgresql: {}", text)
                       : fmt::format("postgresql: {} (SQLSTATE {})", text,
                                     sqlstate);
  if (PQstatus(conn) != CONNECTION_OK || sqlstate.starts_with("08") ||
      sqlstate == "57P01" || sqlstate == "57P02" || sqlstate == "57P03") {
    *healthy = false;
    return absl::UnavailableError(message);
  }
  if (sqlstate == "40001" || sqlstate == "40P01") {
    return absl::AbortedError(message);
  }
  if (sqlstate == "23505") return absl::AlreadyExistsError(message);
  if (sqlstate == "23503" || sqlstate == "23514") {
    return absl::FailedPreconditionError(message);
  }
  return absl::InternalError(message);
}

}  // namespace

// ---------------------------------------------------------------------------
// PgResult

PgResult::PgResult(PgResult&& other) noexcept
    : result_(std::exchange(other.result_, nullptr)) {}

PgResult& PgResult::operator=(PgResult&& other) noexcept {
  if (this != &other) {
    if (result_ != nullptr) PQclear(result_);
    result_ = std::exchange(other.result_, nullptr);
  }
  return *this;
}

PgResult::~PgResult() {
  if (result_ != nullptr) PQclear(result_);
}

int PgResult::rows() const {
  return result_ == nullptr ? 0 : PQntuples(result_);
}

int PgResult::columns() const {
  return result_ == nullptr ? 0 : PQnfields(result_);
}

std::int64_t PgResult::affected() const {
  if (result_ == nullptr) return 0;
  const char* text = PQcmdTuples(result_);
  std::int64_t n = 0;
  if (text == nullptr) return 0;
  std::from_chars(text, text + std::char_traits<char>::length(text), n);
  return n;
}

bool PgResult::IsNull(int row, int column) const {
  return result_ == nullptr || row >= rows() || column >= columns() ||
         PQgetisnull(result_, row, column) != 0;
}

std::string_view PgResult::Text(int row, int column) const {
  if (IsNull(row, column)) return {};
  return std::string_view(PQgetvalue(result_, row, column),
                          static_cast<std::size_t>(
                              PQgetlength(result_, row, column)));
}

absl::StatusOr<std::int64_t> PgResult::Int(int row, int column) const {
  const std::string_view text = Text(row, column);
  std::int64_t n = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
    return absl::InvalidArgumentError(fmt::format(
        "postgresql: column {} of row {} is not an integer", column, row));
  }
  return n;
}

// ---------------------------------------------------------------------------
// PgConnection

absl::StatusOr<std::unique_ptr<PgConnection>> PgConnection::Connect(
    const PgStoreOptions& options) {
  const std::string timeout = std::to_string(std::max<std::int64_t>(
      1, absl::ToInt64Seconds(options.connect_timeout)));
  // The DSN may be a URI or key=value words; connect_timeout goes beside it.
  const char* keys[] = {"dbname", "connect_timeout", "application_name",
                        nullptr};
  const char* values[] = {options.dsn.c_str(), timeout.c_str(), "posthorn",
                          nullptr};
  PGconn* conn = PQconnectdbParams(keys, values, /*expand_dbname=*/1);
  if (conn == nullptr) {
    return absl::UnavailableError("postgresql: out of memory connecting");
  }
  if (PQstatus(conn) != CONNECTION_OK) {
    const std::string text = OneLine(PQerrorMessage(conn));
    PQfinish(conn);
    return absl::UnavailableError(
        fmt::format("postgresql: cannot connect: {}", text));
  }
  // libpq prints notices (and a FATAL the server sends an idle session) to
  // stderr by default; under inetd popper's stderr may be the client's
  // socket, so they are dropped: every error that matters comes back as a
  // Status.
  PQsetNoticeProcessor(conn, [](void*, const char*) {}, nullptr);
  return std::unique_ptr<PgConnection>(new PgConnection(conn));
}

PgConnection::~PgConnection() { PQfinish(conn_); }

int PgConnection::backend_pid() const { return PQbackendPID(conn_); }

bool PgConnection::StillConnected() {
  if (!healthy_) return false;
  // libpq's socket is non-blocking: this reads only what is already there
  // (a FATAL from a shutting-down server, then EOF).
  if (PQconsumeInput(conn_) == 0 || PQstatus(conn_) != CONNECTION_OK) {
    healthy_ = false;
  }
  return healthy_;
}

bool PgConnection::in_transaction() const {
  const PGTransactionStatusType status = PQtransactionStatus(conn_);
  return status == PQTRANS_INTRANS || status == PQTRANS_INERROR ||
         status == PQTRANS_ACTIVE;
}

absl::StatusOr<PgResult> PgConnection::Exec(
    std::string_view sql, std::initializer_list<PgParam> params,
    bool binary_result) {
  return ExecArray(sql, params.begin(), params.size(), binary_result);
}

absl::StatusOr<PgResult> PgConnection::Exec(std::string_view sql,
                                            const std::vector<PgParam>& params,
                                            bool binary_result) {
  return ExecArray(sql, params.data(), params.size(), binary_result);
}

absl::StatusOr<PgResult> PgConnection::ExecArray(std::string_view sql,
                                                 const PgParam* params,
                                                 std::size_t count,
                                                 bool binary_result) {
  if (!healthy_) {
    return absl::UnavailableError("postgresql: connection is broken");
  }
  if (count > kMaxParams) {
    return absl::InvalidArgumentError("postgresql: too many parameters");
  }
  std::vector<const char*> values(count);
  std::vector<int> lengths(count);
  std::vector<int> formats(count);
  for (std::size_t i = 0; i < count; ++i) {
    const PgParam& p = params[i];
    values[i] = p.kind == PgParam::Kind::kNull ? nullptr : p.value.data();
    lengths[i] = static_cast<int>(p.value.size());
    formats[i] = p.kind == PgParam::Kind::kBinary ? 1 : 0;
  }
  // libpq wants a NUL-terminated statement and NUL-terminated text values.
  const std::string statement(sql);
  std::vector<std::string> text_copies;
  text_copies.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    if (params[i].kind == PgParam::Kind::kText) {
      text_copies.emplace_back(params[i].value);
      values[i] = text_copies.back().c_str();
    }
  }
  PGresult* result = nullptr;
  absl::StatusOr<std::optional<std::string>> prepared =
      count > 0 ? PreparedName(statement) : std::optional<std::string>();
  if (!prepared.ok()) return prepared.status();
  if (prepared->has_value()) {
    result = PQexecPrepared(conn_, (*prepared)->c_str(),
                            static_cast<int>(count), values.data(),
                            lengths.data(), formats.data(),
                            binary_result ? 1 : 0);
  } else {
    result = PQexecParams(conn_, statement.c_str(), static_cast<int>(count),
                          nullptr, values.data(), lengths.data(),
                          formats.data(), binary_result ? 1 : 0);
  }
  const ExecStatusType status =
      result == nullptr ? PGRES_FATAL_ERROR : PQresultStatus(result);
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
    return PgResult(result);
  }
  absl::Status error = StatementError(result, conn_, &healthy_);
  if (result != nullptr) PQclear(result);
  return error;
}

int PgConnection::socket() const { return PQsocket(conn_); }

std::vector<std::string> PgConnection::TakeNotifications() {
  std::vector<std::string> payloads;
  while (PGnotify* n = PQnotifies(conn_)) {
    payloads.emplace_back(n->extra != nullptr ? n->extra : "");
    PQfreemem(n);
  }
  return payloads;
}

absl::StatusOr<std::optional<std::string>> PgConnection::PreparedName(
    const std::string& sql) {
  if (auto it = prepared_.find(sql); it != prepared_.end()) return it->second;
  if (prepared_.size() >= kMaxPreparedStatements) return std::nullopt;
  std::string name = fmt::format("posthorn_{}", prepared_.size());
  PGresult* result =
      PQprepare(conn_, name.c_str(), sql.c_str(), 0, /*paramTypes=*/nullptr);
  const ExecStatusType status =
      result == nullptr ? PGRES_FATAL_ERROR : PQresultStatus(result);
  if (status != PGRES_COMMAND_OK) {
    absl::Status error = StatementError(result, conn_, &healthy_);
    if (result != nullptr) PQclear(result);
    return error;
  }
  PQclear(result);
  prepared_.emplace(sql, name);
  return name;
}

// ---------------------------------------------------------------------------
// PgTransaction

absl::StatusOr<PgTransaction> PgTransaction::Begin(PgConnection& conn,
                                                   std::string_view begin) {
  absl::StatusOr<PgResult> r = conn.Exec(begin);
  if (!r.ok()) return r.status();
  return PgTransaction(&conn);
}

PgTransaction::PgTransaction(PgTransaction&& other) noexcept
    : conn_(std::exchange(other.conn_, nullptr)) {}

PgTransaction::~PgTransaction() {
  if (conn_ != nullptr && conn_->healthy()) (void)conn_->Exec("ROLLBACK");
}

absl::Status PgTransaction::Commit() {
  PgConnection* conn = std::exchange(conn_, nullptr);
  if (conn == nullptr) {
    return absl::FailedPreconditionError("postgresql: transaction is over");
  }
  absl::StatusOr<PgResult> r = conn->Exec("COMMIT");
  return r.status();
}

// ---------------------------------------------------------------------------
// PgPool

absl::StatusOr<std::unique_ptr<PgPool>> PgPool::Create(
    const PgStoreOptions& options) {
  if (options.dsn.empty()) {
    return absl::InvalidArgumentError("postgresql: no DSN (postgresql_dsn)");
  }
  if (options.max_connections == 0) {
    return absl::InvalidArgumentError(
        "postgresql: max_connections must be at least 1");
  }
  return std::unique_ptr<PgPool>(new PgPool(options));
}

PgPool::Lease::~Lease() {
  if (pool_ != nullptr && conn_ != nullptr) pool_->Return(std::move(conn_));
}

void PgPool::Return(std::unique_ptr<PgConnection> conn) {
  std::lock_guard<std::mutex> lock(mu_);
  if (conn->healthy()) {
    idle_.push_back(std::move(conn));
  } else {
    // Dropped; the next Acquire opens a new one. The idle ones most likely
    // went with it (a server restart or crash ends every session).
    --open_;
    open_ -= idle_.size();
    idle_.clear();
  }
  freed_.notify_one();
}

absl::StatusOr<PgPool::Lease> PgPool::Acquire() {
  std::unique_lock<std::mutex> lock(mu_);
  const absl::Time deadline = absl::Now() + options_.connect_timeout;
  while (idle_.empty() && open_ >= options_.max_connections) {
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) {
      return absl::UnavailableError(
          "postgresql: every pooled connection is busy");
    }
    freed_.wait_for(lock, absl::ToChronoMilliseconds(left));
  }
  while (!idle_.empty()) {
    std::unique_ptr<PgConnection> conn = std::move(idle_.back());
    idle_.pop_back();
    if (conn->StillConnected()) return Lease(this, std::move(conn));
    --open_;  // closed by the server while idle: open a new one below
  }
  if (absl::Now() < next_connect_) {
    return absl::UnavailableError(
        "postgresql: database unreachable (waiting before reconnecting)");
  }
  ++open_;
  lock.unlock();
  absl::StatusOr<std::unique_ptr<PgConnection>> conn =
      PgConnection::Connect(options_);
  lock.lock();
  if (!conn.ok()) {
    --open_;
    backoff_ = backoff_ == absl::ZeroDuration()
                   ? kFirstBackoff
                   : std::min(backoff_ * 2, kMaxBackoff);
    next_connect_ = absl::Now() + backoff_;
    freed_.notify_one();
    return conn.status();
  }
  backoff_ = absl::ZeroDuration();
  next_connect_ = absl::InfinitePast();
  return Lease(this, *std::move(conn));
}

}  // namespace posthorn::store::pg
