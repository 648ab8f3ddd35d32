#include "client/upload/fake_clock.h"

#include "gtest/gtest.h"

namespace pinning::client {
namespace {

TEST(FakeClockTest, SleepAdvancesAndIsRecorded) {
  const absl::Time start = absl::FromUnixSeconds(1700000000);
  FakeClock clock(start);
  clock.SleepFor(absl::Seconds(2));
  clock.SleepFor(absl::Milliseconds(-5));  // recorded, time unchanged
  clock.Advance(absl::Seconds(1));
  EXPECT_EQ(clock.Now(), start + absl::Seconds(3));
  ASSERT_EQ(clock.sleeps().size(), 2u);
  EXPECT_EQ(clock.sleeps()[0], absl::Seconds(2));
  EXPECT_EQ(clock.sleeps()[1], absl::Milliseconds(-5));
}

}  // namespace
}  // namespace pinning::client
