// Several aggregatord replicas on one PostgreSQL database, over TLS gRPC, against a real server
// started by the test.
//
// Concurrent submitters send distinct pings, each first to replica (i mod 3); a failed attempt is
// retried on the next replica (a client's retry landing elsewhere), and every fourth ping is sent
// again to another replica after its acknowledgement (an acknowledgement lost on the way back).
// Then, read directly from the database:
//   1. the stored number of pings equals the number of distinct acknowledged pings, and every
//      stored bit count equals the sum of that bit over those pings (no loss, no double count);
//   2. every replica's Query.Rates decodes exactly those pings (pings per pinset, and estimates
//      equal to the estimator applied to the exact bit counts);
//   3. every re-sent ping came back as a duplicate, and so does every ping sent once more at the
//      end in one SubmitBatch.
// The restart test does the same while the database is restarted (immediate shutdown, i.e. a
// crash followed by WAL recovery) twice under load: replicas answer UNAVAILABLE meanwhile, clients
// retry, the replicas reconnect, and nothing acknowledged is lost.
#include <signal.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "aggregator/storage/postgres/pg_test_server.h"
#include "aggregator/storage/postgres/postgres_store.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "privacy/pinset_state.h"
#include "proto/params.grpc.pb.h"
#include "proto/ping.grpc.pb.h"
#include "proto/query.grpc.pb.h"
#include "tests/subprocess.h"
#include "tests/test_certs.h"
#include "tests/test_env.h"

namespace pinning::tests {
namespace {

using aggregator::postgres::PgTestServer;
using ::privacy::PinsetState;

constexpr int kReplicas = 3;
constexpr int kSubmitters = 12;
constexpr char kSchema[] = "replicas";

// Cluster: one PostgreSQL server and kReplicas aggregatord processes sharing its database.
class Cluster {
 public:
  static absl::StatusOr<std::unique_ptr<Cluster>> Start() {
    auto c = std::unique_ptr<Cluster>(new Cluster());
    absl::StatusOr<std::unique_ptr<PgTestServer>> pg = PgTestServer::Start();
    if (!pg.ok()) return pg.status();
    c->pg_ = *std::move(pg);
    absl::StatusOr<std::string> dir = MakeTempDir("replicas");
    if (!dir.ok()) return dir.status();
    c->dir_ = *dir;
    absl::StatusOr<TestCertificates> certs = MakeTestCertificates(c->dir_ + "/certs");
    if (!certs.ok()) return certs.status();
    c->certs_ = *certs;
    absl::StatusOr<ConfigFiles> files = WriteConfigFiles(c->dir_);
    if (!files.ok()) return files.status();
    c->files_ = *files;
    // The first replica publishes the initial parameters; the others start together after it.
    c->processes_.resize(kReplicas);
    c->addresses_.resize(kReplicas);
    if (absl::Status s = c->StartReplica(0); !s.ok()) return s;
    std::vector<absl::Status> started(kReplicas);
    std::vector<std::thread> threads;
    for (int r = 1; r < kReplicas; ++r) {
      threads.emplace_back([&, r] { started[r] = c->StartReplica(r); });
    }
    for (auto& t : threads) t.join();
    for (const absl::Status& s : started) {
      if (!s.ok()) return s;
    }
    return c;
  }

  PgTestServer& pg() { return *pg_; }
  const v1::Catalog& catalog() const { return files_.catalog; }
  std::shared_ptr<grpc::Channel> Channel(int replica) const {
    return TlsChannel(addresses_[replica], certs_.ca_pem);
  }
  // Alive is true while the replica's process runs.
  bool Alive(int replica) {
    return !processes_[replica]->WaitFor(absl::ZeroDuration()).has_value();
  }
  std::string Stderr(int replica) const {
    return ReadFileOrEmpty(absl::StrCat(dir_, "/stderr", replica));
  }

  // OpenStore opens the replicas' database directly, for checks.
  absl::StatusOr<std::unique_ptr<aggregator::PostgresStore>> OpenStore() const {
    aggregator::PostgresStoreOptions options;
    options.conninfo = pg_->ConnInfo();
    options.password_file = pg_->password_file();
    options.schema = kSchema;
    return aggregator::PostgresStore::Open(options);
  }

 private:
  Cluster() = default;

  absl::Status StartReplica(int r) {
    const std::string port_file = absl::StrCat(dir_, "/port", r);
    absl::StatusOr<std::unique_ptr<Subprocess>> process = Subprocess::Start(
        {RunfilePath("aggregator/serve/aggregatord"), "--listen=127.0.0.1:0",
         "--port_file=" + port_file, "--tls_cert=" + certs_.server_cert_file,
         "--tls_key=" + certs_.server_key_file, "--store=postgres", "--postgres=" + pg_->ConnInfo(),
         "--postgres_password_file=" + pg_->password_file(),
         absl::StrCat("--postgres_schema=", kSchema), "--postgres_pool_size=3",
         absl::StrCat("--data_dir=", dir_, "/data", r), "--token_file=" + files_.token_file,
         "--initial_catalog=" + files_.catalog_file, "--initial_params=" + files_.params_file,
         "--max_epsilon_one=6", "--max_epsilon_inf=10"},
        absl::StrCat(dir_, "/stdout", r), absl::StrCat(dir_, "/stderr", r));
    if (!process.ok()) return process.status();
    processes_[r] = *std::move(process);
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    while (absl::Now() < deadline) {
      int port = 0;
      if (absl::SimpleAtoi(absl::StripAsciiWhitespace(ReadFileOrEmpty(port_file)), &port) &&
          port > 0) {
        addresses_[r] = absl::StrCat("127.0.0.1:", port);
        return absl::OkStatus();
      }
      if (processes_[r]->WaitFor(absl::ZeroDuration()).has_value()) {
        return absl::InternalError(absl::StrCat("replica ", r, " exited: ", Stderr(r)));
      }
      absl::SleepFor(absl::Milliseconds(20));
    }
    return absl::DeadlineExceededError(absl::StrCat("replica ", r, " did not start"));
  }

  std::unique_ptr<PgTestServer> pg_;
  std::string dir_;
  TestCertificates certs_;
  ConfigFiles files_;
  std::vector<std::unique_ptr<Subprocess>> processes_;
  std::vector<std::string> addresses_;
};

// Load sends every ping until acknowledged, as described in the file comment.
class Load {
 public:
  Load(Cluster& cluster, const std::vector<v1::Ping>& pings) : pings_(pings) {
    for (int r = 0; r < kReplicas; ++r) stubs_.push_back(v1::Ingest::NewStub(cluster.Channel(r)));
  }
  void Start() {
    for (int t = 0; t < kSubmitters; ++t) threads_.emplace_back([this, t] { Run(t); });
  }
  void Join() {
    for (std::thread& t : threads_) t.join();
  }
  int acked() const { return acked_.load(); }
  int failures() const { return failures_.load(); }
  int resent() const { return resent_.load(); }
  int resent_duplicates() const { return resent_duplicates_.load(); }
  int cross_replica_retries() const { return cross_replica_retries_.load(); }

 private:
  // Submit sends ping i starting at `replica` until a replica acknowledges it; returns the
  // acknowledging replica and whether the answer was `duplicate`.
  std::pair<int, bool> Submit(int i, int replica) {
    const absl::Time give_up = absl::Now() + absl::Seconds(60);
    while (absl::Now() < give_up) {
      auto context = ContextWithDeadline(absl::Seconds(5));
      v1::SubmitResponse response;
      const grpc::Status status =
          stubs_[replica]->Submit(context.get(), SubmitFor(pings_[i]), &response);
      if (status.ok()) return {replica, response.duplicate()};
      failures_.fetch_add(1);
      replica = (replica + 1) % kReplicas;
      cross_replica_retries_.fetch_add(1);
      absl::SleepFor(absl::Milliseconds(25));
    }
    ADD_FAILURE() << "ping " << i << " never acknowledged";
    return {-1, false};
  }

  void Run(int t) {
    for (int i = t; i < static_cast<int>(pings_.size()); i += kSubmitters) {
      const auto [replica, duplicate] = Submit(i, i % kReplicas);
      if (replica < 0) continue;
      acked_.fetch_add(1);
      if (i % 4 == 0) {
        resent_.fetch_add(1);
        if (Submit(i, (replica + 1) % kReplicas).second) resent_duplicates_.fetch_add(1);
      }
    }
  }

  const std::vector<v1::Ping>& pings_;
  std::vector<std::unique_ptr<v1::Ingest::Stub>> stubs_;
  std::atomic<int> acked_{0}, failures_{0}, resent_{0}, resent_duplicates_{0},
      cross_replica_retries_{0};
  std::vector<std::thread> threads_;
};

constexpr int kBits = 2;
using Ones = std::array<std::array<int64_t, kBits>, TestEnv::kNumPinsets>;

// ExpectedOnes counts, straight from the pings' bits, how many have each reported bit set.
Ones ExpectedOnes(const std::vector<v1::Ping>& pings) {
  Ones expected{};
  for (const v1::Ping& ping : pings) {
    for (int k = 0; k < TestEnv::kNumPinsets; ++k) {
      for (int b = 0; b < kBits; ++b) {
        const int j = k * kBits + b;  // proto/ping.proto bit layout, all pinsets reported
        expected[k][b] += (static_cast<uint8_t>(ping.bits()[j / 8]) >> (j % 8)) & 1;
      }
    }
  }
  return expected;
}

// ExpectExactCounts checks the stored counts against the pings' own bits.
void ExpectExactCounts(Cluster& cluster, const std::vector<v1::Ping>& pings) {
  const Ones expected = ExpectedOnes(pings);
  absl::StatusOr<std::unique_ptr<aggregator::PostgresStore>> store = cluster.OpenStore();
  ASSERT_TRUE(store.ok()) << store.status();
  aggregator::CountQuery query;
  query.to_day = 1 << 30;
  query.include_group_totals = true;
  int64_t group_pings = 0;
  std::array<int64_t, TestEnv::kNumPinsets> reports{};
  Ones ones{};
  ASSERT_TRUE((*store)
                  ->ForEachCount(query,
                                 [&](const aggregator::CountRow& row) {
                                   if (row.pinset == aggregator::kGroupTotalPinset) {
                                     group_pings += row.reports;
                                     return;
                                   }
                                   reports[row.pinset] += row.reports;
                                   for (int b = 0; b < kBits; ++b) {
                                     ones[row.pinset][b] += row.ones[b];
                                   }
                                 })
                  .ok());
  EXPECT_EQ(group_pings, static_cast<int64_t>(pings.size()));
  for (int k = 0; k < TestEnv::kNumPinsets; ++k) {
    EXPECT_EQ(reports[k], static_cast<int64_t>(pings.size())) << "pinset " << k;
    for (int b = 0; b < kBits; ++b) {
      EXPECT_EQ(ones[k][b], expected[k][b]) << "pinset " << k << " bit " << b;
    }
  }
  EXPECT_EQ(*(*store)->SeenPingCount(), static_cast<int64_t>(pings.size()));
}

// ExpectSameDecodingEverywhere asks every replica's Query.Rates (per pinset, today) and checks
// that each decodes exactly the acknowledged pings: N pings per pinset, and checked and violated
// estimates equal to the unbiased estimator applied to the exact bit counts,
// t = (c - p* N) / (q* - p*) (DESIGN section 4), with the test parameters f = 0.5, p = 0.25,
// q = 0.75: q* = f(p + q)/2 + (1 - f) q = 0.625 and p* = f(p + q)/2 + (1 - f) p = 0.375.
void ExpectSameDecodingEverywhere(Cluster& cluster, const std::vector<v1::Ping>& pings) {
  constexpr double kQStar = 0.625, kPStar = 0.375;
  const Ones ones = ExpectedOnes(pings);
  const double n = static_cast<double>(pings.size());
  for (int r = 0; r < kReplicas; ++r) {
    SCOPED_TRACE(absl::StrCat("replica ", r));
    v1::RatesRequest request;
    request.set_from_day(Today());
    request.set_to_day(Today());
    request.set_group_by(v1::GROUP_BY_PINSET);
    v1::RatesResponse response;
    auto context = ContextWithDeadline(absl::Seconds(30));
    context->AddMetadata("authorization", absl::StrCat("Bearer ", TestEnv::kReaderToken));
    const grpc::Status status =
        v1::Query::NewStub(cluster.Channel(r))->Rates(context.get(), request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    ASSERT_EQ(response.series_size(), TestEnv::kNumPinsets);
    for (const v1::RateSeries& series : response.series()) {
      int k = -1;
      for (const v1::Pinset& pinset : cluster.catalog().pinsets()) {
        if (pinset.name() == series.key()) k = static_cast<int>(pinset.index());
      }
      ASSERT_GE(k, 0) << series.key();
      ASSERT_EQ(series.points_size(), 1);
      const v1::RatePoint& point = series.points(0);
      EXPECT_EQ(point.pings(), pings.size()) << series.key();
      const double checked = (ones[k][0] - kPStar * n) / (kQStar - kPStar);
      const double violated = (ones[k][1] - kPStar * n) / (kQStar - kPStar);
      EXPECT_NEAR(point.checked_estimate(), checked, 1e-6 * n) << series.key();
      EXPECT_NEAR(point.violated_estimate(), violated, 1e-6 * n) << series.key();
    }
  }
}

// ExpectAllDuplicates sends every ping once more in one SubmitBatch: all must be duplicates.
void ExpectAllDuplicates(Cluster& cluster, const std::vector<v1::Ping>& pings, int replica) {
  auto context = ContextWithDeadline(absl::Seconds(60));
  v1::SubmitBatchResponse response;
  auto writer =
      v1::Ingest::NewStub(cluster.Channel(replica))->SubmitBatch(context.get(), &response);
  for (const v1::Ping& ping : pings) ASSERT_TRUE(writer->Write(SubmitFor(ping)));
  ASSERT_TRUE(writer->WritesDone());
  const grpc::Status status = writer->Finish();
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.duplicates(), pings.size());
  EXPECT_EQ(response.accepted(), 0u);
  EXPECT_EQ(response.rejected(), 0u);
}

TEST(ReplicasTest, ConcurrentReplicasCountEveryAcknowledgedPingOnce) {
  absl::StatusOr<std::unique_ptr<Cluster>> cluster = Cluster::Start();
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  absl::StatusOr<std::vector<v1::Ping>> pings = MakePings((*cluster)->Channel(0), 2400, 11, 7);
  ASSERT_TRUE(pings.ok()) << pings.status();
  Load load(**cluster, *pings);
  load.Start();
  load.Join();
  EXPECT_EQ(load.acked(), 2400);
  EXPECT_EQ(load.resent(), 600);
  EXPECT_EQ(load.resent_duplicates(), 600);  // the retry on another replica found the id
  ExpectExactCounts(**cluster, *pings);
  ExpectSameDecodingEverywhere(**cluster, *pings);
  ExpectAllDuplicates(**cluster, *pings, 2);
  for (int r = 0; r < kReplicas; ++r) EXPECT_TRUE((*cluster)->Alive(r)) << (*cluster)->Stderr(r);
}

// Replicas publishing parameters at the same moment get distinct, consecutive version numbers
// (the database's primary key decides; the losers reload and take the next number), every
// replica soon serves the newest version, and pings made with it are accepted everywhere.
TEST(ReplicasTest, ConcurrentPublicationsGetDistinctVersions) {
  absl::StatusOr<std::unique_ptr<Cluster>> cluster = Cluster::Start();
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  std::vector<uint32_t> versions(kReplicas, 0);
  std::vector<std::thread> threads;
  for (int r = 0; r < kReplicas; ++r) {
    threads.emplace_back([&, r] {
      v1::PublishParamsRequest request;
      request.mutable_params()->set_f(0.5);
      request.mutable_params()->set_p(0.25);
      request.mutable_params()->set_q(0.75);
      request.mutable_params()->set_pinsets_per_ping(TestEnv::kNumPinsets);
      request.mutable_params()->set_bits_per_pinset(2);
      request.set_note(absl::StrCat("from replica ", r));
      v1::PublishParamsResponse response;
      auto context = ContextWithDeadline(absl::Seconds(30));
      context->AddMetadata("authorization", absl::StrCat("Bearer ", TestEnv::kAdminToken));
      const grpc::Status status = v1::Admin::NewStub((*cluster)->Channel(r))
                                      ->PublishParams(context.get(), request, &response);
      EXPECT_TRUE(status.ok()) << "replica " << r << ": " << status.error_message();
      versions[r] = response.published().version();
    });
  }
  for (auto& t : threads) t.join();
  std::sort(versions.begin(), versions.end());
  EXPECT_EQ(versions, (std::vector<uint32_t>{2, 3, 4}));  // version 1 is the initial one
  // Every replica converges on version 4 (registry refresh), and accepts pings made with it.
  for (int r = 0; r < kReplicas; ++r) {
    uint32_t current = 0;
    const absl::Time deadline = absl::Now() + absl::Seconds(20);
    while (current != 4 && absl::Now() < deadline) {
      v1::GetParamsResponse params;
      auto context = ContextWithDeadline(absl::Seconds(5));
      if (v1::Params::NewStub((*cluster)->Channel(r))
              ->Get(context.get(), v1::GetParamsRequest(), &params)
              .ok()) {
        current = params.current().version();
      }
      if (current != 4) absl::SleepFor(absl::Milliseconds(100));
    }
    EXPECT_EQ(current, 4u) << "replica " << r;
  }
  absl::StatusOr<std::vector<v1::Ping>> pings = MakePings((*cluster)->Channel(2), 30, 13, 7);
  ASSERT_TRUE(pings.ok()) << pings.status();
  for (size_t i = 0; i < pings->size(); ++i) {
    ASSERT_EQ((*pings)[i].params_version(), 4u);
    auto context = ContextWithDeadline(absl::Seconds(10));
    v1::SubmitResponse response;
    const grpc::Status status = v1::Ingest::NewStub((*cluster)->Channel(i % kReplicas))
                                    ->Submit(context.get(), SubmitFor((*pings)[i]), &response);
    EXPECT_TRUE(status.ok()) << "replica " << i % kReplicas << ": " << status.error_message();
  }
}

TEST(ReplicasTest, DatabaseRestartsUnderLoadLoseNothingAcknowledged) {
  absl::StatusOr<std::unique_ptr<Cluster>> cluster = Cluster::Start();
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  constexpr int kPings = 3000;
  absl::StatusOr<std::vector<v1::Ping>> pings = MakePings((*cluster)->Channel(0), kPings, 12, 7);
  ASSERT_TRUE(pings.ok()) << pings.status();
  Load load(**cluster, *pings);
  load.Start();
  // Two crash-restarts of the database while pings flow.
  for (int restart = 1; restart <= 2; ++restart) {
    const absl::Time deadline = absl::Now() + absl::Seconds(60);
    while (load.acked() < restart * kPings / 3 && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(10));
    }
    ASSERT_LT(load.acked(), kPings) << "load finished before restart " << restart;
    ASSERT_TRUE((*cluster)->pg().Stop(/*immediate=*/true).ok());
    absl::SleepFor(absl::Milliseconds(500));  // clients see UNAVAILABLE meanwhile
    ASSERT_TRUE((*cluster)->pg().Resume().ok());
  }
  load.Join();
  EXPECT_EQ(load.acked(), kPings);
  EXPECT_GT(load.failures(), 0);  // the outages were seen by clients
  EXPECT_EQ(load.resent_duplicates(), load.resent());
  ExpectExactCounts(**cluster, *pings);
  ExpectSameDecodingEverywhere(**cluster, *pings);
  ExpectAllDuplicates(**cluster, *pings, 1);
  for (int r = 0; r < kReplicas; ++r) EXPECT_TRUE((*cluster)->Alive(r)) << (*cluster)->Stderr(r);
}

}  // namespace
}  // namespace pinning::tests
