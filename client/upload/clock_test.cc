#include "client/upload/clock.h"

#include "gtest/gtest.h"

namespace pinning::client {
namespace {

TEST(RealClockTest, SleepsAtLeastTheDurationAndIgnoresNegativeOnes) {
  RealClock clock;
  const absl::Time start = clock.Now();
  clock.SleepFor(absl::Milliseconds(20));
  EXPECT_GE(clock.Now() - start, absl::Milliseconds(20));
  const absl::Time before = clock.Now();
  clock.SleepFor(absl::Seconds(-100));  // returns at once
  EXPECT_LT(clock.Now() - before, absl::Seconds(5));
  EXPECT_NEAR(absl::ToUnixSeconds(clock.Now()), absl::ToUnixSeconds(absl::Now()), 5);
}

}  // namespace
}  // namespace pinning::client
