// sqlite_store.h: the embedded CountStore backend on SQLite (WAL journal, synchronous=FULL).
//
//   SqliteStoreOptions options;
//   options.path = "/var/lib/pinning/aggregator.db";
//   ASSIGN_OR_RETURN(std::unique_ptr<SqliteStore> store, SqliteStore::Open(options));
//
// Durability: every write is one transaction committed with synchronous=FULL in WAL mode, so an
// OK return means the data survives a crash of the process or of the machine.
//
// Schema: versioned migrations (table `schema_version`) applied in order, each in its own
// transaction, when the database is opened; reopening an up-to-date database changes nothing.
// Tables:
//   counts(day, params_version, catalog_id, dims_id, pinset, reports, ones0..ones3) WITHOUT ROWID,
//     primary key in that order, so a day range is one contiguous scan.
//   counts_rollup: the same without dims_id (summed over dimensions, updated in the same
//     transactions); serves CountQuery::sum_dimensions without a dimension filter, the decoder's
//     most common query, with one row per (day, params, catalog, pinset) however many dimension
//     combinations there are.
//   catalog_ids(id, version) and dims(id, product, channel, major_version): small dictionaries
//     that keep count keys compact; cached in memory.
//   seen_pings(day, ping_id) WITHOUT ROWID, seen_log_batches(seq, ids) and seen_meta:
//     exactly-once ids (see below).
//   params_versions, catalogs, rollout_events, audit_log: serialized protos plus indexed columns.
//
// Exactly-once ids. Ping ids are random, so inserting each into a B-tree keyed by id dirties one
// page per id once the tree is much larger than a batch, and every dirty page is written to the
// WAL at each commit: about 4 KiB of writes per ping, which caps a large store at a few 10^4
// pings/s. Instead, a commit appends the batch's new ids, packed in one blob, as one row of
// seen_log_batches (sequential: a few pages per batch) and keeps them in an in-memory "recent"
// set. When the recent set holds
// `recent_ids` ids it is frozen (sorted), and the following commits merge it, in key order and
// in chunks at least twice the batch size, into seen_pings, deleting the log rows after the last
// chunk. A ping is a duplicate when its (day, id) is in the recent set, the frozen set or
// seen_pings; all of this happens in the commit's transaction, so exactly-once survives crashes:
// on open, the log is reloaded into the recent set (re-merging is idempotent). Pruning deletes a
// range of days from seen_pings and records the floor in seen_meta, so that logged ids of pruned
// days are not reloaded. Only one process
// may commit to a database file (the recent set is per process); use the PostgreSQL backend for
// several aggregators.
//
// Memory: SQLite's page cache per connection is bounded by `cache_size_kib`; the recent and
// frozen sets hold at most 2 x `recent_ids` ids: two hash sets of ~44 bytes per id of capacity
// plus the frozen set's sorted copy (20 bytes per id), ~110 MiB at the default of 2^20;
// the dictionaries are bounded by the number of distinct catalog versions and dimension
// combinations, which the validator's vocabularies bound. Disk: ~40 bytes per id of the retention
// window (PruneSeenPings daily), plus the counts.
//
// Thread safety: one writer connection and one reader connection, each behind its own mutex; in
// WAL mode reads proceed while a commit is in progress.
#ifndef AGGREGATOR_STORAGE_SQLITE_STORE_H_
#define AGGREGATOR_STORAGE_SQLITE_STORE_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "aggregator/storage/count_store.h"

namespace pinning::aggregator {

struct SqliteStoreOptions {
  // Database file; created when missing. ":memory:" is not allowed (WAL needs a file).
  std::string path;
  // Page cache per connection, in KiB.
  int64_t cache_size_kib = 64 * 1024;
  // Maximum time to wait for a lock held by another process before failing with UNAVAILABLE.
  int busy_timeout_ms = 5000;
  // Size of the in-memory set of recently seen ids before it is merged into seen_pings.
  int64_t recent_ids = 1 << 20;
};

class SqliteStore final : public CountStore {
 public:
  // Open opens or creates the database and applies pending migrations. UNAVAILABLE when the file
  // cannot be opened, FAILED_PRECONDITION when it was written by a newer schema version.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<SqliteStore>> Open(
      const SqliteStoreOptions& options);

  // OpenWithSchemaVersion is Open, migrating only up to `schema_version` (1..latest). Migration
  // tests use it to create databases of older schema versions.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<SqliteStore>> OpenWithSchemaVersion(
      const SqliteStoreOptions& options, int schema_version);

  // LatestSchemaVersion is the version Open migrates to.
  static int LatestSchemaVersion();

  ~SqliteStore() override;
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  absl::Status CommitBatch(absl::Span<const PingRecord> pings,
                           absl::Span<CommitOutcome> outcomes) override;
  absl::Status ForEachCount(const CountQuery& query,
                            absl::FunctionRef<void(const CountRow&)> fn) override;
  absl::Status AddCounts(absl::Span<const CountRow> rows) override;
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

 private:
  class Impl;
  explicit SqliteStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace pinning::aggregator

#endif  // AGGREGATOR_STORAGE_SQLITE_STORE_H_
