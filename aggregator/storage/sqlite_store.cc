#include "aggregator/storage/sqlite_store.h"

namespace pinning::aggregator {

// TODO: implementation in progress.
class SqliteStore::Impl {};

absl::StatusOr<std::unique_ptr<SqliteStore>> SqliteStore::Open(const SqliteStoreOptions&) {
  return absl::UnimplementedError("SqliteStore::Open");
}
int SqliteStore::LatestSchemaVersion() { return 1; }
SqliteStore::SqliteStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SqliteStore::~SqliteStore() = default;
absl::Status SqliteStore::CommitBatch(absl::Span<const PingRecord>, absl::Span<CommitOutcome>) {
  return absl::UnimplementedError("");
}
absl::Status SqliteStore::ForEachCount(const CountQuery&, absl::FunctionRef<void(const CountRow&)>) {
  return absl::UnimplementedError("");
}
absl::Status SqliteStore::AddCounts(absl::Span<const CountRow>) { return absl::UnimplementedError(""); }
absl::StatusOr<int64_t> SqliteStore::PruneSeenPings(DayNumber) { return absl::UnimplementedError(""); }
absl::StatusOr<int64_t> SqliteStore::SeenPingCount() { return absl::UnimplementedError(""); }
absl::Status SqliteStore::PutParamsVersion(const v1::ParamsVersion&) { return absl::UnimplementedError(""); }
absl::StatusOr<std::vector<v1::ParamsVersion>> SqliteStore::ListParamsVersions() { return absl::UnimplementedError(""); }
absl::Status SqliteStore::PutCatalog(const v1::Catalog&) { return absl::UnimplementedError(""); }
absl::StatusOr<v1::Catalog> SqliteStore::GetCatalog(absl::string_view) { return absl::UnimplementedError(""); }
absl::StatusOr<std::vector<std::string>> SqliteStore::ListCatalogVersions() { return absl::UnimplementedError(""); }
absl::StatusOr<v1::RolloutEvent> SqliteStore::AddEvent(const v1::RolloutEvent&) { return absl::UnimplementedError(""); }
absl::StatusOr<std::vector<v1::RolloutEvent>> SqliteStore::ListEvents(const EventFilter&) { return absl::UnimplementedError(""); }
absl::StatusOr<v1::AuditRecord> SqliteStore::AddAudit(const v1::AuditRecord&) { return absl::UnimplementedError(""); }
absl::StatusOr<std::vector<v1::AuditRecord>> SqliteStore::ListAudit(uint32_t) { return absl::UnimplementedError(""); }
absl::StatusOr<int> SqliteStore::CurrentSchemaVersion() { return absl::UnimplementedError(""); }

}  // namespace pinning::aggregator
