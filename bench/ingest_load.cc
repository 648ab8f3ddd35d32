// ingest_load: load harness for the aggregator's Ingest service.
//
// In one run it loads, over loopback gRPC (PLAINTEXT on both sides, so that TLS cost does not
// blur the comparison):
//   (a) a bare gRPC server with the same proto whose Submit and SubmitBatch do nothing,
//   (c) a deferred bare server (Submit only) that does nothing either but answers each call later,
//       from its own thread, in 2-ms batches: the floor for any server that must wait before it
//       answers (gRPC sends an answer given on the call's own thread together with others; one
//       given later from another thread costs a write of its own), and
//   (b) the real aggregator (Server::Start: validation, dedup, durable SQLite group commit),
// with many concurrent clients sending Submit (unary, `--in_flight` calls outstanding per client)
// and, separately, SubmitBatch (client streams of `--stream_pings` pings). Each phase is bounded by
// a ping count and a time limit. Phases are repeated `--repetitions` times, rotating the order of
// the servers, and the harness prints throughput, p50/p99 latency, CPU per ping, each
// repetition's ratios b/a and c/a, and their medians. All servers run in this process with the
// clients; on a 2-core machine clients and server share the cores (the same for a, b and c).
//
// Throughput is compared at saturation: a client that keeps a fixed number of calls outstanding
// gets calls / latency, and a durable answer waits for its group commit (~2-4 ms), so with too few
// calls outstanding (b) leaves the CPU partly idle and the ratio measures latency instead.
//
//   bazel run -c opt //bench:ingest_load -- --phases=submit          # ratios over 5 repetitions
//   bazel run -c opt //bench:ingest_load -- --phases=batch --batch_pings=1000000
//   bazel run -c opt //bench:ingest_load -- --rss_pings=10000000      # aggregatord RSS, flat?
//   bazel run -c opt //bench:ingest_load -- --target=10.0.0.5:8443,10.0.0.6:8443 --phases=batch
//
// --rss_pings runs the aggregatord BINARY as a child process and streams that many pings into it
// with SubmitBatch, printing its resident set size (VmRSS from /proc) at start and every tenth of
// the way. --target skips the in-process servers and loads already-running aggregators
// (plaintext), round-robin over the addresses, printing total pings acknowledged and wall time.
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "aggregator/registry/catalog_version.h"
#include "aggregator/serve/server.h"
#include "aggregator/storage/day.h"
#include "grpcpp/grpcpp.h"
#include "privacy/encoder.h"
#include "privacy/params.h"
#include "privacy/random_source.h"
#include "proto/params.grpc.pb.h"
#include "proto/ping.grpc.pb.h"

extern char** environ;

ABSL_FLAG(int, clients, 128,
          "Submit: concurrent clients (one channel, i.e. one TCP connection, each)");
ABSL_FLAG(int, in_flight, 4, "Submit: outstanding calls per client");
ABSL_FLAG(int, batch_clients, 8,
          "SubmitBatch: concurrent clients, each with its own channel, thread and one stream at "
          "a time");
ABSL_FLAG(int64_t, submit_pings, 100000, "Submit phase: stop after this many pings");
ABSL_FLAG(int64_t, batch_pings, 2000000, "SubmitBatch phase: stop after this many pings");
ABSL_FLAG(int, duration_s, 30, "each phase stops after this many seconds at most");
ABSL_FLAG(int, stream_pings, 5000, "SubmitBatch: pings per stream");
ABSL_FLAG(int, repetitions, 5,
          "measure each phase this many times, alternating (a) and (b), and print the median "
          "ratio");
ABSL_FLAG(std::string, phases, "submit,batch", "phases to run: submit, batch or both");
ABSL_FLAG(std::string, servers, "bare,deferred,aggregator",
          "which in-process servers to load: bare, aggregator, deferred (Submit only), or a "
          "comma-separated list (one alone: for profiling it)");
ABSL_FLAG(int, pinsets, 16, "K of the benchmark catalog (all pinsets reported)");
ABSL_FLAG(std::string, target, "",
          "comma-separated host:port of running aggregators (plaintext) to load instead");
ABSL_FLAG(int64_t, rss_pings, 0, "if > 0: stream this many pings into an aggregatord child "
                                 "process and report its RSS");
ABSL_FLAG(std::string, aggregatord, "", "aggregatord binary for --rss_pings (default: runfiles)");
ABSL_FLAG(int, completion_threads, 0,
          "aggregator's completion threads (default: the server's default)");
ABSL_FLAG(int, commit_max_wait_us, -1,
          "aggregator's group-commit max wait in microseconds (default: the server's default)");
ABSL_FLAG(std::string, work_dir, "",
          "scratch directory, kept (default: a fresh one under /tmp, deleted at the end)");

namespace pinning::bench {
namespace {

// ---- Pings ----

// PingSource hands out valid pings with ids unique over the whole run (every phase, warm-up and
// repetition: a retried id would be a cheap duplicate, not a counted ping): a pool of encoded
// payloads, each sent with a fresh 16-byte id (run id, sequence number).
class PingSource {
 public:
  PingSource(std::vector<v1::Ping> pool, uint64_t run_id)
      : pool_(std::move(pool)), run_id_(run_id) {}

  // Thread-safe.
  void Fill(v1::SubmitRequest* request) const {
    const uint64_t seq = next_.fetch_add(1, std::memory_order_relaxed);
    v1::Ping* ping = request->mutable_ping();
    *ping = pool_[seq % pool_.size()];
    char id[16];
    std::memcpy(id, &run_id_, 8);
    std::memcpy(id + 8, &seq, 8);
    ping->set_ping_id(std::string(id, 16));
  }

 private:
  std::vector<v1::Ping> pool_;
  uint64_t run_id_;
  mutable std::atomic<uint64_t> next_{0};
};

absl::StatusOr<std::vector<v1::Ping>> EncodePool(const v1::ParamsVersion& version, int num_pinsets,
                                                 int size) {
  absl::StatusOr<privacy::Params> params =
      privacy::ParamsBuilder()
          .SetF(version.params().f())
          .SetP(version.params().p())
          .SetQ(version.params().q())
          .SetPinsetsPerPing(static_cast<int>(version.params().pinsets_per_ping()))
          .SetBitsPerPinset(static_cast<int>(version.params().bits_per_pinset()))
          .Build();
  if (!params.ok()) return params.status();
  privacy::SeededRandomSource rng(2024);
  const std::string today = aggregator::FormatDay(aggregator::DayFromTime(absl::Now()));
  std::vector<v1::Ping> pool;
  for (int i = 0; i < size; ++i) {
    std::vector<uint8_t> secret(privacy::kClientSecretSize);
    for (auto& b : secret) b = static_cast<uint8_t>(rng.NextUint64());
    absl::StatusOr<privacy::Encoder> encoder = privacy::Encoder::Create(
        {*params, num_pinsets, version.version(), version.catalog_version()}, secret, &rng);
    if (!encoder.ok()) return encoder.status();
    std::vector<privacy::PinsetState> states(num_pinsets);
    for (int k = 0; k < num_pinsets; ++k) {
      states[k] = static_cast<privacy::PinsetState>(rng.NextUint64() % 3);
    }
    absl::StatusOr<privacy::EncodedReport> report = encoder->Encode(states);
    if (!report.ok()) return report.status();
    v1::Ping ping;
    ping.set_day(today);
    ping.set_params_version(version.version());
    ping.set_catalog_version(version.catalog_version());
    for (uint32_t index : report->pinset_indices) ping.add_pinset_indices(index);
    ping.set_bits(std::string(report->bits.begin(), report->bits.end()));
    ping.mutable_dimensions()->set_product("chrome");
    ping.mutable_dimensions()->set_channel("stable");
    ping.mutable_dimensions()->set_major_version(131);
    pool.push_back(std::move(ping));
  }
  return pool;
}

absl::StatusOr<v1::ParamsVersion> FetchParams(const std::string& address) {
  auto channel = grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  v1::GetParamsResponse response;
  grpc::Status status =
      v1::Params::NewStub(channel)->Get(&context, v1::GetParamsRequest(), &response);
  if (!status.ok()) {
    return absl::UnavailableError(absl::StrCat("Params.Get on ", address, ": ",
                                               status.error_message()));
  }
  return response.current();
}

// ---- The bare server (a) ----

class BareIngest final : public v1::Ingest::CallbackService {
  grpc::ServerUnaryReactor* Submit(grpc::CallbackServerContext* context,
                                   const v1::SubmitRequest*, v1::SubmitResponse*) override {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

  grpc::ServerReadReactor<v1::SubmitRequest>* SubmitBatch(
      grpc::CallbackServerContext*, v1::SubmitBatchResponse* response) override {
    class Reader final : public grpc::ServerReadReactor<v1::SubmitRequest> {
     public:
      explicit Reader(v1::SubmitBatchResponse* response) : response_(response) {
        StartRead(&request_);
      }
      void OnReadDone(bool ok) override {
        if (!ok) {
          Finish(grpc::Status::OK);
          return;
        }
        response_->set_accepted(response_->accepted() + 1);
        StartRead(&request_);
      }
      void OnDone() override { delete this; }

     private:
      v1::SubmitBatchResponse* response_;
      v1::SubmitRequest request_;
    };
    return new Reader(response);
  }
};

// DeferredIngest answers Submit from another thread, in batches: what any server that must wait
// before answering (e.g. for a durable commit) pays in gRPC, without the work it waits for.
class DeferredIngest final : public v1::Ingest::CallbackService {
 public:
  DeferredIngest() : thread_([this] { Run(); }) {
    (void)pthread_setname_np(thread_.native_handle(), "deferred");
  }
  ~DeferredIngest() override {
    {
      absl::MutexLock lock(&mu_);
      stop_ = true;
    }
    thread_.join();
  }
  grpc::ServerUnaryReactor* Submit(grpc::CallbackServerContext* context,
                                   const v1::SubmitRequest*, v1::SubmitResponse*) override {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    absl::MutexLock lock(&mu_);
    if (pending_.empty()) first_ = absl::Now();
    pending_.push_back(reactor);
    return reactor;
  }

 private:
  void Run() {
    std::vector<grpc::ServerUnaryReactor*> batch;
    while (true) {
      {
        absl::MutexLock lock(&mu_);
        auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stop_ || !pending_.empty(); };
        mu_.Await(absl::Condition(&ready));
        if (stop_ && pending_.empty()) return;
        mu_.AwaitWithDeadline(absl::Condition(&stop_), first_ + absl::Milliseconds(2));
        batch.swap(pending_);
      }
      for (auto* r : batch) r->Finish(grpc::Status::OK);
      batch.clear();
    }
  }
  absl::Mutex mu_;
  std::vector<grpc::ServerUnaryReactor*> pending_ ABSL_GUARDED_BY(mu_);
  absl::Time first_ ABSL_GUARDED_BY(mu_);
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

// ---- Load phases ----

struct PhaseResult {
  std::string name;
  int64_t pings = 0;
  int64_t errors = 0;
  // Pings the server acknowledged as already counted (none expected: every id is new).
  int64_t duplicates = 0;
  double seconds = 0;
  // CPU time (user + system) of this whole process during the phase: clients and server.
  double cpu_seconds = 0;
  // Bytes this process caused to be written to storage during the phase (/proc/self/io).
  int64_t write_bytes = 0;
  // Latency of one call (Submit) or one stream (SubmitBatch), ms.
  double p50_ms = 0;
  double p99_ms = 0;
  double rate() const { return seconds > 0 ? pings / seconds : 0; }
};

int64_t ProcessWriteBytes() {
  std::ifstream in("/proc/self/io");
  std::string line;
  while (std::getline(in, line)) {
    if (absl::StartsWith(line, "write_bytes: ")) {
      int64_t v = 0;
      if (absl::SimpleAtoi(line.substr(13), &v)) return v;
    }
  }
  return 0;
}

double ProcessCpuSeconds() {
  rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec + usage.ru_stime.tv_sec +
         (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) * 1e-6;
}

double Percentile(std::vector<double>& values, double q) {
  if (values.empty()) return 0;
  const size_t k = std::min(values.size() - 1, static_cast<size_t>(q * values.size()));
  std::nth_element(values.begin(), values.begin() + k, values.end());
  return values[k];
}

std::vector<std::unique_ptr<v1::Ingest::Stub>> MakeStubs(const std::vector<std::string>& targets,
                                                         int clients) {
  std::vector<std::unique_ptr<v1::Ingest::Stub>> stubs;
  for (int c = 0; c < clients; ++c) {
    grpc::ChannelArguments args;
    args.SetInt("pinning.bench.client", c);  // a distinct channel (connection) per client
    stubs.push_back(v1::Ingest::NewStub(grpc::CreateCustomChannel(
        targets[c % targets.size()], grpc::InsecureChannelCredentials(), args)));
  }
  return stubs;
}

// SubmitLoad is the shared state of a Submit phase. Every in-flight callback holds a reference,
// so nothing it touches is destroyed before the last callback has returned.
class SubmitLoad : public std::enable_shared_from_this<SubmitLoad> {
 public:
  struct Slot {
    v1::Ingest::Stub* stub = nullptr;
    std::unique_ptr<grpc::ClientContext> context;
    v1::SubmitRequest request;
    v1::SubmitResponse response;
    absl::Time started;
    std::vector<double> latencies_ms;
    int64_t errors = 0;
    int64_t duplicates = 0;
  };

  SubmitLoad(const std::vector<std::string>& targets, const PingSource* source, int64_t max_pings,
             absl::Duration max_time)
      : source_(source), max_pings_(max_pings), max_time_(max_time) {
    const int clients = absl::GetFlag(FLAGS_clients);
    const int in_flight = absl::GetFlag(FLAGS_in_flight);
    stubs_ = MakeStubs(targets, clients);
    for (int c = 0; c < clients; ++c) {
      for (int i = 0; i < in_flight; ++i) {
        auto slot = std::make_unique<Slot>();
        slot->stub = stubs_[c].get();
        slots_.push_back(std::move(slot));
      }
    }
    active_.store(static_cast<int>(slots_.size()));
  }

  // Run issues the calls and blocks until every slot has stopped.
  void Run() {
    start_ = absl::Now();
    deadline_ = start_ + max_time_;
    for (auto& slot : slots_) Issue(slot.get());
    done_.WaitForNotification();
    seconds_ = absl::ToDoubleSeconds(absl::Now() - start_);
  }

  PhaseResult Result(const std::string& name) const {
    PhaseResult result;
    result.name = name;
    result.seconds = seconds_;
    std::vector<double> latencies;
    for (const auto& slot : slots_) {
      result.pings += static_cast<int64_t>(slot->latencies_ms.size());
      result.errors += slot->errors;
      result.duplicates += slot->duplicates;
      latencies.insert(latencies.end(), slot->latencies_ms.begin(), slot->latencies_ms.end());
    }
    result.p50_ms = Percentile(latencies, 0.50);
    result.p99_ms = Percentile(latencies, 0.99);
    return result;
  }

 private:
  void Issue(Slot* slot) {
    if (issued_.fetch_add(1) >= max_pings_ || absl::Now() > deadline_) {
      if (active_.fetch_sub(1) == 1) done_.Notify();
      return;
    }
    source_->Fill(&slot->request);
    slot->context = std::make_unique<grpc::ClientContext>();
    slot->context->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
    slot->started = absl::Now();
    slot->stub->async()->Submit(
        slot->context.get(), &slot->request, &slot->response,
        [self = shared_from_this(), slot](grpc::Status status) {
          if (status.ok()) {
            slot->latencies_ms.push_back(absl::ToDoubleMilliseconds(absl::Now() - slot->started));
            slot->duplicates += slot->response.duplicate();
          } else {
            ++slot->errors;
          }
          self->Issue(slot);
        });
  }

  const PingSource* const source_;
  const int64_t max_pings_;
  const absl::Duration max_time_;
  std::vector<std::unique_ptr<v1::Ingest::Stub>> stubs_;
  std::vector<std::unique_ptr<Slot>> slots_;
  std::atomic<int64_t> issued_{0};
  std::atomic<int> active_{0};
  absl::Notification done_;
  absl::Time start_;
  absl::Time deadline_;
  double seconds_ = 0;
};

// RunSubmit keeps clients x in_flight unary calls outstanding until `max_pings` calls were
// issued or `max_time` passed.
PhaseResult RunSubmit(const std::string& name, const std::vector<std::string>& targets,
                      const PingSource& source, int64_t max_pings, absl::Duration max_time) {
  auto load = std::make_shared<SubmitLoad>(targets, &source, max_pings, max_time);
  const double cpu = ProcessCpuSeconds();
  const int64_t written = ProcessWriteBytes();
  load->Run();
  PhaseResult result = load->Result(name);
  result.cpu_seconds = ProcessCpuSeconds() - cpu;
  result.write_bytes = ProcessWriteBytes() - written;
  return result;
}

// RunBatch runs one SubmitBatch stream at a time per client (each on its own thread) until
// `max_pings` pings were sent or `max_time` passed. `progress` (optional) is called with the
// running total of acknowledged pings after each stream.
PhaseResult RunBatch(const std::string& name, const std::vector<std::string>& targets,
                     const PingSource& source, int64_t max_pings, absl::Duration max_time,
                     const std::function<void(int64_t)>& progress = {}) {
  const int clients = absl::GetFlag(FLAGS_batch_clients);
  const int stream_pings = absl::GetFlag(FLAGS_stream_pings);
  auto stubs = MakeStubs(targets, clients);
  std::atomic<int64_t> claimed{0};
  std::atomic<int64_t> acknowledged{0};
  std::atomic<int64_t> errors{0};
  std::atomic<int64_t> duplicates{0};
  absl::Mutex mu;
  std::vector<double> latencies;
  const double cpu = ProcessCpuSeconds();
  const int64_t written = ProcessWriteBytes();
  const absl::Time start = absl::Now();
  const absl::Time deadline = start + max_time;
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      v1::SubmitRequest request;
      while (absl::Now() < deadline) {
        const int64_t first = claimed.fetch_add(stream_pings);
        if (first >= max_pings) break;
        const int64_t n = std::min<int64_t>(stream_pings, max_pings - first);
        grpc::ClientContext context;
        context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(120)));
        v1::SubmitBatchResponse response;
        const absl::Time stream_start = absl::Now();
        auto writer = stubs[c]->SubmitBatch(&context, &response);
        bool ok = true;
        for (int64_t i = 0; i < n && ok; ++i) {
          source.Fill(&request);
          grpc::WriteOptions options;
          if (i + 1 < n) options.set_buffer_hint();
          ok = writer->Write(request, options);
        }
        writer->WritesDone();
        grpc::Status status = writer->Finish();
        if (!status.ok()) {
          errors.fetch_add(n);
          continue;
        }
        errors.fetch_add(static_cast<int64_t>(response.rejected()));
        duplicates.fetch_add(static_cast<int64_t>(response.duplicates()));
        const int64_t total = acknowledged.fetch_add(
                                  static_cast<int64_t>(response.accepted() + response.duplicates())) +
                              static_cast<int64_t>(response.accepted() + response.duplicates());
        {
          absl::MutexLock lock(&mu);
          latencies.push_back(absl::ToDoubleMilliseconds(absl::Now() - stream_start));
        }
        if (progress) progress(total);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  PhaseResult result;
  result.name = name;
  result.seconds = absl::ToDoubleSeconds(absl::Now() - start);
  result.cpu_seconds = ProcessCpuSeconds() - cpu;
  result.write_bytes = ProcessWriteBytes() - written;
  result.pings = acknowledged.load();
  result.errors = errors.load();
  result.duplicates = duplicates.load();
  result.p50_ms = Percentile(latencies, 0.50);
  result.p99_ms = Percentile(latencies, 0.99);
  return result;
}

// PrintCommitStats prints the group committer's average batch size and commit latency from the
// server's Prometheus text (sums and counts of the two histograms).
void PrintCommitStats(const std::string& metrics) {
  auto value = [&metrics](const std::string& name) {
    for (absl::string_view line : absl::StrSplit(metrics, '\n')) {
      if (absl::StartsWith(line, name + " ")) {
        double v = 0;
        if (absl::SimpleAtod(line.substr(name.size() + 1), &v)) return v;
      }
    }
    return 0.0;
  };
  const double commits = value("pinning_ingest_commit_batch_size_count");
  if (commits == 0) return;
  std::cout << absl::StrFormat(
      "    server since start: %.0f commits, %.0f pings per commit, %.2f ms per commit "
      "(CommitBatch)\n",
      commits, value("pinning_ingest_commit_batch_size_sum") / commits,
      1e3 * value("pinning_ingest_commit_latency_seconds_sum") /
          std::max(1.0, value("pinning_ingest_commit_latency_seconds_count")));
}

// PrintMedian prints the median and the spread of per-repetition ratios b/a.
void PrintMedian(const std::string& phase, std::vector<double> ratios) {
  std::sort(ratios.begin(), ratios.end());
  const size_t n = ratios.size();
  const double median = n % 2 == 1 ? ratios[n / 2] : (ratios[n / 2 - 1] + ratios[n / 2]) / 2;
  std::cout << absl::StrFormat("%s over %d repetitions: median %.3f (min %.3f, max %.3f)\n",
                               phase, n, median, ratios.front(), ratios.back());
}

void Print(const PhaseResult& r, const char* latency_unit) {
  std::cout << absl::StrFormat(
      "%-38s %9d pings %7.2f s %9.0f pings/s  %s p50 %7.2f ms p99 %7.2f ms  "
      "cpu %5.1f us/ping  disk %6.0f B/ping  dups %d  errors %d\n",
      r.name, r.pings, r.seconds, r.rate(), latency_unit, r.p50_ms, r.p99_ms,
      r.pings > 0 ? 1e6 * r.cpu_seconds / r.pings : 0.0,
      r.pings > 0 ? static_cast<double>(r.write_bytes) / r.pings : 0.0, r.duplicates, r.errors);
}

// ---- Setup of the benchmark aggregator ----

struct Workspace {
  std::string dir;
  // True when the harness made `dir` (then it is deleted at the end).
  bool temporary = false;
  std::string catalog_file;
  std::string params_file;
};

absl::StatusOr<Workspace> MakeWorkspace() {
  Workspace ws;
  ws.dir = absl::GetFlag(FLAGS_work_dir);
  if (ws.dir.empty()) {
    std::string tmpl = "/tmp/ingest_load_XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) return absl::InternalError("mkdtemp failed");
    ws.dir = tmpl;
    ws.temporary = true;
  }
  v1::Catalog catalog;
  for (int k = 0; k < absl::GetFlag(FLAGS_pinsets); ++k) {
    v1::Pinset* pinset = catalog.add_pinsets();
    pinset->set_index(k);
    pinset->set_name(absl::StrCat("pinset-", k));
    pinset->set_organization(absl::StrCat("org-", k / 4));
    pinset->set_mode(v1::PIN_MODE_TEST);
    pinset->add_spki_sha256(std::string(32, static_cast<char>(k)));
  }
  catalog.set_version(aggregator::CatalogVersion(catalog));
  ws.catalog_file = ws.dir + "/catalog.textproto";
  ws.params_file = ws.dir + "/params.textproto";
  std::ofstream(ws.catalog_file) << catalog.DebugString();
  std::ofstream(ws.params_file) << "f: 0.5 p: 0.25 q: 0.75 pinsets_per_ping: "
                                << absl::GetFlag(FLAGS_pinsets) << " bits_per_pinset: 2\n";
  return ws;
}

aggregator::ServerOptions BenchServerOptions(const Workspace& ws, const std::string& data_dir) {
  aggregator::ServerOptions options;
  options.listen_address = "127.0.0.1:0";
  options.insecure = true;
  options.data_dir = data_dir;
  options.initial_catalog_file = ws.catalog_file;
  options.initial_params_file = ws.params_file;
  // The benchmark's parameters report all K pinsets; this run is about throughput.
  if (const int wait_us = absl::GetFlag(FLAGS_commit_max_wait_us); wait_us >= 0) {
    options.commit_max_wait = absl::Microseconds(wait_us);
  }
  if (const int threads = absl::GetFlag(FLAGS_completion_threads); threads > 0) {
    options.completion_threads = threads;
  }
  options.max_epsilon_one = 1000;
  options.max_epsilon_inf = 1000;
  return options;
}

// ---- RSS of a child aggregatord ----

int64_t RssKib(pid_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) {
      int64_t kib = 0;
      (void)absl::SimpleAtoi(absl::StripSuffix(absl::StripAsciiWhitespace(line.substr(6)), " kB"),
                             &kib);
      return kib;
    }
  }
  return -1;
}

std::string AggregatordPath(const char* argv0) {
  if (std::string flag = absl::GetFlag(FLAGS_aggregatord); !flag.empty()) return flag;
  for (const std::string& candidate :
       {absl::StrCat(argv0, ".runfiles/pinning_telemetry/aggregator/serve/aggregatord"),
        std::string("bazel-bin/aggregator/serve/aggregatord")}) {
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

int RunRss(const Workspace& ws, const char* argv0) {
  const std::string binary = AggregatordPath(argv0);
  if (binary.empty()) {
    std::cerr << "ingest_load: aggregatord not found; pass --aggregatord\n";
    return 1;
  }
  const std::string port_file = ws.dir + "/rss.port";
  std::vector<std::string> argv = {binary,
                                   "--insecure",
                                   "--listen=127.0.0.1:0",
                                   "--port_file=" + port_file,
                                   "--data_dir=" + ws.dir + "/rss-data",
                                   "--initial_catalog=" + ws.catalog_file,
                                   "--initial_params=" + ws.params_file,
                                   "--max_epsilon_one=1000",
                                   "--max_epsilon_inf=1000"};
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  pid_t pid = 0;
  if (posix_spawn(&pid, binary.c_str(), nullptr, nullptr, args.data(), environ) != 0) {
    std::cerr << "ingest_load: cannot start " << binary << "\n";
    return 1;
  }
  int port = 0;
  for (int i = 0; i < 3000 && port == 0; ++i) {
    std::ifstream in(port_file);
    std::string text;
    std::getline(in, text);
    if (!absl::SimpleAtoi(text, &port)) port = 0;
    if (port == 0) absl::SleepFor(absl::Milliseconds(10));
  }
  if (port == 0) {
    std::cerr << "ingest_load: aggregatord did not start\n";
    ::kill(pid, SIGKILL);
    return 1;
  }
  const std::string address = absl::StrCat("127.0.0.1:", port);
  absl::StatusOr<v1::ParamsVersion> params = FetchParams(address);
  if (!params.ok()) {
    std::cerr << params.status() << "\n";
    ::kill(pid, SIGKILL);
    return 1;
  }
  auto pool = EncodePool(*params, absl::GetFlag(FLAGS_pinsets), 4096);
  if (!pool.ok()) {
    std::cerr << pool.status() << "\n";
    ::kill(pid, SIGKILL);
    return 1;
  }
  PingSource source(*std::move(pool), absl::ToUnixNanos(absl::Now()));
  const int64_t total = absl::GetFlag(FLAGS_rss_pings);
  std::cout << absl::StrFormat("aggregatord pid %d, RSS at start: %d KiB\n", pid, RssKib(pid));
  const int64_t step = std::max<int64_t>(total / 10, 1);
  std::atomic<int64_t> next_report{step};
  absl::Mutex report_mu;
  const absl::Time start = absl::Now();
  PhaseResult r = RunBatch(
      "aggregatord SubmitBatch (RSS run)", {address}, source, total, absl::Hours(24),
      [&](int64_t acked) {
        absl::MutexLock lock(&report_mu);
        if (acked < next_report.load()) return;
        std::cout << absl::StrFormat("  after %10d pings (%6.1f s): RSS %d KiB\n", acked,
                                     absl::ToDoubleSeconds(absl::Now() - start), RssKib(pid))
                  << std::flush;
        while (next_report.load() <= acked) next_report += step;
      });
  Print(r, "stream");
  std::cout << absl::StrFormat("aggregatord RSS after %d pings: %d KiB\n", r.pings, RssKib(pid));
  ::kill(pid, SIGTERM);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return r.errors == 0 ? 0 : 1;
}

int Run(const Workspace& ws, const char* argv0);

int Main(const char* argv0) {
  absl::StatusOr<Workspace> ws = MakeWorkspace();
  if (!ws.ok()) {
    std::cerr << ws.status() << "\n";
    return 1;
  }
  const int rc = Run(*ws, argv0);
  if (ws->temporary) {
    std::error_code ignored;
    std::filesystem::remove_all(ws->dir, ignored);
  }
  return rc;
}

int Run(const Workspace& workspace, const char* argv0) {
  const Workspace* ws = &workspace;
  const std::string phases = absl::GetFlag(FLAGS_phases);
  const bool do_submit = phases.find("submit") != std::string::npos;
  const bool do_batch = phases.find("batch") != std::string::npos;
  const absl::Duration max_time = absl::Seconds(absl::GetFlag(FLAGS_duration_s));

  if (absl::GetFlag(FLAGS_rss_pings) > 0) return RunRss(*ws, argv0);

  // --target: load running aggregators only.
  if (const std::string target = absl::GetFlag(FLAGS_target); !target.empty()) {
    std::vector<std::string> targets = absl::StrSplit(target, ',', absl::SkipEmpty());
    absl::StatusOr<v1::ParamsVersion> params = FetchParams(targets[0]);
    if (!params.ok()) {
      std::cerr << params.status() << "\n";
      return 1;
    }
    const int pinsets = static_cast<int>(params->params().pinsets_per_ping());
    auto pool = EncodePool(*params, pinsets, 4096);
    if (!pool.ok()) {
      std::cerr << pool.status() << "\n";
      return 1;
    }
    PingSource source(*std::move(pool), absl::ToUnixNanos(absl::Now()));
    std::cout << "targets: " << target << " (plaintext), Submit clients "
              << absl::GetFlag(FLAGS_clients) << ", SubmitBatch clients "
              << absl::GetFlag(FLAGS_batch_clients) << "\n";
    int64_t errors = 0;
    if (do_submit) {
      PhaseResult r = RunSubmit("targets Submit", targets, source,
                                absl::GetFlag(FLAGS_submit_pings), max_time);
      Print(r, "call");
      errors += r.errors;
    }
    if (do_batch) {
      PhaseResult r = RunBatch("targets SubmitBatch", targets, source,
                               absl::GetFlag(FLAGS_batch_pings), max_time);
      Print(r, "stream");
      errors += r.errors;
    }
    return errors == 0 ? 0 : 1;
  }

  // (a) the bare server.
  BareIngest bare;
  int bare_port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &bare_port);
  builder.RegisterService(&bare);
  std::unique_ptr<grpc::Server> bare_server = builder.BuildAndStart();
  const std::vector<std::string> bare_target = {absl::StrCat("127.0.0.1:", bare_port)};

  // (c) the deferred server: answers Submit later from its own thread, doing nothing else.
  DeferredIngest deferred;
  int deferred_port = 0;
  grpc::ServerBuilder deferred_builder;
  deferred_builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                                    &deferred_port);
  deferred_builder.RegisterService(&deferred);
  std::unique_ptr<grpc::Server> deferred_server = deferred_builder.BuildAndStart();
  const std::vector<std::string> deferred_target = {absl::StrCat("127.0.0.1:", deferred_port)};

  // (b) the aggregator with durable SQLite storage.
  absl::StatusOr<std::unique_ptr<aggregator::Server>> server =
      aggregator::Server::Start(BenchServerOptions(*ws, ws->dir + "/data"));
  if (!server.ok()) {
    std::cerr << server.status() << "\n";
    return 1;
  }
  const std::vector<std::string> real_target = {(*server)->address()};
  absl::StatusOr<v1::ParamsVersion> params = FetchParams(real_target[0]);
  if (!params.ok()) {
    std::cerr << params.status() << "\n";
    return 1;
  }
  auto pool = EncodePool(*params, absl::GetFlag(FLAGS_pinsets), 4096);
  if (!pool.ok()) {
    std::cerr << pool.status() << "\n";
    return 1;
  }
  PingSource source(*std::move(pool), absl::ToUnixNanos(absl::Now()));

  std::cout << absl::StrFormat(
      "ingest_load: Submit %d clients x %d calls in flight, SubmitBatch %d clients x streams of "
      "%d pings, K = %d, loopback plaintext, %d cores\n",
      absl::GetFlag(FLAGS_clients), absl::GetFlag(FLAGS_in_flight),
      absl::GetFlag(FLAGS_batch_clients), absl::GetFlag(FLAGS_stream_pings), absl::GetFlag(FLAGS_pinsets),
      std::thread::hardware_concurrency());
  const std::string servers = absl::GetFlag(FLAGS_servers);
  const bool run_bare = servers.find("bare") != std::string::npos;
  const bool run_real = servers.find("aggregator") != std::string::npos;
  const bool run_deferred = servers.find("deferred") != std::string::npos;
  int64_t errors = 0;
  const int repetitions = std::max(1, absl::GetFlag(FLAGS_repetitions));
  // One server's measurements in a phase.
  struct Contender {
    bool enabled;
    std::string name;
    const std::vector<std::string>* target;
    PhaseResult result;
  };
  // Measures the enabled contenders `repetitions` times, rotating their order from one repetition
  // to the next so that drift in machine load hits every server alike, and calls `compare` after
  // each repetition. Errors of the aggregator (the last contender) count towards the exit status.
  auto run_rotated = [&](std::vector<Contender*> order,
                         const std::function<PhaseResult(const Contender&)>& measure,
                         const char* latency_unit, const std::function<void()>& compare) {
    for (int rep = 0; rep < repetitions; ++rep) {
      for (size_t i = 0; i < order.size(); ++i) {
        Contender* c = order[(rep + i) % order.size()];
        if (!c->enabled) continue;
        c->result = measure(*c);
        Print(c->result, latency_unit);
        if (c == order.back()) errors += c->result.errors;
      }
      compare();
    }
  };
  if (do_submit) {
    const int64_t n = absl::GetFlag(FLAGS_submit_pings);
    Contender bare_c{run_bare, "(a) bare gRPC Submit", &bare_target, {}};
    Contender deferred_c{run_deferred, "(c) deferred gRPC Submit", &deferred_target, {}};
    Contender real_c{run_real, "(b) aggregator Submit (durable)", &real_target, {}};
    // Warm-up of each server (connections, SQLite pages), not measured.
    for (const Contender* c : {&bare_c, &deferred_c, &real_c}) {
      if (c->enabled) RunSubmit("warm-up", *c->target, source, 2000, max_time);
    }
    std::vector<double> ratios, deferred_ratios;
    run_rotated(
        {&bare_c, &deferred_c, &real_c},
        [&](const Contender& c) { return RunSubmit(c.name, *c.target, source, n, max_time); },
        "call", [&] {
          if (run_bare && run_real) {
            ratios.push_back(real_c.result.rate() / bare_c.result.rate());
            std::cout << absl::StrFormat("Submit ratio b/a: %.3f (target >= 0.7)\n",
                                         ratios.back());
          }
          if (run_bare && run_deferred) {
            deferred_ratios.push_back(deferred_c.result.rate() / bare_c.result.rate());
            std::cout << absl::StrFormat("Submit ratio c/a: %.3f\n", deferred_ratios.back());
          }
        });
    if (run_real) PrintCommitStats((*server)->MetricsText());
    if (ratios.size() > 1) PrintMedian("Submit ratio b/a", ratios);
    if (deferred_ratios.size() > 1) PrintMedian("Submit ratio c/a", deferred_ratios);
  }
  if (do_batch) {
    const int64_t n = absl::GetFlag(FLAGS_batch_pings);
    Contender bare_c{run_bare, "(a) bare gRPC SubmitBatch", &bare_target, {}};
    Contender real_c{run_real, "(b) aggregator SubmitBatch (durable)", &real_target, {}};
    std::vector<double> ratios;
    run_rotated(
        {&bare_c, &real_c},
        [&](const Contender& c) { return RunBatch(c.name, *c.target, source, n, max_time); },
        "stream", [&] {
          if (!run_bare || !run_real) return;
          ratios.push_back(real_c.result.rate() / bare_c.result.rate());
          std::cout << absl::StrFormat(
              "SubmitBatch ratio b/a: %.3f; aggregator %.0f pings/s (target >= 100000)\n",
              ratios.back(), real_c.result.rate());
        });
    if (run_real) PrintCommitStats((*server)->MetricsText());
    if (ratios.size() > 1) PrintMedian("SubmitBatch ratio b/a", ratios);
  }
  (*server)->Shutdown();
  bare_server->Shutdown();
  deferred_server->Shutdown();
  return errors == 0 ? 0 : 1;
}

}  // namespace
}  // namespace pinning::bench

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "ingest_load: throughput and latency of Ingest.Submit / SubmitBatch, bare gRPC vs the "
      "aggregator (see the file comment).");
  absl::ParseCommandLine(argc, argv);
  // Debian's Abseil is built with mutex deadlock detection on; it costs CPU on every lock.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  std::cout << std::unitbuf;  // results reach the terminal even if a later phase fails
  return pinning::bench::Main(argv[0]);
}
