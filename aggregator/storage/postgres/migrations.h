// migrations.h: the versioned schema of the PostgreSQL backend and the code that applies it.
//
// Migrations are numbered 1, 2, ...; schema_version records each applied one. Migrate applies the
// missing ones in order, each in its own transaction together with its schema_version row, while
// holding a transaction-scoped advisory lock keyed by the schema name, so replicas that start
// together serialize: the first applies, the others then find nothing to do. PostgreSQL DDL is
// transactional, so a failed migration leaves no trace.
//
//   ASSIGN_OR_RETURN(std::unique_ptr<PgConnection> conn, PgConnection::Connect(config));
//   RETURN_IF_ERROR(MigrateSchema(*conn, "pinning", LatestSchemaVersion()));
//
// Schema (all in the named schema):
//   seen_pings(day, ping_id) primary key (day, ping_id): exactly-once ids, range-partitioned by day
//     (version 3): seen_pings_d<day> per day, created by PostgresStore as days appear, and
//     seen_pings_default for the rest; expiring a day drops its partition.
//   counts(day, params_version, catalog_version, product, channel, major_version, pinset, reports,
//     ones0..ones3) primary key in that order: additive counts. Keys are stored by value (no
//     dictionary tables), so replicas never coordinate on dictionary ids and a Citus cluster can
//     distribute the table without joins.
//   params_versions, catalogs, rollout_events, audit_log: serialized protos plus indexed columns.
#ifndef AGGREGATOR_STORAGE_POSTGRES_MIGRATIONS_H_
#define AGGREGATOR_STORAGE_POSTGRES_MIGRATIONS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "aggregator/storage/postgres/pg_connection.h"

namespace pinning::aggregator::postgres {

// LatestSchemaVersion is the version MigrateSchema brings a schema to by default.
int LatestSchemaVersion();

// ValidateSchemaName accepts lower-case SQL identifiers: [a-z_][a-z0-9_]{0,62}. INVALID_ARGUMENT
// otherwise (the name is spliced into SQL, so nothing that would need quoting is allowed).
[[nodiscard]] absl::Status ValidateSchemaName(absl::string_view schema);

// MigrateSchema creates `schema` when missing and applies migrations up to `target_version`
// (1..LatestSchemaVersion()). FAILED_PRECONDITION when the schema is newer than this build.
// `conn` must be idle; it is left idle.
[[nodiscard]] absl::Status MigrateSchema(PgConnection& conn, absl::string_view schema,
                                         int target_version);

// CurrentSchemaVersion reads the highest applied migration of `schema` (0 when none).
[[nodiscard]] absl::StatusOr<int> CurrentSchemaVersion(PgConnection& conn,
                                                       absl::string_view schema);

}  // namespace pinning::aggregator::postgres

#endif  // AGGREGATOR_STORAGE_POSTGRES_MIGRATIONS_H_
