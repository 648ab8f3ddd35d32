// dashboard_benchmark: latency of the dashboard's main query, a year of daily violation rates for
// every one of 50 organizations, answered end to end over HTTP (token check, decoding, JSON), and
// where the time goes.
//
//   bazel run -c opt //bench:dashboard_benchmark
//
// Setup: a SQLite store with 365 days of counts of a synthetic population (50 organizations,
// 67 pinsets, 24 dimension combinations = 2 products x 4 channels x 3 major versions, i.e.
// ~1,630 count rows a day and ~600,000 in the year), counted from pings encoded by the privacy
// encoder. Each benchmark runs the query 200 times (20 for the slow uncached ones), one query per
// repetition, and
// reports the mean, median and 99th percentile (`_p99`) of the per-query latency:
//   BM_ScanCounts      reading the year's count rows from SQLite, no decoding (the floor)
//   BM_DecodeYear      Decoder::Rates, uncached (what every query would cost without a cache)
//   BM_CachedYear      RatesCache over the decoder: closed days cached, the last 8 decoded
//   BM_JsonYear        rendering the year's RatesResponse as JSON (protobuf's JSON printer)
//   BM_HttpYear        GET /api/v1/rates over loopback HTTP through the gateway with the cache:
//                      the dashboard's real request, JSON included
//   BM_HttpYearBrowser the same with a browser's Accept-Encoding (answers stay uncompressed)
//   BM_HttpYearNoCache the same request with the cache disabled
// HTTP benchmarks also report process_cpu_ms: CPU time of the whole process (server and client)
// for that query, which bounds the latency on an idle machine.
// The target is BM_HttpYear_p99 < 50 ms.
#include <sys/resource.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "aggregator/alerts/testing/synthetic_population.h"
#include "aggregator/decode/decoder.h"
#include "aggregator/http/backend.h"
#include "aggregator/http/http_gateway.h"
#include "aggregator/http/json.h"
#include "aggregator/http/rates_cache.h"
#include "aggregator/serve/auth.h"
#include "aggregator/storage/day.h"
#include "aggregator/storage/sqlite_store.h"
#include "benchmark/benchmark.h"
#include "httplib.h"

namespace pinning::aggregator {
namespace {

constexpr int kDays = 365;
// Per-query samples: many for the cached paths (the target's p99), fewer for the slow uncached
// ones.
constexpr int kRepetitions = 200;
constexpr int kSlowRepetitions = 20;
constexpr char kToken[] = "bench-reader-token-0123456789";

// Serves rates through a RatesCache over the decoder; nothing else is needed by the benchmark.
class RatesOnlyBackend final : public Backend {
 public:
  RatesOnlyBackend(Decoder* decoder, int cache_entries, DayNumber today)
      : cache_([decoder](const v1::RatesRequest& r) { return decoder->Rates(r); },
               RatesCacheOptions{.closed_after_days = 8,
                                 .ttl = absl::Hours(1),
                                 .max_entries = cache_entries,
                                 .now = [today] {
                                   return absl::FromUnixSeconds(int64_t{today} * 86400 + 3600);
                                 }}) {}
  absl::StatusOr<v1::RatesResponse> Rates(const v1::RatesRequest& request) override {
    return cache_.Rates(request);
  }
  absl::StatusOr<std::string> RatesJson(const v1::RatesRequest& request) override {
    return cache_.RatesJson(request);
  }
  absl::StatusOr<v1::Catalog> Catalog(const v1::CatalogRequest&) override {
    return absl::UnimplementedError("");
  }
  absl::StatusOr<v1::EventsResponse> Events(const v1::EventsRequest&) override {
    return v1::EventsResponse();
  }
  absl::StatusOr<v1::ListParamsResponse> ListParams() override { return v1::ListParamsResponse(); }
  absl::StatusOr<v1::AlertsResponse> Alerts(const v1::AlertsRequest&) override {
    return v1::AlertsResponse();
  }
  absl::StatusOr<v1::PrivacySummary> Privacy() override { return absl::UnimplementedError(""); }
  std::string MetricsText() override { return ""; }
  bool Healthy() override { return true; }
  RatesCache& cache() { return cache_; }

 private:
  RatesCache cache_;
};

struct World {
  std::string dir;
  std::unique_ptr<SqliteStore> store;
  std::unique_ptr<Decoder> decoder;
  DayNumber first_day = 0;
  DayNumber today = 0;
  int64_t rows = 0;
  std::unique_ptr<TokenStore> tokens;
  std::unique_ptr<RatesOnlyBackend> cached_backend;
  std::unique_ptr<RatesOnlyBackend> uncached_backend;
  std::unique_ptr<HttpGateway> cached_gateway;
  std::unique_ptr<HttpGateway> uncached_gateway;
  size_t json_bytes = 0;
};

World* world = nullptr;

void Check(const absl::Status& status, const char* what) {
  if (!status.ok()) {
    std::fprintf(stderr, "%s: %s\n", what, status.ToString().c_str());
    std::exit(1);
  }
}

void BuildWorld() {
  world = new World;
  char dir_template[] = "/tmp/dashboard_benchmark.XXXXXX";
  world->dir = ::mkdtemp(dir_template);
  SqliteStoreOptions options;
  options.path = world->dir + "/aggregator.db";
  absl::StatusOr<std::unique_ptr<SqliteStore>> store = SqliteStore::Open(options);
  Check(store.status(), "open store");
  world->store = *std::move(store);

  testing::PopulationSpec spec;
  spec.organizations = testing::DefaultOrganizations(50);
  spec.clients = 1000;
  spec.params.set_f(0.1);
  spec.params.set_p(0.1);
  spec.params.set_q(0.9);
  spec.params.set_pinsets_per_ping(16);
  spec.params.set_bits_per_pinset(2);
  for (const char* product : {"chrome", "firefox"}) {
    for (const char* channel : {"stable", "beta", "dev", "nightly"}) {
      for (uint32_t major : {129u, 130u, 131u}) {
        v1::Dimensions& d = spec.dimensions.emplace_back();
        d.set_product(product);
        d.set_channel(channel);
        d.set_major_version(major);
      }
    }
  }
  absl::StatusOr<std::unique_ptr<testing::SyntheticPopulation>> population =
      testing::SyntheticPopulation::Create(spec);
  Check(population.status(), "population");
  Check(world->store->PutCatalog((*population)->catalog()), "catalog");
  v1::ParamsVersion version;
  version.set_version(1);
  *version.mutable_params() = (*population)->params();
  version.set_catalog_version((*population)->catalog().version());
  Check(world->store->PutParamsVersion(version), "params");

  const absl::Time setup_start = absl::Now();
  world->today = DayFromTime(absl::Now());
  world->first_day = world->today - kDays + 1;
  for (DayNumber day = world->first_day; day <= world->today; ++day) {
    absl::StatusOr<std::vector<CountRow>> rows = (*population)->CountDay(day);
    Check(rows.status(), "count day");
    world->rows += static_cast<int64_t>(rows->size());
    Check(world->store->AddCounts(*rows), "add counts");
  }
  world->decoder = std::make_unique<Decoder>(world->store.get());
  world->tokens =
      std::make_unique<TokenStore>(*TokenStore::Parse(absl::StrCat(kToken, " reader bench\n")));
  world->cached_backend =
      std::make_unique<RatesOnlyBackend>(world->decoder.get(), 32, world->today);
  world->uncached_backend =
      std::make_unique<RatesOnlyBackend>(world->decoder.get(), 0, world->today);
  HttpOptions http;
  http.insecure = true;  // loopback benchmark: TLS would measure OpenSSL, not the gateway
  absl::StatusOr<std::unique_ptr<HttpGateway>> gateway =
      HttpGateway::Start(http, world->cached_backend.get(), world->tokens.get());
  Check(gateway.status(), "gateway");
  world->cached_gateway = *std::move(gateway);
  gateway = HttpGateway::Start(http, world->uncached_backend.get(), world->tokens.get());
  Check(gateway.status(), "gateway");
  world->uncached_gateway = *std::move(gateway);
  std::printf("setup: %d days, %lld count rows, %d organizations, %.1f s\n", kDays,
              static_cast<long long>(world->rows), 50,
              absl::ToDoubleSeconds(absl::Now() - setup_start));
  std::fflush(stdout);
}

v1::RatesRequest YearRequest() {
  v1::RatesRequest request;
  request.set_from_day(FormatDay(world->first_day));
  request.set_to_day(FormatDay(world->today));
  request.set_group_by(v1::GROUP_BY_ORGANIZATION);
  request.set_per_day(true);
  return request;
}

std::string YearPath() {
  return absl::StrCat("/api/v1/rates?from=", FormatDay(world->first_day),
                      "&to=", FormatDay(world->today), "&group_by=organization&per_day=true");
}

double ProcessCpuSeconds() {
  struct rusage usage;
  ::getrusage(RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec + usage.ru_stime.tv_sec +
         1e-6 * (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec);
}

double Percentile(const std::vector<double>& v, double q) {
  std::vector<double> sorted = v;
  std::sort(sorted.begin(), sorted.end());
  const size_t index = std::min(sorted.size() - 1, static_cast<size_t>(q * sorted.size()));
  return sorted[index];
}

void AddPercentiles(benchmark::internal::Benchmark* b, int repetitions) {
  b->Iterations(1)
      ->Repetitions(repetitions)
      ->ComputeStatistics("p99", [](const std::vector<double>& v) { return Percentile(v, 0.99); })
      ->ComputeStatistics(
          "max", [](const std::vector<double>& v) { return *std::max_element(v.begin(), v.end()); })
      ->ReportAggregatesOnly(true)
      ->UseRealTime()
      ->Unit(benchmark::kMillisecond);
}
void Many(benchmark::internal::Benchmark* b) { AddPercentiles(b, kRepetitions); }
void Few(benchmark::internal::Benchmark* b) { AddPercentiles(b, kSlowRepetitions); }

void BM_ScanCounts(benchmark::State& state) {
  CountQuery query;
  query.from_day = world->first_day;
  query.to_day = world->today;
  for (auto _ : state) {
    int64_t reports = 0;
    Check(world->store->ForEachCount(query, [&](const CountRow& row) { reports += row.reports; }),
          "scan");
    benchmark::DoNotOptimize(reports);
  }
}
BENCHMARK(BM_ScanCounts)->Apply(Few);

void BM_DecodeYear(benchmark::State& state) {
  const v1::RatesRequest request = YearRequest();
  for (auto _ : state) {
    absl::StatusOr<v1::RatesResponse> response = world->decoder->Rates(request);
    Check(response.status(), "decode");
    if (response->series_size() != 50) Check(absl::InternalError("not 50 series"), "decode");
  }
}
BENCHMARK(BM_DecodeYear)->Apply(Few);

void BM_CachedYear(benchmark::State& state) {
  const v1::RatesRequest request = YearRequest();
  Check(world->cached_backend->Rates(request).status(), "warm");
  for (auto _ : state) {
    absl::StatusOr<v1::RatesResponse> response = world->cached_backend->Rates(request);
    Check(response.status(), "cached");
  }
}
BENCHMARK(BM_CachedYear)->Apply(Many);

void BM_JsonYear(benchmark::State& state) {
  absl::StatusOr<v1::RatesResponse> response = world->cached_backend->Rates(YearRequest());
  Check(response.status(), "rates");
  for (auto _ : state) {
    std::string json = ProtoToJson(*response);
    benchmark::DoNotOptimize(json);
  }
}
BENCHMARK(BM_JsonYear)->Apply(Few);

void HttpYear(benchmark::State& state, HttpGateway* gateway,
              const std::string& accept_encoding = "") {
  httplib::Client client("127.0.0.1", gateway->port());
  client.set_keep_alive(true);
  client.set_read_timeout(30, 0);
  httplib::Headers headers = {{"Authorization", absl::StrCat("Bearer ", kToken)}};
  if (!accept_encoding.empty()) headers.emplace("Accept-Encoding", accept_encoding);
  const std::string path = YearPath();
  // CPU of the whole process (server and client threads) per query: on an idle machine the
  // latency of a query is close to it, whatever else the benchmark host is running.
  const double cpu_start = ProcessCpuSeconds();
  for (auto _ : state) {
    httplib::Result result = client.Get(path, headers);
    if (!result || result->status != 200) Check(absl::InternalError("GET failed"), "http");
    if (!result->get_header_value("Content-Encoding").empty()) {
      Check(absl::InternalError("compressed answer"), "http");
    }
    world->json_bytes = result->body.size();
  }
  state.counters["json_MB"] = world->json_bytes / 1e6;
  state.counters["process_cpu_ms"] = 1e3 * (ProcessCpuSeconds() - cpu_start);
}

void BM_HttpYear(benchmark::State& state) { HttpYear(state, world->cached_gateway.get()); }
BENCHMARK(BM_HttpYear)->Apply(Many);

// What a browser asks for: compressed bodies.
void BM_HttpYearBrowser(benchmark::State& state) {
  HttpYear(state, world->cached_gateway.get(), "gzip, deflate, br");
}
BENCHMARK(BM_HttpYearBrowser)->Apply(Few);

void BM_HttpYearNoCache(benchmark::State& state) { HttpYear(state, world->uncached_gateway.get()); }
BENCHMARK(BM_HttpYearNoCache)->Apply(Few);

}  // namespace
}  // namespace pinning::aggregator

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  pinning::aggregator::BuildWorld();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  pinning::aggregator::world->cached_gateway->Shutdown();
  pinning::aggregator::world->uncached_gateway->Shutdown();
  std::system(absl::StrCat("rm -rf '", pinning::aggregator::world->dir, "'").c_str());
  return 0;
}
