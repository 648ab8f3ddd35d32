#include "client/sim/coverage.h"

#include <cmath>

#include "gtest/gtest.h"
#include "privacy/params.h"

namespace pinning::client::sim {
namespace {

// Reference values computed with exact integer binomial sums (Python's math.comb), not with this
// code: P(Bin(42, .05) <= 7) = 0.999001, P(<= 6) = 0.995500, P(Bin(144, .05) = 0) = 0.000620.
TEST(CoverageTest, BinomialCdfMatchesExactSums) {
  EXPECT_NEAR(BinomialCdf(7, 42, 0.05), 0.999001, 1e-6);
  EXPECT_NEAR(BinomialCdf(6, 42, 0.05), 0.995500, 1e-6);
  EXPECT_NEAR(BinomialCdf(0, 144, 0.05), std::pow(0.95, 144), 1e-12);
  EXPECT_EQ(BinomialCdf(-1, 10, 0.3), 0.0);
  EXPECT_EQ(BinomialCdf(10, 10, 0.3), 1.0);
}

TEST(CoverageTest, QuantilesMatchExactValues) {
  // Exact: upper 0.1% quantiles of Bin(n, .05) misses for n = 42, 90, 144, 1000: 7, 12, 16, 73.
  EXPECT_EQ(BinomialUpperQuantile(42, 0.05, 0.001), 7);
  EXPECT_EQ(BinomialUpperQuantile(90, 0.05, 0.001), 12);
  EXPECT_EQ(BinomialUpperQuantile(144, 0.05, 0.001), 16);
  EXPECT_EQ(BinomialUpperQuantile(1000, 0.05, 0.001), 73);
  // Lower: 0 misses of 144 has probability 0.00062 < 0.001; of 42 it is 0.116.
  EXPECT_EQ(BinomialLowerQuantile(144, 0.05, 0.001), 1);
  EXPECT_EQ(BinomialLowerQuantile(42, 0.05, 0.001), 0);
  EXPECT_EQ(BinomialLowerQuantile(1000, 0.05, 0.001), 30);
}

TEST(CoverageTest, CheckFlagsTooFewAndTooManyCovered) {
  CoverageCheck ok = CheckCoverage(42, 40);
  EXPECT_FALSE(ok.too_few_covered);
  EXPECT_FALSE(ok.too_many_covered);
  EXPECT_EQ(ok.max_plausible_missed, 7);
  EXPECT_EQ(ok.min_plausible_covered, 35);
  EXPECT_FALSE(CheckCoverage(42, 35).too_few_covered);
  EXPECT_TRUE(CheckCoverage(42, 34).too_few_covered);
  EXPECT_TRUE(CheckCoverage(144, 144).too_many_covered);
  EXPECT_FALSE(CheckCoverage(144, 143).too_many_covered);
}

TEST(CoverageTest, DesignEffectWidensTheBounds) {
  // DE = 2: bounds for 21 effective cells (upper quantile 5, as P(Bin(21,.05) <= 4) = 0.99676 and
  // P(<= 5) = 0.99956 exactly), scaled back: 10 misses of 42 are still plausible.
  CoverageCheck check = CheckCoverage(42, 32, 2.0);
  EXPECT_EQ(check.max_plausible_missed, 10);
  EXPECT_FALSE(check.too_few_covered);
  EXPECT_TRUE(CheckCoverage(42, 31, 2.0).too_few_covered);
}

TEST(CoverageTest, PrrCorrelationFollowsTheVarianceShare) {
  // f = .25, p = .25, q = .75, s = K: PRR variance (q−p)²(f/2)(1−f/2) = .25 · .109375 = .02734;
  // p* = .3125 (r(1−r) = .21484), q* = .6875 (same): share .12727.
  absl::StatusOr<privacy::Params> params =
      privacy::ParamsBuilder().SetF(0.25).SetP(0.25).SetQ(0.75).SetPinsetsPerPing(6).Build();
  ASSERT_TRUE(params.ok());
  EXPECT_NEAR(PrrCorrelation(*params, 6), 0.02734375 / 0.21484375, 1e-9);
  EXPECT_NEAR(DesignEffect(*params, 6, 5), 1 + 4 * 0.02734375 / 0.21484375, 1e-9);
  // Without IRR (p = 0, q = 1) every bit of the report is the PRR bit: share 1; with s = 3 of 6
  // half the reporters report the pinset again.
  absl::StatusOr<privacy::Params> no_irr =
      privacy::ParamsBuilder().SetF(0.6).SetP(0).SetQ(1).SetPinsetsPerPing(3).Build();
  ASSERT_TRUE(no_irr.ok());
  EXPECT_NEAR(PrrCorrelation(*no_irr, 6), 0.5, 1e-12);
}

}  // namespace
}  // namespace pinning::client::sim
