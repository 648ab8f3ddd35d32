// storage_health.h: decides from the group committer's counters whether ingest can currently
// store pings, so the health service can take a replica whose database is unreachable out of a
// load balancer's rotation (NOT_SERVING) and put it back once commits succeed again.
//
//   StorageHealth health(/*max_consecutive_failures=*/3);
//   bool ok = health.Observe(commits_total, commit_failures_total);   // every few hundred ms
//
// Rule: unhealthy once `max_consecutive_failures` commit attempts have failed since the last
// successful one; healthy again at the next successful commit, or when a storage probe succeeds
// (ProbeSucceeded): once a load balancer has taken the replica out, no pings arrive to commit, so
// the caller probes storage with a cheap read while unhealthy. With no commit attempts at all the
// state does not change (an idle replica stays healthy). Not thread-safe: one caller.
#ifndef AGGREGATOR_SERVE_STORAGE_HEALTH_H_
#define AGGREGATOR_SERVE_STORAGE_HEALTH_H_

#include <cstdint>

namespace pinning::aggregator {

class StorageHealth {
 public:
  explicit StorageHealth(int64_t max_consecutive_failures)
      : max_consecutive_failures_(max_consecutive_failures) {}

  // Observe takes the current totals of commit attempts and failed commits (monotonic counters)
  // and returns whether storage is healthy.
  bool Observe(int64_t commits, int64_t failures) {
    const int64_t successes = commits - failures;
    if (successes > last_successes_) {
      failures_at_last_success_ = failures;
      last_successes_ = successes;
    }
    healthy_ = failures - failures_at_last_success_ < max_consecutive_failures_;
    return healthy_;
  }

  // ProbeSucceeded records that storage answered a probe: failures up to `failures` (the current
  // total) are forgiven, and the state is healthy until new failures accumulate.
  void ProbeSucceeded(int64_t failures) {
    failures_at_last_success_ = failures;
    healthy_ = true;
  }

  bool healthy() const { return healthy_; }

 private:
  const int64_t max_consecutive_failures_;
  int64_t last_successes_ = 0;
  int64_t failures_at_last_success_ = 0;
  bool healthy_ = true;
};

}  // namespace pinning::aggregator

#endif  // AGGREGATOR_SERVE_STORAGE_HEALTH_H_
