// backoff.h: exponential backoff with jitter for retrying uploads, and retry-after hints.
//
// The schedule is gRPC's connection backoff (grpc/grpc doc/connection-backoff.md): the k-th retry
// (k = 0, 1, ...) waits
//   b_k · (1 + U),  b_k = min(initial · multiplier^k, max),  U uniform on [−jitter, +jitter),
// so the waits grow geometrically up to `max` and clients that failed together spread out instead
// of retrying in lockstep. A server that sheds load sends a hint (RESOURCE_EXHAUSTED with
// `retry-after-ms`, proto/ping.proto); the wait is then h · (1 + U') with U' uniform on
// [0, jitter): never earlier than the hint, spread like the other waits, capped at
// `max_retry_after` so that a wrong hint cannot stall a client for long.
//
//   Backoff backoff(BackoffPolicy{}, &random_source);
//   while (!TrySend()) clock.SleepFor(backoff.NextDelay());
//   backoff.Reset();                                      // after a success
//
// Thread safety: not thread-safe; one Backoff per retry loop. The random source must outlive it.
#ifndef CLIENT_UPLOAD_BACKOFF_H_
#define CLIENT_UPLOAD_BACKOFF_H_

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "privacy/random_source.h"

namespace pinning::client {

struct BackoffPolicy {
  // b_0, the base of the first wait.
  absl::Duration initial = absl::Seconds(1);
  // Growth factor of the base per retry (>= 1).
  double multiplier = 1.6;
  // Relative spread of each wait, in [0, 1).
  double jitter = 0.2;
  // Largest base wait.
  absl::Duration max = absl::Seconds(120);
  // Largest honoured retry-after hint (before jitter).
  absl::Duration max_retry_after = absl::Minutes(10);
};

// ValidateBackoffPolicy returns INVALID_ARGUMENT naming the field when initial <= 0,
// multiplier < 1 or not finite, jitter outside [0, 1), max < initial or max_retry_after < 0.
[[nodiscard]] absl::Status ValidateBackoffPolicy(const BackoffPolicy& policy);

class Backoff {
 public:
  // `policy` must pass ValidateBackoffPolicy; `random` must be non-null and outlive the Backoff.
  Backoff(const BackoffPolicy& policy, privacy::RandomSource* random);

  // NextDelay returns the wait before the next retry, b_k · (1 + U), and advances k.
  [[nodiscard]] absl::Duration NextDelay();

  // DelayForHint returns the wait for a server hint `hint`: min(hint, max_retry_after) · (1 + U')
  // with U' in [0, jitter). Advances k like NextDelay so later unhinted waits keep growing.
  [[nodiscard]] absl::Duration DelayForHint(absl::Duration hint);

  // Reset returns to b_0 (call after a success).
  void Reset() { base_ = policy_.initial; }

  // CurrentBase returns b_k, the base of the next NextDelay().
  absl::Duration CurrentBase() const { return base_; }

 private:
  void Advance();

  BackoffPolicy policy_;
  privacy::RandomSource* random_;
  absl::Duration base_;
};

}  // namespace pinning::client

#endif  // CLIENT_UPLOAD_BACKOFF_H_
