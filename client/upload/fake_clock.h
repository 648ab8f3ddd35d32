// fake_clock.h: a Clock for tests that never blocks and records every sleep.
//
//   FakeClock clock(absl::FromUnixSeconds(1700000000));
//   uploader_under_test.Flush();                  // its waits return at once
//   EXPECT_EQ(clock.sleeps().size(), 3);          // the requested delays, in order
//
// Thread safety: thread-safe.
#ifndef CLIENT_UPLOAD_FAKE_CLOCK_H_
#define CLIENT_UPLOAD_FAKE_CLOCK_H_

#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "client/upload/clock.h"

namespace pinning::client {

class FakeClock final : public Clock {
 public:
  explicit FakeClock(absl::Time start) : now_(start) {}

  absl::Time Now() override ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    return now_;
  }

  // SleepFor records `duration` and advances the time by it (when positive).
  void SleepFor(absl::Duration duration) override ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    sleeps_.push_back(duration);
    if (duration > absl::ZeroDuration()) now_ += duration;
  }

  // Advance moves the time forward without recording a sleep.
  void Advance(absl::Duration duration) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    now_ += duration;
  }

  // sleeps returns every duration passed to SleepFor, in order.
  std::vector<absl::Duration> sleeps() const ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    return sleeps_;
  }

 private:
  mutable absl::Mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_);
  std::vector<absl::Duration> sleeps_ ABSL_GUARDED_BY(mu_);
};

}  // namespace pinning::client

#endif  // CLIENT_UPLOAD_FAKE_CLOCK_H_
