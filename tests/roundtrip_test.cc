// Round trip: a synthetic population with known violation rates is encoded with the privacy
// encoder, sent through SubmitBatch over TLS, and decoded through Query.Rates. The decoded rates
// must be statistically consistent with the population's true rates: within 4 standard errors
// (as reported by the server, whose formula the privacy library's statistical tests validate) of
// the realized truth for every pinset and organization, with the reported 95% interval
// containing the truth for most series. The seed is fixed, so the outcome is reproducible.
#include <cmath>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "privacy/pinset_state.h"
#include "privacy/random_source.h"
#include "proto/params.grpc.pb.h"
#include "proto/ping.grpc.pb.h"
#include "proto/query.grpc.pb.h"
#include "tests/test_env.h"

namespace pinning::tests {
namespace {

using ::privacy::PinsetState;

constexpr int kClients = 20000;
// Per pinset of the test catalog (google, google-backup, tor, mozilla): fraction of clients that
// checked it and, of those, the fraction that saw a violation.
constexpr double kCheckFraction[TestEnv::kNumPinsets] = {0.6, 0.3, 0.5, 0.4};
constexpr double kViolationRate[TestEnv::kNumPinsets] = {0.02, 0.10, 0.25, 0.05};

struct Truth {
  int64_t checked = 0;
  int64_t violated = 0;
  double rate() const { return static_cast<double>(violated) / checked; }
};

class RoundTripTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<TestEnv>> env =
        TestEnv::Create([](aggregator::ServerOptions& options) {
          // Low-noise parameters need a high ceiling; this test is about decoding, not privacy.
          options.max_epsilon_one = 100;
          options.max_epsilon_inf = 100;
        });
    ASSERT_TRUE(env.ok()) << env.status();
    env_ = *std::move(env);
  }

  // Publish publishes (f, p, q, s) and returns the version.
  v1::ParamsVersion Publish(double f, double p, double q, uint32_t s) {
    v1::PublishParamsRequest request;
    request.mutable_params()->set_f(f);
    request.mutable_params()->set_p(p);
    request.mutable_params()->set_q(q);
    request.mutable_params()->set_pinsets_per_ping(s);
    request.mutable_params()->set_bits_per_pinset(2);
    v1::PublishParamsResponse response;
    auto context = env_->Context(TestEnv::kAdminToken);
    grpc::Status status =
        v1::Admin::NewStub(env_->Channel())->PublishParams(context.get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.published();
  }

  // SendPopulation encodes kClients clients under `params` and streams them; adds to `truth`.
  void SendPopulation(const v1::ParamsVersion& params, uint64_t seed, std::vector<Truth>& truth) {
    absl::StatusOr<PingMaker> maker = PingMaker::Create(params, TestEnv::kNumPinsets, seed);
    ASSERT_TRUE(maker.ok());
    privacy::SeededRandomSource population(seed + 1);
    auto uniform = [&population] { return (population.NextUint64() >> 11) * 0x1.0p-53; };
    auto context = env_->Context("", absl::Seconds(60));
    v1::SubmitBatchResponse response;
    auto writer = v1::Ingest::NewStub(env_->Channel())->SubmitBatch(context.get(), &response);
    const std::string today = Today();
    for (int c = 0; c < kClients; ++c) {
      std::vector<PinsetState> states(TestEnv::kNumPinsets, PinsetState::kNotChecked);
      for (int k = 0; k < TestEnv::kNumPinsets; ++k) {
        if (uniform() >= kCheckFraction[k]) continue;
        const bool violated = uniform() < kViolationRate[k];
        states[k] = violated ? PinsetState::kViolated : PinsetState::kCheckedOk;
        truth[k].checked += 1;
        truth[k].violated += violated;
      }
      absl::StatusOr<v1::Ping> ping = maker->Make(states, today);
      ASSERT_TRUE(ping.ok()) << ping.status();
      ASSERT_TRUE(writer->Write(SubmitFor(*ping)));
    }
    ASSERT_TRUE(writer->WritesDone());
    grpc::Status status = writer->Finish();
    ASSERT_TRUE(status.ok()) << status.error_message();
    ASSERT_EQ(response.accepted(), static_cast<uint64_t>(kClients));
  }

  v1::RatesResponse Rates(v1::GroupBy group_by) {
    v1::RatesRequest request;
    request.set_from_day(Today());
    request.set_to_day(Today());
    request.set_group_by(group_by);
    v1::RatesResponse response;
    auto context = env_->Context(TestEnv::kReaderToken);
    grpc::Status status =
        v1::Query::NewStub(env_->Channel())->Rates(context.get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  }

  // CheckSeries compares every series with the truth; returns how many intervals cover it.
  int CheckSeries(const v1::RatesResponse& rates, const std::map<std::string, Truth>& truth,
                  uint64_t expected_pings) {
    int covered = 0;
    EXPECT_EQ(rates.series_size(), static_cast<int>(truth.size()));
    for (const v1::RateSeries& series : rates.series()) {
      SCOPED_TRACE(series.key());
      auto it = truth.find(series.key());
      EXPECT_NE(it, truth.end());
      if (it == truth.end()) continue;
      EXPECT_EQ(series.points_size(), 1);
      if (series.points_size() != 1) continue;
      const v1::RatePoint& point = series.points(0);
      EXPECT_TRUE(point.sufficient()) << point.insufficient_reason();
      EXPECT_EQ(point.pings(), expected_pings);
      const double truth_rate = it->second.rate();
      EXPECT_GT(point.std_error(), 0);
      EXPECT_LT(std::abs(point.rate() - truth_rate), 4 * point.std_error())
          << "decoded " << point.rate() << " +- " << point.std_error() << ", truth "
          << truth_rate;
      // The checked estimate is an unbiased count of checking clients (DESIGN §4).
      EXPECT_GT(point.checked_estimate(), 0);
      if (point.ci_low() <= truth_rate && truth_rate <= point.ci_high()) ++covered;
    }
    return covered;
  }

  std::unique_ptr<TestEnv> env_;
};

TEST_F(RoundTripTest, DecodedRatesMatchTheTrueRatesOfAnEncodedPopulation) {
  // f = 0.1, p = 0.1, q = 0.9, all pinsets: q* - p* = 0.72, so with 20 000 clients the standard
  // error of a pinset rate is about 1-3 points, small enough to tell the four rates apart.
  const v1::ParamsVersion params = Publish(0.1, 0.1, 0.9, 4);
  ASSERT_EQ(params.version(), 2u);
  std::vector<Truth> truth(TestEnv::kNumPinsets);
  SendPopulation(params, 1234, truth);

  const char* kNames[] = {"google", "google-backup", "tor", "mozilla"};
  std::map<std::string, Truth> by_pinset;
  for (int k = 0; k < TestEnv::kNumPinsets; ++k) by_pinset[kNames[k]] = truth[k];
  int covered = CheckSeries(Rates(v1::GROUP_BY_PINSET), by_pinset, kClients);

  std::map<std::string, Truth> by_org;
  by_org["Google"] = {truth[0].checked + truth[1].checked, truth[0].violated + truth[1].violated};
  by_org["Tor"] = truth[2];
  by_org["Mozilla"] = truth[3];
  // An organization's series counts pings that reported any of its pinsets: all of them here.
  covered += CheckSeries(Rates(v1::GROUP_BY_ORGANIZATION), by_org, kClients);
  // 7 intervals at 95%: all 7 cover with probability 0.70, at least 5 with probability 0.996.
  EXPECT_GE(covered, 5);

  // The decoded rates are far apart where the truths are: tor (25%) well above google (2%).
  v1::RatesResponse pinsets = Rates(v1::GROUP_BY_PINSET);
  std::map<std::string, double> decoded;
  for (const v1::RateSeries& s : pinsets.series()) decoded[s.key()] = s.points(0).rate();
  EXPECT_GT(decoded["tor"], decoded["google"] + 0.1);
}

TEST_F(RoundTripTest, SubsetReportingDecodesToo) {
  // s = 2 of K = 4: each ping reports a random half of the pinsets, so each pinset series gets
  // about half of the pings; the decoded rates still match the truth of the whole population.
  const v1::ParamsVersion params = Publish(0.1, 0.1, 0.9, 2);
  std::vector<Truth> truth(TestEnv::kNumPinsets);
  SendPopulation(params, 999, truth);
  v1::RatesResponse rates = Rates(v1::GROUP_BY_PINSET);
  const char* kNames[] = {"google", "google-backup", "tor", "mozilla"};
  ASSERT_EQ(rates.series_size(), TestEnv::kNumPinsets);
  uint64_t reports = 0;
  for (const v1::RateSeries& series : rates.series()) {
    SCOPED_TRACE(series.key());
    int k = 0;
    while (k < TestEnv::kNumPinsets && series.key() != kNames[k]) ++k;
    ASSERT_LT(k, TestEnv::kNumPinsets);
    const v1::RatePoint& point = series.points(0);
    ASSERT_TRUE(point.sufficient());
    reports += point.pings();
    // Each pinset is reported by a Binomial(20000, 1/2) number of pings: within 5 SD (5 * 71).
    EXPECT_NEAR(static_cast<double>(point.pings()), kClients / 2.0, 5 * 71);
    EXPECT_LT(std::abs(point.rate() - truth[k].rate()), 4 * point.std_error())
        << "decoded " << point.rate() << " +- " << point.std_error() << ", truth "
        << truth[k].rate();
  }
  EXPECT_EQ(reports, 2u * kClients);
}

}  // namespace
}  // namespace pinning::tests
