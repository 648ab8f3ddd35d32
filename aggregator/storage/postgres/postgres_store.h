// postgres_store.h: the shared CountStore backend on PostgreSQL, for several aggregator replicas
// writing to one database at once.
//
//   PostgresStoreOptions options;
//   options.conninfo = "host=DBHOST dbname=pinning user=aggregator";  // no password here
//   options.password_file = "/etc/aggregatord/pg_password";                // or PGPASSFILE
//   ASSIGN_OR_RETURN(std::unique_ptr<PostgresStore> store, PostgresStore::Open(options));
//
// Replicas: every write is additive, so any number of replicas commit at once without lost
// updates: counts are upserted with `ON CONFLICT ... DO UPDATE SET c = counts.c + EXCLUDED.c`
// and ping ids are claimed with `INSERT ... ON CONFLICT DO NOTHING RETURNING` in the same
// transaction, so a ping retried on another replica is counted exactly once (the second
// transaction waits for the first one's uncommitted id, then sees the conflict). Each transaction
// takes its row locks in one global order (ids sorted by (day, id), then count rows sorted by
// key), so concurrent batches never deadlock; a deadlock or serialization failure reported anyway
// is retried.
//
// Batching: a CommitBatch is two statements whatever its size: the batch's ids as two arrays
// expanded with unnest(), then the batch's summed count rows (one per group and pinset, see
// batch_aggregator.h) the same way. `batch_method` selects alternatives for measurement (multi-row
// VALUES; COPY into a temporary table); docs/operations.md has the numbers.
//
// Durability: an OK CommitBatch has committed with the server's synchronous_commit (on by
// default: flushed to the WAL, and to a synchronous standby when configured).
//
// Failures: a lost connection (database restart, failover, network partition) fails the call with
// UNAVAILABLE and the pool reconnects with backoff (connection_pool.h). CommitBatch retries up to
// `commit_attempts` times first; retrying is safe even when a COMMIT's outcome was unknown,
// because the ids committed with the counts turn a replay into duplicates. The ingest path answers
// UNAVAILABLE and clients retry, so no acknowledged ping is lost. Sessions set
// idle_in_transaction_session_timeout and statement_timeout so a partitioned replica cannot hold
// row locks that other replicas wait for beyond a few seconds.
//
// Schema and migrations: migrations.h (applied by Open under an advisory lock). Ping ids are
// partitioned by day: CommitBatch creates the partition of a new day (and of the next day) in a
// short transaction of its own before it first writes to that day, and PruneSeenPings drops
// expired days' partitions, so a day of ids expires in one DROP instead of millions of deletes.
//
// Thread safety: all methods are thread-safe; concurrent calls use separate pooled connections,
// so commits from several threads run in parallel and reads never wait for a commit.
#ifndef AGGREGATOR_STORAGE_POSTGRES_POSTGRES_STORE_H_
#define AGGREGATOR_STORAGE_POSTGRES_POSTGRES_STORE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "aggregator/storage/count_store.h"

namespace pinning::aggregator {

namespace postgres {
class ConnectionPool;
}  // namespace postgres

// PgBatchMethod selects how CommitBatch sends a batch (see the file comment).
enum class PgBatchMethod {
  kUnnest,  // arrays in binary format, expanded with unnest() (default)
  kValues,  // multi-row VALUES lists with one parameter per value
  kCopy,    // binary COPY into a temporary table, then INSERT ... SELECT
};

struct PostgresStoreOptions {
  // libpq connection string or URI, without a password (refused); empty uses the PG*
  // environment variables. See connection_config.h.
  std::string conninfo;
  // File holding the password on its first line (mode 0600); empty to rely on PGPASSFILE,
  // ~/.pgpass or another libpq mechanism.
  std::string password_file;
  // Schema holding the tables; created when missing. [a-z_][a-z0-9_]*.
  std::string schema = "public";
  // Most connections this store opens (commits, reads and admin calls share them).
  int pool_size = 4;
  // Longest wait for a free connection before UNAVAILABLE.
  absl::Duration acquire_timeout = absl::Seconds(2);
  // Attempts per CommitBatch on UNAVAILABLE or ABORTED (>= 1).
  int commit_attempts = 3;
  PgBatchMethod batch_method = PgBatchMethod::kUnnest;
  // Longest wait for the answer to any statement, measured by this process: a stricter bound than
  // statement_timeout when the network or a proxy fails silently. A timed-out connection is
  // dropped and the call fails with UNAVAILABLE (CommitBatch retries first).
  absl::Duration query_timeout = absl::Seconds(20);
  // Session limits (see the file comment); zero leaves the server's setting.
  absl::Duration statement_timeout = absl::Seconds(30);
  absl::Duration idle_in_transaction_timeout = absl::Seconds(10);
};

class PostgresStore final : public CountStore {
 public:
  // Open connects, applies pending migrations and returns the store. INVALID_ARGUMENT for bad
  // options or a connection string with a password, UNAVAILABLE when the database cannot be
  // reached, FAILED_PRECONDITION when the schema is newer than this build.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<PostgresStore>> Open(
      const PostgresStoreOptions& options);

  // OpenWithSchemaVersion is Open, migrating only up to `schema_version` (migration tests).
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<PostgresStore>> OpenWithSchemaVersion(
      const PostgresStoreOptions& options, int schema_version);

  // LatestSchemaVersion is the version Open migrates to.
  static int LatestSchemaVersion();

  ~PostgresStore() override;
  PostgresStore(const PostgresStore&) = delete;
  PostgresStore& operator=(const PostgresStore&) = delete;

  absl::Status CommitBatch(absl::Span<const PingRecord> pings,
                           absl::Span<CommitOutcome> outcomes) override;
  absl::Status ForEachCount(const CountQuery& query,
                            absl::FunctionRef<void(const CountRow&)> fn) override;
  absl::Status AddCounts(absl::Span<const CountRow> rows) override;
  // PruneSeenPings drops expired day partitions and deletes expired ids outside them. The count
  // returned is exact, except that a dropped partition the planner estimates at a million ids or
  // more counts as that estimate: counting it exactly would scan it.
  absl::StatusOr<int64_t> PruneSeenPings(DayNumber first_kept_day) override;
  absl::StatusOr<int64_t> SeenPingCount() override;

  absl::Status PutParamsVersion(const v1::ParamsVersion& params) override;
  absl::StatusOr<std::vector<v1::ParamsVersion>> ListParamsVersions() override;
  absl::Status PutCatalog(const v1::Catalog& catalog) override;
  absl::StatusOr<v1::Catalog> GetCatalog(absl::string_view version) override;
  absl::StatusOr<std::vector<std::string>> ListCatalogVersions() override;

  absl::StatusOr<v1::RolloutEvent> AddEvent(const v1::RolloutEvent& event) override;
  absl::StatusOr<std::vector<v1::RolloutEvent>> ListEvents(const EventFilter& filter) override;
  absl::StatusOr<v1::AuditRecord> AddAudit(const v1::AuditRecord& record) override;
  absl::StatusOr<std::vector<v1::AuditRecord>> ListAudit(uint32_t limit) override;

  // CurrentSchemaVersion reads the schema version recorded in the database.
  [[nodiscard]] absl::StatusOr<int> CurrentSchemaVersion();

  // connects_total counts connections opened so far (reconnects included).
  int64_t connects_total() const;

 private:
  PostgresStore(PostgresStoreOptions options, std::unique_ptr<postgres::ConnectionPool> pool,
                bool partitioned);
  absl::Status TryCommit(absl::Span<const PingRecord> pings,
                         const std::vector<uint32_t>& candidates,
                         absl::Span<CommitOutcome> outcomes);
  // EnsureDayPartitions creates the seen_pings partitions of the pings' days and of the days
  // after them, unless they exist or the day already has rows in the default partition.
  absl::Status EnsureDayPartitions(absl::Span<const PingRecord> pings)
      ABSL_LOCKS_EXCLUDED(partitions_mu_);
  // DropExpiredPartitions drops the day partitions before `first_kept_day` and returns how many
  // ids they held.
  absl::StatusOr<int64_t> DropExpiredPartitions(DayNumber first_kept_day)
      ABSL_LOCKS_EXCLUDED(partitions_mu_);

  const PostgresStoreOptions options_;
  std::unique_ptr<postgres::ConnectionPool> pool_;
  // Whether seen_pings is partitioned by day (schema version >= 3).
  const bool partitioned_;
  absl::Mutex partitions_mu_;
  // Days whose partition is known to exist (or that live in the default partition).
  absl::flat_hash_set<DayNumber> known_days_ ABSL_GUARDED_BY(partitions_mu_);
};

}  // namespace pinning::aggregator

#endif  // AGGREGATOR_STORAGE_POSTGRES_POSTGRES_STORE_H_
