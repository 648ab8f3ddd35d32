// clock.h: the time source and sleeper the uploader waits with, injectable for tests.
//
// Retries wait between attempts; tests must check the waiting schedule without waiting, so every
// wait goes through a Clock. RealClock reads absl::Now() and sleeps; FakeClock (fake_clock.h)
// records each requested sleep and advances its time instantly.
//
//   RealClock clock;
//   absl::Time start = clock.Now();
//   clock.SleepFor(absl::Milliseconds(200));
//
// Thread safety: RealClock is thread-safe; implementations document their own rules.
#ifndef CLIENT_UPLOAD_CLOCK_H_
#define CLIENT_UPLOAD_CLOCK_H_

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace pinning::client {

class Clock {
 public:
  virtual ~Clock() = default;

  // Now returns the current time.
  virtual absl::Time Now() = 0;

  // SleepFor blocks for `duration` (no-op when it is not positive).
  virtual void SleepFor(absl::Duration duration) = 0;
};

// RealClock is the system clock: absl::Now() and absl::SleepFor().
class RealClock final : public Clock {
 public:
  absl::Time Now() override { return absl::Now(); }
  void SleepFor(absl::Duration duration) override;
};

}  // namespace pinning::client

#endif  // CLIENT_UPLOAD_CLOCK_H_
