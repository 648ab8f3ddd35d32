#include "aggregator/storage/postgres/pg_connection.h"

#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace pinning::aggregator::postgres {
namespace {

std::string Trimmed(const char* message) {
  if (message == nullptr) return "";
  return std::string(absl::StripTrailingAsciiWhitespace(message));
}

bool IsSuccess(ExecStatusType status) {
  return status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK || status == PGRES_SINGLE_TUPLE ||
         status == PGRES_EMPTY_QUERY;
}

}  // namespace

absl::Status StatusFromSqlState(absl::string_view sqlstate, absl::string_view message) {
  const std::string text = sqlstate.empty()
                               ? absl::StrCat("postgres: ", message)
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
    const PgConnectionConfig& config, absl::Duration query_timeout) {
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
  PQsetNoticeProcessor(
      conn, [](void*, const char*) {}, nullptr);
  return std::unique_ptr<PgConnection>(new PgConnection(conn, query_timeout));
}

PgConnection::~PgConnection() { PQfinish(conn_); }

absl::StatusOr<PgResult> PgConnection::Check(PGresult* raw, absl::string_view what) {
  PgResult result(raw);
  if (raw == nullptr) {
    return absl::UnavailableError(
        absl::StrCat("postgres: ", what, ": ", Trimmed(PQerrorMessage(conn_))));
  }
  if (IsSuccess(PQresultStatus(raw))) return result;
  const char* state = PQresultErrorField(raw, PG_DIAG_SQLSTATE);
  std::string message = Trimmed(PQresultErrorField(raw, PG_DIAG_MESSAGE_PRIMARY));
  if (message.empty()) message = Trimmed(PQresultErrorMessage(raw));
  if (message.empty()) message = Trimmed(PQerrorMessage(conn_));
  return StatusFromSqlState(state == nullptr ? "" : state, absl::StrCat(what, ": ", message));
}

absl::Status PgConnection::SendFailed(absl::string_view what) {
  return absl::UnavailableError(
      absl::StrCat("postgres: send ", what, ": ", Trimmed(PQerrorMessage(conn_))));
}

absl::Status PgConnection::Await(absl::Time deadline, absl::string_view what) {
  while (PQisBusy(conn_)) {
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) {
      broken_ = true;  // the statement may still run; this connection's state is unknown
      return absl::UnavailableError(absl::StrCat("postgres: ", what, ": no answer within ",
                                                 absl::FormatDuration(query_timeout_),
                                                 "; connection dropped"));
    }
    pollfd fd{PQsocket(conn_), POLLIN, 0};
    const int timeout_ms =
        static_cast<int>(std::clamp<int64_t>(absl::ToInt64Milliseconds(left) + 1, 1, 1000));
    const int n = poll(&fd, 1, timeout_ms);
    if (n < 0 && errno != EINTR) {
      broken_ = true;
      return absl::UnavailableError(absl::StrCat("postgres: poll: ", std::strerror(errno)));
    }
    if (n > 0 && !PQconsumeInput(conn_)) {
      return absl::UnavailableError(
          absl::StrCat("postgres: ", what, ": ", Trimmed(PQerrorMessage(conn_))));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<PgResult> PgConnection::Collect(absl::string_view what) {
  const absl::Time deadline = absl::Now() + query_timeout_;
  PGresult* kept = nullptr;
  bool kept_is_error = false;
  for (;;) {
    if (absl::Status s = Await(deadline, what); !s.ok()) {
      PQclear(kept);
      return s;
    }
    PGresult* r = PQgetResult(conn_);
    if (r == nullptr) break;
    if (kept_is_error) {
      PQclear(r);
      continue;
    }
    PQclear(kept);
    kept = r;
    kept_is_error = !IsSuccess(PQresultStatus(r));
  }
  return Check(kept, what);
}

absl::StatusOr<PgResult> PgConnection::Exec(absl::string_view sql) {
  const absl::string_view what = sql.substr(0, 60);
  if (!PQsendQuery(conn_, std::string(sql).c_str())) return SendFailed(what);
  return Collect(what);
}

absl::StatusOr<PgResult> PgConnection::ExecParams(absl::string_view sql, const PgParams& params) {
  const absl::string_view what = sql.substr(0, 60);
  if (!PQsendQueryParams(conn_, std::string(sql).c_str(), params.size(), params.types(),
                         params.values(), params.lengths(), params.formats(),
                         /*resultFormat=*/1)) {
    return SendFailed(what);
  }
  return Collect(what);
}

absl::StatusOr<PgResult> PgConnection::ExecPrepared(absl::string_view name, absl::string_view sql,
                                                    const PgParams& params) {
  const std::string statement(name);
  if (!prepared_.contains(statement)) {
    if (!PQsendPrepare(conn_, statement.c_str(), std::string(sql).c_str(), params.size(),
                       params.types())) {
      return SendFailed(name);
    }
    absl::StatusOr<PgResult> prepared = Collect(absl::StrCat("prepare ", name));
    if (!prepared.ok()) return prepared.status();
    prepared_.insert(statement);
  }
  if (!PQsendQueryPrepared(conn_, statement.c_str(), params.size(), params.values(),
                           params.lengths(), params.formats(), /*resultFormat=*/1)) {
    return SendFailed(name);
  }
  return Collect(name);
}

absl::Status PgConnection::ExecOnce(absl::string_view name, absl::string_view sql) {
  if (done_once_.contains(name)) return absl::OkStatus();
  absl::Status s = Exec(sql).status();
  if (s.ok()) done_once_.insert(std::string(name));
  return s;
}

absl::Status PgConnection::CopyIn(absl::string_view copy_sql, absl::string_view data) {
  const absl::string_view what = copy_sql.substr(0, 60);
  if (!PQsendQuery(conn_, std::string(copy_sql).c_str())) return SendFailed(what);
  if (absl::Status s = Await(absl::Now() + query_timeout_, what); !s.ok()) return s;
  PGresult* start = PQgetResult(conn_);
  if (start == nullptr || PQresultStatus(start) != PGRES_COPY_IN) {
    // An error (e.g. no such table): report it after draining the remaining results.
    absl::StatusOr<PgResult> checked = Check(start, what);
    absl::StatusOr<PgResult> rest = Collect(what);
    if (!checked.ok()) return checked.status();
    return rest.ok() ? absl::InternalError("COPY did not enter COPY IN mode") : rest.status();
  }
  PQclear(start);
  if (PQputCopyData(conn_, data.data(), static_cast<int>(data.size())) != 1 ||
      PQputCopyEnd(conn_, nullptr) != 1) {
    return SendFailed(what);
  }
  return Collect(what).status();
}

absl::Status PgConnection::ForEachRow(absl::string_view sql, const PgParams& params,
                                      absl::FunctionRef<absl::Status(const PgResult&)> fn) {
  const absl::string_view what = sql.substr(0, 60);
  if (!PQsendQueryParams(conn_, std::string(sql).c_str(), params.size(), params.types(),
                         params.values(), params.lengths(), params.formats(),
                         /*resultFormat=*/1)) {
    return SendFailed(what);
  }
  PQsetSingleRowMode(conn_);
  // The deadline bounds the wait for each row, not the whole scan: a large result may stream
  // for longer than one statement's timeout as long as rows keep coming.
  absl::Status status = absl::OkStatus();
  // Every result must be consumed (PQgetResult until nullptr) before the connection is reused.
  for (;;) {
    if (absl::Status s = Await(absl::Now() + query_timeout_, what); !s.ok()) return s;
    PGresult* raw = PQgetResult(conn_);
    if (raw == nullptr) break;
    absl::StatusOr<PgResult> result = Check(raw, what);
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
