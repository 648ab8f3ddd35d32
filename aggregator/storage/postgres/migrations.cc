#include "aggregator/storage/postgres/migrations.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "aggregator/storage/postgres/pg_params.h"
#include "third_party/absl_compat/status_macros.h"

namespace pinning::aggregator::postgres {
namespace {

// Ordered migrations; entry i brings the schema to version i + 1. Never edit a released entry:
// append a new one. Statements run with search_path set to the target schema.
constexpr const char* kMigrations[] = {
    // Version 1: counts and exactly-once ids. params_version and major_version are uint32 in the
    // API, hence bigint.
    R"sql(
      CREATE TABLE seen_pings(
        day integer NOT NULL,
        ping_id bytea NOT NULL,
        PRIMARY KEY (day, ping_id)
      );
      CREATE TABLE counts(
        day integer NOT NULL,
        params_version bigint NOT NULL,
        catalog_version text NOT NULL,
        product text NOT NULL,
        channel text NOT NULL,
        major_version bigint NOT NULL,
        pinset integer NOT NULL,
        reports bigint NOT NULL,
        ones0 bigint NOT NULL DEFAULT 0,
        ones1 bigint NOT NULL DEFAULT 0,
        ones2 bigint NOT NULL DEFAULT 0,
        ones3 bigint NOT NULL DEFAULT 0,
        PRIMARY KEY (day, params_version, catalog_version, product, channel, major_version, pinset)
      );
    )sql",
    // Version 2: published versions, rollout events and the audit log.
    R"sql(
      CREATE TABLE params_versions(
        version bigint PRIMARY KEY,
        body bytea NOT NULL
      );
      CREATE TABLE catalogs(
        seq bigserial PRIMARY KEY,
        version text NOT NULL UNIQUE,
        body bytea NOT NULL
      );
      CREATE TABLE rollout_events(
        id bigserial PRIMARY KEY,
        day text NOT NULL,
        organization text NOT NULL,
        body bytea NOT NULL
      );
      CREATE INDEX rollout_events_by_day ON rollout_events(day, id);
      CREATE TABLE audit_log(
        id bigserial PRIMARY KEY,
        actor text NOT NULL,
        action text NOT NULL,
        body bytea NOT NULL
      );
    )sql",
    // Version 3: ping ids partitioned by day, so expiring a day is a DROP of its partition
    // instead of deleting (and vacuuming) a day of rows. Day partitions (seen_pings_d<day>) are
    // created by the store as days appear; rows of days without a partition, including those
    // migrated from version 2, live in the default partition.
    R"sql(
      ALTER TABLE seen_pings RENAME TO seen_pings_v2;
      ALTER INDEX seen_pings_pkey RENAME TO seen_pings_v2_pkey;
      CREATE TABLE seen_pings(
        day integer NOT NULL,
        ping_id bytea NOT NULL,
        PRIMARY KEY (day, ping_id)
      ) PARTITION BY RANGE (day);
      CREATE TABLE seen_pings_default PARTITION OF seen_pings DEFAULT;
      INSERT INTO seen_pings SELECT day, ping_id FROM seen_pings_v2;
      DROP TABLE seen_pings_v2;
    )sql",
};
constexpr int kLatest = sizeof(kMigrations) / sizeof(kMigrations[0]);

// First key of the advisory lock ("pinn"); the second is hashtext(schema).
constexpr int32_t kMigrationLockKey = 0x70696e6e;

absl::StatusOr<int> ReadVersion(PgConnection& conn) {
  PgParams none;
  ASSIGN_OR_RETURN(
      PgResult r,
      conn.ExecParams("SELECT coalesce(max(version), 0)::int4 FROM schema_version", none));
  return DecodeInt4(r.Value(0, 0));
}

// One step: lock, ensure the bookkeeping exists, read the version, apply the next migration.
// Returns the version after the step and whether there is more to do.
absl::StatusOr<bool> Step(PgConnection& conn, absl::string_view schema, int target) {
  PgParams lock;
  lock.AddText(schema);
  RETURN_IF_ERROR(conn.ExecParams(absl::StrCat("SELECT pg_advisory_xact_lock(", kMigrationLockKey,
                                               ", hashtext($1))"),
                                  lock)
                      .status());
  // CREATE SCHEMA checks the database-level CREATE privilege even when the schema exists, so it
  // only runs when needed: an operator may pre-create the schema for a less privileged role.
  ASSIGN_OR_RETURN(PgResult has_schema,
                   conn.ExecParams("SELECT to_regnamespace(quote_ident($1)) IS NOT NULL", lock));
  ASSIGN_OR_RETURN(bool schema_exists, DecodeBool(has_schema.Value(0, 0)));
  if (!schema_exists) {
    RETURN_IF_ERROR(conn.Exec(absl::StrCat("CREATE SCHEMA ", schema)).status());
  }
  RETURN_IF_ERROR(conn.Exec(absl::StrCat("SET LOCAL search_path TO ", schema, ";",
                                         "CREATE TABLE IF NOT EXISTS schema_version("
                                         "version integer PRIMARY KEY, "
                                         "applied_at timestamptz NOT NULL DEFAULT now())"))
                      .status());
  ASSIGN_OR_RETURN(int current, ReadVersion(conn));
  if (current > kLatest) {
    return absl::FailedPreconditionError(absl::StrCat("postgres schema ", schema, " is at version ",
                                                      current, ", newer than this build's ",
                                                      kLatest));
  }
  if (current >= target) return false;
  RETURN_IF_ERROR(conn.Exec(kMigrations[current]).status());
  RETURN_IF_ERROR(
      conn.Exec(absl::StrCat("INSERT INTO schema_version(version) VALUES (", current + 1, ")"))
          .status());
  return current + 1 < target;
}

}  // namespace

int LatestSchemaVersion() { return kLatest; }

absl::Status ValidateSchemaName(absl::string_view schema) {
  bool ok = !schema.empty() && schema.size() <= 63 && !(schema[0] >= '0' && schema[0] <= '9');
  for (char c : schema) ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_');
  if (!ok) {
    return absl::InvalidArgumentError(
        absl::StrCat("postgres schema name '", schema, "' must match [a-z_][a-z0-9_]{0,62}"));
  }
  return absl::OkStatus();
}

absl::Status MigrateSchema(PgConnection& conn, absl::string_view schema, int target_version) {
  RETURN_IF_ERROR(ValidateSchemaName(schema));
  if (target_version < 1 || target_version > kLatest) {
    return absl::InvalidArgumentError(
        absl::StrCat("schema version ", target_version, " outside 1..", kLatest));
  }
  for (;;) {
    RETURN_IF_ERROR(conn.Exec("BEGIN").status());
    absl::StatusOr<bool> more = Step(conn, schema, target_version);
    absl::Status end = conn.Exec(more.ok() ? "COMMIT" : "ROLLBACK").status();
    if (!more.ok()) return more.status();
    RETURN_IF_ERROR(end);
    if (!*more) return absl::OkStatus();
  }
}

absl::StatusOr<int> CurrentSchemaVersion(PgConnection& conn, absl::string_view schema) {
  RETURN_IF_ERROR(ValidateSchemaName(schema));
  PgParams params;
  params.AddText(schema);
  ASSIGN_OR_RETURN(PgResult exists,
                   conn.ExecParams("SELECT to_regclass(quote_ident($1) || '.schema_version') "
                                   "IS NOT NULL",
                                   params));
  ASSIGN_OR_RETURN(bool has_table, DecodeBool(exists.Value(0, 0)));
  if (!has_table) return 0;
  ASSIGN_OR_RETURN(PgResult r, conn.Exec(absl::StrCat("SELECT coalesce(max(version), 0) FROM ",
                                                      schema, ".schema_version")));
  int version = 0;
  if (r.rows() != 1 || !absl::SimpleAtoi(r.Value(0, 0), &version)) {
    return absl::InternalError("cannot read schema_version");
  }
  return version;
}

}  // namespace pinning::aggregator::postgres
