#include "aggregator/storage/postgres/migrations.h"

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "aggregator/storage/postgres/pg_test_server.h"
#include "gtest/gtest.h"

namespace pinning::aggregator::postgres {
namespace {

class MigrationsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<PgTestServer>> pg = PgTestServer::Start();
    ASSERT_TRUE(pg.ok()) << pg.status();
    pg_ = *std::move(pg);
    absl::StatusOr<PgConnectionConfig> config =
        PgConnectionConfig::Create(pg_->ConnInfo(), pg_->password_file());
    ASSERT_TRUE(config.ok());
    absl::StatusOr<std::unique_ptr<PgConnection>> conn = PgConnection::Connect(*config);
    ASSERT_TRUE(conn.ok()) << conn.status();
    conn_ = *std::move(conn);
  }
  std::string Psql(const std::string& sql) {
    absl::StatusOr<std::string> out = pg_->Psql(sql);
    EXPECT_TRUE(out.ok()) << out.status();
    return out.ok() ? *out : "";
  }
  std::unique_ptr<PgTestServer> pg_;
  std::unique_ptr<PgConnection> conn_;
};

TEST_F(MigrationsTest, AppliesInOrderAndIsIdempotent) {
  EXPECT_EQ(*CurrentSchemaVersion(*conn_, "agg"), 0);
  ASSERT_TRUE(MigrateSchema(*conn_, "agg", 1).ok());
  EXPECT_EQ(*CurrentSchemaVersion(*conn_, "agg"), 1);
  EXPECT_EQ(Psql("SELECT count(*) FROM pg_tables WHERE schemaname = 'agg'"), "3");
  ASSERT_TRUE(MigrateSchema(*conn_, "agg", LatestSchemaVersion()).ok());
  const std::string tables = Psql(
      "SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_tables WHERE "
      "schemaname = 'agg'");
  EXPECT_EQ(tables,
            "audit_log,catalogs,counts,params_versions,rollout_events,schema_version,seen_pings,"
            "seen_pings_default");
  EXPECT_EQ(Psql("SELECT relkind FROM pg_class WHERE oid = 'agg.seen_pings'::regclass"), "p");
  ASSERT_TRUE(MigrateSchema(*conn_, "agg", LatestSchemaVersion()).ok());
  EXPECT_EQ(Psql("SELECT string_agg(version::text, ',' ORDER BY version) FROM agg.schema_version"),
            "1,2,3");
  EXPECT_TRUE(conn_->idle());
  // Other schemas are independent.
  EXPECT_EQ(*CurrentSchemaVersion(*conn_, "other"), 0);
}

TEST_F(MigrationsTest, FailedMigrationLeavesNoTrace) {
  // A conflicting table makes migration 1 fail; its transaction rolls back entirely.
  Psql("CREATE SCHEMA agg; CREATE TABLE agg.counts(x int)");
  absl::Status s = MigrateSchema(*conn_, "agg", 1);
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(conn_->idle());
  EXPECT_EQ(Psql("SELECT to_regclass('agg.seen_pings') IS NULL"), "t");
  EXPECT_EQ(*CurrentSchemaVersion(*conn_, "agg"), 0);
  Psql("DROP TABLE agg.counts");
  EXPECT_TRUE(MigrateSchema(*conn_, "agg", LatestSchemaVersion()).ok());
}

TEST_F(MigrationsTest, RefusesNewerSchemaAndBadNames) {
  ASSERT_TRUE(MigrateSchema(*conn_, "agg", LatestSchemaVersion()).ok());
  Psql(absl::StrCat("INSERT INTO agg.schema_version(version) VALUES (", LatestSchemaVersion() + 1,
                    ")"));
  EXPECT_EQ(MigrateSchema(*conn_, "agg", LatestSchemaVersion()).code(),
            absl::StatusCode::kFailedPrecondition);
  for (const char* bad : {"", "Agg", "1agg", "a-b", "a;drop"}) {
    EXPECT_EQ(MigrateSchema(*conn_, bad, 1).code(), absl::StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_EQ(MigrateSchema(*conn_, "agg", 0).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(MigrateSchema(*conn_, "agg", LatestSchemaVersion() + 1).code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace pinning::aggregator::postgres
