#include "privacy/estimator.h"

#include <cmath>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace privacy {
namespace {

using ::testing::HasSubstr;

// f = 0.5, p = 0.25, q = 0.75: p* = 0.375, q* = 0.625, q* − p* = 0.25.
Params Chrome(int s = 1) {
  return *ParamsBuilder().SetF(0.5).SetP(0.25).SetQ(0.75).SetPinsetsPerPing(s).Build();
}

TEST(EstimateTrueCountTest, MatchesHandComputation) {
  const BitEstimate e = EstimateTrueCount(500, 1000, Chrome());
  EXPECT_DOUBLE_EQ(e.count, 500);      // (500 − 375) / 0.25
  EXPECT_DOUBLE_EQ(e.variance, 4000);  // 1000 · 0.25 / 0.0625
  EXPECT_DOUBLE_EQ(e.std_error, std::sqrt(4000.0));
  EXPECT_NEAR(e.ci_low, 500 - 1.959964 * 63.245553, 1e-4);
  EXPECT_NEAR(e.ci_high, 500 + 1.959964 * 63.245553, 1e-4);
}

TEST(EstimateTrueCountTest, NegativeEstimatesAndClampedInterval) {
  const BitEstimate e = EstimateTrueCount(0, 1000, Chrome());
  EXPECT_DOUBLE_EQ(e.count, -1500);
  EXPECT_DOUBLE_EQ(e.variance, 0);
  EXPECT_DOUBLE_EQ(e.ci_low, 0);
  EXPECT_DOUBLE_EQ(e.ci_high, 0);
  const BitEstimate high = EstimateTrueCount(990, 1000, Chrome());
  EXPECT_GT(high.count, 1000);
  EXPECT_DOUBLE_EQ(high.ci_high, 1000);
}

TEST(EstimateTrueCountTest, ZeroAndInvalidTotals) {
  const BitEstimate zero = EstimateTrueCount(0, 0, Chrome());
  EXPECT_EQ(zero.count, 0);
  EXPECT_EQ(zero.variance, 0);
  EXPECT_EQ(zero.ci_high, 0);
  EXPECT_TRUE(std::isnan(EstimateTrueCount(5, 4, Chrome()).count));
  EXPECT_TRUE(std::isnan(EstimateTrueCount(-1, 4, Chrome()).variance));
  EXPECT_TRUE(std::isnan(EstimateTrueCount(0, -4, Chrome()).std_error));
}

TEST(EstimateViolationRateTest, MatchesHandComputation) {
  // V = (400 − 375)/0.25 = 100, C = 500, R = 0.2; Var(V) = 3840, Var(C) = 4000,
  // Cov = 1000 · 0.1 · (1 − 0.5) = 50; Var(R) = (3840 − 20 + 160) / 500² = 0.01592.
  const RateEstimate r = EstimateViolationRate({1000, 500, 400}, Chrome());
  ASSERT_TRUE(r.sufficient) << r.reason;
  EXPECT_TRUE(r.reason.empty());
  EXPECT_DOUBLE_EQ(r.violated_estimate, 100);
  EXPECT_DOUBLE_EQ(r.checked_estimate, 500);
  EXPECT_DOUBLE_EQ(r.rate, 0.2);
  EXPECT_DOUBLE_EQ(r.unclamped_rate, 0.2);
  EXPECT_NEAR(r.std_error, std::sqrt(0.01592), 1e-12);
  EXPECT_DOUBLE_EQ(r.ci_low, 0);  // 0.2 − 0.247 clamped
  EXPECT_NEAR(r.ci_high, 0.2 + kZ95 * std::sqrt(0.01592), 1e-12);
  EXPECT_EQ(r.reports, 1000);
}

TEST(EstimateViolationRateTest, InsufficientData) {
  const RateEstimate none = EstimateViolationRate({0, 0, 0}, Chrome());
  EXPECT_FALSE(none.sufficient);
  EXPECT_EQ(none.reason, "no reports");
  const RateEstimate zero_checked = EstimateViolationRate({1000, 375, 380}, Chrome());
  EXPECT_FALSE(zero_checked.sufficient);
  EXPECT_EQ(zero_checked.reason, "checked estimate <= 0");
  EXPECT_EQ(zero_checked.reports, 1000);
  const RateEstimate negative = EstimateViolationRate({1000, 300, 380}, Chrome());
  EXPECT_FALSE(negative.sufficient);
  EXPECT_EQ(negative.reason, "checked estimate <= 0");
  const RateEstimate invalid = EstimateViolationRate({10, 11, 0}, Chrome());
  EXPECT_FALSE(invalid.sufficient);
  EXPECT_THAT(invalid.reason, HasSubstr("invalid counts"));
  EXPECT_FALSE(EstimateViolationRate({-1, 0, 0}, Chrome()).sufficient);
}

TEST(EstimateViolationRateTest, RatesBeyondTheUnitIntervalAreClamped) {
  // V > C: V = (600 − 375)/0.25 = 900, C = (450 − 375)/0.25 = 300.
  const RateEstimate r = EstimateViolationRate({1000, 450, 600}, Chrome());
  ASSERT_TRUE(r.sufficient);
  EXPECT_DOUBLE_EQ(r.unclamped_rate, 3);
  EXPECT_EQ(r.rate, 1);
  EXPECT_LE(r.ci_high, 1);
  EXPECT_LE(r.ci_low, 1);
  // V < 0.
  const RateEstimate low = EstimateViolationRate({1000, 600, 300}, Chrome());
  ASSERT_TRUE(low.sufficient);
  EXPECT_LT(low.unclamped_rate, 0);
  EXPECT_EQ(low.rate, 0);
  EXPECT_EQ(low.ci_low, 0);
  EXPECT_GE(low.ci_high, 0);
}

TEST(EstimateOrganizationRateTest, SumsPinsets) {
  const std::vector<PinsetCounts> two = {{1000, 500, 400}, {1000, 500, 400}, {0, 0, 0}};
  const RateEstimate r = EstimateOrganizationRate(two, Chrome());
  ASSERT_TRUE(r.sufficient);
  EXPECT_DOUBLE_EQ(r.violated_estimate, 200);
  EXPECT_DOUBLE_EQ(r.checked_estimate, 1000);
  EXPECT_DOUBLE_EQ(r.rate, 0.2);
  EXPECT_NEAR(r.std_error, std::sqrt(2 * 3980.0 / 1e6), 1e-12);
  EXPECT_EQ(r.reports, 2000);
  const RateEstimate single = EstimateOrganizationRate({{1000, 500, 400}}, Chrome());
  const RateEstimate direct = EstimateViolationRate({1000, 500, 400}, Chrome());
  EXPECT_EQ(single.std_error, direct.std_error);
  EXPECT_EQ(EstimateOrganizationRate({}, Chrome()).reason, "no pinsets");
  EXPECT_EQ(EstimateOrganizationRate({{0, 0, 0}}, Chrome()).reason, "no reports");
  EXPECT_FALSE(EstimateOrganizationRate({{1000, 500, 400}, {5, 6, 0}}, Chrome()).sufficient);
}

RateEstimate Sufficient(double rate, double se, int64_t reports = 10) {
  RateEstimate r;
  r.sufficient = true;
  r.rate = r.unclamped_rate = rate;
  r.std_error = se;
  r.reports = reports;
  r.violated_estimate = rate * 100;
  r.checked_estimate = 100;
  return r;
}

TEST(CombineByInverseVarianceTest, WeightsByInverseVariance) {
  RateEstimate skipped;
  skipped.reason = "no reports";
  const RateEstimate r =
      CombineByInverseVariance({Sufficient(0.2, 0.1), Sufficient(0.4, 0.2), skipped});
  ASSERT_TRUE(r.sufficient);
  EXPECT_DOUBLE_EQ(r.rate, 0.24);  // (100·0.2 + 25·0.4) / 125
  EXPECT_DOUBLE_EQ(r.std_error, 1 / std::sqrt(125.0));
  EXPECT_NEAR(r.ci_low, 0.24 - kZ95 / std::sqrt(125.0), 1e-12);
  EXPECT_EQ(r.reports, 20);
  EXPECT_DOUBLE_EQ(r.checked_estimate, 200);
}

TEST(CombineByInverseVarianceTest, EdgeCases) {
  EXPECT_EQ(CombineByInverseVariance({}).reason, "no estimates");
  RateEstimate insufficient;
  insufficient.reason = "no reports";
  const RateEstimate none = CombineByInverseVariance({insufficient});
  EXPECT_FALSE(none.sufficient);
  EXPECT_EQ(none.reason, "no sufficient estimate");
  const RateEstimate exact =
      CombineByInverseVariance({Sufficient(0.5, 0.1), Sufficient(0.3, 0), Sufficient(0.1, 0)});
  ASSERT_TRUE(exact.sufficient);
  EXPECT_DOUBLE_EQ(exact.rate, 0.2);
  EXPECT_EQ(exact.std_error, 0);
  // Unclamped rates are combined; the result is clamped.
  RateEstimate below = Sufficient(-0.1, 0.1);
  below.rate = 0;
  const RateEstimate clamped = CombineByInverseVariance({below, Sufficient(-0.1, 0.1)});
  EXPECT_EQ(clamped.rate, 0);
  EXPECT_DOUBLE_EQ(clamped.unclamped_rate, -0.1);
}

TEST(ProjectRateErrorTest, RareViolationsGiveTheTunerObjective) {
  // With violation_rate = 0: Var(R) = J / (N c²), J = (K/s) p*(1−p*)/(q*−p*)².
  const Params params = Chrome(2);
  const double j = (8.0 / 2) * 0.375 * 0.625 / (0.25 * 0.25);
  absl::StatusOr<RateProjection> proj = ProjectRateError(
      params, 8,
      {.pings_per_day = 1e6, .check_fraction = 0.2, .violation_rate = 0, .org_pinsets = 4});
  ASSERT_TRUE(proj.ok()) << proj.status();
  EXPECT_DOUBLE_EQ(proj->reports_per_pinset, 250000);
  EXPECT_NEAR(proj->pinset_std_error, std::sqrt(j / (1e6 * 0.04)), 1e-15);
  EXPECT_NEAR(proj->organization_std_error, proj->pinset_std_error / 2, 1e-15);
}

TEST(ProjectRateErrorTest, MatchesDeltaMethodByHand) {
  // n = 1000, c = 0.5, R = 0.2: the hand computation of EstimateViolationRate's test with its
  // expected counts (r_V = 0.4, r_C = 0.5).
  absl::StatusOr<RateProjection> proj = ProjectRateError(
      Chrome(1), 1, {.pings_per_day = 1000, .check_fraction = 0.5, .violation_rate = 0.2});
  ASSERT_TRUE(proj.ok());
  EXPECT_NEAR(proj->pinset_std_error, std::sqrt(0.01592), 1e-12);
}

TEST(ProjectRateErrorTest, RejectsBadAssumptions) {
  const Params params = Chrome(1);
  EXPECT_FALSE(ProjectRateError(params, 4, {.pings_per_day = 0}).ok());
  EXPECT_FALSE(ProjectRateError(params, 4, {.pings_per_day = 10, .check_fraction = 0}).ok());
  EXPECT_FALSE(ProjectRateError(params, 4, {.pings_per_day = 10, .violation_rate = 1.5}).ok());
  EXPECT_FALSE(ProjectRateError(params, 4, {.pings_per_day = 10, .org_pinsets = 0}).ok());
  EXPECT_FALSE(ProjectRateError(Chrome(5), 4, {.pings_per_day = 10}).ok());
}

}  // namespace
}  // namespace privacy
