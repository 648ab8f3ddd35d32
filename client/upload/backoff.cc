#include "client/upload/backoff.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace pinning::client {

absl::Status ValidateBackoffPolicy(const BackoffPolicy& policy) {
  if (policy.initial <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(absl::StrCat("backoff initial must be positive, got ",
                                                   absl::FormatDuration(policy.initial)));
  }
  if (!std::isfinite(policy.multiplier) || policy.multiplier < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("backoff multiplier must be finite and >= 1, got ", policy.multiplier));
  }
  if (!(policy.jitter >= 0 && policy.jitter < 1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("backoff jitter must be in [0, 1), got ", policy.jitter));
  }
  if (policy.max < policy.initial) {
    return absl::InvalidArgumentError(
        absl::StrCat("backoff max (", absl::FormatDuration(policy.max), ") must be >= initial (",
                     absl::FormatDuration(policy.initial), ")"));
  }
  if (policy.max_retry_after < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(absl::StrCat("backoff max_retry_after must be >= 0, got ",
                                                   absl::FormatDuration(policy.max_retry_after)));
  }
  return absl::OkStatus();
}

Backoff::Backoff(const BackoffPolicy& policy, privacy::RandomSource* random)
    : policy_(policy), random_(random), base_(policy.initial) {}

void Backoff::Advance() { base_ = std::min(base_ * policy_.multiplier, policy_.max); }

absl::Duration Backoff::NextDelay() {
  // U = jitter · (2u − 1) with u uniform on [0, 1): uniform on [−jitter, +jitter).
  const double u = random_->UniformDouble();
  const absl::Duration delay = base_ * (1.0 + policy_.jitter * (2.0 * u - 1.0));
  Advance();
  return delay;
}

absl::Duration Backoff::DelayForHint(absl::Duration hint) {
  const absl::Duration capped = std::clamp(hint, absl::ZeroDuration(), policy_.max_retry_after);
  const double u = random_->UniformDouble();
  Advance();
  return capped * (1.0 + policy_.jitter * u);
}

}  // namespace pinning::client
