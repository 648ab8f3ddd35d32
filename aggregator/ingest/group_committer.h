// group_committer.h: durable, exactly-once counting of validated pings with group commit.
//
// Submit puts a validated ping on a bounded queue and returns at once. One committer thread takes
// up to `max_batch_pings` pings, or whatever arrived within `max_wait` of the first waiting ping,
// and hands them to CountStore::CommitBatch, which dedups the ids and adds the counts (aggregated
// in memory per batch) in ONE transaction. Only after that transaction is durable does the
// committer call each ping's callback with kCounted or kDuplicate; if it fails, every callback of
// the batch gets UNAVAILABLE (reason "storage_unavailable") and nothing is acknowledged, so
// clients retry and exactly-once still holds.
//
//   ASSIGN_OR_RETURN(std::unique_ptr<GroupCommitter> committer,
//                    GroupCommitter::Start(store.get(), &metrics, GroupCommitterOptions{}));
//   absl::Status queued = committer->Submit(std::move(ping), info,
//       [](absl::StatusOr<CommitOutcome> outcome) { /* reply to the client */ });
//   if (!queued.ok()) { /* RESOURCE_EXHAUSTED with RetryAfterMs(queued); callback not called */ }
//
// Overload: when `queue_capacity` pings are waiting, Submit fails immediately with
// RESOURCE_EXHAUSTED (reason "overloaded") carrying a retry hint in milliseconds (rejection.h),
// and does not call the callback.
//
// Maintenance: between batches, at most every `prune_interval`, the committer prunes ping ids older
// than window.FirstKeptIdDay(today) (see validator.h for why that keeps retries exactly-once).
//
// Metrics (registered in the given registry): pinning_ingest_accepted_total,
// pinning_ingest_duplicates_total, pinning_ingest_rejected_total{reason="overloaded"|
// "storage_unavailable"|"shutting_down"}, pinning_ingest_commit_batch_size (histogram, pings),
// pinning_ingest_commit_latency_seconds (histogram, CommitBatch duration),
// pinning_ingest_queue_depth (gauge), pinning_ingest_commits_total,
// pinning_ingest_commit_failures_total, pinning_ingest_pruned_ids_total.
//
// Callbacks: after each commit the committer hands the batch's callbacks, split into
// `callback_tasks` tasks, to `callback_executor` (e.g. a WorkPool with that many threads), and goes
// straight back to committing; without an executor they run on the committer thread. Either way
// they must be quick, must not block (e.g. finish a gRPC reactor) and must not call Shutdown.
// Finishing a gRPC call costs ~10 us in gRPC's send path, so with ~100 calls per commit the
// executor keeps milliseconds per batch off the commit path, and parallel tasks cut the time the
// batch's last client waits.
//
// Thread safety: Submit may be called from any number of threads.
#ifndef AGGREGATOR_INGEST_GROUP_COMMITTER_H_
#define AGGREGATOR_INGEST_GROUP_COMMITTER_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "aggregator/ingest/validator.h"
#include "aggregator/metrics/metrics.h"
#include "aggregator/storage/count_store.h"
#include "proto/ping.pb.h"

namespace pinning::aggregator {

struct GroupCommitterOptions {
  // Largest number of pings per transaction.
  int max_batch_pings = 4096;
  // Longest time the first ping of a batch waits for more pings before the batch is committed.
  absl::Duration max_wait = absl::Milliseconds(2);
  // Most pings waiting for a commit; beyond it Submit sheds load.
  int queue_capacity = 65536;
  // Retry hint returned with RESOURCE_EXHAUSTED.
  int64_t retry_after_ms = 200;
  // Ping-id retention (only retention_days is used here) and pruning period; a zero
  // prune_interval disables pruning.
  DayWindow window;
  absl::Duration prune_interval = absl::Hours(1);
  // Clock, for pruning; tests inject one.
  std::function<absl::Time()> now = [] { return absl::Now(); };
  // Runs the callbacks of each committed batch, `callback_tasks` tasks per batch; empty: on the
  // committer thread. It must run every task it is given, also during and after Shutdown (a
  // WorkPool runs tasks inline once stopped), or callers wait forever.
  std::function<void(absl::AnyInvocable<void() &&>)> callback_executor;
  int callback_tasks = 1;
};

// CommitCallback receives kCounted / kDuplicate once the ping is durable, or an error
// (UNAVAILABLE) when it was not recorded. Called exactly once per accepted Submit.
using CommitCallback = absl::AnyInvocable<void(absl::StatusOr<CommitOutcome>)>;

class GroupCommitter {
 public:
  // Start validates `options` (INVALID_ARGUMENT) and starts the committer thread. `store` and
  // `metrics` must outlive the committer.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<GroupCommitter>> Start(
      CountStore* store, MetricsRegistry* metrics, GroupCommitterOptions options);

  // The destructor calls Shutdown().
  ~GroupCommitter();
  GroupCommitter(const GroupCommitter&) = delete;
  GroupCommitter& operator=(const GroupCommitter&) = delete;

  // Submit queues `ping`, which must have passed Validator::Validate with result `info`. OK means
  // `done` will be called exactly once. RESOURCE_EXHAUSTED (queue full, with a retry hint) or
  // UNAVAILABLE (shut down): `done` is not called.
  [[nodiscard]] absl::Status Submit(v1::Ping ping, const ValidPingInfo& info, CommitCallback done)
      ABSL_LOCKS_EXCLUDED(mu_);

  // Shutdown stops accepting pings, commits every queued one (their callbacks run), and joins the
  // committer thread. Idempotent; must not be called from a callback.
  void Shutdown() ABSL_LOCKS_EXCLUDED(mu_);

  // QueueDepth returns how many pings are waiting (not yet taken into a batch).
  [[nodiscard]] int64_t QueueDepth() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct Item {
    v1::Ping ping;
    ValidPingInfo info;
    CommitCallback done;
    absl::Time enqueued;
  };
  GroupCommitter(CountStore* store, MetricsRegistry* metrics, GroupCommitterOptions options);
  void Run();
  // Takes the next batch from the queue, waiting as the options say; false once stopped and
  // drained.
  bool NextBatch(std::vector<Item>& batch) ABSL_LOCKS_EXCLUDED(mu_);
  void CommitItems(std::vector<Item>& items);
  // Runs `callbacks` on the callback executor, or here without one.
  void Deliver(absl::AnyInvocable<void() &&> callbacks);
  void MaybePrune();
  bool HasWorkOrStopping() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return !queue_.empty() || stopping_;
  }
  bool BatchFullOrStopping() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return static_cast<int>(queue_.size()) >= options_.max_batch_pings || stopping_;
  }

  CountStore* const store_;
  const GroupCommitterOptions options_;

  Counter* const accepted_;
  Counter* const duplicates_;
  LabeledCounter* const rejected_;
  Histogram* const batch_size_;
  Histogram* const commit_latency_;
  Gauge* const queue_depth_;
  Counter* const commits_;
  Counter* const commit_failures_;
  Counter* const pruned_ids_;

  mutable absl::Mutex mu_;
  std::deque<Item> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  absl::Mutex shutdown_mu_;  // serializes Shutdown callers
  std::thread thread_;

  // Committer-thread state.
  absl::Time last_prune_ = absl::InfinitePast();
  std::vector<PingRecord> records_;
  std::vector<CommitOutcome> outcomes_;
};

}  // namespace pinning::aggregator

#endif  // AGGREGATOR_INGEST_GROUP_COMMITTER_H_
