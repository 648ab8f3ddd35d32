#include "aggregator/serve/work_pool.h"

#include <atomic>
#include <thread>

#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"

namespace pinning::aggregator {
namespace {

TEST(WorkPoolTest, RunsEverythingScheduledBeforeShutdown) {
  std::atomic<int> ran{0};
  WorkPool pool(3);
  for (int i = 0; i < 1000; ++i) pool.Schedule([&ran] { ran.fetch_add(1); });
  pool.Shutdown();
  EXPECT_EQ(ran.load(), 1000);
  pool.Schedule([&ran] { ran.fetch_add(1); });  // after shutdown: runs inline
  EXPECT_EQ(ran.load(), 1001);
}

TEST(WorkPoolTest, RunsWorkConcurrently) {
  WorkPool pool(2);
  absl::Notification first_started, second_done;
  // The first item waits for the second; with one thread this would deadlock.
  pool.Schedule([&] {
    first_started.Notify();
    second_done.WaitForNotification();
  });
  first_started.WaitForNotification();
  pool.Schedule([&] { second_done.Notify(); });
  EXPECT_TRUE(second_done.WaitForNotificationWithTimeout(absl::Seconds(10)));
}

}  // namespace
}  // namespace pinning::aggregator
