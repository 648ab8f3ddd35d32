#include "aggregator/storage/day.h"

#include "gtest/gtest.h"

namespace pinning::aggregator {
namespace {

TEST(DayTest, ParsesKnownDates) {
  EXPECT_EQ(*ParseDay("1970-01-01"), 0);
  EXPECT_EQ(*ParseDay("1970-01-02"), 1);
  // 2024-03-01: 54 years of which 13 leap (1972..2020) = 54*365+13 = 19723, plus Jan 31 + Feb 29.
  EXPECT_EQ(*ParseDay("2024-03-01"), 19723 + 31 + 29);
  EXPECT_EQ(*ParseDay("2000-02-29"), 11016);
}

TEST(DayTest, FormatsAndRoundTrips) {
  EXPECT_EQ(FormatDay(0), "1970-01-01");
  EXPECT_EQ(FormatDay(19783), "2024-03-01");
  for (DayNumber d = 0; d < 40000; d += 37) EXPECT_EQ(*ParseDay(FormatDay(d)), d);
}

TEST(DayTest, RejectsMalformedDays) {
  for (const char* bad : {"", "2024-3-01", "2024-03-1", "2024/03/01", "20240301", "2024-02-30",
                          "2023-02-29", "2024-13-01", "2024-00-10", "2024-01-00", "1969-12-31",
                          "2024-03-01 ", " 2024-03-01", "2024-03-0a", "+024-03-01"}) {
    EXPECT_EQ(ParseDay(bad).status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

TEST(DayTest, DayFromTimeUsesUtc) {
  EXPECT_EQ(DayFromTime(absl::FromUnixSeconds(0)), 0);
  EXPECT_EQ(DayFromTime(absl::FromUnixSeconds(86399)), 0);
  EXPECT_EQ(DayFromTime(absl::FromUnixSeconds(86400)), 1);
  EXPECT_EQ(DayFromTime(absl::FromUnixSeconds(19783LL * 86400 + 3600)), 19783);
}

}  // namespace
}  // namespace pinning::aggregator
