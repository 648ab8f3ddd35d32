// pg_connection.h: one libpq connection with binary-format statements, cached prepared
// statements, streamed results and PostgreSQL errors mapped to absl::Status.
//
//   ASSIGN_OR_RETURN(std::unique_ptr<PgConnection> conn, PgConnection::Connect(config));
//   RETURN_IF_ERROR(conn->Exec("BEGIN"));
//   PgParams params;
//   params.AddInt4(day);
//   ASSIGN_OR_RETURN(PgResult r, conn->ExecPrepared("count_day",
//                    "SELECT count(*) FROM seen_pings WHERE day = $1", params));
//   ASSIGN_OR_RETURN(int64_t n, DecodeInt8(r.Value(0, 0)));
//
// Errors (StatusFromSqlState): a lost connection and server-side resource or availability errors
// (SQLSTATE classes 08, 53, 57, 58) are UNAVAILABLE; serialization failures and deadlocks (40001,
// 40P01) are ABORTED, which callers retry; unique violations (23505) are ALREADY_EXISTS; other
// data and integrity errors (22, 23) are INVALID_ARGUMENT; errors that mean a bug in a query
// (42, 0A) are INTERNAL; anything else is UNAVAILABLE. Messages carry the SQLSTATE and the
// server's primary message, never parameter values.
//
// Timeouts: every statement must answer within the connection's query timeout (client side, so it
// holds even when a proxy between us and the server keeps the TCP connection alive while the
// server is unreachable); otherwise the call fails with UNAVAILABLE and the connection is marked
// unhealthy (its state is unknown; the pool discards it).
//
// Thread safety: none; one thread uses a connection at a time (ConnectionPool hands it out).
#ifndef AGGREGATOR_STORAGE_POSTGRES_PG_CONNECTION_H_
#define AGGREGATOR_STORAGE_POSTGRES_PG_CONNECTION_H_

#include <postgresql/libpq-fe.h>  // Debian: /usr/include/postgresql

#include <cstdint>
#include <memory>
#include <string>

#include "absl/container/flat_hash_set.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "aggregator/storage/postgres/connection_config.h"
#include "aggregator/storage/postgres/pg_params.h"

namespace pinning::aggregator::postgres {

// StatusFromSqlState maps a SQLSTATE (five characters; "" when unknown) and a message to a
// status as described in the file comment.
absl::Status StatusFromSqlState(absl::string_view sqlstate, absl::string_view message);

// PgResult owns a PGresult. Values are in the format the statement asked for (binary for
// ExecParams/ExecPrepared, text for Exec).
class PgResult {
 public:
  PgResult() = default;
  explicit PgResult(PGresult* result) : result_(result) {}

  int rows() const { return result_ ? PQntuples(result_.get()) : 0; }
  int columns() const { return result_ ? PQnfields(result_.get()) : 0; }
  bool IsNull(int row, int col) const { return PQgetisnull(result_.get(), row, col) != 0; }
  absl::string_view Value(int row, int col) const {
    return absl::string_view(PQgetvalue(result_.get(), row, col),
                             PQgetlength(result_.get(), row, col));
  }
  // AffectedRows is the row count of an INSERT/UPDATE/DELETE (PQcmdTuples).
  int64_t AffectedRows() const;

 private:
  struct Clear {
    void operator()(PGresult* r) const { PQclear(r); }
  };
  std::unique_ptr<PGresult, Clear> result_;
};

class PgConnection {
 public:
  // Connect opens a connection; UNAVAILABLE (with libpq's message, which never includes the
  // password) when the server cannot be reached or refuses the login.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<PgConnection>> Connect(
      const PgConnectionConfig& config, absl::Duration query_timeout = absl::Seconds(60));

  ~PgConnection();
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  // Exec runs one or more SQL statements with the simple query protocol (no parameters, text
  // results) and returns the result of the last one.
  [[nodiscard]] absl::StatusOr<PgResult> Exec(absl::string_view sql);

  // ExecParams runs one statement with binary parameters and binary results.
  [[nodiscard]] absl::StatusOr<PgResult> ExecParams(absl::string_view sql, const PgParams& params);

  // ExecPrepared is ExecParams through a server-side prepared statement named `name`, prepared on
  // this connection on first use. A name must always be used with the same SQL.
  [[nodiscard]] absl::StatusOr<PgResult> ExecPrepared(absl::string_view name, absl::string_view sql,
                                                      const PgParams& params);

  // ForEachRow runs `sql` (binary parameters and results) in single-row mode and calls `fn` with
  // each row as it arrives, so a large result never sits in memory at once. An error returned by
  // `fn` stops the iteration (the rest of the result is drained) and is returned.
  [[nodiscard]] absl::Status ForEachRow(absl::string_view sql, const PgParams& params,
                                        absl::FunctionRef<absl::Status(const PgResult&)> fn);

  // ExecOnce runs `sql` (simple protocol) the first time it is called with `name` on this
  // connection, e.g. to create a temporary table; call it outside a transaction.
  [[nodiscard]] absl::Status ExecOnce(absl::string_view name, absl::string_view sql);

  // CopyIn runs `copy_sql` (a COPY ... FROM STDIN) and sends `data` as its input.
  [[nodiscard]] absl::Status CopyIn(absl::string_view copy_sql, absl::string_view data);

  // healthy is false once the connection is lost or a statement timed out; such a connection
  // must be discarded.
  bool healthy() const { return !broken_ && PQstatus(conn_) == CONNECTION_OK; }
  // idle is true when no transaction is open (a pool only reuses idle connections).
  bool idle() const { return !broken_ && PQtransactionStatus(conn_) == PQTRANS_IDLE; }
  // backend_pid is the server process serving this connection (tests kill it).
  int backend_pid() const { return PQbackendPID(conn_); }

 private:
  PgConnection(PGconn* conn, absl::Duration query_timeout)
      : conn_(conn), query_timeout_(query_timeout) {}
  absl::StatusOr<PgResult> Check(PGresult* result, absl::string_view what);
  // Await waits until a result can be read without blocking, until `deadline`.
  absl::Status Await(absl::Time deadline, absl::string_view what);
  // Collect reads every result of the statement just sent and returns the first error, else the
  // last result.
  absl::StatusOr<PgResult> Collect(absl::string_view what);
  absl::Status SendFailed(absl::string_view what);

  PGconn* conn_;
  const absl::Duration query_timeout_;
  bool broken_ = false;
  absl::flat_hash_set<std::string> prepared_;
  absl::flat_hash_set<std::string> done_once_;
};

}  // namespace pinning::aggregator::postgres

#endif  // AGGREGATOR_STORAGE_POSTGRES_PG_CONNECTION_H_
