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

CountStoreFactory SqliteFactory(const std::string& name, int64_t recent_ids) {
  return CountStoreFactory{
      name, [recent_ids](const std::string& dir) -> absl::StatusOr<std::unique_ptr<CountStore>> {
        SqliteStoreOptions options;
        options.path = dir + "/store.db";
        options.cache_size_kib = 2048;
        options.recent_ids = recent_ids;
        absl::StatusOr<std::unique_ptr<SqliteStore>> store = SqliteStore::Open(options);
        if (!store.ok()) return store.status();
        return std::unique_ptr<CountStore>(std::move(*store));
      }};
}

// The default keeps every test's ids in the recent set; a recent set of 3 ids makes every suite
// test freeze, merge and look ids up in seen_pings as well.
INSTANTIATE_TEST_SUITE_P(Sqlite, CountStoreConformanceTest,
                         ::testing::Values(SqliteFactory("sqlite", 1 << 20),
                                           SqliteFactory("sqlite_tiny_recent", 3)),
                         [](const ::testing::TestParamInfo<CountStoreFactory>& info) {
                           return info.param.name;
                         });

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
            "1,2,3,4,5");
  for (const char* table :
       {"seen_pings", "seen_log_batches", "seen_meta", "counts", "counts_rollup", "catalog_ids",
        "dims", "params_versions", "catalogs", "rollout_events", "audit_log"}) {
    EXPECT_EQ(
        RawQuery(absl::StrCat("SELECT COUNT(*) FROM sqlite_master WHERE name = '", table, "'")),
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
  CountRow row;
  row.day = 20000;
  row.params_version = 1;
  row.catalog_version = "cat";
  row.product = "chrome";
  row.pinset = 0;
  row.reports = 7;
  row.ones = {3, 1, 0, 0};
  const std::string id(kPingIdBytes, 'a');
  const std::string bits("\x05", 1);
  PingRecord ping;
  ping.ping_id = id;
  ping.day = 20000;
  ping.params_version = 1;
  ping.catalog_version = "cat";
  ping.product = "chrome";
  ping.num_pinsets = 2;
  ping.bits_per_pinset = 2;
  ping.bits = bits;
  std::vector<CommitOutcome> outcomes(1);
  {
    auto v1_store = SqliteStore::OpenWithSchemaVersion(options_, 1);
    ASSERT_TRUE(v1_store.ok()) << v1_store.status();
    EXPECT_EQ(*(*v1_store)->CurrentSchemaVersion(), 1);
    ASSERT_TRUE((*v1_store)->AddCounts({row}).ok());
    // Version 1 has neither the registry tables nor the id log.
    EXPECT_FALSE((*v1_store)->ListParamsVersions().ok());
    EXPECT_EQ((*v1_store)->CommitBatch({ping}, absl::MakeSpan(outcomes)).code(),
              absl::StatusCode::kFailedPrecondition);
  }
  EXPECT_EQ(RawQuery("SELECT COUNT(*) FROM sqlite_master WHERE name = 'params_versions'"), "0");
  auto store = SqliteStore::Open(options_);
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ(*(*store)->CurrentSchemaVersion(), SqliteStore::LatestSchemaVersion());
  v1::ParamsVersion params;
  params.set_version(1);
  EXPECT_TRUE((*store)->PutParamsVersion(params).ok());
  ASSERT_TRUE((*store)->CommitBatch({ping}, absl::MakeSpan(outcomes)).ok());
  EXPECT_EQ(outcomes[0], CommitOutcome::kCounted);
  int64_t checked0 = -1, reports0 = -1;
  CountQuery q;
  q.from_day = 20000;
  q.to_day = 20000;
  ASSERT_TRUE((*store)
                  ->ForEachCount(q,
                                 [&](const CountRow& r) {
                                   if (r.pinset == 0) {
                                     checked0 = r.ones[0];
                                     reports0 = r.reports;
                                   }
                                 })
                  .ok());
  EXPECT_EQ(reports0, 8);  // 7 from version 1, 1 after the migration
  EXPECT_EQ(checked0, 4);
  // The rollup added in version 4 was filled from the counts of version 1.
  q.sum_dimensions = true;
  reports0 = -1;
  ASSERT_TRUE((*store)
                  ->ForEachCount(q,
                                 [&](const CountRow& r) {
                                   if (r.pinset == 0) reports0 = r.reports;
                                 })
                  .ok());
  EXPECT_EQ(reports0, 8);
  EXPECT_EQ(RawQuery("SELECT reports FROM counts_rollup WHERE pinset = 0"), "8");
}

TEST_F(SqliteStoreTest, RecentIdsAreMergedIntoSeenPingsAndSurviveReopen) {
  options_.recent_ids = 50;
  auto commit = [&](SqliteStore& store, int first, int count) {
    std::vector<std::string> ids;
    for (int i = first; i < first + count; ++i) {
      std::string id(kPingIdBytes, 'q');
      // Spread ids over the key space: the first bytes vary fastest.
      for (int b = 0; b < 4; ++b) id[b] = static_cast<char>(((i * 2654435761u) >> (8 * b)) & 0xff);
      ids.push_back(id);
    }
    const std::string bits("\x01", 1);
    std::vector<PingRecord> records(ids.size());
    for (size_t i = 0; i < ids.size(); ++i) {
      records[i].ping_id = ids[i];
      records[i].day = 20000 + static_cast<int>(i % 2);
      records[i].params_version = 1;
      records[i].catalog_version = "cat";
      records[i].num_pinsets = 1;
      records[i].bits_per_pinset = 2;
      records[i].bits = bits;
    }
    std::vector<CommitOutcome> outcomes(records.size());
    EXPECT_TRUE(store.CommitBatch(records, absl::MakeSpan(outcomes)).ok());
    int counted = 0;
    for (CommitOutcome o : outcomes) counted += o == CommitOutcome::kCounted;
    return counted;
  };
  {
    auto store = SqliteStore::Open(options_);
    ASSERT_TRUE(store.ok()) << store.status();
    // 400 distinct ids in batches of 40: the recent set freezes every 50+ ids and later batches
    // merge it into seen_pings.
    for (int first = 0; first < 400; first += 40) EXPECT_EQ(commit(**store, first, 40), 40);
    // Every earlier id is now a duplicate, whether it is in the recent set, the frozen set or
    // seen_pings.
    for (int first = 0; first < 400; first += 40) EXPECT_EQ(commit(**store, first, 40), 0);
    EXPECT_EQ(*(*store)->SeenPingCount(), 400);
  }
  const int in_table = std::stoi(RawQuery("SELECT COUNT(*) FROM seen_pings"));
  const int in_log =
      std::stoi(RawQuery("SELECT COALESCE(SUM(length(ids)), 0) / 20 FROM seen_log_batches"));
  EXPECT_GE(in_table, 250);  // most ids were merged
  EXPECT_LE(in_log, 150);    // the log only holds the unmerged tail
  EXPECT_GE(in_table + in_log, 400);
  auto store = SqliteStore::Open(options_);
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ(commit(**store, 0, 400), 0);    // all remembered after reopening
  EXPECT_EQ(commit(**store, 380, 40), 20);  // 400..419 are new
  EXPECT_EQ(*(*store)->SeenPingCount(), 420);
  absl::StatusOr<int64_t> pruned = (*store)->PruneSeenPings(20001);
  ASSERT_TRUE(pruned.ok());
  EXPECT_EQ(*pruned, 210);  // the day-20000 half
  EXPECT_EQ(*(*store)->SeenPingCount(), 210);
  EXPECT_EQ(commit(**store, 0, 2), 1);  // id 0 (day 20000) was forgotten, id 1 (day 20001) not
}

TEST_F(SqliteStoreTest, TwoProcessesAddingTheSameDimensionsShareIds) {
  // The aggregator and an import tool both hold the database open; each caches dictionary ids.
  auto server = SqliteStore::Open(options_);
  auto tool = SqliteStore::Open(options_);
  ASSERT_TRUE(server.ok() && tool.ok());
  CountRow row;
  row.day = 20000;
  row.params_version = 1;
  row.catalog_version = "new-catalog";
  row.product = "firefox";
  row.channel = "beta";
  row.major_version = 130;
  row.pinset = 0;
  row.reports = 3;
  ASSERT_TRUE((*tool)->AddCounts({row}).ok());
  ASSERT_TRUE((*server)->AddCounts({row}).ok());  // same catalog and dimensions, ids unknown here
  int64_t reports = 0;
  CountQuery q;
  q.from_day = 20000;
  q.to_day = 20000;
  ASSERT_TRUE((*server)->ForEachCount(q, [&](const CountRow& r) { reports += r.reports; }).ok());
  EXPECT_EQ(reports, 6);
  EXPECT_EQ(RawQuery("SELECT COUNT(*) FROM dims"), "1");
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
