#include "client/upload/backoff.h"

#include <algorithm>
#include <cmath>

#include "gtest/gtest.h"
#include "privacy/random_source.h"

namespace pinning::client {
namespace {

double Seconds(absl::Duration d) { return absl::ToDoubleSeconds(d); }

TEST(BackoffTest, ScheduleGrowsGeometricallyWithinJitterBoundsUpToMax) {
  privacy::SeededRandomSource random(1);
  BackoffPolicy policy;  // gRPC's connection backoff: 1 s, x1.6, ±20%, 120 s
  Backoff backoff(policy, &random);
  // b_k = min(1.6^k, 120) seconds, written out independently of the implementation.
  const double expected_base[] = {
      1.0,        1.6,         2.56,         4.096,          6.5536, 10.48576, 16.777216,
      26.8435456, 42.94967296, 68.719476736, 109.9511627776, 120.0,  120.0,    120.0};
  for (double base : expected_base) {
    EXPECT_NEAR(Seconds(backoff.CurrentBase()), base, 1e-9);
    const double delay = Seconds(backoff.NextDelay());
    EXPECT_GE(delay, 0.8 * base - 1e-9);
    EXPECT_LT(delay, 1.2 * base + 1e-9);
  }
  backoff.Reset();
  EXPECT_EQ(backoff.CurrentBase(), absl::Seconds(1));
}

TEST(BackoffTest, JitterIsUniformOverItsWholeRange) {
  // Delays for b_0 = 1 s are 1 + U with U uniform on [-0.2, 0.2): mean 1, sd 0.4/sqrt(12).
  privacy::SeededRandomSource random(7);
  BackoffPolicy policy;
  constexpr int kDraws = 20000;
  double sum = 0, lo = 10, hi = 0;
  int below_mid = 0;
  for (int i = 0; i < kDraws; ++i) {
    Backoff backoff(policy, &random);
    const double d = Seconds(backoff.NextDelay());
    sum += d;
    lo = std::min(lo, d);
    hi = std::max(hi, d);
    if (d < 1.0) ++below_mid;
  }
  const double se_mean = (0.4 / std::sqrt(12.0)) / std::sqrt(kDraws);
  EXPECT_NEAR(sum / kDraws, 1.0, 4 * se_mean);
  // Half the draws fall below the midpoint: binomial(n, 1/2), SE = sqrt(n)/2.
  EXPECT_NEAR(below_mid, kDraws / 2.0, 4 * std::sqrt(kDraws) / 2);
  // The extremes approach the bounds: P(no draw within 0.001 of a bound) = (1-0.0025)^n ~ 0.
  EXPECT_LT(lo, 0.801);
  EXPECT_GT(hi, 1.199);
}

TEST(BackoffTest, ZeroJitterGivesTheExactSchedule) {
  privacy::SeededRandomSource random(3);
  BackoffPolicy policy{.initial = absl::Milliseconds(100),
                       .multiplier = 2,
                       .jitter = 0,
                       .max = absl::Milliseconds(500)};
  Backoff backoff(policy, &random);
  EXPECT_EQ(backoff.NextDelay(), absl::Milliseconds(100));
  EXPECT_EQ(backoff.NextDelay(), absl::Milliseconds(200));
  EXPECT_EQ(backoff.NextDelay(), absl::Milliseconds(400));
  EXPECT_EQ(backoff.NextDelay(), absl::Milliseconds(500));
  EXPECT_EQ(backoff.NextDelay(), absl::Milliseconds(500));
}

TEST(BackoffTest, HintIsNeverShortenedAndIsCapped) {
  privacy::SeededRandomSource random(11);
  BackoffPolicy policy;
  policy.max_retry_after = absl::Seconds(30);
  Backoff backoff(policy, &random);
  for (int i = 0; i < 1000; ++i) {
    const double d = Seconds(backoff.DelayForHint(absl::Milliseconds(250)));
    EXPECT_GE(d, 0.25);
    EXPECT_LT(d, 0.25 * 1.2 + 1e-12);
  }
  const double capped = Seconds(backoff.DelayForHint(absl::Hours(5)));
  EXPECT_GE(capped, 30.0);
  EXPECT_LT(capped, 36.0 + 1e-9);
  EXPECT_EQ(backoff.DelayForHint(absl::Seconds(-1)), absl::ZeroDuration());
}

TEST(BackoffTest, HintAdvancesTheSchedule) {
  privacy::SeededRandomSource random(5);
  BackoffPolicy policy{.jitter = 0};
  Backoff backoff(policy, &random);
  (void)backoff.DelayForHint(absl::Milliseconds(10));
  EXPECT_NEAR(Seconds(backoff.NextDelay()), 1.6, 1e-9);
}

TEST(BackoffTest, ValidationNamesTheField) {
  BackoffPolicy bad{.initial = absl::ZeroDuration()};
  EXPECT_NE(ValidateBackoffPolicy(bad).message().find("initial"), absl::string_view::npos);
  bad = BackoffPolicy{.multiplier = 0.5};
  EXPECT_NE(ValidateBackoffPolicy(bad).message().find("multiplier"), absl::string_view::npos);
  bad = BackoffPolicy{.jitter = 1.0};
  EXPECT_NE(ValidateBackoffPolicy(bad).message().find("jitter"), absl::string_view::npos);
  bad = BackoffPolicy{.initial = absl::Seconds(5), .max = absl::Seconds(1)};
  EXPECT_NE(ValidateBackoffPolicy(bad).message().find("max"), absl::string_view::npos);
  EXPECT_TRUE(ValidateBackoffPolicy(BackoffPolicy{}).ok());
}

}  // namespace
}  // namespace pinning::client
