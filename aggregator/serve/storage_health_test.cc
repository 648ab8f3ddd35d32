#include "aggregator/serve/storage_health.h"

#include "gtest/gtest.h"

namespace pinning::aggregator {
namespace {

TEST(StorageHealthTest, IdleAndSuccessfulCommitsAreHealthy) {
  StorageHealth health(3);
  EXPECT_TRUE(health.Observe(0, 0));
  EXPECT_TRUE(health.Observe(10, 0));
  EXPECT_TRUE(health.Observe(10, 0));  // idle
}

TEST(StorageHealthTest, ConsecutiveFailuresMakeItUnhealthyUntilASuccess) {
  StorageHealth health(3);
  EXPECT_TRUE(health.Observe(5, 0));
  EXPECT_TRUE(health.Observe(7, 2));   // two failures since the last success
  EXPECT_FALSE(health.Observe(8, 3));  // the third
  EXPECT_FALSE(health.Observe(8, 3));  // idle: stays unhealthy
  EXPECT_FALSE(health.Observe(12, 7));
  EXPECT_TRUE(health.Observe(13, 7));  // a commit succeeded
  EXPECT_TRUE(health.healthy());
}

TEST(StorageHealthTest, ASuccessfulProbeRestoresHealthWithoutTraffic) {
  StorageHealth health(3);
  EXPECT_FALSE(health.Observe(3, 3));
  health.ProbeSucceeded(3);
  EXPECT_TRUE(health.healthy());
  EXPECT_TRUE(health.Observe(3, 3));   // no new attempts: still healthy
  EXPECT_TRUE(health.Observe(5, 5));   // two new failures
  EXPECT_FALSE(health.Observe(6, 6));  // the third since the probe
}

TEST(StorageHealthTest, FailuresInterleavedWithSuccessesStayHealthy) {
  StorageHealth health(3);
  // Each observation sees two failures and at least one success: never 3 failures in a row.
  int64_t commits = 0, failures = 0;
  for (int i = 0; i < 10; ++i) {
    commits += 3;
    failures += 2;
    EXPECT_TRUE(health.Observe(commits, failures)) << i;
  }
}

}  // namespace
}  // namespace pinning::aggregator
