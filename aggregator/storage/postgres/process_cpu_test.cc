#include "aggregator/storage/postgres/process_cpu.h"

#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace pinning::aggregator::postgres {
namespace {

absl::Duration OwnCpu() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return absl::DurationFromTimespec(ts);
}

// Spin burns `d` of this process's CPU time (not wall time: the machine may be busy).
void Spin(absl::Duration d) {
  const absl::Duration end = OwnCpu() + d;
  volatile uint64_t x = 0;
  while (OwnCpu() < end) x = x + 1;
}

TEST(ProcessCpuTest, CountsOwnBusyTime) {
  const absl::Duration before = *ProcessCpuTime(getpid(), false);
  Spin(absl::Milliseconds(300));
  const absl::Duration spent = *ProcessCpuTime(getpid(), false) - before;
  // /proc counts in clock ticks (10 ms).
  EXPECT_GE(spent, absl::Milliseconds(270));
  EXPECT_LE(spent, absl::Milliseconds(400));
}

TEST(ProcessCpuTest, IncludesLiveAndReapedChildren) {
  const absl::Duration before = *ProcessCpuTime(getpid(), true);
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    Spin(absl::Milliseconds(300));
    (void)!write(fds[1], "x", 1);
    pause();
    _exit(0);
  }
  char done;
  ASSERT_EQ(read(fds[0], &done, 1), 1);  // the child has spun and now sleeps
  const absl::Duration live = *ProcessCpuTime(getpid(), true) - before;
  EXPECT_GE(live, absl::Milliseconds(270));
  EXPECT_LT(*ProcessCpuTime(getpid(), false) - before, absl::Milliseconds(100));
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  const absl::Duration reaped = *ProcessCpuTime(getpid(), true) - before;  // now in cutime
  EXPECT_GE(reaped, absl::Milliseconds(270));
  EXPECT_EQ(ProcessCpuTime(child, false).status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace pinning::aggregator::postgres
