#include "aggregator/storage/postgres/pg_connection.h"

#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace pinning::aggregator::postgres {
namespace {

std::string Trimmed(const char* message) {
  if (message == nullptr) return "";
  return std::string(absl::StripTrailingAsciiWhitespace(message));
}

}  // namespace

absl::Status StatusFromSqlState(absl::string_view sqlstate, absl::string_view message) {
  const std::string text =
      sqlstate.empty() ? absl::StrCat("postgres: ", message)
                       : absl::StrCat("postgres: ", message, " (SQLSTATE ", sqlstate, ")");
  if (sqlstate == "40001" || sqlstate == "40P01") return absl::AbortedError(text);
  if (sqlstate == "23505") return absl::AlreadyExistsError(text);
  const absl::string_view cls = sqlstate.substr(0, 2);
  if (cls == "22" || cls == "23") return absl::InvalidArgumentError(text);
  if (cls == "42" || cls == "0A") return absl::InternalError(text);
  return absl::UnavailableError(text);
}

int64_t PgResult::AffectedRows() const {
  int64_t n = 0;
  if (result_ == nullptr || !absl::SimpleAtoi(PQcmdTuples(result_.get()), &n)) return 0;
  return n;
}

absl::StatusOr<std::unique_ptr<PgConnection>> PgConnection::Connect(
    const PgConnectionConfig& config) {
  PGconn* conn = PQconnectdbParams(config.keywords(), config.values(), /*expand_dbname=*/0);
  if (conn == nullptr) return absl::ResourceExhaustedError("postgres: out of memory");
  if (PQstatus(conn) != CONNECTION_OK) {
    absl::Status status = absl::UnavailableError(absl::StrCat(
        "postgres: cannot connect (", config.Describe(), "): ", Trimmed(PQerrorMessage(conn))));
    PQfinish(conn);
    return status;
  }
  // Notices ("relation already exists, skipping") are expected and carry nothing to act on; libpq
  // would print them on stderr.
  PQsetNoticeProcessor(conn, [](void*, const char*) {}, nullptr);
  return std::unique_ptr<PgConnection>(new PgConnection(conn));
}

PgConnection::~PgConnection() { PQfinish(conn_); }

absl::StatusOr<PgResult> PgConnection::Check(PGresult* raw, absl::string_view what) {
  PgResult result(raw);
  if (raw == nullptr) {
    return absl::UnavailableError(
        absl::StrCat("postgres: ", what, ": ", Trimmed(PQerrorMessage(conn_))));
  }
  switch (PQresultStatus(raw)) {
    case PGRES_COMMAND_OK:
    case PGRES_TUPLES_OK:
    case PGRES_SINGLE_TUPLE:
    case PGRES_EMPTY_QUERY:
      return result;
    default:
      break;
  }
  const char* state = PQresultErrorField(raw, PG_DIAG_SQLSTATE);
  std::string message = Trimmed(PQresultErrorField(raw, PG_DIAG_MESSAGE_PRIMARY));
  if (message.empty()) message = Trimmed(PQresultErrorMessage(raw));
  if (message.empty()) message = Trimmed(PQerrorMessage(conn_));
  return StatusFromSqlState(state == nullptr ? "" : state, absl::StrCat(what, ": ", message));
}

absl::StatusOr<PgResult> PgConnection::Exec(absl::string_view sql) {
  return Check(PQexec(conn_, std::string(sql).c_str()), sql.substr(0, 60));
}

absl::StatusOr<PgResult> PgConnection::ExecParams(absl::string_view sql, const PgParams& params) {
  return Check(PQexecParams(conn_, std::string(sql).c_str(), params.size(), params.types(),
                            params.values(), params.lengths(), params.formats(),
                            /*resultFormat=*/1),
               sql.substr(0, 60));
}

absl::StatusOr<PgResult> PgConnection::ExecPrepared(absl::string_view name, absl::string_view sql,
                                                    const PgParams& params) {
  const std::string statement(name);
  if (!prepared_.contains(statement)) {
    absl::StatusOr<PgResult> prepared =
        Check(PQprepare(conn_, statement.c_str(), std::string(sql).c_str(), params.size(),
                        params.types()),
              absl::StrCat("prepare ", name));
    if (!prepared.ok()) return prepared.status();
    prepared_.insert(statement);
  }
  return Check(PQexecPrepared(conn_, statement.c_str(), params.size(), params.values(),
                              params.lengths(), params.formats(), /*resultFormat=*/1),
               name);
}

absl::Status PgConnection::ExecOnce(absl::string_view name, absl::string_view sql) {
  if (done_once_.contains(name)) return absl::OkStatus();
  absl::Status s = Exec(sql).status();
  if (s.ok()) done_once_.insert(std::string(name));
  return s;
}

absl::Status PgConnection::CopyIn(absl::string_view copy_sql, absl::string_view data) {
  PGresult* start = PQexec(conn_, std::string(copy_sql).c_str());
  if (start == nullptr || PQresultStatus(start) != PGRES_COPY_IN) {
    absl::StatusOr<PgResult> checked = Check(start, copy_sql.substr(0, 60));
    return checked.ok() ? absl::InternalError("COPY did not enter COPY IN mode")
                        : checked.status();
  }
  PQclear(start);
  if (PQputCopyData(conn_, data.data(), static_cast<int>(data.size())) != 1 ||
      PQputCopyEnd(conn_, nullptr) != 1) {
    return absl::UnavailableError(
        absl::StrCat("postgres: COPY data: ", Trimmed(PQerrorMessage(conn_))));
  }
  absl::Status status = absl::OkStatus();
  for (PGresult* raw = PQgetResult(conn_); raw != nullptr; raw = PQgetResult(conn_)) {
    absl::StatusOr<PgResult> result = Check(raw, copy_sql.substr(0, 60));
    if (status.ok() && !result.ok()) status = result.status();
  }
  return status;
}

absl::Status PgConnection::ForEachRow(absl::string_view sql, const PgParams& params,
                                      absl::FunctionRef<absl::Status(const PgResult&)> fn) {
  if (!PQsendQueryParams(conn_, std::string(sql).c_str(), params.size(), params.types(),
                         params.values(), params.lengths(), params.formats(),
                         /*resultFormat=*/1)) {
    return absl::UnavailableError(
        absl::StrCat("postgres: send query: ", Trimmed(PQerrorMessage(conn_))));
  }
  PQsetSingleRowMode(conn_);
  absl::Status status = absl::OkStatus();
  // Every result must be consumed (PQgetResult until nullptr) before the connection is reused.
  for (PGresult* raw = PQgetResult(conn_); raw != nullptr; raw = PQgetResult(conn_)) {
    absl::StatusOr<PgResult> result = Check(raw, sql.substr(0, 60));
    if (!status.ok()) continue;
    if (!result.ok()) {
      status = result.status();
    } else if (PQresultStatus(raw) == PGRES_SINGLE_TUPLE) {
      status = fn(*result);
    }
  }
  if (status.ok() && !healthy()) {
    status = absl::UnavailableError(
        absl::StrCat("postgres: connection lost: ", Trimmed(PQerrorMessage(conn_))));
  }
  return status;
}

}  // namespace pinning::aggregator::postgres
