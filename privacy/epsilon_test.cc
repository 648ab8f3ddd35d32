#include "privacy/epsilon.h"

#include <cmath>
#include <limits>

#include "gtest/gtest.h"

namespace privacy {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

TEST(EpsilonTest, GoogleRapporReferenceFact) {
  // google/rappor's defaults with a Bloom filter of h = 2 hashes: ε∞ = 4 ln 3 ≈ 4.3944 and
  // ε1 ≈ 1.0743 (the figures its documentation and analysis report).
  const EpsilonPair e = BloomFilterEpsilon(0.5, 0.5, 0.75, 2);
  EXPECT_NEAR(e.epsilon_inf, 4 * std::log(3.0), 1e-12);
  EXPECT_NEAR(e.epsilon_inf, 4.3944, 5e-5);
  EXPECT_NEAR(e.epsilon_one, 1.0743, 5e-5);
}

TEST(EpsilonTest, ReportedProbabilitiesMatchHandComputation) {
  // f = 0.5, p = 0.25, q = 0.75 (Chrome's "normal" noise): p* = 0.375, q* = 0.625.
  EXPECT_DOUBLE_EQ(ReportedOneProbability(0.5, 0.25, 0.75, false), 0.375);
  EXPECT_DOUBLE_EQ(ReportedOneProbability(0.5, 0.25, 0.75, true), 0.625);
  EXPECT_DOUBLE_EQ(ReportedZeroProbability(0.5, 0.25, 0.75, false), 0.625);
  EXPECT_DOUBLE_EQ(ReportedZeroProbability(0.5, 0.25, 0.75, true), 0.375);
  // google/rappor defaults: p* = 0.5625, q* = 0.6875.
  EXPECT_DOUBLE_EQ(ReportedOneProbability(0.5, 0.5, 0.75, false), 0.5625);
  EXPECT_DOUBLE_EQ(ReportedOneProbability(0.5, 0.5, 0.75, true), 0.6875);
}

TEST(EpsilonTest, BitEpsilonsMatchClosedForms) {
  EXPECT_NEAR(BitEpsilonOne(0.5, 0.25, 0.75), std::log(5.0 / 3.0), 1e-14);
  EXPECT_NEAR(BitEpsilonInf(0.5), std::log(3.0), 1e-14);
  // f = 0: plain randomized response, ε1 = ln(q/p) vs ln((1−p)/(1−q)).
  EXPECT_NEAR(BitEpsilonOne(0, 0.1, 0.5), std::log(5.0), 1e-14);
  EXPECT_NEAR(BitEpsilonOne(0, 0.5, 0.9), std::log(5.0), 1e-14);
  EXPECT_NEAR(BitEpsilonOne(0, 0.2, 0.3), std::log(1.5), 1e-14);
  // The 1 -> 0 direction dominates when q is close to 1: (1−0.5)/(1−0.95) = 10 > 0.95/0.5.
  EXPECT_NEAR(BitEpsilonOne(0, 0.5, 0.95), std::log(10.0), 1e-12);
}

TEST(EpsilonTest, InfinitiesAreExact) {
  EXPECT_EQ(BitEpsilonInf(0), kInf);
  EXPECT_EQ(BitEpsilonOne(0, 0, 0.5), kInf);  // p* = 0
  EXPECT_EQ(BitEpsilonOne(0, 0.5, 1), kInf);  // q* = 1
  EXPECT_EQ(BitEpsilonOne(0, 0, 1), kInf);
  // With f > 0 the PRR keeps p* > 0 and q* < 1 even for p = 0, q = 1: ε1_bit = ε∞_bit.
  EXPECT_NEAR(BitEpsilonOne(0.5, 0, 1), std::log(3.0), 1e-14);
  EXPECT_TRUE(std::isfinite(BitEpsilonOne(1e-9, 0, 1)));
  const EpsilonPair bits = ArbitraryBitsEpsilon(0, 0, 1, 3);
  EXPECT_EQ(bits.epsilon_one, kInf);
  EXPECT_EQ(bits.epsilon_inf, kInf);
  EXPECT_EQ(BloomFilterEpsilon(0, 0.25, 0.75, 1).epsilon_inf, kInf);
  EXPECT_EQ(BloomFilterEpsilon(0, 0, 0.75, 1).epsilon_one, kInf);
}

TEST(EpsilonTest, ArbitraryBitsScaleLinearly) {
  const EpsilonPair one = ArbitraryBitsEpsilon(0.25, 0.3, 0.6, 1);
  const EpsilonPair many = ArbitraryBitsEpsilon(0.25, 0.3, 0.6, 7);
  EXPECT_NEAR(many.epsilon_one, 7 * one.epsilon_one, 1e-13);
  EXPECT_NEAR(many.epsilon_inf, 7 * one.epsilon_inf, 1e-13);
  EXPECT_NEAR(one.epsilon_inf, std::log((1 - 0.125) / 0.125), 1e-14);
}

TEST(EpsilonTest, OutOfDomainIsNaN) {
  EXPECT_TRUE(std::isnan(BitEpsilonOne(1, 0.25, 0.75)));
  EXPECT_TRUE(std::isnan(BitEpsilonOne(0.5, 0.75, 0.25)));
  EXPECT_TRUE(std::isnan(BitEpsilonOne(0.5, 0.5, 0.5)));
  EXPECT_TRUE(std::isnan(BitEpsilonOne(std::nan(""), 0.25, 0.75)));
  EXPECT_TRUE(std::isnan(BitEpsilonInf(-0.1)));
  EXPECT_TRUE(std::isnan(ArbitraryBitsEpsilon(0.5, 0.25, 0.75, 0).epsilon_one));
  EXPECT_TRUE(std::isnan(BloomFilterEpsilon(0.5, 0.25, 1.5, 2).epsilon_inf));
  EXPECT_TRUE(std::isnan(ReportedOneProbability(0.5, -0.1, 0.75, true)));
}

}  // namespace
}  // namespace privacy
