// batch_method_benchmark: CommitBatch throughput of the three PgBatchMethods against a local
// PostgreSQL server (fsync on), and the server's CPU time per 1,000 pings.
//
//   bazel run -c opt //aggregator/storage/postgres:batch_method_benchmark
//
// Each iteration commits one batch of fresh pings (K = 20 pinsets, 2 bits, 6 dimension groups,
// so ~126 count rows per batch). Counters: items_per_second (pings/s, all threads),
// pg_cpu_ms_per_1k (PostgreSQL's CPU time, postmaster and backends, per 1,000 pings),
// wal_bytes_per_ping (WAL written per ping, what replication and WAL archiving carry). With more
// than one thread, each thread owns a store with its own pool: concurrent replicas on one database.
#include <atomic>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "aggregator/storage/postgres/pg_test_server.h"
#include "aggregator/storage/postgres/postgres_store.h"
#include "aggregator/storage/postgres/process_cpu.h"
#include "benchmark/benchmark.h"

namespace pinning::aggregator {
namespace {

using postgres::PgTestServer;

PgTestServer& Server() {
  static PgTestServer* server = [] {
    postgres::PgTestServerOptions options;
    options.fsync = true;
    absl::StatusOr<std::unique_ptr<PgTestServer>> pg = PgTestServer::Start(options);
    if (!pg.ok()) {
      fprintf(stderr, "cannot start PostgreSQL: %s\n", pg.status().ToString().c_str());
      std::abort();
    }
    return pg->release();  // the watchdog removes it when the process exits
  }();
  return *server;
}

// WalBytes returns the server's current WAL position in bytes (its total WAL written so far).
double WalBytes(PgTestServer& pg) {
  absl::StatusOr<std::string> lsn = pg.Psql("SELECT pg_current_wal_lsn() - '0/0'");
  return lsn.ok() ? std::atof(lsn->c_str()) : 0;
}

struct Batch {
  std::vector<std::string> ids;
  std::vector<std::string> bits;
  std::vector<PingRecord> records;
};

constexpr const char* kProducts[] = {"chrome", "firefox", "edge"};
constexpr const char* kChannels[] = {"stable", "beta"};

void Fill(Batch& batch, int size, std::mt19937_64& rng) {
  batch.ids.resize(size);
  batch.bits.resize(size);
  batch.records.resize(size);
  for (int i = 0; i < size; ++i) {
    batch.ids[i].resize(16);
    for (char& c : batch.ids[i]) c = static_cast<char>(rng());
    batch.bits[i].resize(5);  // 40 bits
    for (char& c : batch.bits[i]) c = static_cast<char>(rng());
    PingRecord& r = batch.records[i];
    r.ping_id = batch.ids[i];
    r.day = 20000;
    r.params_version = 1;
    r.catalog_version = "catalog";
    r.product = kProducts[rng() % 3];
    r.channel = kChannels[rng() % 2];
    r.major_version = 120;
    r.num_pinsets = 20;
    r.bits_per_pinset = 2;
    r.bits = batch.bits[i];
  }
}

void BM_CommitBatch(benchmark::State& state) {
  const auto method = static_cast<PgBatchMethod>(state.range(0));
  const int batch_size = static_cast<int>(state.range(1));
  PgTestServer& pg = Server();
  PostgresStoreOptions options;
  options.conninfo = pg.ConnInfo();
  options.password_file = pg.password_file();
  options.schema = absl::StrCat("bench_", state.range(0), "_", batch_size);
  options.pool_size = 2;
  options.batch_method = method;
  absl::StatusOr<std::unique_ptr<PostgresStore>> store = PostgresStore::Open(options);
  if (!store.ok()) {
    state.SkipWithError(store.status().ToString().c_str());
    return;
  }
  // Fresh ids in every run (the library calls this function several times): nothing is a duplicate.
  static std::atomic<uint64_t> seeds{1};
  std::mt19937_64 rng(seeds++);
  Batch batch;
  std::vector<CommitOutcome> outcomes(batch_size);
  const absl::Duration pg_before =
      state.thread_index() == 0 ? *postgres::ProcessCpuTime(pg.pid(), true) : absl::ZeroDuration();
  const double wal_before = state.thread_index() == 0 ? WalBytes(pg) : 0;
  for (auto _ : state) {
    state.PauseTiming();
    Fill(batch, batch_size, rng);
    state.ResumeTiming();
    const absl::Status s = (*store)->CommitBatch(batch.records, absl::MakeSpan(outcomes));
    if (!s.ok()) {
      state.SkipWithError(s.ToString().c_str());
      break;
    }
  }
  state.SetItemsProcessed(state.iterations() * batch_size);
  if (state.thread_index() == 0) {
    const absl::Duration pg_cpu = *postgres::ProcessCpuTime(pg.pid(), true) - pg_before;
    const double pings = static_cast<double>(state.iterations()) * batch_size * state.threads();
    state.counters["pg_cpu_ms_per_1k"] = absl::ToDoubleMilliseconds(pg_cpu) * 1000.0 / pings;
    state.counters["wal_bytes_per_ping"] = (WalBytes(pg) - wal_before) / pings;
  }
  state.SetLabel(method == PgBatchMethod::kUnnest   ? "unnest"
                 : method == PgBatchMethod::kValues ? "values"
                                                    : "copy");
}

BENCHMARK(BM_CommitBatch)
    ->ArgsProduct({{static_cast<int>(PgBatchMethod::kUnnest),
                    static_cast<int>(PgBatchMethod::kValues),
                    static_cast<int>(PgBatchMethod::kCopy)},
                   {512, 4096}})
    ->ArgNames({"method", "batch"})
    ->UseRealTime()
    ->MinTime(2.0)
    ->Threads(1)
    ->Threads(2);

}  // namespace
}  // namespace pinning::aggregator

BENCHMARK_MAIN();
