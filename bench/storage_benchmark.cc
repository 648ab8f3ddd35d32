// storage_benchmark: throughput of durable group commit in the SQLite CountStore, against a
// baseline of plain INSERTs of the same ping ids into a bare table with the same durability
// settings (WAL, synchronous=FULL, one transaction per batch), measured in the same run; and the
// latency of decoding a year of daily rates for 50 organizations.
//
//   bazel run -c opt //bench:storage_benchmark -- --benchmark_min_time=2
//   bazel run -c opt //bench:storage_benchmark -- --long --benchmark_filter=Sustained
//
// Each CommitBatch iteration commits one batch of fresh pings (K = 40 pinsets, 2 bits each, 8
// dimension combinations, one day): ids are deduplicated and counts upserted in one transaction.
// The baseline inserts the same number of fresh 16-byte ids with a prepared
// "INSERT INTO bare(id) VALUES(?)" per id in one transaction. At the end the program prints the
// ratio of the two throughputs for each batch size.
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "aggregator/decode/decoder.h"
#include "aggregator/storage/day.h"
#include "aggregator/storage/sqlite_store.h"
#include "benchmark/benchmark.h"

namespace pinning::aggregator {
namespace {

constexpr int kPinsets = 40;
constexpr int kBitsPerPinset = 2;
constexpr DayNumber kDay = 19800;

std::string ScratchDir(const std::string& name) {
  const char* tmp = std::getenv("BENCH_TMPDIR");
  std::string dir =
      absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/storage_benchmark_", name, "_", getpid());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

// ResidentMiB returns this process's resident set size.
double ResidentMiB() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  long pages = 0, resident = 0;
  if (f != nullptr) {
    if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
    std::fclose(f);
  }
  return static_cast<double>(resident) * sysconf(_SC_PAGESIZE) / (1024.0 * 1024.0);
}

// WrittenMiB returns the bytes this process caused to be written to storage (/proc/self/io).
double WrittenMiB() {
  std::FILE* f = std::fopen("/proc/self/io", "r");
  char key[64];
  long long value = 0, written = 0;
  if (f != nullptr) {
    while (std::fscanf(f, "%63s %lld", key, &value) == 2) {
      if (std::string(key) == "write_bytes:") written = value;
    }
    std::fclose(f);
  }
  return static_cast<double>(written) / (1024.0 * 1024.0);
}

// Fresh random ping ids and payloads, generated outside the timed region.
struct PingBatch {
  std::vector<std::string> ids;
  std::vector<std::string> bits;
  std::vector<PingRecord> records;
};

PingBatch MakeBatch(std::mt19937_64& rng, int n) {
  static const char* kProducts[] = {"chrome", "firefox"};
  static const char* kChannels[] = {"stable", "beta", "dev", "nightly"};
  PingBatch b;
  b.ids.resize(n);
  b.bits.resize(n);
  for (int i = 0; i < n; ++i) {
    b.ids[i].resize(kPingIdBytes);
    for (int j = 0; j < kPingIdBytes; j += 8) {
      const uint64_t w = rng();
      std::memcpy(&b.ids[i][j], &w, 8);
    }
    b.bits[i].resize(kPinsets * kBitsPerPinset / 8);
    for (char& c : b.bits[i]) c = static_cast<char>(rng());
  }
  b.records.resize(n);
  for (int i = 0; i < n; ++i) {
    PingRecord& r = b.records[i];
    r.ping_id = b.ids[i];
    r.day = kDay;
    r.params_version = 1;
    r.catalog_version = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0";
    r.product = kProducts[i % 2];
    r.channel = kChannels[(i / 2) % 4];
    r.major_version = 124;
    r.num_pinsets = kPinsets;
    r.bits_per_pinset = kBitsPerPinset;
    r.bits = b.bits[i];
  }
  return b;
}

void BM_CommitBatch(benchmark::State& state) {
  const int batch = static_cast<int>(state.range(0));
  SqliteStoreOptions options;
  options.path = ScratchDir("commit") + "/store.db";
  auto store = SqliteStore::Open(options);
  if (!store.ok()) {
    state.SkipWithError(std::string(store.status().message()).c_str());
    return;
  }
  std::mt19937_64 rng(1);
  std::vector<CommitOutcome> outcomes(batch);
  for (auto _ : state) {
    state.PauseTiming();
    PingBatch b = MakeBatch(rng, batch);
    state.ResumeTiming();
    absl::Status s = (*store)->CommitBatch(b.records, absl::MakeSpan(outcomes));
    if (!s.ok()) {
      state.SkipWithError(std::string(s.message()).c_str());
      return;
    }
  }
  state.SetItemsProcessed(state.iterations() * batch);
  state.counters["seen_ids"] = static_cast<double>(*(*store)->SeenPingCount());
}
BENCHMARK(BM_CommitBatch)
    ->Arg(512)
    ->Arg(2048)
    ->Arg(8192)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// Sustained commits of `total` pings in batches of 8192 into one store (the load a 10 million ping
// run puts on storage), reporting throughput and resident memory before and after. Registered only
// with --long (it takes a couple of minutes).
void BM_CommitSustained(benchmark::State& state, int64_t total) {
  constexpr int kBatch = 8192;
  SqliteStoreOptions options;
  options.path = ScratchDir("sustained") + "/store.db";
  auto store = SqliteStore::Open(options);
  if (!store.ok()) {
    state.SkipWithError(std::string(store.status().message()).c_str());
    return;
  }
  std::mt19937_64 rng(7);
  std::vector<CommitOutcome> outcomes(kBatch);
  const double rss_start = ResidentMiB();
  const double written_start = WrittenMiB();
  double rss_max = rss_start;
  for (auto _ : state) {
    for (int64_t done = 0; done < total; done += kBatch) {
      state.PauseTiming();
      PingBatch b = MakeBatch(rng, kBatch);
      state.ResumeTiming();
      absl::Status s = (*store)->CommitBatch(b.records, absl::MakeSpan(outcomes));
      if (!s.ok()) {
        state.SkipWithError(std::string(s.message()).c_str());
        return;
      }
      if (done % (1 << 20) < kBatch) rss_max = std::max(rss_max, ResidentMiB());
    }
  }
  state.SetItemsProcessed(state.iterations() * total);
  state.counters["rss_start_MiB"] = rss_start;
  state.counters["rss_max_MiB"] = rss_max;
  state.counters["rss_end_MiB"] = ResidentMiB();
  state.counters["written_MiB"] = WrittenMiB() - written_start;
}

void BM_BaselineInsert(benchmark::State& state) {
  const int batch = static_cast<int>(state.range(0));
  const std::string path = ScratchDir("baseline") + "/bare.db";
  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) {
    state.SkipWithError("open failed");
    return;
  }
  sqlite3_exec(db, "PRAGMA journal_mode=WAL", nullptr, nullptr, nullptr);
  sqlite3_exec(db, "PRAGMA synchronous=FULL", nullptr, nullptr, nullptr);
  sqlite3_exec(db, "PRAGMA cache_size=-65536", nullptr, nullptr, nullptr);
  sqlite3_exec(db, "CREATE TABLE bare(id BLOB PRIMARY KEY) WITHOUT ROWID", nullptr, nullptr,
               nullptr);
  sqlite3_stmt* insert = nullptr;
  sqlite3_prepare_v2(db, "INSERT INTO bare(id) VALUES(?1)", -1, &insert, nullptr);
  std::mt19937_64 rng(1);
  for (auto _ : state) {
    state.PauseTiming();
    PingBatch b = MakeBatch(rng, batch);
    state.ResumeTiming();
    sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr);
    for (const std::string& id : b.ids) {
      sqlite3_bind_blob(insert, 1, id.data(), static_cast<int>(id.size()), SQLITE_STATIC);
      if (sqlite3_step(insert) != SQLITE_DONE) state.SkipWithError("insert failed");
      sqlite3_reset(insert);
    }
    sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
  }
  state.SetItemsProcessed(state.iterations() * batch);
  sqlite3_finalize(insert);
  sqlite3_close(db);
}
BENCHMARK(BM_BaselineInsert)
    ->Arg(512)
    ->Arg(2048)
    ->Arg(8192)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// A year of daily counts: 50 organizations x 2 pinsets, 4 dimension combinations, one params
// version; decoding all 50 organizations per day (18,250 points).
void BM_DecodeYearOf50Organizations(benchmark::State& state) {
  constexpr int kOrgs = 50;
  constexpr int kYear = 365;
  SqliteStoreOptions options;
  options.path = ScratchDir("decode") + "/store.db";
  auto store = SqliteStore::Open(options);
  if (!store.ok()) {
    state.SkipWithError(std::string(store.status().message()).c_str());
    return;
  }
  v1::Catalog catalog;
  catalog.set_version("catalog-2024");
  for (int i = 0; i < 2 * kOrgs; ++i) {
    v1::Pinset* p = catalog.add_pinsets();
    p->set_index(i);
    p->set_name(absl::StrCat("pinset-", i));
    p->set_organization(absl::StrCat("org-", i / 2));
  }
  v1::ParamsVersion params;
  params.set_version(1);
  params.set_catalog_version(catalog.version());
  params.mutable_params()->set_f(0.25);
  params.mutable_params()->set_p(0.25);
  params.mutable_params()->set_q(0.75);
  params.mutable_params()->set_pinsets_per_ping(2 * kOrgs);
  params.mutable_params()->set_bits_per_pinset(2);
  if (!(*store)->PutCatalog(catalog).ok() || !(*store)->PutParamsVersion(params).ok()) {
    state.SkipWithError("publish failed");
    return;
  }
  std::vector<CountRow> rows;
  const char* kProducts[] = {"chrome", "firefox"};
  const char* kChannels[] = {"stable", "beta"};
  for (int d = 0; d < kYear; ++d) {
    for (int dims = 0; dims < 4; ++dims) {
      for (int pinset = -1; pinset < 2 * kOrgs; ++pinset) {
        CountRow r;
        r.day = kDay + d;
        r.params_version = 1;
        r.catalog_version = catalog.version();
        r.product = kProducts[dims % 2];
        r.channel = kChannels[dims / 2];
        r.major_version = 124;
        r.pinset = pinset;
        r.reports = 50000;
        if (pinset >= 0) r.ones = {20000 + 7 * pinset, 13000 + 3 * pinset, 0, 0};
        rows.push_back(r);
      }
    }
  }
  if (!(*store)->AddCounts(rows).ok()) {
    state.SkipWithError("AddCounts failed");
    return;
  }
  Decoder decoder(store->get());
  v1::RatesRequest request;
  request.set_from_day(FormatDay(kDay));
  request.set_to_day(FormatDay(kDay + kYear - 1));
  request.set_group_by(v1::GROUP_BY_ORGANIZATION);
  request.set_per_day(true);
  int64_t points = 0;
  for (auto _ : state) {
    absl::StatusOr<v1::RatesResponse> response = decoder.Rates(request);
    if (!response.ok()) {
      state.SkipWithError(std::string(response.status().message()).c_str());
      return;
    }
    points = 0;
    for (const auto& s : response->series()) points += s.points_size();
  }
  state.counters["points"] = static_cast<double>(points);
  state.counters["count_rows"] = static_cast<double>(rows.size());
}
BENCHMARK(BM_DecodeYearOf50Organizations)->UseRealTime()->Unit(benchmark::kMillisecond);

// Records items/s per benchmark so that main can print commit/baseline ratios.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& run : runs) {
      auto it = run.counters.find("items_per_second");
      if (it != run.counters.end()) rates_[run.benchmark_name()] = it->second.value;
    }
    ConsoleReporter::ReportRuns(runs);
  }
  void PrintRatios() const {
    for (const char* size : {"512", "2048", "8192"}) {
      auto commit = rates_.find(absl::StrCat("BM_CommitBatch/", size, "/real_time"));
      auto base = rates_.find(absl::StrCat("BM_BaselineInsert/", size, "/real_time"));
      if (commit == rates_.end() || base == rates_.end()) continue;
      std::printf(
          "batch %5s: CommitBatch %.0f pings/s, baseline plain INSERT %.0f ids/s, ratio %.2f\n",
          size, commit->second, base->second, commit->second / base->second);
    }
  }

 private:
  std::map<std::string, double> rates_;
};

}  // namespace
}  // namespace pinning::aggregator

int main(int argc, char** argv) {
  // --long adds the sustained 10 million ping run.
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--long") {
      const char* total = std::getenv("SUSTAINED_PINGS");
      benchmark::RegisterBenchmark("BM_CommitSustained", pinning::aggregator::BM_CommitSustained,
                                   total != nullptr ? std::atoll(total) : int64_t{10'000'000})
          ->Iterations(1)
          ->UseRealTime()
          ->Unit(benchmark::kSecond);
      for (int j = i; j + 1 < argc; ++j) argv[j] = argv[j + 1];
      --argc;
      break;
    }
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  pinning::aggregator::RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  reporter.PrintRatios();
  return 0;
}
