#include "aggregator/storage/postgres/postgres_store.h"

#include <algorithm>
#include <map>
#include <numeric>
#include <tuple>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "aggregator/storage/batch_aggregator.h"
#include "aggregator/storage/postgres/connection_config.h"
#include "aggregator/storage/postgres/connection_pool.h"
#include "aggregator/storage/postgres/migrations.h"
#include "aggregator/storage/postgres/pg_connection.h"
#include "aggregator/storage/postgres/pg_params.h"
#include "third_party/absl_compat/status_macros.h"

namespace pinning::aggregator {
namespace {

using postgres::ConnectionPool;
using postgres::DecodeInt4;
using postgres::DecodeInt8;
using postgres::PgArray;
using postgres::PgConnection;
using postgres::PgCopyBinary;
using postgres::PgParams;
using postgres::PgResult;
using postgres::PgType;

// Count rows are sent sorted by this key, the table's primary key: with ids also sorted, every
// transaction locks rows in one global order, so concurrent batches cannot deadlock.
using CountKey = std::tuple<DayNumber, uint32_t, absl::string_view, absl::string_view,
                            absl::string_view, uint32_t, int32_t>;
struct Cells {
  int64_t reports = 0;
  std::array<int64_t, kMaxBitsPerPinset> ones{};
};
using SortedCounts = std::map<CountKey, Cells>;

void AddRow(const CountRow& row, SortedCounts& out) {
  Cells& cells = out[CountKey{row.day, row.params_version, row.catalog_version, row.product,
                              row.channel, row.major_version, row.pinset}];
  cells.reports += row.reports;
  for (int b = 0; b < kMaxBitsPerPinset; ++b) cells.ones[b] += row.ones[b];
}

constexpr char kCountColumns[] =
    "day, params_version, catalog_version, product, channel, major_version, pinset, reports, "
    "ones0, ones1, ones2, ones3";
constexpr char kCountConflict[] =
    " ON CONFLICT (day, params_version, catalog_version, product, channel, major_version, pinset) "
    "DO UPDATE SET reports = counts.reports + EXCLUDED.reports, "
    "ones0 = counts.ones0 + EXCLUDED.ones0, ones1 = counts.ones1 + EXCLUDED.ones1, "
    "ones2 = counts.ones2 + EXCLUDED.ones2, ones3 = counts.ones3 + EXCLUDED.ones3";

// First key of the advisory lock serializing partition changes ("part"); the second is
// hashtext(schema).
constexpr int32_t kPartitionLockKey = 0x70617274;

// Pruning reports the exact number of ids of a dropped day partition when the planner estimates
// fewer than this many, and the estimate above.
constexpr int64_t kExactCountLimit = 1000000;

// Ping ids deleted per statement when pruning.
constexpr int64_t kPruneChunk = 50000;

// PostgreSQL allows at most 65535 parameters per statement.
constexpr int kMaxParams = 65535;

absl::Status UpsertCountsUnnest(PgConnection& conn, const SortedCounts& rows) {
  PgArray day(PgType::kInt4), params(PgType::kInt8), catalog(PgType::kText), product(PgType::kText),
      channel(PgType::kText), major(PgType::kInt8), pinset(PgType::kInt4), reports(PgType::kInt8);
  std::array<PgArray, kMaxBitsPerPinset> ones = {PgArray(PgType::kInt8), PgArray(PgType::kInt8),
                                                 PgArray(PgType::kInt8), PgArray(PgType::kInt8)};
  for (const auto& [key, cells] : rows) {
    day.AddInt4(std::get<0>(key));
    params.AddInt8(std::get<1>(key));
    catalog.AddBytes(std::get<2>(key));
    product.AddBytes(std::get<3>(key));
    channel.AddBytes(std::get<4>(key));
    major.AddInt8(std::get<5>(key));
    pinset.AddInt4(std::get<6>(key));
    reports.AddInt8(cells.reports);
    for (int b = 0; b < kMaxBitsPerPinset; ++b) ones[b].AddInt8(cells.ones[b]);
  }
  PgParams p;
  for (const PgArray* a : {&day, &params, &catalog, &product, &channel, &major, &pinset, &reports,
                           &ones[0], &ones[1], &ones[2], &ones[3]}) {
    p.AddArray(*a);
  }
  static const std::string sql = absl::StrCat(
      "INSERT INTO counts(", kCountColumns,
      ") SELECT * FROM unnest($1::int4[], $2::int8[], $3::text[], $4::text[], $5::text[], "
      "$6::int8[], $7::int4[], $8::int8[], $9::int8[], $10::int8[], $11::int8[], $12::int8[])",
      kCountConflict);
  return conn.ExecPrepared("upsert_counts_unnest", sql, p).status();
}

absl::Status UpsertCountsValues(PgConnection& conn, const SortedCounts& rows) {
  constexpr int kColumns = 12;
  auto it = rows.begin();
  while (it != rows.end()) {
    PgParams p;
    std::vector<std::string> tuples;
    for (; it != rows.end() && p.size() + kColumns <= kMaxParams; ++it) {
      const auto& [key, cells] = *it;
      const int n = p.size();
      tuples.push_back(absl::StrCat("($", n + 1, "::int4,$", n + 2, "::int8,$", n + 3, "::text,$",
                                    n + 4, "::text,$", n + 5, "::text,$", n + 6, "::int8,$", n + 7,
                                    "::int4,$", n + 8, "::int8,$", n + 9, "::int8,$", n + 10,
                                    "::int8,$", n + 11, "::int8,$", n + 12, "::int8)"));
      p.AddInt4(std::get<0>(key));
      p.AddInt8(std::get<1>(key));
      p.AddText(std::get<2>(key));
      p.AddText(std::get<3>(key));
      p.AddText(std::get<4>(key));
      p.AddInt8(std::get<5>(key));
      p.AddInt4(std::get<6>(key));
      p.AddInt8(cells.reports);
      for (int b = 0; b < kMaxBitsPerPinset; ++b) p.AddInt8(cells.ones[b]);
    }
    RETURN_IF_ERROR(conn.ExecParams(absl::StrCat("INSERT INTO counts(", kCountColumns, ") VALUES ",
                                                 absl::StrJoin(tuples, ","), kCountConflict),
                                    p)
                        .status());
  }
  return absl::OkStatus();
}

// IdKey identifies a ping id as the database returns it: 4-byte big-endian day, then the id.
std::string IdKey(DayNumber day, absl::string_view id) {
  std::string key(4, '\0');
  const uint32_t d = static_cast<uint32_t>(day);
  key[0] = static_cast<char>(d >> 24);
  key[1] = static_cast<char>(d >> 16);
  key[2] = static_cast<char>(d >> 8);
  key[3] = static_cast<char>(d);
  key.append(id.data(), id.size());
  return key;
}

absl::Status CollectClaimed(const PgResult& r, absl::flat_hash_set<std::string>& claimed) {
  for (int i = 0; i < r.rows(); ++i) {
    ASSIGN_OR_RETURN(int32_t day, DecodeInt4(r.Value(i, 0)));
    claimed.insert(IdKey(day, r.Value(i, 1)));
  }
  return absl::OkStatus();
}

// ClaimIds inserts the ids of pings[candidates] (sorted by (day, id), no repeats) and returns the
// keys (IdKey) of those that were not stored before.
absl::StatusOr<absl::flat_hash_set<std::string>> ClaimIds(PgConnection& conn,
                                                          absl::Span<const PingRecord> pings,
                                                          const std::vector<uint32_t>& candidates,
                                                          PgBatchMethod method) {
  absl::flat_hash_set<std::string> claimed;
  claimed.reserve(candidates.size());
  switch (method) {
    case PgBatchMethod::kUnnest: {
      PgArray days(PgType::kInt4), ids(PgType::kBytea);
      for (uint32_t i : candidates) {
        days.AddInt4(pings[i].day);
        ids.AddBytes(pings[i].ping_id);
      }
      PgParams p;
      p.AddArray(days);
      p.AddArray(ids);
      ASSIGN_OR_RETURN(PgResult r,
                       conn.ExecPrepared("claim_ids_unnest",
                                         "INSERT INTO seen_pings(day, ping_id) SELECT * FROM "
                                         "unnest($1::int4[], $2::bytea[]) ON CONFLICT DO NOTHING "
                                         "RETURNING day, ping_id",
                                         p));
      RETURN_IF_ERROR(CollectClaimed(r, claimed));
      break;
    }
    case PgBatchMethod::kValues: {
      size_t next = 0;
      while (next < candidates.size()) {
        PgParams p;
        std::string sql = "INSERT INTO seen_pings(day, ping_id) VALUES ";
        for (; next < candidates.size() && p.size() + 2 <= kMaxParams; ++next) {
          const PingRecord& ping = pings[candidates[next]];
          absl::StrAppend(&sql, p.size() == 0 ? "" : ",", "($", p.size() + 1, "::int4,$",
                          p.size() + 2, "::bytea)");
          p.AddInt4(ping.day);
          p.AddBytea(ping.ping_id);
        }
        sql += " ON CONFLICT DO NOTHING RETURNING day, ping_id";
        ASSIGN_OR_RETURN(PgResult r, conn.ExecParams(sql, p));
        RETURN_IF_ERROR(CollectClaimed(r, claimed));
      }
      break;
    }
    case PgBatchMethod::kCopy: {
      PgCopyBinary copy;
      for (uint32_t i : candidates) {
        copy.StartRow(2);
        copy.AddInt4(pings[i].day);
        copy.AddBytes(pings[i].ping_id);
      }
      RETURN_IF_ERROR(conn.CopyIn("COPY batch_ids FROM STDIN (FORMAT binary)", copy.Finish()));
      // bytea sorts bytewise, as the candidates do, so the lock order is the same as unnest's.
      PgParams none;
      ASSIGN_OR_RETURN(PgResult r,
                       conn.ExecPrepared("claim_ids_copy",
                                         "INSERT INTO seen_pings(day, ping_id) SELECT day, ping_id "
                                         "FROM batch_ids ORDER BY day, ping_id "
                                         "ON CONFLICT DO NOTHING RETURNING day, ping_id",
                                         none));
      RETURN_IF_ERROR(CollectClaimed(r, claimed));
      break;
    }
  }
  return claimed;
}

absl::Status UpsertCounts(PgConnection& conn, const SortedCounts& rows, PgBatchMethod method) {
  if (rows.empty()) return absl::OkStatus();
  return method == PgBatchMethod::kValues ? UpsertCountsValues(conn, rows)
                                          : UpsertCountsUnnest(conn, rows);
}

// LockPartitions serializes partition changes of `schema` across replicas (advisory lock, until
// the transaction ends) and bounds the wait for the table locks that the DDL then needs: rather
// than queue every replica's inserts behind a DDL that waits for a stuck transaction, give up
// after a second (a day without its partition uses the default partition; a drop is retried by
// the next prune).
absl::Status LockPartitions(PgConnection& conn, absl::string_view schema) {
  PgParams key;
  key.AddText(schema);
  RETURN_IF_ERROR(conn.ExecParams(absl::StrCat("SELECT pg_advisory_xact_lock(", kPartitionLockKey,
                                               ", hashtext($1))"),
                                  key)
                      .status());
  return conn.Exec("SET LOCAL lock_timeout = '1s'").status();
}

// The seen_pings partition of one day, and its name's prefix.
constexpr absl::string_view kPartitionPrefix = "seen_pings_d";
std::string PartitionName(DayNumber day) { return absl::StrCat(kPartitionPrefix, day); }

// PartitionExists reports whether the table `partition` exists.
absl::StatusOr<bool> PartitionExists(PgConnection& conn, const std::string& partition) {
  PgParams name;
  name.AddText(partition);
  ASSIGN_OR_RETURN(PgResult exists, conn.ExecParams("SELECT to_regclass($1) IS NOT NULL", name));
  return postgres::DecodeBool(exists.Value(0, 0));
}

// InTransaction runs `body` between BEGIN and COMMIT on `conn`, rolling back on failure.
template <typename F>
absl::Status InTransaction(PgConnection& conn, F body) {
  RETURN_IF_ERROR(conn.Exec("BEGIN").status());
  absl::Status s = body();
  if (s.ok()) s = conn.Exec("COMMIT").status();
  if (!s.ok() && conn.healthy() && !conn.idle()) (void)conn.Exec("ROLLBACK");
  return s;
}

std::string SessionSetup(const PostgresStoreOptions& options) {
  std::string sql = absl::StrCat("SET search_path TO ", options.schema);
  if (options.statement_timeout > absl::ZeroDuration()) {
    absl::StrAppend(
        &sql, "; SET statement_timeout = ", absl::ToInt64Milliseconds(options.statement_timeout));
  }
  if (options.idle_in_transaction_timeout > absl::ZeroDuration()) {
    absl::StrAppend(&sql, "; SET idle_in_transaction_session_timeout = ",
                    absl::ToInt64Milliseconds(options.idle_in_transaction_timeout));
  }
  return sql;
}

template <typename Proto>
absl::Status ParseBody(absl::string_view body, Proto& out, absl::string_view what) {
  if (!out.ParseFromArray(body.data(), static_cast<int>(body.size()))) {
    return absl::DataLossError(absl::StrCat("stored ", what, " does not parse"));
  }
  return absl::OkStatus();
}

// Rollout events and audit records are stored as a serialized body (without its id) in a table
// whose BIGSERIAL `id` column numbers them.

// InsertWithId runs `sql`, an INSERT ... RETURNING id whose parameters are `params` and then the
// body, and returns `record` with the new id.
template <typename Proto>
absl::StatusOr<Proto> InsertWithId(ConnectionPool& pool, const char* sql,
                                   PgParams& params, Proto record) {
  record.clear_id();  // the id lives in its column; it is set when reading
  params.AddBytea(record.SerializeAsString());
  ASSIGN_OR_RETURN(ConnectionPool::Lease conn, pool.Acquire());
  ASSIGN_OR_RETURN(PgResult r, conn->ExecParams(sql, params));
  ASSIGN_OR_RETURN(int64_t id, DecodeInt8(r.Value(0, 0)));
  record.set_id(static_cast<uint64_t>(id));
  return record;
}

// ReadWithIds runs `sql`, a SELECT of (id, body) rows, and returns the bodies with their ids.
template <typename Proto>
absl::StatusOr<std::vector<Proto>> ReadWithIds(ConnectionPool& pool, const char* sql,
                                               const PgParams& params, absl::string_view what) {
  ASSIGN_OR_RETURN(ConnectionPool::Lease conn, pool.Acquire());
  ASSIGN_OR_RETURN(PgResult r, conn->ExecParams(sql, params));
  std::vector<Proto> out(r.rows());
  for (int i = 0; i < r.rows(); ++i) {
    RETURN_IF_ERROR(ParseBody(r.Value(i, 1), out[i], what));
    ASSIGN_OR_RETURN(int64_t id, DecodeInt8(r.Value(i, 0)));
    out[i].set_id(static_cast<uint64_t>(id));
  }
  return out;
}

}  // namespace

absl::StatusOr<std::unique_ptr<PostgresStore>> PostgresStore::Open(
    const PostgresStoreOptions& options) {
  return OpenWithSchemaVersion(options, postgres::LatestSchemaVersion());
}

absl::StatusOr<std::unique_ptr<PostgresStore>> PostgresStore::OpenWithSchemaVersion(
    const PostgresStoreOptions& options, int schema_version) {
  RETURN_IF_ERROR(postgres::ValidateSchemaName(options.schema));
  if (options.pool_size < 1 || options.commit_attempts < 1) {
    return absl::InvalidArgumentError("pool_size and commit_attempts must be at least 1");
  }
  ASSIGN_OR_RETURN(postgres::PgConnectionConfig config,
                   postgres::PgConnectionConfig::Create(options.conninfo, options.password_file));
  // Migrate on a plain connection first: the pool's session setup names the schema, which may
  // not exist yet.
  {
    ASSIGN_OR_RETURN(std::unique_ptr<PgConnection> conn,
                     PgConnection::Connect(config, options.query_timeout));
    RETURN_IF_ERROR(postgres::MigrateSchema(*conn, options.schema, schema_version));
  }
  postgres::ConnectionPoolOptions pool_options{std::move(config)};
  pool_options.session_setup = SessionSetup(options);
  pool_options.max_connections = options.pool_size;
  pool_options.acquire_timeout = options.acquire_timeout;
  pool_options.query_timeout = options.query_timeout;
  ASSIGN_OR_RETURN(std::unique_ptr<ConnectionPool> pool,
                   ConnectionPool::Create(std::move(pool_options)));
  return std::unique_ptr<PostgresStore>(
      new PostgresStore(options, std::move(pool), /*partitioned=*/schema_version >= 3));
}

int PostgresStore::LatestSchemaVersion() { return postgres::LatestSchemaVersion(); }

PostgresStore::PostgresStore(PostgresStoreOptions options, std::unique_ptr<ConnectionPool> pool,
                             bool partitioned)
    : options_(std::move(options)), pool_(std::move(pool)), partitioned_(partitioned) {}

absl::Status PostgresStore::EnsureDayPartitions(absl::Span<const PingRecord> pings) {
  if (!partitioned_) return absl::OkStatus();
  std::vector<DayNumber> missing;
  {
    absl::MutexLock lock(&partitions_mu_);
    for (const PingRecord& ping : pings) {
      for (DayNumber day : {ping.day, ping.day + 1}) {
        if (day >= 0 && !known_days_.contains(day)) missing.push_back(day);
      }
    }
  }
  if (missing.empty()) return absl::OkStatus();
  std::sort(missing.begin(), missing.end());
  missing.erase(std::unique(missing.begin(), missing.end()), missing.end());
  ASSIGN_OR_RETURN(ConnectionPool::Lease conn, pool_->Acquire());
  for (DayNumber day : missing) {
    const std::string partition = PartitionName(day);
    RETURN_IF_ERROR(InTransaction(*conn, [&]() -> absl::Status {
      // Replicas create partitions one at a time; the loser of a race finds the partition.
      RETURN_IF_ERROR(LockPartitions(*conn, options_.schema));
      ASSIGN_OR_RETURN(bool has_partition, PartitionExists(*conn, partition));
      if (has_partition) return absl::OkStatus();
      // A day that already has rows in the default partition stays there (creating its
      // partition would fail); pruning deletes them.
      PgParams d;
      d.AddInt4(day);
      ASSIGN_OR_RETURN(
          PgResult in_default,
          conn->ExecParams("SELECT EXISTS (SELECT 1 FROM seen_pings_default WHERE day = $1)", d));
      ASSIGN_OR_RETURN(bool day_in_default, postgres::DecodeBool(in_default.Value(0, 0)));
      if (day_in_default) return absl::OkStatus();
      return conn
          ->Exec(absl::StrCat("CREATE TABLE ", partition,
                              " PARTITION OF seen_pings FOR VALUES FROM (", day, ") TO (",
                              static_cast<int64_t>(day) + 1, ")"))
          .status();
    }));
    absl::MutexLock lock(&partitions_mu_);
    known_days_.insert(day);
  }
  return absl::OkStatus();
}

absl::StatusOr<int64_t> PostgresStore::DropExpiredPartitions(DayNumber first_kept_day) {
  if (!partitioned_) return 0;
  ASSIGN_OR_RETURN(ConnectionPool::Lease conn, pool_->Acquire());
  PgParams none;
  ASSIGN_OR_RETURN(PgResult list,
                   conn->ExecParams("SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON "
                                    "c.oid = i.inhrelid WHERE i.inhparent = 'seen_pings'::regclass",
                                    none));
  std::vector<DayNumber> expired;
  for (int i = 0; i < list.rows(); ++i) {
    absl::string_view name = list.Value(i, 0);
    int64_t day = 0;
    if (absl::ConsumePrefix(&name, kPartitionPrefix) && absl::SimpleAtoi(name, &day) &&
        day < first_kept_day) {
      expired.push_back(static_cast<DayNumber>(day));
    }
  }
  std::sort(expired.begin(), expired.end());
  int64_t removed = 0;
  for (DayNumber day : expired) {
    const std::string partition = PartitionName(day);
    RETURN_IF_ERROR(InTransaction(*conn, [&]() -> absl::Status {
      RETURN_IF_ERROR(LockPartitions(*conn, options_.schema));
      ASSIGN_OR_RETURN(bool has_partition, PartitionExists(*conn, partition));
      if (!has_partition) return absl::OkStatus();  // another replica dropped it
      // Counting a large day exactly would scan it (minutes at 100M ids, blocking the caller):
      // above kExactCountLimit the planner's row estimate (kept by autovacuum's ANALYZE) is used.
      PgParams name;
      name.AddText(partition);
      ASSIGN_OR_RETURN(PgResult estimate,
                       conn->ExecParams("SELECT reltuples::int8 FROM pg_class WHERE oid = "
                                        "to_regclass($1)",
                                        name));
      ASSIGN_OR_RETURN(int64_t ids, DecodeInt8(estimate.Value(0, 0)));
      if (ids < kExactCountLimit) {
        PgParams no_params;
        ASSIGN_OR_RETURN(
            PgResult count,
            conn->ExecParams(absl::StrCat("SELECT count(*) FROM ", partition), no_params));
        ASSIGN_OR_RETURN(ids, DecodeInt8(count.Value(0, 0)));
      }
      RETURN_IF_ERROR(conn->Exec(absl::StrCat("DROP TABLE ", partition)).status());
      removed += ids;
      return absl::OkStatus();
    }));
  }
  absl::MutexLock lock(&partitions_mu_);
  for (auto it = known_days_.begin(); it != known_days_.end();) {
    if (*it < first_kept_day) {
      known_days_.erase(it++);
    } else {
      ++it;
    }
  }
  return removed;
}

PostgresStore::~PostgresStore() = default;

int64_t PostgresStore::connects_total() const { return pool_->connects_total(); }

absl::StatusOr<int> PostgresStore::CurrentSchemaVersion() {
  ASSIGN_OR_RETURN(ConnectionPool::Lease conn, pool_->Acquire());
  return postgres::CurrentSchemaVersion(*conn, options_.schema);
}

absl::Status PostgresStore::CommitBatch(absl::Span<const PingRecord> pings,
                                        absl::Span<CommitOutcome> outcomes) {
  if (outcomes.size() != pings.size()) {
    return absl::InvalidArgumentError("CommitBatch: outcomes and pings differ in size");
  }
  for (const PingRecord& ping : pings) RETURN_IF_ERROR(ValidatePingRecord(ping));
  if (pings.empty()) return absl::OkStatus();

  // Sort by (day, id); the first occurrence of a repeated id is the candidate, later ones are
  // duplicates whatever the database says.
  std::vector<uint32_t> order(pings.size());
  std::iota(order.begin(), order.end(), 0);
  auto key = [&](uint32_t i) { return std::make_pair(pings[i].day, pings[i].ping_id); };
  std::stable_sort(order.begin(), order.end(),
                   [&](uint32_t a, uint32_t b) { return key(a) < key(b); });
  std::vector<uint32_t> candidates;
  candidates.reserve(order.size());
  for (size_t k = 0; k < order.size(); ++k) {
    if (k > 0 && key(order[k]) == key(order[k - 1])) {
      outcomes[order[k]] = CommitOutcome::kDuplicate;
    } else {
      candidates.push_back(order[k]);
    }
  }

  // Best effort: without its partition a day's ids go to the default partition, which is correct,
  // only slower to prune.
  (void)EnsureDayPartitions(pings);

  absl::Status status;
  for (int attempt = 1; attempt <= options_.commit_attempts; ++attempt) {
    status = TryCommit(pings, candidates, outcomes);
    if (status.ok()) return status;
    if (status.code() != absl::StatusCode::kUnavailable &&
        status.code() != absl::StatusCode::kAborted) {
      break;
    }
    if (attempt < options_.commit_attempts) absl::SleepFor(absl::Milliseconds(20 * attempt));
  }
  // The interface promises UNAVAILABLE for storage failures; a deadlock retried to exhaustion is
  // one.
  if (status.code() == absl::StatusCode::kAborted) {
    return absl::UnavailableError(status.message());
  }
  return status;
}

absl::Status PostgresStore::TryCommit(absl::Span<const PingRecord> pings,
                                      const std::vector<uint32_t>& candidates,
                                      absl::Span<CommitOutcome> outcomes) {
  ASSIGN_OR_RETURN(ConnectionPool::Lease conn, pool_->Acquire());
  if (options_.batch_method == PgBatchMethod::kCopy) {
    RETURN_IF_ERROR(conn->ExecOnce("batch_ids",
                                   "CREATE TEMPORARY TABLE batch_ids(day int4, ping_id bytea) "
                                   "ON COMMIT DELETE ROWS"));
  }
  BatchAggregator aggregator;
  return InTransaction(*conn, [&]() -> absl::Status {
    ASSIGN_OR_RETURN(absl::flat_hash_set<std::string> claimed,
                     ClaimIds(*conn, pings, candidates, options_.batch_method));
    for (uint32_t i : candidates) {
      const bool counted = claimed.contains(IdKey(pings[i].day, pings[i].ping_id));
      outcomes[i] = counted ? CommitOutcome::kCounted : CommitOutcome::kDuplicate;
      if (counted) aggregator.Add(pings[i]);
    }
    SortedCounts rows;
    aggregator.ForEachRow([&](const CountRow& row) { AddRow(row, rows); });
    return UpsertCounts(*conn, rows, options_.batch_method);
  });
}

absl::Status PostgresStore::ForEachCount(const CountQuery& query,
                                         absl::FunctionRef<void(const CountRow&)> fn) {
  ASSIGN_OR_RETURN(ConnectionPool::Lease conn, pool_->Acquire());
  PgParams p;
  p.AddInt4(query.from_day);
  p.AddInt4(query.to_day);
  p.AddInt4(query.include_group_totals ? kGroupTotalPinset : 0);
  p.AddInt8(query.params_version);
  p.AddText(query.product);
  p.AddText(query.channel);
  p.AddInt8(query.major_version);
  constexpr char kWhere[] =
      " FROM counts WHERE day BETWEEN $1 AND $2 AND pinset >= $3 "
      "AND ($4 = 0 OR params_version = $4) AND ($5 = '' OR product = $5) "
      "AND ($6 = '' OR channel = $6) AND ($7 = 0 OR major_version = $7) ";
  // The decoder adds over dimensions anyway: let the server do it (CountQuery::sum_dimensions).
  const bool sum_dimensions = query.sum_dimensions && query.product.empty() &&
                              query.channel.empty() && query.major_version == 0;
  const std::string sql =
      sum_dimensions
          ? absl::StrCat(
                "SELECT day, params_version, catalog_version, ''::text, ''::text, "
                "0::int8, pinset, sum(reports)::int8, sum(ones0)::int8, "
                "sum(ones1)::int8, sum(ones2)::int8, sum(ones3)::int8",
                kWhere,
                "GROUP BY day, params_version, catalog_version, pinset "
                "ORDER BY day, params_version, catalog_version, pinset")
          : absl::StrCat("SELECT ", kCountColumns, kWhere,
                         "ORDER BY day, params_version, catalog_version, product, channel, "
                         "major_version, pinset");
  // One statement sees one snapshot: a batch is visible entirely or not at all.
  return conn->ForEachRow(sql, p, [&](const PgResult& r) -> absl::Status {
    CountRow row;
    ASSIGN_OR_RETURN(row.day, DecodeInt4(r.Value(0, 0)));
    ASSIGN_OR_RETURN(int64_t params_version, DecodeInt8(r.Value(0, 1)));
    row.params_version = static_cast<uint32_t>(params_version);
    row.catalog_version = r.Value(0, 2);
    row.product = r.Value(0, 3);
    row.channel = r.Value(0, 4);
    ASSIGN_OR_RETURN(int64_t major, DecodeInt8(r.Value(0, 5)));
    row.major_version = static_cast<uint32_t>(major);
    ASSIGN_OR_RETURN(row.pinset, DecodeInt4(r.Value(0, 6)));
    ASSIGN_OR_RETURN(row.reports, DecodeInt8(r.Value(0, 7)));
    for (int b = 0; b < kMaxBitsPerPinset; ++b) {
      ASSIGN_OR_RETURN(row.ones[b], DecodeInt8(r.Value(0, 8 + b)));
    }
    fn(row);
    return absl::OkStatus();
  });
}

absl::Status PostgresStore::AddCounts(absl::Span<const CountRow> rows) {
  SortedCounts sorted;
  for (const CountRow& row : rows) {
    bool bad = row.day < 0 || row.pinset < kGroupTotalPinset || row.reports < 0 ||
               row.catalog_version.empty() || row.params_version == 0;
    for (int64_t ones : row.ones) bad = bad || ones < 0 || ones > row.reports;
    if (bad) {
      return absl::InvalidArgumentError(absl::StrCat("AddCounts: invalid row (day ", row.day,
                                                     ", params ", row.params_version, ", pinset ",
                                                     row.pinset, ", reports ", row.reports, ")"));
    }
    if (row.reports > 0) AddRow(row, sorted);  // zero rows are never stored
  }
  if (sorted.empty()) return absl::OkStatus();
  // Not retried: unlike CommitBatch, a replay after an unknown COMMIT outcome would add twice.
  ASSIGN_OR_RETURN(ConnectionPool::Lease conn, pool_->Acquire());
  return InTransaction(*conn, [&] { return UpsertCountsUnnest(*conn, sorted); });
}

absl::StatusOr<int64_t> PostgresStore::PruneSeenPings(DayNumber first_kept_day) {
  ASSIGN_OR_RETURN(int64_t dropped, DropExpiredPartitions(first_kept_day));
  ASSIGN_OR_RETURN(ConnectionPool::Lease conn, pool_->Acquire());
  // Expired ids outside dropped partitions (days in the default partition, or a schema older than
  // version 3) are deleted in chunks, each its own short statement, so no statement meets the
  // timeouts and no lock is held long. The primary key starts with the day, so each chunk is an
  // index range scan. Replicas may all prune; the deletes are idempotent.
  int64_t removed = dropped;
  for (;;) {
    PgParams p;
    p.AddInt4(first_kept_day);
    p.AddInt8(kPruneChunk);
    ASSIGN_OR_RETURN(PgResult r,
                     conn->ExecPrepared("prune_seen",
                                        "DELETE FROM seen_pings WHERE (day, ping_id) IN "
                                        "(SELECT day, ping_id FROM seen_pings WHERE day < $1 "
                                        "LIMIT $2)",
                                        p));
    removed += r.AffectedRows();
    if (r.AffectedRows() < kPruneChunk) return removed;
  }
}

absl::StatusOr<int64_t> PostgresStore::SeenPingCount() {
  ASSIGN_OR_RETURN(ConnectionPool::Lease conn, pool_->Acquire());
  PgParams none;
  ASSIGN_OR_RETURN(PgResult r, conn->ExecParams("SELECT count(*) FROM seen_pings", none));
  return DecodeInt8(r.Value(0, 0));
}

absl::Status PostgresStore::PutParamsVersion(const v1::ParamsVersion& params) {
  if (params.version() == 0) return absl::InvalidArgumentError("params version 0 is reserved");
  ASSIGN_OR_RETURN(ConnectionPool::Lease conn, pool_->Acquire());
  PgParams p;
  p.AddInt8(params.version());
  p.AddBytea(params.SerializeAsString());
  // The primary key makes the number atomic across replicas: exactly one insert wins.
  ASSIGN_OR_RETURN(PgResult r, conn->ExecParams("INSERT INTO params_versions(version, body) "
                                                "VALUES ($1, $2) ON CONFLICT DO NOTHING",
                                                p));
  if (r.AffectedRows() == 0) {
    return absl::AlreadyExistsError(
        absl::StrCat("params version ", params.version(), " already exists"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<v1::ParamsVersion>> PostgresStore::ListParamsVersions() {
  ASSIGN_OR_RETURN(ConnectionPool::Lease conn, pool_->Acquire());
  PgParams none;
  ASSIGN_OR_RETURN(PgResult r,
                   conn->ExecParams("SELECT body FROM params_versions ORDER BY version", none));
  std::vector<v1::ParamsVersion> out(r.rows());
  for (int i = 0; i < r.rows(); ++i) {
    RETURN_IF_ERROR(ParseBody(r.Value(i, 0), out[i], "params version"));
  }
  return out;
}

absl::Status PostgresStore::PutCatalog(const v1::Catalog& catalog) {
  if (catalog.version().empty()) return absl::InvalidArgumentError("catalog version is empty");
  const std::string body = catalog.SerializeAsString();
  ASSIGN_OR_RETURN(ConnectionPool::Lease conn, pool_->Acquire());
  PgParams p;
  p.AddText(catalog.version());
  p.AddBytea(body);
  ASSIGN_OR_RETURN(PgResult inserted,
                   conn->ExecParams("INSERT INTO catalogs(version, body) VALUES ($1, $2) "
                                    "ON CONFLICT (version) DO NOTHING",
                                    p));
  if (inserted.AffectedRows() == 1) return absl::OkStatus();
  // Already stored (by us or by another replica): the same content is a no-op.
  ASSIGN_OR_RETURN(v1::Catalog stored, GetCatalog(catalog.version()));
  if (stored.SerializeAsString() == body) return absl::OkStatus();
  return absl::AlreadyExistsError(absl::StrCat("catalog version ", catalog.version(),
                                               " already exists with different content"));
}

absl::StatusOr<v1::Catalog> PostgresStore::GetCatalog(absl::string_view version) {
  ASSIGN_OR_RETURN(ConnectionPool::Lease conn, pool_->Acquire());
  PgParams p;
  p.AddText(version);
  ASSIGN_OR_RETURN(PgResult r, conn->ExecParams("SELECT body FROM catalogs WHERE version = $1", p));
  if (r.rows() == 0) {
    return absl::NotFoundError(absl::StrCat("catalog version '", version, "' not found"));
  }
  v1::Catalog catalog;
  RETURN_IF_ERROR(ParseBody(r.Value(0, 0), catalog, "catalog"));
  return catalog;
}

absl::StatusOr<std::vector<std::string>> PostgresStore::ListCatalogVersions() {
  ASSIGN_OR_RETURN(ConnectionPool::Lease conn, pool_->Acquire());
  PgParams none;
  ASSIGN_OR_RETURN(PgResult r, conn->ExecParams("SELECT version FROM catalogs ORDER BY seq", none));
  std::vector<std::string> out;
  out.reserve(r.rows());
  for (int i = 0; i < r.rows(); ++i) out.emplace_back(r.Value(i, 0));
  return out;
}

absl::StatusOr<v1::RolloutEvent> PostgresStore::AddEvent(const v1::RolloutEvent& event) {
  PgParams p;
  p.AddText(event.day());
  p.AddText(event.organization());
  return InsertWithId(*pool_,
                      "INSERT INTO rollout_events(day, organization, body) VALUES ($1, $2, $3) "
                      "RETURNING id",
                      p, event);
}

absl::StatusOr<std::vector<v1::RolloutEvent>> PostgresStore::ListEvents(const EventFilter& filter) {
  PgParams p;
  p.AddText(filter.from_day);
  p.AddText(filter.to_day);
  p.AddText(filter.organization);
  return ReadWithIds<v1::RolloutEvent>(
      *pool_,
      "SELECT id, body FROM rollout_events WHERE ($1 = '' OR day >= $1) AND ($2 = '' OR day <= $2) "
      "AND ($3 = '' OR organization = $3) ORDER BY day, id",
      p, "rollout event");
}

absl::StatusOr<v1::AuditRecord> PostgresStore::AddAudit(const v1::AuditRecord& record) {
  PgParams p;
  p.AddText(record.actor());
  p.AddText(record.action());
  return InsertWithId(*pool_,
                      "INSERT INTO audit_log(actor, action, body) VALUES ($1, $2, $3) RETURNING id",
                      p, record);
}

absl::StatusOr<std::vector<v1::AuditRecord>> PostgresStore::ListAudit(uint32_t limit) {
  PgParams p;
  p.AddInt8(limit);
  // LIMIT NULL means no limit.
  return ReadWithIds<v1::AuditRecord>(
      *pool_, "SELECT id, body FROM audit_log ORDER BY id DESC LIMIT NULLIF($1, 0)", p,
      "audit record");
}

}  // namespace pinning::aggregator
