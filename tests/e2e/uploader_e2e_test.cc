// The uploader against a real aggregator over gRPC with TLS: a ping whose acknowledgement is lost
// is retried and counted once (Submit and SubmitBatch), pings the aggregator refuses as invalid
// are dropped and counted, and an overloaded aggregator's retry-after hints are honoured until
// every ping is counted exactly once.
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "client/upload/clock.h"
#include "client/upload/fake_clock.h"
#include "client/upload/pending_pings.h"
#include "client/upload/test_catalog.h"
#include "client/upload/uploader.h"
#include "gtest/gtest.h"
#include "privacy/encoder.h"
#include "privacy/params.h"
#include "privacy/random_source.h"
#include "tests/e2e/e2e_env.h"

namespace pinning::tests {
namespace {

using client::BatchOutcome;
using client::FakeClock;
using client::IngestTransport;
using client::InMemoryPendingPings;
using client::ParamsOutcome;
using client::SubmitOutcome;
using client::Uploader;
using client::UploaderOptions;
using client::UploadStats;

constexpr int kNumPinsets = 3;

// LosingTransport forwards every call to the real aggregator but, for the next `lose` calls,
// throws the answer away and reports UNAVAILABLE: the ping was counted, the client does not know.
class LosingTransport final : public IngestTransport {
 public:
  explicit LosingTransport(IngestTransport* real) : real_(real) {}
  std::atomic<int> lose{0};

  SubmitOutcome Submit(const v1::Ping& ping, absl::Duration timeout) override {
    SubmitOutcome outcome = real_->Submit(ping, timeout);
    if (lose.fetch_sub(1) > 0) return SubmitOutcome{.status = absl::UnavailableError("lost")};
    return outcome;
  }
  BatchOutcome SubmitBatch(absl::Span<const v1::Ping> pings, absl::Duration timeout) override {
    BatchOutcome outcome = real_->SubmitBatch(pings, timeout);
    if (lose.fetch_sub(1) > 0) return BatchOutcome{.status = absl::UnavailableError("lost")};
    return outcome;
  }
  ParamsOutcome GetParams(absl::string_view known, absl::Duration timeout) override {
    return real_->GetParams(known, timeout);
  }

 private:
  IngestTransport* real_;
};

class UploaderE2eTest : public ::testing::Test {
 protected:
  void SetUp() override { Start({}); }

  void Start(const std::function<void(aggregator::ServerOptions&)>& customize) {
    absl::StatusOr<std::unique_ptr<AggregatorEnv>> env = AggregatorEnv::Start(customize);
    ASSERT_TRUE(env.ok()) << env.status();
    env_ = *std::move(env);
    auto transport = env_->Transport();
    ASSERT_TRUE(transport.ok()) << transport.status();
    transport_ = *std::move(transport);
    auto admin = env_->Admin();
    ASSERT_TRUE(admin.ok()) << admin.status();
    admin_ = *std::move(admin);
    v1::Catalog catalog = client::MakeTestCatalog(kNumPinsets);
    catalog.clear_version();  // the aggregator assigns it
    absl::StatusOr<std::string> version = admin_->PublishCatalog(catalog, "e2e");
    ASSERT_TRUE(version.ok()) << version.status();
    catalog.set_version(*version);
    absl::StatusOr<v1::ParamsVersion> params = admin_->PublishParams(
        client::MakeTestParamsVersion(1, catalog, 0.5, 0.25, 0.75, kNumPinsets).params(), *version,
        "e2e");
    ASSERT_TRUE(params.ok()) << params.status();
    params_ = *params;
    yesterday_ = absl::FormatCivilTime(absl::ToCivilDay(absl::Now(), absl::UTCTimeZone()) - 1);
  }

  // MakePing encodes one client's day with the privacy encoder.
  v1::Ping MakePing(uint64_t seed) {
    privacy::SeededRandomSource rng(seed);
    std::vector<uint8_t> secret(privacy::kClientSecretSize);
    rng.FillBytes(absl::MakeSpan(secret));
    absl::StatusOr<privacy::Params> params = privacy::ParamsBuilder()
                                                 .SetF(params_.params().f())
                                                 .SetP(params_.params().p())
                                                 .SetQ(params_.params().q())
                                                 .SetPinsetsPerPing(kNumPinsets)
                                                 .Build();
    EXPECT_TRUE(params.ok());
    absl::StatusOr<privacy::Encoder> encoder =
        privacy::Encoder::Create({.params = *params,
                                  .num_pinsets = kNumPinsets,
                                  .params_version = params_.version(),
                                  .catalog_version = params_.catalog_version()},
                                 secret, &rng);
    EXPECT_TRUE(encoder.ok()) << encoder.status();
    absl::StatusOr<privacy::EncodedReport> report =
        encoder->Encode({privacy::PinsetState::kCheckedOk, privacy::PinsetState::kViolated,
                         privacy::PinsetState::kNotChecked});
    EXPECT_TRUE(report.ok());
    v1::Ping ping;
    std::string id(16, '\0');
    rng.FillBytes(absl::Span<uint8_t>(reinterpret_cast<uint8_t*>(id.data()), id.size()));
    ping.set_ping_id(id);
    ping.set_day(yesterday_);
    ping.set_params_version(params_.version());
    ping.set_catalog_version(params_.catalog_version());
    ping.set_bits(std::string(report->bits.begin(), report->bits.end()));
    ping.mutable_dimensions()->set_product("chrome");
    ping.mutable_dimensions()->set_channel("stable");
    ping.mutable_dimensions()->set_major_version(131);
    return ping;
  }

  // CountedPings returns how many pings of yesterday Query.Rates counts, waiting up to 5 s for
  // `expected` (acknowledged pings are durable; the query path may lag by up to 2 s).
  int64_t CountedPings(int64_t expected) {
    v1::RatesRequest request;
    request.set_from_day(yesterday_);
    request.set_to_day(yesterday_);
    request.set_group_by(v1::GROUP_BY_PINSET);
    request.set_per_day(true);
    int64_t counted = -1;
    for (absl::Time deadline = absl::Now() + absl::Seconds(5); absl::Now() < deadline;
         absl::SleepFor(absl::Milliseconds(100))) {
      absl::StatusOr<v1::RatesResponse> response = admin_->Rates(request);
      EXPECT_TRUE(response.ok()) << response.status();
      if (!response.ok()) return -1;
      counted = 0;
      for (const v1::RateSeries& series : response->series()) {
        for (const v1::RatePoint& point : series.points()) {
          counted = std::max<int64_t>(counted, point.pings());  // s = K: every ping, every pinset
        }
      }
      if (counted == expected) break;
    }
    return counted;
  }

  std::unique_ptr<AggregatorEnv> env_;
  std::unique_ptr<client::GrpcIngestTransport> transport_;
  std::unique_ptr<client::sim::GrpcAggregatorClient> admin_;
  v1::ParamsVersion params_;
  std::string yesterday_;
  FakeClock clock_{absl::Now()};
  privacy::SeededRandomSource jitter_{99};
};

TEST_F(UploaderE2eTest, ASubmitWhoseResponseIsLostIsCountedOnce) {
  LosingTransport losing(transport_.get());
  losing.lose = 1;
  Uploader uploader(UploaderOptions{}, &losing, &clock_, &jitter_);
  InMemoryPendingPings pending(8);
  ASSERT_TRUE(pending.Append(MakePing(1)).ok());
  UploadStats stats;
  ASSERT_TRUE(uploader.Flush(pending, stats).ok());
  EXPECT_EQ(stats.failed_attempts, 1u);
  EXPECT_EQ(stats.duplicates, 1u);  // the retry learns it was counted already
  EXPECT_EQ(stats.acknowledged, 0u);
  EXPECT_EQ(clock_.sleeps().size(), 1u);
  EXPECT_EQ(CountedPings(1), 1);

  // A different ping is counted normally.
  ASSERT_TRUE(pending.Append(MakePing(2)).ok());
  ASSERT_TRUE(uploader.Flush(pending, stats).ok());
  EXPECT_EQ(stats.acknowledged, 1u);
  EXPECT_EQ(CountedPings(2), 2);
}

TEST_F(UploaderE2eTest, ABatchWhoseResponseIsLostIsCountedOnce) {
  LosingTransport losing(transport_.get());
  losing.lose = 1;
  UploaderOptions options;
  options.use_submit_batch = true;
  Uploader uploader(options, &losing, &clock_, &jitter_);
  InMemoryPendingPings pending(16);
  for (uint64_t seed = 10; seed < 15; ++seed) ASSERT_TRUE(pending.Append(MakePing(seed)).ok());
  UploadStats stats;
  ASSERT_TRUE(uploader.Flush(pending, stats).ok());
  EXPECT_EQ(stats.failed_attempts, 1u);
  EXPECT_EQ(stats.duplicates, 5u);
  EXPECT_EQ(stats.acknowledged, 0u);
  EXPECT_EQ(pending.size(), 0u);
  EXPECT_EQ(CountedPings(5), 5);
}

TEST_F(UploaderE2eTest, PingsRefusedAsInvalidAreDroppedAndCounted) {
  v1::Ping too_old = MakePing(20);
  too_old.set_day(absl::FormatCivilTime(absl::ToCivilDay(absl::Now(), absl::UTCTimeZone()) - 60));
  v1::Ping unknown_version = MakePing(21);
  unknown_version.set_params_version(99);
  v1::Ping bad_bits = MakePing(22);
  bad_bits.set_bits("\x01\x02\x03");
  for (bool batch : {false, true}) {
    SCOPED_TRACE(batch ? "SubmitBatch" : "Submit");
    UploaderOptions options;
    options.use_submit_batch = batch;
    Uploader uploader(options, transport_.get(), &clock_, &jitter_);
    InMemoryPendingPings pending(8);
    for (const v1::Ping& ping : {too_old, unknown_version, bad_bits}) {
      ASSERT_TRUE(pending.Append(ping).ok());
    }
    ASSERT_TRUE(pending.Append(MakePing(batch ? 24 : 23)).ok());
    UploadStats stats;
    ASSERT_TRUE(uploader.Flush(pending, stats).ok());
    EXPECT_EQ(stats.dropped_invalid, 3u);
    EXPECT_EQ(stats.acknowledged, 1u);
    EXPECT_EQ(stats.failed_attempts, 0u);
    EXPECT_EQ(pending.size(), 0u);
  }
  EXPECT_EQ(CountedPings(2), 2);
}

TEST(UploaderOverloadE2eTest, RetryAfterHintsAreHonouredUntilEveryPingIsCountedOnce) {
  // A queue of one ping and a 30 ms batching wait: concurrent clients are refused with
  // RESOURCE_EXHAUSTED and a retry-after-ms hint of 25 ms.
  absl::StatusOr<std::unique_ptr<AggregatorEnv>> env =
      AggregatorEnv::Start([](aggregator::ServerOptions& options) {
        options.queue_capacity = 1;
        options.commit_max_wait = absl::Milliseconds(30);
        options.retry_after_ms = 25;
      });
  ASSERT_TRUE(env.ok()) << env.status();
  auto transport = (*env)->Transport();
  auto admin = (*env)->Admin();
  ASSERT_TRUE(transport.ok() && admin.ok());
  v1::Catalog catalog = client::MakeTestCatalog(kNumPinsets);
  catalog.clear_version();
  absl::StatusOr<std::string> version = (*admin)->PublishCatalog(catalog, "e2e");
  ASSERT_TRUE(version.ok()) << version.status();
  catalog.set_version(*version);
  absl::StatusOr<v1::ParamsVersion> params = (*admin)->PublishParams(
      client::MakeTestParamsVersion(1, catalog, 0.5, 0.25, 0.75, kNumPinsets).params(), *version,
      "e2e");
  ASSERT_TRUE(params.ok()) << params.status();

  constexpr int kClients = 6, kPingsEach = 8;
  const std::string day =
      absl::FormatCivilTime(absl::ToCivilDay(absl::Now(), absl::UTCTimeZone()) - 1);
  std::vector<UploadStats> stats(kClients);
  std::vector<absl::Status> results(kClients);
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      client::RealClock clock;
      privacy::SeededRandomSource jitter(1000 + c);
      UploaderOptions options;
      options.max_attempts = 200;
      options.backoff.initial = absl::Milliseconds(5);
      Uploader uploader(options, transport->get(), &clock, &jitter);
      InMemoryPendingPings pending(kPingsEach);
      for (int i = 0; i < kPingsEach; ++i) {
        v1::Ping ping;
        ping.set_ping_id(absl::StrCat("client", c, "-ping", i, "-----").substr(0, 16));
        ping.set_day(day);
        ping.set_params_version(params->version());
        ping.set_catalog_version(*version);
        ping.set_bits(std::string(1, '\x01'));  // 6 bits: pinset 0 checked
        EXPECT_TRUE(pending.Append(ping).ok());
      }
      results[c] = uploader.Flush(pending, stats[c]);
    });
  }
  for (std::thread& t : clients) t.join();
  uint64_t acknowledged = 0, duplicates = 0, hints = 0;
  for (int c = 0; c < kClients; ++c) {
    EXPECT_TRUE(results[c].ok()) << results[c];
    acknowledged += stats[c].acknowledged;
    duplicates += stats[c].duplicates;
    hints += stats[c].retry_hints;
  }
  EXPECT_EQ(acknowledged, static_cast<uint64_t>(kClients * kPingsEach));
  EXPECT_EQ(duplicates, 0u);
  EXPECT_GT(hints, 0u) << "the aggregator never shed load; the test did not exercise hints";
  EXPECT_GT((*env)->Metric("pinning_ingest_rejected_total{reason=\"overloaded\"}"), 0);

  v1::RatesRequest request;
  request.set_from_day(day);
  request.set_to_day(day);
  request.set_group_by(v1::GROUP_BY_PINSET);
  request.set_per_day(true);
  int64_t counted = 0;
  for (absl::Time deadline = absl::Now() + absl::Seconds(5); absl::Now() < deadline;
       absl::SleepFor(absl::Milliseconds(100))) {
    absl::StatusOr<v1::RatesResponse> response = (*admin)->Rates(request);
    ASSERT_TRUE(response.ok()) << response.status();
    counted = 0;
    for (const v1::RateSeries& series : response->series()) {
      for (const v1::RatePoint& point : series.points()) {
        counted = std::max<int64_t>(counted, point.pings());
      }
    }
    if (counted == kClients * kPingsEach) break;
  }
  EXPECT_EQ(counted, kClients * kPingsEach);
}

}  // namespace
}  // namespace pinning::tests
