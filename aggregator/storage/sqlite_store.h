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
//   seen_pings(day, ping_id) WITHOUT ROWID: exactly-once ids (16 + ~4 bytes of payload per id).
//   counts(day, params_version, catalog_id, dims_id, pinset, reports, ones0..ones3) WITHOUT ROWID,
//     primary key in that order, so a day range is one contiguous scan (the decoder's query).
//   catalog_ids(id, version) and dims(id, product, channel, major_version): small dictionaries
//     that keep count keys compact; cached in memory.
//   params_versions, catalogs, rollout_events, audit_log: serialized protos plus indexed columns.
//
// Memory: SQLite's page cache per connection is bounded by `cache_size_kib`; the dictionaries
// are bounded by the number of distinct catalog versions and dimension combinations, which the
// validator's vocabularies bound. Ping ids live on disk only; their disk use is bounded by
// (pings per day) x (retention days) x ~40 bytes once PruneSeenPings runs daily.
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
