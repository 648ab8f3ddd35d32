#include "aggregator/storage/count_store_test_suite.h"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>
#include <thread>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "aggregator/storage/counts_csv.h"
#include "gmock/gmock.h"

namespace pinning::aggregator {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;

// A ping that owns the bytes its PingRecord points at.
struct TestPing {
  std::string id;
  DayNumber day = 19800;
  uint32_t params_version = 1;
  std::string catalog = "cat-a";
  std::string product = "chrome";
  std::string channel = "stable";
  uint32_t major = 120;
  uint32_t num_pinsets = 3;
  uint32_t bits_per_pinset = 2;
  std::vector<uint32_t> indices;
  std::string bits;

  PingRecord Record() const {
    PingRecord r;
    r.ping_id = id;
    r.day = day;
    r.params_version = params_version;
    r.catalog_version = catalog;
    r.product = product;
    r.channel = channel;
    r.major_version = major;
    r.num_pinsets = num_pinsets;
    r.bits_per_pinset = bits_per_pinset;
    r.pinset_indices = indices;
    r.bits = bits;
    return r;
  }
};

// Id(n): a 16-byte id derived from n.
std::string Id(int n) {
  std::string id(kPingIdBytes, '\0');
  for (int i = 0; i < 4; ++i) id[i] = static_cast<char>((n >> (8 * i)) & 0xff);
  id[15] = 'x';
  return id;
}

// Pack writes the bits LSB first, as documented in proto/ping.proto.
std::string Pack(const std::vector<int>& bits) {
  std::string out((bits.size() + 7) / 8, '\0');
  for (size_t j = 0; j < bits.size(); ++j) {
    if (bits[j]) out[j / 8] = static_cast<char>(out[j / 8] | (1 << (j % 8)));
  }
  return out;
}

// All-pinsets ping (K = 3, 2 bits each) with the given bits: {c0, v0, c1, v1, c2, v2}.
TestPing Full(int id, const std::vector<int>& bits, DayNumber day = 19800) {
  TestPing p;
  p.id = Id(id);
  p.day = day;
  p.bits = Pack(bits);
  return p;
}

using RowKey =
    std::tuple<DayNumber, uint32_t, std::string, std::string, std::string, uint32_t, int32_t>;
struct Cells {
  int64_t reports = 0;
  std::array<int64_t, kMaxBitsPerPinset> ones{};
  friend bool operator==(const Cells& a, const Cells& b) {
    return a.reports == b.reports && a.ones == b.ones;
  }
  friend std::ostream& operator<<(std::ostream& os, const Cells& c) {
    return os << "{reports " << c.reports << ", ones " << c.ones[0] << "," << c.ones[1] << ","
              << c.ones[2] << "," << c.ones[3] << "}";
  }
};

CountQuery AllRows() {
  CountQuery q;
  q.from_day = 0;
  q.to_day = 1 << 30;
  q.include_group_totals = true;
  return q;
}

std::map<RowKey, Cells> ReadRows(CountStore& store, const CountQuery& query = AllRows()) {
  std::map<RowKey, Cells> rows;
  absl::Status s = store.ForEachCount(query, [&](const CountRow& r) {
    RowKey key{r.day,
               r.params_version,
               std::string(r.catalog_version),
               std::string(r.product),
               std::string(r.channel),
               r.major_version,
               r.pinset};
    EXPECT_EQ(rows.count(key), 0u) << "duplicate row";
    rows[key] = Cells{r.reports, r.ones};
  });
  EXPECT_TRUE(s.ok()) << s;
  return rows;
}

// Pinset -> cells for the default group (day 19800, params 1, cat-a, chrome/stable/120).
std::map<int32_t, Cells> DefaultGroup(CountStore& store) {
  std::map<int32_t, Cells> out;
  for (const auto& [key, cells] : ReadRows(store)) {
    if (key == RowKey{19800, 1, "cat-a", "chrome", "stable", 120, std::get<6>(key)}) {
      out[std::get<6>(key)] = cells;
    }
  }
  return out;
}

std::vector<CommitOutcome> Commit(CountStore& store, const std::vector<TestPing>& pings) {
  std::vector<PingRecord> records;
  for (const TestPing& p : pings) records.push_back(p.Record());
  std::vector<CommitOutcome> outcomes(records.size());
  absl::Status s = store.CommitBatch(records, absl::MakeSpan(outcomes));
  EXPECT_TRUE(s.ok()) << s;
  return outcomes;
}

constexpr CommitOutcome kCounted = CommitOutcome::kCounted;
constexpr CommitOutcome kDuplicate = CommitOutcome::kDuplicate;

}  // namespace

void CountStoreConformanceTest::SetUp() {
  const char* tmp = std::getenv("TEST_TMPDIR");
  const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string name = absl::StrCat(info->test_suite_name(), "_", info->name());
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  location_ = absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/", name, "_", getpid());
  std::filesystem::remove_all(location_);
  std::filesystem::create_directories(location_);
}

std::unique_ptr<CountStore> CountStoreConformanceTest::Open() {
  absl::StatusOr<std::unique_ptr<CountStore>> store = GetParam().open(location_);
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? std::move(*store) : nullptr;
}

std::unique_ptr<CountStore> CountStoreConformanceTest::OpenAt(const std::string& suffix) {
  const std::string dir = absl::StrCat(location_, "_", suffix);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  absl::StatusOr<std::unique_ptr<CountStore>> store = GetParam().open(dir);
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? std::move(*store) : nullptr;
}

TEST_P(CountStoreConformanceTest, CountsRoundTrip) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  // Bits per ping: {checked0, violated0, checked1, violated1, checked2, violated2}.
  EXPECT_THAT(Commit(*store, {Full(1, {1, 0, 1, 1, 0, 0}), Full(2, {1, 1, 0, 0, 0, 1}),
                              Full(3, {0, 0, 1, 0, 1, 1})}),
              ElementsAre(kCounted, kCounted, kCounted));
  EXPECT_THAT(DefaultGroup(*store),
              ElementsAre(Pair(-1, Cells{3, {0, 0, 0, 0}}), Pair(0, Cells{3, {2, 1, 0, 0}}),
                          Pair(1, Cells{3, {2, 1, 0, 0}}), Pair(2, Cells{3, {1, 2, 0, 0}})));
}

TEST_P(CountStoreConformanceTest, SubsetPingsCountOnlyReportedPinsets) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  TestPing a = Full(1, {});
  a.num_pinsets = 5;
  a.indices = {1, 4};
  a.bits = Pack({1, 1, 1, 0});
  TestPing b = a;
  b.id = Id(2);
  b.indices = {0, 4};
  b.bits = Pack({0, 0, 1, 1});
  Commit(*store, {a, b});
  EXPECT_THAT(DefaultGroup(*store),
              ElementsAre(Pair(-1, Cells{2, {0, 0, 0, 0}}), Pair(0, Cells{1, {0, 0, 0, 0}}),
                          Pair(1, Cells{1, {1, 1, 0, 0}}), Pair(4, Cells{2, {2, 1, 0, 0}})));
}

TEST_P(CountStoreConformanceTest, ThreeBitsPerPinsetUseThreeColumns) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  TestPing p = Full(1, {});
  p.num_pinsets = 3;
  p.bits_per_pinset = 3;
  p.bits = Pack({1, 0, 1, 0, 1, 1, 1, 1, 0});  // 9 bits, 2 bytes, 7 zero padding bits
  Commit(*store, {p});
  EXPECT_THAT(DefaultGroup(*store),
              ElementsAre(Pair(-1, Cells{1, {0, 0, 0, 0}}), Pair(0, Cells{1, {1, 0, 1, 0}}),
                          Pair(1, Cells{1, {0, 1, 1, 0}}), Pair(2, Cells{1, {1, 1, 0, 0}})));
}

TEST_P(CountStoreConformanceTest, CountsAreAdditiveAcrossBatches) {
  auto split = Open();
  auto together = OpenAt("together");
  ASSERT_NE(split, nullptr);
  ASSERT_NE(together, nullptr);
  std::vector<TestPing> pings;
  for (int i = 0; i < 40; ++i) {
    TestPing p = Full(i, {i % 2, i % 3 == 0, i % 5 == 0, 0, 1, i % 7 == 0}, 19800 + i % 3);
    p.product = i % 4 == 0 ? "firefox" : "chrome";
    pings.push_back(p);
  }
  Commit(*split, std::vector<TestPing>(pings.begin(), pings.begin() + 17));
  Commit(*split, std::vector<TestPing>(pings.begin() + 17, pings.end()));
  Commit(*together, pings);
  const auto rows = ReadRows(*split);
  EXPECT_EQ(rows, ReadRows(*together));
  // Spot check against a hand count: day 19800 holds i = 0, 3, ..., 39 (14 pings), of which
  // firefox are i % 4 == 0: 0, 12, 24, 36.
  auto it = rows.find(RowKey{19800, 1, "cat-a", "firefox", "stable", 120, -1});
  ASSERT_NE(it, rows.end());
  EXPECT_EQ(it->second.reports, 4);
  // Pinset 2 bit 0 is always 1: reports == ones0 == 10 chrome pings on day 19800.
  it = rows.find(RowKey{19800, 1, "cat-a", "chrome", "stable", 120, 2});
  ASSERT_NE(it, rows.end());
  EXPECT_EQ(it->second.reports, 10);
  EXPECT_EQ(it->second.ones[0], 10);
}

TEST_P(CountStoreConformanceTest, UnknownDimensionsAreStoredAsEmpty) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  TestPing p = Full(1, {1, 0, 0, 0, 0, 0});
  p.product.clear();
  p.channel.clear();
  p.major = 0;
  Commit(*store, {p, Full(2, {1, 0, 0, 0, 0, 0})});
  auto rows = ReadRows(*store);
  EXPECT_EQ((rows[RowKey{19800, 1, "cat-a", "", "", 0, -1}].reports), 1);
  EXPECT_EQ((rows[RowKey{19800, 1, "cat-a", "chrome", "stable", 120, -1}].reports), 1);
  EXPECT_EQ(rows.size(), 8u);  // two groups of a total row and three pinset rows
}

TEST_P(CountStoreConformanceTest, DuplicateWithinBatchIsCountedOnce) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  EXPECT_THAT(Commit(*store, {Full(7, {1, 1, 0, 0, 0, 0}), Full(8, {1, 0, 0, 0, 0, 0}),
                              Full(7, {1, 1, 0, 0, 0, 0})}),
              ElementsAre(kCounted, kCounted, kDuplicate));
  EXPECT_EQ(DefaultGroup(*store)[-1].reports, 2);
  EXPECT_EQ(DefaultGroup(*store)[0], (Cells{2, {2, 1, 0, 0}}));
  EXPECT_EQ(*store->SeenPingCount(), 2);
}

TEST_P(CountStoreConformanceTest, DuplicateAcrossBatchesIsCountedOnce) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  EXPECT_THAT(Commit(*store, {Full(1, {1, 1, 0, 0, 0, 0})}), ElementsAre(kCounted));
  EXPECT_THAT(Commit(*store, {Full(2, {1, 0, 0, 0, 0, 0}), Full(1, {1, 1, 0, 0, 0, 0})}),
              ElementsAre(kCounted, kDuplicate));
  EXPECT_EQ(DefaultGroup(*store)[0], (Cells{2, {2, 1, 0, 0}}));
}

TEST_P(CountStoreConformanceTest, ExactlyOnceSurvivesReopen) {
  {
    auto store = Open();
    ASSERT_NE(store, nullptr);
    Commit(*store, {Full(1, {1, 1, 0, 0, 0, 0}), Full(2, {1, 0, 0, 0, 0, 0})});
  }
  auto store = Open();
  ASSERT_NE(store, nullptr);
  EXPECT_THAT(Commit(*store, {Full(2, {1, 0, 0, 0, 0, 0}), Full(3, {0, 0, 0, 0, 0, 0}),
                              Full(1, {1, 1, 0, 0, 0, 0})}),
              ElementsAre(kDuplicate, kCounted, kDuplicate));
  EXPECT_EQ(DefaultGroup(*store)[-1].reports, 3);
  EXPECT_EQ(DefaultGroup(*store)[0], (Cells{3, {2, 1, 0, 0}}));
}

TEST_P(CountStoreConformanceTest, PruneForgetsOnlyExpiredIds) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  Commit(*store, {Full(1, {1, 0, 0, 0, 0, 0}, 100), Full(2, {1, 0, 0, 0, 0, 0}, 101),
                  Full(3, {1, 0, 0, 0, 0, 0}, 102), Full(4, {1, 0, 0, 0, 0, 0}, 102)});
  EXPECT_EQ(*store->SeenPingCount(), 4);
  absl::StatusOr<int64_t> pruned = store->PruneSeenPings(102);
  ASSERT_TRUE(pruned.ok()) << pruned.status();
  EXPECT_EQ(*pruned, 2);
  EXPECT_EQ(*store->SeenPingCount(), 2);
  EXPECT_EQ(*store->PruneSeenPings(102), 0);
  // Kept ids are still duplicates; a forgotten id would be counted again, which is why the
  // validator never accepts days older than the retention window.
  EXPECT_THAT(Commit(*store, {Full(3, {1, 0, 0, 0, 0, 0}, 102), Full(1, {1, 0, 0, 0, 0, 0}, 100)}),
              ElementsAre(kDuplicate, kCounted));
  // Pruning ids never touches counts.
  auto rows = ReadRows(*store);
  EXPECT_EQ((rows[RowKey{100, 1, "cat-a", "chrome", "stable", 120, -1}].reports), 2);
  EXPECT_EQ((rows[RowKey{102, 1, "cat-a", "chrome", "stable", 120, -1}].reports), 2);
}

TEST_P(CountStoreConformanceTest, InvalidRecordFailsWholeBatch) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  std::vector<TestPing> bad_pings(6, Full(1, {1, 0, 0, 0, 0, 0}));
  bad_pings[0].id = "short";
  bad_pings[1].bits = Pack({1, 0, 0, 0, 0, 0, 0, 0, 1});  // two bytes for six bits
  bad_pings[2].bits = Pack({1, 0, 0, 0, 0, 0, 1});        // padding bit set
  bad_pings[3].indices = {2, 1};                          // not ascending
  bad_pings[3].bits = Pack({1, 0, 0, 0});
  bad_pings[4].indices = {0, 3};  // 3 >= K
  bad_pings[4].bits = Pack({1, 0, 0, 0});
  bad_pings[5].bits_per_pinset = kMaxBitsPerPinset + 1;
  for (size_t i = 0; i < bad_pings.size(); ++i) {
    const TestPing good = Full(50, {1, 1, 1, 1, 1, 1});
    std::vector<PingRecord> records = {good.Record(), bad_pings[i].Record()};
    std::vector<CommitOutcome> outcomes(2);
    absl::Status s = store->CommitBatch(records, absl::MakeSpan(outcomes));
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << i << ": " << s;
  }
  EXPECT_TRUE(ReadRows(*store).empty());
  EXPECT_EQ(*store->SeenPingCount(), 0);
}

TEST_P(CountStoreConformanceTest, QueryFiltersByDayParamsAndDimensions) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  std::vector<TestPing> pings;
  int id = 0;
  for (DayNumber day : {10, 11, 12}) {
    for (const char* product : {"chrome", "firefox"}) {
      for (uint32_t params : {1u, 2u}) {
        TestPing p = Full(++id, {1, 0, 0, 0, 0, 0}, day);
        p.product = product;
        p.params_version = params;
        p.channel = params == 1 ? "stable" : "beta";
        pings.push_back(p);
      }
    }
  }
  Commit(*store, pings);
  auto count_groups = [&](CountQuery q) {
    int64_t pings_seen = 0;
    std::set<DayNumber> days;
    EXPECT_TRUE(store
                    ->ForEachCount(q,
                                   [&](const CountRow& r) {
                                     if (r.pinset == kGroupTotalPinset) pings_seen += r.reports;
                                     days.insert(r.day);
                                   })
                    .ok());
    return std::make_pair(pings_seen, days.size());
  };
  CountQuery q = AllRows();
  EXPECT_EQ(count_groups(q), std::make_pair(int64_t{12}, size_t{3}));
  q.from_day = 11;
  q.to_day = 11;
  EXPECT_EQ(count_groups(q), std::make_pair(int64_t{4}, size_t{1}));
  q = AllRows();
  q.product = "firefox";
  EXPECT_EQ(count_groups(q), std::make_pair(int64_t{6}, size_t{3}));
  q.channel = "beta";
  EXPECT_EQ(count_groups(q), std::make_pair(int64_t{3}, size_t{3}));
  q = AllRows();
  q.params_version = 2;
  EXPECT_EQ(count_groups(q), std::make_pair(int64_t{6}, size_t{3}));
  q.major_version = 99;
  EXPECT_EQ(count_groups(q), std::make_pair(int64_t{0}, size_t{0}));
  // Without group totals only pinset rows come back.
  q = AllRows();
  q.include_group_totals = false;
  bool saw_group_row = false;
  ASSERT_TRUE(store
                  ->ForEachCount(
                      q, [&](const CountRow& r) { saw_group_row |= r.pinset == kGroupTotalPinset; })
                  .ok());
  EXPECT_FALSE(saw_group_row);
  // Rows come ordered by day.
  DayNumber last = -1;
  ASSERT_TRUE(store
                  ->ForEachCount(AllRows(),
                                 [&](const CountRow& r) {
                                   EXPECT_GE(r.day, last);
                                   last = r.day;
                                 })
                  .ok());
}

TEST_P(CountStoreConformanceTest, SumDimensionsGivesTheSameTotals) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  std::vector<TestPing> pings;
  for (int i = 0; i < 30; ++i) {
    TestPing p = Full(i, {1, i % 2, i % 3 == 0, 1, 0, i % 5 == 0}, 19800 + i % 2);
    p.product = i % 3 == 0 ? "firefox" : "chrome";
    p.major = 118 + i % 4;
    pings.push_back(p);
  }
  Commit(*store, pings);
  CountRow extra;  // imported counts are summed too
  extra.day = 19800;
  extra.params_version = 1;
  extra.catalog_version = "cat-a";
  extra.product = "chrome";
  extra.pinset = 1;
  extra.reports = 5;
  extra.ones = {2, 1, 0, 0};
  ASSERT_TRUE(store->AddCounts({extra}).ok());
  // (day, params, catalog, pinset) -> summed cells, from detailed rows and from the hint.
  auto sums = [&](bool sum_dimensions) {
    std::map<std::tuple<DayNumber, uint32_t, std::string, int32_t>, Cells> out;
    CountQuery q = AllRows();
    q.sum_dimensions = sum_dimensions;
    EXPECT_TRUE(
        store
            ->ForEachCount(
                q,
                [&](const CountRow& r) {
                  Cells& c =
                      out[{r.day, r.params_version, std::string(r.catalog_version), r.pinset}];
                  c.reports += r.reports;
                  for (int b = 0; b < kMaxBitsPerPinset; ++b) c.ones[b] += r.ones[b];
                })
            .ok());
    return out;
  };
  const auto detailed = sums(false);
  EXPECT_EQ(sums(true), detailed);
  EXPECT_EQ((detailed.at({19800, 1, "cat-a", 1}).reports), 15 + 5);
  EXPECT_EQ((detailed.at({19801, 1, "cat-a", -1}).reports), 15);
}

TEST_P(CountStoreConformanceTest, AddCountsAddsAndRejectsBadRows) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  Commit(*store, {Full(1, {1, 1, 0, 0, 0, 0})});
  CountRow row;
  row.day = 19800;
  row.params_version = 1;
  row.catalog_version = "cat-a";
  row.product = "chrome";
  row.channel = "stable";
  row.major_version = 120;
  row.pinset = 0;
  row.reports = 10;
  row.ones = {4, 3, 0, 0};
  ASSERT_TRUE(store->AddCounts({row}).ok());
  EXPECT_EQ(DefaultGroup(*store)[0], (Cells{11, {5, 4, 0, 0}}));
  CountRow bad = row;
  bad.ones[1] = 11;  // more ones than reports
  EXPECT_EQ(store->AddCounts({row, bad}).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(DefaultGroup(*store)[0], (Cells{11, {5, 4, 0, 0}}));  // nothing of the batch added
}

TEST_P(CountStoreConformanceTest, ParamsVersionsPersist) {
  {
    auto store = Open();
    ASSERT_NE(store, nullptr);
    for (uint32_t v : {2u, 1u, 3u}) {
      v1::ParamsVersion p;
      p.set_version(v);
      p.mutable_params()->set_f(0.1 * v);
      p.set_catalog_version("cat-a");
      p.set_epsilon_one(1.5);
      p.set_published_by("alice");
      ASSERT_TRUE(store->PutParamsVersion(p).ok());
    }
    v1::ParamsVersion again;
    again.set_version(2);
    EXPECT_EQ(store->PutParamsVersion(again).code(), absl::StatusCode::kAlreadyExists);
    v1::ParamsVersion zero;
    EXPECT_EQ(store->PutParamsVersion(zero).code(), absl::StatusCode::kInvalidArgument);
  }
  auto store = Open();
  ASSERT_NE(store, nullptr);
  absl::StatusOr<std::vector<v1::ParamsVersion>> list = store->ListParamsVersions();
  ASSERT_TRUE(list.ok()) << list.status();
  ASSERT_EQ(list->size(), 3u);
  EXPECT_EQ((*list)[0].version(), 1u);
  EXPECT_EQ((*list)[2].version(), 3u);
  EXPECT_DOUBLE_EQ((*list)[1].params().f(), 0.2);
  EXPECT_EQ((*list)[1].published_by(), "alice");
}

TEST_P(CountStoreConformanceTest, CatalogsPersist) {
  v1::Catalog a;
  a.set_version("aaaa");
  a.add_pinsets()->set_name("google");
  a.mutable_pinsets(0)->set_organization("Google");
  v1::Catalog b;
  b.set_version("bbbb");
  b.add_pinsets()->set_name("tor");
  {
    auto store = Open();
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->PutCatalog(b).ok());
    ASSERT_TRUE(store->PutCatalog(a).ok());
    EXPECT_TRUE(store->PutCatalog(a).ok());  // same content: no-op
    v1::Catalog changed = a;
    changed.mutable_pinsets(0)->set_name("other");
    EXPECT_EQ(store->PutCatalog(changed).code(), absl::StatusCode::kAlreadyExists);
    v1::Catalog unnamed;
    EXPECT_EQ(store->PutCatalog(unnamed).code(), absl::StatusCode::kInvalidArgument);
  }
  auto store = Open();
  ASSERT_NE(store, nullptr);
  absl::StatusOr<v1::Catalog> got = store->GetCatalog("aaaa");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->pinsets(0).organization(), "Google");
  EXPECT_EQ(got->pinsets(0).name(), "google");
  EXPECT_EQ(store->GetCatalog("cccc").status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(*store->ListCatalogVersions(), ElementsAre("bbbb", "aaaa"));
}

TEST_P(CountStoreConformanceTest, EventsPersistWithIncreasingIdsAndFilters) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  auto add = [&](const char* day, const char* org, v1::EventKind kind) {
    v1::RolloutEvent e;
    e.set_day(day);
    e.set_organization(org);
    e.set_kind(kind);
    e.set_description(absl::StrCat("event on ", day));
    e.set_recorded_by("bob");
    absl::StatusOr<v1::RolloutEvent> stored = store->AddEvent(e);
    EXPECT_TRUE(stored.ok()) << stored.status();
    return stored.ok() ? stored->id() : 0;
  };
  const uint64_t id1 = add("2024-03-05", "Google", v1::EVENT_KIND_PROMOTE_TO_ENFORCE);
  const uint64_t id2 = add("2024-03-01", "Tor", v1::EVENT_KIND_NOTE);
  const uint64_t id3 = add("2024-03-05", "Tor", v1::EVENT_KIND_DEMOTE_TO_TEST);
  EXPECT_GT(id1, 0u);
  EXPECT_GT(id2, id1);
  EXPECT_GT(id3, id2);
  store.reset();
  store = Open();
  ASSERT_NE(store, nullptr);
  auto ids = [&](EventFilter f) {
    std::vector<uint64_t> out;
    absl::StatusOr<std::vector<v1::RolloutEvent>> events = store->ListEvents(f);
    EXPECT_TRUE(events.ok()) << events.status();
    for (const auto& e : *events) out.push_back(e.id());
    return out;
  };
  EXPECT_THAT(ids({}), ElementsAre(id2, id1, id3));  // by day, then id
  EXPECT_THAT(ids({"2024-03-02", "", ""}), ElementsAre(id1, id3));
  EXPECT_THAT(ids({"", "2024-03-04", ""}), ElementsAre(id2));
  EXPECT_THAT(ids({"", "", "Tor"}), ElementsAre(id2, id3));
  absl::StatusOr<std::vector<v1::RolloutEvent>> all = store->ListEvents({});
  ASSERT_TRUE(all.ok());
  EXPECT_EQ((*all)[1].kind(), v1::EVENT_KIND_PROMOTE_TO_ENFORCE);
  EXPECT_EQ((*all)[1].description(), "event on 2024-03-05");
  EXPECT_EQ((*all)[1].recorded_by(), "bob");
}

TEST_P(CountStoreConformanceTest, AuditRecordsPersistNewestFirst) {
  {
    auto store = Open();
    ASSERT_NE(store, nullptr);
    for (int i = 1; i <= 5; ++i) {
      v1::AuditRecord r;
      r.mutable_at()->set_seconds(1700000000 + i);
      r.set_actor(absl::StrCat("admin", i));
      r.set_action("publish_params");
      r.set_old_value(absl::StrCat("{\"v\":", i - 1, "}"));
      r.set_new_value(absl::StrCat("{\"v\":", i, "}"));
      absl::StatusOr<v1::AuditRecord> stored = store->AddAudit(r);
      ASSERT_TRUE(stored.ok()) << stored.status();
      EXPECT_GT(stored->id(), 0u);
    }
  }
  auto store = Open();
  ASSERT_NE(store, nullptr);
  absl::StatusOr<std::vector<v1::AuditRecord>> last2 = store->ListAudit(2);
  ASSERT_TRUE(last2.ok()) << last2.status();
  ASSERT_EQ(last2->size(), 2u);
  EXPECT_EQ((*last2)[0].actor(), "admin5");
  EXPECT_EQ((*last2)[0].new_value(), "{\"v\":5}");
  EXPECT_EQ((*last2)[0].old_value(), "{\"v\":4}");
  EXPECT_EQ((*last2)[0].at().seconds(), 1700000005);
  EXPECT_EQ((*last2)[1].actor(), "admin4");
  EXPECT_GT((*last2)[0].id(), (*last2)[1].id());
  EXPECT_EQ(store->ListAudit(0)->size(), 5u);
}

TEST_P(CountStoreConformanceTest, ExportImportRoundTrip) {
  auto source = Open();
  ASSERT_NE(source, nullptr);
  std::vector<TestPing> pings;
  for (int i = 0; i < 30; ++i) {
    TestPing p = Full(i, {1, i % 2, i % 3 == 0, 0, 1, 1}, 19800 + i % 4);
    p.catalog = i % 5 == 0 ? "cat-b" : "cat-a";
    p.major = 118 + i % 3;
    pings.push_back(p);
  }
  TestPing subset = Full(100, {});
  subset.num_pinsets = 5;
  subset.indices = {3};
  subset.bits = Pack({1, 1});
  pings.push_back(subset);
  Commit(*source, pings);
  std::stringstream exported;
  ASSERT_TRUE(ExportCountsCsv(*source, exported).ok());
  const std::string csv = exported.str();
  EXPECT_EQ(csv.substr(0, csv.find('\n')), kCountsCsvHeader);

  auto restored = OpenAt("restored");
  ASSERT_NE(restored, nullptr);
  std::stringstream in(csv);
  ASSERT_TRUE(ImportCountsCsv(in, *restored).ok());
  EXPECT_EQ(ReadRows(*restored), ReadRows(*source));
  std::stringstream reexported;
  ASSERT_TRUE(ExportCountsCsv(*restored, reexported).ok());
  EXPECT_EQ(reexported.str(), csv);

  // Importing again adds: every count doubles.
  std::stringstream again(csv);
  ASSERT_TRUE(ImportCountsCsv(again, *restored).ok());
  auto doubled = ReadRows(*restored);
  for (const auto& [key, cells] : ReadRows(*source)) {
    Cells want{2 * cells.reports, {}};
    for (int b = 0; b < kMaxBitsPerPinset; ++b) want.ones[b] = 2 * cells.ones[b];
    EXPECT_EQ(doubled[key], want);
  }
}

TEST_P(CountStoreConformanceTest, ReadsRunWhileCommitting) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  std::atomic<bool> done{false};
  std::thread writer([&] {
    for (int batch = 0; batch < 20; ++batch) {
      std::vector<TestPing> pings;
      for (int i = 0; i < 50; ++i) pings.push_back(Full(batch * 50 + i, {1, 0, 1, 0, 1, 0}));
      Commit(*store, pings);
    }
    done = true;
  });
  int64_t last = 0;
  while (!done) {
    const int64_t now = DefaultGroup(*store)[-1].reports;
    EXPECT_GE(now, last);    // committed counts never go back
    EXPECT_EQ(now % 50, 0);  // a batch is visible entirely or not at all
    last = now;
  }
  writer.join();
  EXPECT_EQ(DefaultGroup(*store)[-1].reports, 1000);
}

}  // namespace pinning::aggregator
