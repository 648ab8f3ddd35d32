#include "aggregator/storage/postgres/postgres_store.h"

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "aggregator/storage/count_store_test_suite.h"
#include "aggregator/storage/postgres/pg_test_server.h"
#include "aggregator/storage/postgres/tcp_proxy.h"
#include "gtest/gtest.h"

namespace pinning::aggregator {
namespace {

using postgres::PgTestServer;

// One server for the whole binary; every test uses fresh schemas in it.
class ServerEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<PgTestServer>> pg = PgTestServer::Start();
    ASSERT_TRUE(pg.ok()) << pg.status();
    server_ = *std::move(pg);
  }
  void TearDown() override { server_.reset(); }
  static PgTestServer& server() { return *server_; }

 private:
  static inline std::unique_ptr<PgTestServer> server_;
};
const auto* const kEnvironment = ::testing::AddGlobalTestEnvironment(new ServerEnvironment);

PostgresStoreOptions OptionsFor(const std::string& schema,
                                PgBatchMethod method = PgBatchMethod::kUnnest) {
  PostgresStoreOptions options;
  options.conninfo = ServerEnvironment::server().ConnInfo();
  options.password_file = ServerEnvironment::server().password_file();
  options.schema = schema;
  options.pool_size = 3;
  options.batch_method = method;
  return options;
}

// SchemaFor maps a conformance-suite location (a directory path) to a schema name.
std::string SchemaFor(const std::string& location) {
  return absl::StrFormat("t_%016x", std::hash<std::string>()(location));
}

CountStoreFactory Factory(const std::string& name, PgBatchMethod method) {
  return CountStoreFactory{
      name, [method](const std::string& location) -> absl::StatusOr<std::unique_ptr<CountStore>> {
        absl::StatusOr<std::unique_ptr<PostgresStore>> store =
            PostgresStore::Open(OptionsFor(SchemaFor(location), method));
        if (!store.ok()) return store.status();
        return std::unique_ptr<CountStore>(std::move(*store));
      }};
}

// The whole backend-independent suite, once per batch method.
INSTANTIATE_TEST_SUITE_P(Postgres, CountStoreConformanceTest,
                         ::testing::Values(Factory("unnest", PgBatchMethod::kUnnest),
                                           Factory("values", PgBatchMethod::kValues),
                                           Factory("copy", PgBatchMethod::kCopy)),
                         [](const ::testing::TestParamInfo<CountStoreFactory>& info) {
                           return info.param.name;
                         });

// ---- Backend-specific behaviour ----

struct OwnedPing {
  std::string id;
  DayNumber day = 19800;
  std::string product;
  std::string bits;  // K = 4 pinsets, 2 bits each: one byte
  PingRecord Record() const {
    PingRecord r;
    r.ping_id = id;
    r.day = day;
    r.params_version = 1;
    r.catalog_version = "cat";
    r.product = product;
    r.channel = "stable";
    r.major_version = 120;
    r.num_pinsets = 4;
    r.bits_per_pinset = 2;
    r.bits = bits;
    return r;
  }
};

std::vector<OwnedPing> MakePings(int n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<OwnedPing> pings(n);
  for (int i = 0; i < n; ++i) {
    pings[i].id = std::string(16, '\0');
    for (char& c : pings[i].id) c = static_cast<char>(rng());
    pings[i].day = 19800 + static_cast<int>(rng() % 2);
    pings[i].product = rng() % 3 == 0 ? "firefox" : "chrome";
    pings[i].bits = std::string(1, static_cast<char>(rng() & 0xff));
  }
  return pings;
}

// Expected[(day, product, pinset)] = {reports, ones0, ones1}, counted by hand from the pings.
using Expected = std::map<std::tuple<DayNumber, std::string, int32_t>, std::array<int64_t, 3>>;
Expected ExpectedCounts(const std::vector<OwnedPing>& pings) {
  Expected out;
  for (const OwnedPing& p : pings) {
    out[{p.day, p.product, -1}][0] += 1;
    const auto byte = static_cast<uint8_t>(p.bits[0]);
    for (int pinset = 0; pinset < 4; ++pinset) {
      auto& cells = out[{p.day, p.product, pinset}];
      cells[0] += 1;
      cells[1] += (byte >> (2 * pinset)) & 1;
      cells[2] += (byte >> (2 * pinset + 1)) & 1;
    }
  }
  return out;
}

Expected StoredCounts(CountStore& store) {
  Expected out;
  CountQuery q;
  q.to_day = 1 << 30;
  q.include_group_totals = true;
  EXPECT_TRUE(
      store
          .ForEachCount(
              q,
              [&](const CountRow& r) {
                out[{r.day, std::string(r.product), r.pinset}] = {r.reports, r.ones[0], r.ones[1]};
              })
          .ok());
  return out;
}

class PostgresStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
    schema_ = SchemaFor(absl::StrCat("PostgresStoreTest.", info->name()));
    ASSERT_TRUE(ServerEnvironment::server()
                    .Psql(absl::StrCat("DROP SCHEMA IF EXISTS ", schema_, " CASCADE"))
                    .ok());
  }
  std::unique_ptr<PostgresStore> Open(PgBatchMethod method = PgBatchMethod::kUnnest) {
    absl::StatusOr<std::unique_ptr<PostgresStore>> store =
        PostgresStore::Open(OptionsFor(schema_, method));
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? *std::move(store) : nullptr;
  }
  std::string Psql(const std::string& sql) {
    absl::StatusOr<std::string> out = ServerEnvironment::server().Psql(sql);
    EXPECT_TRUE(out.ok()) << out.status();
    return out.ok() ? *out : "";
  }

  std::string schema_;
};

// Three replicas (stores with their own pools) and three threads each commit overlapping batches:
// every ping is submitted twice, through two different replicas (a retry landing elsewhere).
// Exactly-once: each id is counted by exactly one commit and the stored counts equal a hand count
// of the distinct pings; no commit fails (no deadlock escapes, no lost update).
TEST_F(PostgresStoreTest, ReplicasCommitConcurrentlyExactlyOnce) {
  constexpr int kReplicas = 3;
  constexpr int kThreadsPerReplica = 3;
  constexpr int kPings = 6000;
  constexpr int kBatch = 200;
  const std::vector<OwnedPing> pings = MakePings(kPings, 1234);
  std::vector<std::unique_ptr<PostgresStore>> replicas;
  for (int r = 0; r < kReplicas; ++r) replicas.push_back(Open());
  for (const auto& r : replicas) ASSERT_NE(r, nullptr);

  // Work list: every ping twice, to two different replicas, in shuffled order per worker.
  const int workers = kReplicas * kThreadsPerReplica;
  std::vector<std::vector<int>> work(workers);
  std::mt19937 rng(99);
  for (int i = 0; i < kPings; ++i) {
    const int first = static_cast<int>(rng() % workers);
    int second = static_cast<int>(rng() % workers);
    while (second / kThreadsPerReplica == first / kThreadsPerReplica) {
      second = static_cast<int>(rng() % workers);
    }
    work[first].push_back(i);
    work[second].push_back(i);
  }
  std::atomic<int64_t> counted{0}, duplicates{0}, failures{0};
  std::vector<std::atomic<int>> counted_per_ping(kPings);
  std::vector<std::thread> threads;
  for (int w = 0; w < workers; ++w) {
    std::shuffle(work[w].begin(), work[w].end(), std::mt19937(w));
    threads.emplace_back([&, w] {
      PostgresStore& store = *replicas[w / kThreadsPerReplica];
      for (size_t start = 0; start < work[w].size(); start += kBatch) {
        std::vector<PingRecord> records;
        std::vector<int> indices;
        for (size_t k = start; k < std::min(work[w].size(), start + kBatch); ++k) {
          records.push_back(pings[work[w][k]].Record());
          indices.push_back(work[w][k]);
        }
        std::vector<CommitOutcome> outcomes(records.size());
        absl::Status s = store.CommitBatch(records, absl::MakeSpan(outcomes));
        if (!s.ok()) {
          ADD_FAILURE() << s;
          ++failures;
          continue;
        }
        for (size_t k = 0; k < outcomes.size(); ++k) {
          if (outcomes[k] == CommitOutcome::kCounted) {
            ++counted;
            ++counted_per_ping[indices[k]];
          } else {
            ++duplicates;
          }
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(counted, kPings);
  EXPECT_EQ(duplicates, kPings);
  for (int i = 0; i < kPings; ++i) ASSERT_EQ(counted_per_ping[i], 1) << "ping " << i;
  EXPECT_EQ(StoredCounts(*replicas[0]), ExpectedCounts(pings));
  EXPECT_EQ(*replicas[1]->SeenPingCount(), kPings);
}

// Replicas starting together on an empty schema migrate it exactly once.
TEST_F(PostgresStoreTest, ConcurrentOpensMigrateOnce) {
  std::vector<std::thread> threads;
  std::atomic<int> opened{0};
  for (int i = 0; i < 6; ++i) {
    threads.emplace_back([&] {
      absl::StatusOr<std::unique_ptr<PostgresStore>> store =
          PostgresStore::Open(OptionsFor(schema_));
      EXPECT_TRUE(store.ok()) << store.status();
      if (store.ok()) ++opened;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(opened, 6);
  EXPECT_EQ(Psql(absl::StrCat("SELECT string_agg(version::text, ',' ORDER BY version) FROM ",
                              schema_, ".schema_version")),
            "1,2,3");
}

TEST_F(PostgresStoreTest, MigratesOlderSchemaAndRefusesNewer) {
  {
    absl::StatusOr<std::unique_ptr<PostgresStore>> v1 =
        PostgresStore::OpenWithSchemaVersion(OptionsFor(schema_), 1);
    ASSERT_TRUE(v1.ok()) << v1.status();
    EXPECT_EQ(*(*v1)->CurrentSchemaVersion(), 1);
    std::vector<OwnedPing> pings = MakePings(10, 5);
    std::vector<PingRecord> records;
    for (const auto& p : pings) records.push_back(p.Record());
    std::vector<CommitOutcome> outcomes(records.size());
    ASSERT_TRUE((*v1)->CommitBatch(records, absl::MakeSpan(outcomes)).ok());
    EXPECT_FALSE((*v1)->ListParamsVersions().ok());  // table of version 2
  }
  auto store = Open();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(*store->CurrentSchemaVersion(), PostgresStore::LatestSchemaVersion());
  EXPECT_EQ(*store->SeenPingCount(), 10);
  EXPECT_TRUE(store->ListParamsVersions().ok());
  store.reset();
  Psql(absl::StrCat("INSERT INTO ", schema_, ".schema_version(version) VALUES (99)"));
  EXPECT_EQ(PostgresStore::Open(OptionsFor(schema_)).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

// Version numbers are atomic across replicas: of many replicas publishing the same number at
// once, exactly one succeeds and the others get ALREADY_EXISTS.
TEST_F(PostgresStoreTest, ParamsVersionNumbersAreAtomicAcrossReplicas) {
  constexpr int kReplicas = 4;
  std::vector<std::unique_ptr<PostgresStore>> replicas;
  for (int r = 0; r < kReplicas; ++r) replicas.push_back(Open());
  for (uint32_t version = 1; version <= 5; ++version) {
    std::atomic<int> ok{0}, exists{0};
    std::vector<std::thread> threads;
    for (int r = 0; r < kReplicas; ++r) {
      threads.emplace_back([&, r] {
        v1::ParamsVersion p;
        p.set_version(version);
        p.set_published_by(absl::StrCat("replica", r));
        const absl::Status s = replicas[r]->PutParamsVersion(p);
        if (s.ok()) ++ok;
        if (s.code() == absl::StatusCode::kAlreadyExists) ++exists;
      });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(ok, 1) << "version " << version;
    EXPECT_EQ(exists, kReplicas - 1) << "version " << version;
  }
  absl::StatusOr<std::vector<v1::ParamsVersion>> list = replicas[0]->ListParamsVersions();
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->size(), 5u);
}

TEST_F(PostgresStoreTest, CatalogPublishedByTwoReplicasIsStoredOnce) {
  auto a = Open();
  auto b = Open();
  v1::Catalog catalog;
  catalog.set_version("v1");
  catalog.add_pinsets()->set_name("google");
  ASSERT_TRUE(a->PutCatalog(catalog).ok());
  EXPECT_TRUE(b->PutCatalog(catalog).ok());
  catalog.mutable_pinsets(0)->set_name("changed");
  EXPECT_EQ(b->PutCatalog(catalog).code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(a->ListCatalogVersions()->size(), 1u);
}

TEST_F(PostgresStoreTest, WrongPasswordIsUnavailableAndNotLogged) {
  const std::string bad_file = absl::StrCat(ServerEnvironment::server().dir(), "/bad_password");
  ASSERT_TRUE(ServerEnvironment::server().Psql("SELECT 1").ok());
  {
    FILE* f = fopen(bad_file.c_str(), "w");
    ASSERT_NE(f, nullptr);
    fputs("definitely-wrong-secret\n", f);
    fclose(f);
    chmod(bad_file.c_str(), 0600);
  }
  PostgresStoreOptions options = OptionsFor(schema_);
  options.password_file = bad_file;
  absl::StatusOr<std::unique_ptr<PostgresStore>> store = PostgresStore::Open(options);
  EXPECT_EQ(store.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(std::string(store.status().message()).find("definitely-wrong"), std::string::npos);
  options.password_file = "";
  options.conninfo += " password=x";
  EXPECT_EQ(PostgresStore::Open(options).status().code(), absl::StatusCode::kInvalidArgument);
  options = OptionsFor("Bad-Schema");
  EXPECT_EQ(PostgresStore::Open(options).status().code(), absl::StatusCode::kInvalidArgument);
}

// While the database is down, commits fail fast with UNAVAILABLE (nothing acknowledged); after it
// comes back, the pool reconnects and everything acknowledged before is still there.
TEST_F(PostgresStoreTest, SurvivesDatabaseRestart) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  const std::vector<OwnedPing> pings = MakePings(300, 77);
  auto commit = [&](int from, int to) {
    std::vector<PingRecord> records;
    for (int i = from; i < to; ++i) records.push_back(pings[i].Record());
    std::vector<CommitOutcome> outcomes(records.size());
    return store->CommitBatch(records, absl::MakeSpan(outcomes));
  };
  ASSERT_TRUE(commit(0, 100).ok());
  const int64_t connects_before = store->connects_total();
  PgTestServer& pg = ServerEnvironment::server();
  ASSERT_TRUE(pg.Stop(/*immediate=*/true).ok());
  const absl::Time start = absl::Now();
  const absl::Status down = commit(100, 200);
  EXPECT_EQ(down.code(), absl::StatusCode::kUnavailable) << down;
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
  ASSERT_TRUE(pg.Resume().ok());
  // The pool's backoff is at most a few seconds.
  absl::Status up;
  for (int i = 0; i < 100; ++i) {
    up = commit(100, 300);
    if (up.ok()) break;
    EXPECT_EQ(up.code(), absl::StatusCode::kUnavailable) << up;
    absl::SleepFor(absl::Milliseconds(100));
  }
  ASSERT_TRUE(up.ok()) << up;
  EXPECT_GT(store->connects_total(), connects_before);
  EXPECT_EQ(StoredCounts(*store), ExpectedCounts(pings));
  EXPECT_EQ(*store->SeenPingCount(), 300);
}

// A network partition between the replica and the database (here a proxy that stops moving
// bytes, so TCP itself never notices) fails commits with UNAVAILABLE within the client-side
// timeouts instead of hanging them; after the partition heals, commits succeed again and the
// counts are exact.
TEST_F(PostgresStoreTest, NetworkPartitionFailsFastAndHeals) {
  absl::StatusOr<std::unique_ptr<postgres::TcpProxy>> proxy =
      postgres::TcpProxy::Start(ServerEnvironment::server().port());
  ASSERT_TRUE(proxy.ok()) << proxy.status();
  PostgresStoreOptions options = OptionsFor(schema_);
  options.conninfo = absl::StrCat("host=127.0.0.1 port=", (*proxy)->port(),
                                  " user=postgres dbname=postgres connect_timeout=2");
  options.query_timeout = absl::Seconds(1);
  options.commit_attempts = 2;
  absl::StatusOr<std::unique_ptr<PostgresStore>> store = PostgresStore::Open(options);
  ASSERT_TRUE(store.ok()) << store.status();
  const std::vector<OwnedPing> pings = MakePings(300, 31);
  auto commit = [&](int from, int to) {
    std::vector<PingRecord> records;
    for (int i = from; i < to; ++i) records.push_back(pings[i].Record());
    std::vector<CommitOutcome> outcomes(records.size());
    return (*store)->CommitBatch(records, absl::MakeSpan(outcomes));
  };
  ASSERT_TRUE(commit(0, 100).ok());
  (*proxy)->SetPartitioned(true);
  const absl::Time start = absl::Now();
  const absl::Status partitioned = commit(100, 200);
  EXPECT_EQ(partitioned.code(), absl::StatusCode::kUnavailable) << partitioned;
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
  (*proxy)->SetPartitioned(false);
  absl::Status healed;
  for (int i = 0; i < 100; ++i) {
    healed = commit(100, 300);
    if (healed.ok()) break;
    absl::SleepFor(absl::Milliseconds(100));
  }
  ASSERT_TRUE(healed.ok()) << healed;
  EXPECT_EQ(StoredCounts(**store), ExpectedCounts(pings));
  EXPECT_EQ(*(*store)->SeenPingCount(), 300);
}

std::vector<PingRecord> Records(const std::vector<OwnedPing>& pings) {
  std::vector<PingRecord> records;
  for (const OwnedPing& p : pings) records.push_back(p.Record());
  return records;
}

// Each day's ids live in their own partition, created as the day appears (with the next day's);
// pruning drops expired partitions and reports how many ids they held.
TEST_F(PostgresStoreTest, DayPartitionsAreCreatedAndDropped) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  std::vector<OwnedPing> pings = MakePings(90, 3);
  for (int i = 0; i < 90; ++i) pings[i].day = 100 + i % 3;  // 30 each on days 100, 101, 102
  std::vector<PingRecord> records = Records(pings);
  std::vector<CommitOutcome> outcomes(records.size());
  ASSERT_TRUE(store->CommitBatch(records, absl::MakeSpan(outcomes)).ok());
  auto partitions = [&] {
    return Psql(absl::StrCat(
        "SELECT string_agg(c.relname, ',' ORDER BY c.relname) FROM pg_inherits i JOIN pg_class c "
        "ON c.oid = i.inhrelid WHERE i.inhparent = '",
        schema_, ".seen_pings'::regclass"));
  };
  EXPECT_EQ(partitions(),
            "seen_pings_d100,seen_pings_d101,seen_pings_d102,seen_pings_d103,seen_pings_default");
  EXPECT_EQ(Psql(absl::StrCat("SELECT count(*) FROM ", schema_, ".seen_pings_d101")), "30");
  EXPECT_EQ(Psql(absl::StrCat("SELECT count(*) FROM ", schema_, ".seen_pings_default")), "0");
  // A second replica sees the partitions another one created.
  auto other = Open();
  ASSERT_TRUE(other->CommitBatch(records, absl::MakeSpan(outcomes)).ok());
  for (CommitOutcome o : outcomes) EXPECT_EQ(o, CommitOutcome::kDuplicate);
  absl::StatusOr<int64_t> pruned = other->PruneSeenPings(102);
  ASSERT_TRUE(pruned.ok()) << pruned.status();
  EXPECT_EQ(*pruned, 60);
  EXPECT_EQ(partitions(), "seen_pings_d102,seen_pings_d103,seen_pings_default");
  EXPECT_EQ(*store->PruneSeenPings(102), 0);  // already dropped by the other replica
  EXPECT_EQ(*store->SeenPingCount(), 30);
  // An expired day that comes back (e.g. an import of old pings) gets a partition again.
  ASSERT_TRUE(store->CommitBatch({records.data(), 1}, absl::MakeSpan(outcomes.data(), 1)).ok());
  EXPECT_EQ(outcomes[0], CommitOutcome::kCounted);
  EXPECT_EQ(Psql(absl::StrCat("SELECT count(*) FROM ", schema_, ".seen_pings_d100")), "1");
}

// A huge expired day is not scanned to be counted: the planner's estimate is reported instead.
TEST_F(PostgresStoreTest, PruningAHugeDayReportsTheEstimate) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  std::vector<OwnedPing> pings = MakePings(10, 6);
  for (auto& p : pings) p.day = 300;
  std::vector<PingRecord> records = Records(pings);
  std::vector<CommitOutcome> outcomes(records.size());
  ASSERT_TRUE(store->CommitBatch(records, absl::MakeSpan(outcomes)).ok());
  // Pretend ANALYZE saw five million rows.
  Psql(absl::StrCat("UPDATE pg_class SET reltuples = 5000000 WHERE oid = '", schema_,
                    ".seen_pings_d300'::regclass"));
  EXPECT_EQ(*store->PruneSeenPings(301), 5000000);
  EXPECT_EQ(*store->SeenPingCount(), 0);
}

// Ids stored before version 3 move into the default partition and keep deduplicating; their days
// stay in the default partition and are pruned by deletes.
TEST_F(PostgresStoreTest, IdsFromBeforePartitioningStayInTheDefaultPartition) {
  std::vector<OwnedPing> pings = MakePings(40, 4);
  for (auto& p : pings) p.day = 200;
  std::vector<PingRecord> records = Records(pings);
  std::vector<CommitOutcome> outcomes(records.size());
  {
    absl::StatusOr<std::unique_ptr<PostgresStore>> v2 =
        PostgresStore::OpenWithSchemaVersion(OptionsFor(schema_), 2);
    ASSERT_TRUE(v2.ok()) << v2.status();
    ASSERT_TRUE((*v2)->CommitBatch({records.data(), 20}, absl::MakeSpan(outcomes.data(), 20)).ok());
  }
  auto store = Open();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(Psql(absl::StrCat("SELECT count(*) FROM ", schema_, ".seen_pings_default")), "20");
  ASSERT_TRUE(store->CommitBatch(records, absl::MakeSpan(outcomes)).ok());
  for (int i = 0; i < 40; ++i) {
    EXPECT_EQ(outcomes[i], i < 20 ? CommitOutcome::kDuplicate : CommitOutcome::kCounted) << i;
  }
  EXPECT_EQ(Psql(absl::StrCat("SELECT count(*) FROM ", schema_, ".seen_pings_default")), "40");
  EXPECT_EQ(Psql(absl::StrCat("SELECT to_regclass('", schema_, ".seen_pings_d200') IS NULL")), "t");
  EXPECT_EQ(*store->PruneSeenPings(201), 40);
  EXPECT_EQ(*store->SeenPingCount(), 0);
  EXPECT_EQ(StoredCounts(*store), ExpectedCounts(pings));
}

// With sum_dimensions and no dimension filter the server sums over products (one row per day,
// pinset); with a dimension filter it returns per-dimension rows.
TEST_F(PostgresStoreTest, SumDimensionsIsComputedByTheServer) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  const std::vector<OwnedPing> pings = MakePings(200, 9);  // chrome and firefox, days 19800-1
  std::vector<PingRecord> records = Records(pings);
  std::vector<CommitOutcome> outcomes(records.size());
  ASSERT_TRUE(store->CommitBatch(records, absl::MakeSpan(outcomes)).ok());
  CountQuery q;
  q.to_day = 1 << 30;
  q.include_group_totals = true;
  q.sum_dimensions = true;
  std::map<std::pair<DayNumber, int32_t>, int64_t> summed;
  int rows = 0;
  ASSERT_TRUE(store
                  ->ForEachCount(q,
                                 [&](const CountRow& r) {
                                   ++rows;
                                   EXPECT_EQ(r.product, "");
                                   EXPECT_EQ(r.major_version, 0u);
                                   summed[{r.day, r.pinset}] += r.reports;
                                 })
                  .ok());
  EXPECT_EQ(rows, 2 * 5);  // 2 days x (group row + 4 pinsets)
  int64_t day0 = 0;
  for (const OwnedPing& p : pings) day0 += p.day == 19800;
  EXPECT_EQ((summed[{19800, -1}]), day0);
  q.product = "chrome";
  ASSERT_TRUE(
      store->ForEachCount(q, [&](const CountRow& r) { EXPECT_EQ(r.product, "chrome"); }).ok());
}

// Pruning a day larger than one delete chunk removes all of it, and only it.
TEST_F(PostgresStoreTest, PrunesLargeDaysInChunks) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  // 120,000 ids alternating between days 100 and 101 (more than one 50,000-id chunk per day).
  Psql(absl::StrCat("INSERT INTO ", schema_,
                    ".seen_pings SELECT 100 + (i % 2), decode(md5(i::text), 'hex') "
                    "FROM generate_series(1, 120000) i"));
  absl::StatusOr<int64_t> pruned = store->PruneSeenPings(101);
  ASSERT_TRUE(pruned.ok()) << pruned.status();
  EXPECT_EQ(*pruned, 60000);
  EXPECT_EQ(*store->SeenPingCount(), 60000);
  EXPECT_EQ(Psql(absl::StrCat("SELECT count(*) FROM ", schema_, ".seen_pings WHERE day = 101")),
            "60000");
}

// A connection killed in the middle of the pool's life (a backend crash or a proxy dropping it)
// costs no commit: CommitBatch retries on a fresh connection.
TEST_F(PostgresStoreTest, RetriesOnKilledConnection) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  const std::vector<OwnedPing> pings = MakePings(50, 8);
  std::vector<PingRecord> records;
  for (const auto& p : pings) records.push_back(p.Record());
  std::vector<CommitOutcome> outcomes(records.size());
  ASSERT_TRUE(store->CommitBatch({records.data(), 25}, absl::MakeSpan(outcomes.data(), 25)).ok());
  Psql(
      absl::StrCat("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE "
                   "application_name = 'aggregatord' AND pid <> pg_backend_pid()"));
  ASSERT_TRUE(
      store->CommitBatch({records.data() + 25, 25}, absl::MakeSpan(outcomes.data() + 25, 25)).ok());
  EXPECT_EQ(StoredCounts(*store), ExpectedCounts(pings));
}

}  // namespace
}  // namespace pinning::aggregator
