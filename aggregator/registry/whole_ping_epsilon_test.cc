#include "aggregator/registry/whole_ping_epsilon.h"

#include <cmath>

#include "gtest/gtest.h"

namespace pinning::aggregator {
namespace {

v1::RandomizationParams Make(double f, double p, double q, uint32_t s, uint32_t bits = 2) {
  v1::RandomizationParams params;
  params.set_f(f);
  params.set_p(p);
  params.set_q(q);
  params.set_pinsets_per_ping(s);
  params.set_bits_per_pinset(bits);
  return params;
}

// google/rappor's defaults f = 0.5, p = 0.5, q = 0.75 on K = s = 2 pinsets x 2 bits (m = 4). By hand:
// p* = 0.5625, q* = 0.6875; per bit max(ln(q*/p*), ln((1-p*)/(1-q*))) = ln(0.4375/0.3125) = ln 1.4;
// the whole ping can differ in all 4 bits in the worse direction: eps1 = 4 ln 1.4 (not rappor's
// Bloom-filter 1.0743, where only 2 bits move each way); eps_inf = 4 ln((1-f/2)/(f/2)) = 4 ln 3.
TEST(WholePingEpsilonTest, RapporDefaultsOnFourBits) {
  absl::StatusOr<WholePingEpsilon> eps = ComputeWholePingEpsilon(Make(0.5, 0.5, 0.75, 2), 2);
  ASSERT_TRUE(eps.ok()) << eps.status();
  EXPECT_NEAR(eps->inf, 4 * std::log(3.0), 1e-12);
  EXPECT_NEAR(eps->one, 4 * std::log(1.4), 1e-12);
}

TEST(WholePingEpsilonTest, SubsetReportingScalesOneButNotInf) {
  // s = 1 of K = 3, one bit per pinset: one ping reveals 1 bit, eps1 = ln 1.4; unlimited pings
  // eventually report all 3 pinsets' PRR bits: eps_inf = 3 ln((1 - f/2) / (f/2)) = 3 ln 3.
  absl::StatusOr<WholePingEpsilon> eps = ComputeWholePingEpsilon(Make(0.5, 0.5, 0.75, 1, 1), 3);
  ASSERT_TRUE(eps.ok());
  EXPECT_NEAR(eps->one, std::log(1.4), 1e-12);
  EXPECT_NEAR(eps->inf, 3 * std::log(3.0), 1e-12);
}

TEST(WholePingEpsilonTest, InfinitiesAreExact) {
  absl::StatusOr<WholePingEpsilon> eps = ComputeWholePingEpsilon(Make(0, 0.25, 0.75, 1), 1);
  ASSERT_TRUE(eps.ok());
  EXPECT_TRUE(std::isinf(eps->inf));
  EXPECT_TRUE(std::isfinite(eps->one));
  eps = ComputeWholePingEpsilon(Make(0, 0, 1, 1), 1);  // p* = 0: a 1 proves the truth
  ASSERT_TRUE(eps.ok());
  EXPECT_TRUE(std::isinf(eps->one));
}

TEST(WholePingEpsilonTest, RejectsOutOfRange) {
  for (const v1::RandomizationParams& bad :
       {Make(1.0, 0.25, 0.75, 1), Make(-0.1, 0.25, 0.75, 1), Make(0.5, 0.75, 0.75, 1),
        Make(0.5, 0.8, 0.75, 1), Make(0.5, 0.25, 1.5, 1), Make(0.5, 0.25, 0.75, 0),
        Make(0.5, 0.25, 0.75, 4), Make(0.5, 0.25, 0.75, 1, 0), Make(NAN, 0.25, 0.75, 1)}) {
    EXPECT_EQ(ComputeWholePingEpsilon(bad, 3).status().code(), absl::StatusCode::kInvalidArgument)
        << bad.ShortDebugString();
  }
}

}  // namespace
}  // namespace pinning::aggregator
