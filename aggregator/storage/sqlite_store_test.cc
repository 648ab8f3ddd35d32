#include "aggregator/storage/sqlite_store.h"

#include <sqlite3.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "absl/strings/str_cat.h"
#include "aggregator/storage/count_store_test_suite.h"
#include "gtest/gtest.h"

namespace pinning::aggregator {
namespace {

INSTANTIATE_TEST_SUITE_P(
    Sqlite, CountStoreConformanceTest,
    ::testing::Values(CountStoreFactory{
        "sqlite",
        [](const std::string& dir) -> absl::StatusOr<std::unique_ptr<CountStore>> {
          SqliteStoreOptions options;
          options.path = dir + "/store.db";
          options.cache_size_kib = 2048;
          absl::StatusOr<std::unique_ptr<SqliteStore>> store = SqliteStore::Open(options);
          if (!store.ok()) return store.status();
          return std::unique_ptr<CountStore>(std::move(*store));
        }}),
    [](const ::testing::TestParamInfo<CountStoreFactory>& info) { return info.param.name; });

class SqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* tmp = std::getenv("TEST_TMPDIR");
    dir_ = absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/sqlite_store_test_",
                        ::testing::UnitTest::GetInstance()->current_test_info()->name(), "_",
                        getpid());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    options_.path = dir_ + "/store.db";
  }

  // Runs a query on a separate raw connection and returns the first column of the first row.
  std::string RawQuery(const std::string& sql) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open(options_.path.c_str(), &db), SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    std::string out;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
      const unsigned char* text = sqlite3_column_text(st, 0);
      out = text == nullptr ? "" : reinterpret_cast<const char*>(text);
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return out;
  }
  void RawExec(const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(options_.path.c_str(), &db), SQLITE_OK);
    char* error = nullptr;
    EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error), SQLITE_OK)
        << (error != nullptr ? error : "");
    sqlite3_free(error);
    sqlite3_close(db);
  }

  std::string dir_;
  SqliteStoreOptions options_;
};

TEST_F(SqliteStoreTest, MigratesEmptyDatabaseToLatest) {
  auto store = SqliteStore::Open(options_);
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ(*(*store)->CurrentSchemaVersion(), SqliteStore::LatestSchemaVersion());
  EXPECT_GE(SqliteStore::LatestSchemaVersion(), 2);
  store->reset();
  // One history row per migration, in order; every table exists.
  EXPECT_EQ(RawQuery("SELECT COUNT(*) FROM schema_version"),
            absl::StrCat(SqliteStore::LatestSchemaVersion()));
  EXPECT_EQ(RawQuery("SELECT group_concat(version) FROM (SELECT version FROM schema_version "
                     "ORDER BY version)"),
            "1,2");
  for (const char* table : {"seen_pings", "counts", "catalog_ids", "dims", "params_versions",
                            "catalogs", "rollout_events", "audit_log"}) {
    EXPECT_EQ(RawQuery(absl::StrCat("SELECT COUNT(*) FROM sqlite_master WHERE name = '", table,
                                    "'")),
              "1")
        << table;
  }
  // WAL is a persistent property of the file.
  EXPECT_EQ(RawQuery("PRAGMA journal_mode"), "wal");
}

TEST_F(SqliteStoreTest, ReopenIsIdempotent) {
  ASSERT_TRUE(SqliteStore::Open(options_).ok());
  const std::string schema_before = RawQuery("SELECT group_concat(sql, ';') FROM sqlite_master");
  for (int i = 0; i < 3; ++i) {
    auto store = SqliteStore::Open(options_);
    ASSERT_TRUE(store.ok()) << store.status();
  }
  EXPECT_EQ(RawQuery("SELECT COUNT(*) FROM schema_version"),
            absl::StrCat(SqliteStore::LatestSchemaVersion()));
  EXPECT_EQ(RawQuery("SELECT group_concat(sql, ';') FROM sqlite_master"), schema_before);
}

TEST_F(SqliteStoreTest, MigratesVersionOneDatabaseKeepingCounts) {
  const std::string id(kPingIdBytes, 'a');
  const std::string bits("\x05", 1);  // pinset 0 checked, pinset 1 checked (K = 2, 2 bits)
  PingRecord ping;
  ping.ping_id = id;
  ping.day = 20000;
  ping.params_version = 1;
  ping.catalog_version = "cat";
  ping.product = "chrome";
  ping.channel = "stable";
  ping.major_version = 120;
  ping.num_pinsets = 2;
  ping.bits_per_pinset = 2;
  ping.bits = bits;
  {
    auto v1_store = SqliteStore::OpenWithSchemaVersion(options_, 1);
    ASSERT_TRUE(v1_store.ok()) << v1_store.status();
    EXPECT_EQ(*(*v1_store)->CurrentSchemaVersion(), 1);
    std::vector<CommitOutcome> outcomes(1);
    ASSERT_TRUE((*v1_store)->CommitBatch({ping}, absl::MakeSpan(outcomes)).ok());
    // Version 1 has no registry tables.
    EXPECT_FALSE((*v1_store)->ListParamsVersions().ok());
  }
  EXPECT_EQ(RawQuery("SELECT COUNT(*) FROM sqlite_master WHERE name = 'params_versions'"), "0");
  auto store = SqliteStore::Open(options_);
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ(*(*store)->CurrentSchemaVersion(), SqliteStore::LatestSchemaVersion());
  v1::ParamsVersion params;
  params.set_version(1);
  EXPECT_TRUE((*store)->PutParamsVersion(params).ok());
  std::vector<CommitOutcome> outcomes(1);
  ASSERT_TRUE((*store)->CommitBatch({ping}, absl::MakeSpan(outcomes)).ok());
  EXPECT_EQ(outcomes[0], CommitOutcome::kDuplicate);
  int64_t checked0 = -1;
  CountQuery q;
  q.from_day = 20000;
  q.to_day = 20000;
  ASSERT_TRUE((*store)
                  ->ForEachCount(q,
                                 [&](const CountRow& r) {
                                   if (r.pinset == 0) checked0 = r.ones[0];
                                 })
                  .ok());
  EXPECT_EQ(checked0, 1);
}

TEST_F(SqliteStoreTest, RefusesNewerSchema) {
  ASSERT_TRUE(SqliteStore::Open(options_).ok());
  RawExec("INSERT INTO schema_version(version, applied_at) VALUES(99, 'future')");
  auto store = SqliteStore::Open(options_);
  EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition) << store.status();
}

TEST_F(SqliteStoreTest, FailureMidTransactionRollsBackIdsAndCounts) {
  auto store = SqliteStore::Open(options_);
  ASSERT_TRUE(store.ok()) << store.status();
  // Make the counts upsert of pinset 1 fail after the ids of the batch were inserted.
  RawExec(
      "CREATE TRIGGER fail_pinset_1 BEFORE INSERT ON counts WHEN NEW.pinset = 1 "
      "BEGIN SELECT RAISE(ABORT, 'injected failure'); END");
  const std::string id_a(kPingIdBytes, 'a'), id_b(kPingIdBytes, 'b');
  const std::string bits("\x05", 1);
  PingRecord a;
  a.ping_id = id_a;
  a.day = 20000;
  a.params_version = 1;
  a.catalog_version = "cat";
  a.num_pinsets = 2;
  a.bits_per_pinset = 2;
  a.bits = bits;
  PingRecord b = a;
  b.ping_id = id_b;
  std::vector<CommitOutcome> outcomes(2);
  absl::Status s = (*store)->CommitBatch({a, b}, absl::MakeSpan(outcomes));
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  EXPECT_EQ(*(*store)->SeenPingCount(), 0);
  int rows = 0;
  CountQuery q;
  q.to_day = 1 << 30;
  q.include_group_totals = true;
  ASSERT_TRUE((*store)->ForEachCount(q, [&](const CountRow&) { ++rows; }).ok());
  EXPECT_EQ(rows, 0);
  // After the fault is gone the same pings are counted (they were never recorded as seen).
  RawExec("DROP TRIGGER fail_pinset_1");
  s = (*store)->CommitBatch({a, b}, absl::MakeSpan(outcomes));
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(outcomes[0], CommitOutcome::kCounted);
  EXPECT_EQ(outcomes[1], CommitOutcome::kCounted);
  ASSERT_TRUE((*store)->ForEachCount(q, [&](const CountRow&) { ++rows; }).ok());
  EXPECT_EQ(rows, 3);  // group row + pinsets 0 and 1
}

TEST_F(SqliteStoreTest, RejectsMemoryDatabaseAndBadPath) {
  SqliteStoreOptions memory;
  memory.path = ":memory:";
  EXPECT_EQ(SqliteStore::Open(memory).status().code(), absl::StatusCode::kInvalidArgument);
  SqliteStoreOptions missing_dir;
  missing_dir.path = dir_ + "/no/such/dir/store.db";
  EXPECT_EQ(SqliteStore::Open(missing_dir).status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace pinning::aggregator
