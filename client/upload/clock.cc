#include "client/upload/clock.h"

#include "absl/time/clock.h"

namespace pinning::client {

void RealClock::SleepFor(absl::Duration duration) {
  if (duration > absl::ZeroDuration()) absl::SleepFor(duration);
}

}  // namespace pinning::client
