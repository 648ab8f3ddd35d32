#include "aggregator/ingest/group_committer.h"

#include <pthread.h>

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "aggregator/ingest/rejection.h"
#include "aggregator/storage/batch_aggregator.h"
#include "aggregator/storage/day.h"

namespace pinning::aggregator {

absl::StatusOr<std::unique_ptr<GroupCommitter>> GroupCommitter::Start(
    CountStore* store, MetricsRegistry* metrics, GroupCommitterOptions options) {
  if (store == nullptr || metrics == nullptr) {
    return absl::InvalidArgumentError("GroupCommitter needs a store and a metrics registry");
  }
  if (options.max_batch_pings < 1) return absl::InvalidArgumentError("max_batch_pings < 1");
  if (options.queue_capacity < 1) return absl::InvalidArgumentError("queue_capacity < 1");
  if (options.max_wait < absl::ZeroDuration()) return absl::InvalidArgumentError("max_wait < 0");
  if (options.retry_after_ms < 0) return absl::InvalidArgumentError("retry_after_ms < 0");
  if (options.callback_tasks < 1) return absl::InvalidArgumentError("callback_tasks < 1");
  if (options.prune_interval < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("prune_interval < 0");
  }
  if (!options.now) return absl::InvalidArgumentError("GroupCommitter needs a clock");
  if (absl::Status s = options.window.Validate(); !s.ok()) return s;
  std::unique_ptr<GroupCommitter> committer(new GroupCommitter(store, metrics, std::move(options)));
  committer->thread_ = std::thread([c = committer.get()] { c->Run(); });
  (void)pthread_setname_np(committer->thread_.native_handle(), "group-commit");
  return committer;
}

GroupCommitter::GroupCommitter(CountStore* store, MetricsRegistry* metrics,
                               GroupCommitterOptions options)
    : store_(store),
      options_(std::move(options)),
      accepted_(metrics->AddCounter("pinning_ingest_accepted_total",
                                    "Pings counted (durable, first time seen).")),
      duplicates_(metrics->AddCounter("pinning_ingest_duplicates_total",
                                      "Pings acknowledged as already counted (retries).")),
      rejected_(metrics->AddLabeledCounter("pinning_ingest_rejected_total",
                                           "Pings refused, by reason.", "reason")),
      batch_size_(metrics->AddHistogram("pinning_ingest_commit_batch_size",
                                        "Pings per commit transaction.",
                                        ExponentialBuckets(1, 2, 14))),
      commit_latency_(metrics->AddHistogram("pinning_ingest_commit_latency_seconds",
                                            "Duration of one commit transaction.",
                                            ExponentialBuckets(0.00025, 2, 16))),
      queue_depth_(metrics->AddGauge("pinning_ingest_queue_depth", "Pings waiting for a commit.")),
      commits_(metrics->AddCounter("pinning_ingest_commits_total", "Commit transactions.")),
      commit_failures_(metrics->AddCounter("pinning_ingest_commit_failures_total",
                                           "Commit transactions that failed (nothing stored).")),
      pruned_ids_(
          metrics->AddCounter("pinning_ingest_pruned_ids_total", "Expired ping ids forgotten.")) {}

GroupCommitter::~GroupCommitter() { Shutdown(); }

absl::Status GroupCommitter::Submit(v1::Ping ping, const ValidPingInfo& info, CommitCallback done) {
  // The store would refuse the whole batch for one record breaking its contract; refuse that
  // ping alone here instead (it cannot happen after Validator::Validate).
  PingRecord record;
  record.ping_id = ping.ping_id();
  record.num_pinsets = info.num_pinsets;
  record.bits_per_pinset = info.bits_per_pinset;
  record.pinset_indices =
      absl::MakeConstSpan(ping.pinset_indices().data(), ping.pinset_indices().size());
  record.bits = ping.bits();
  if (absl::Status s = ValidatePingRecord(record); !s.ok()) {
    rejected_->Increment("invalid_record");
    return MakeRejection(absl::StatusCode::kInvalidArgument, "invalid_record", s.message());
  }
  const absl::Time now = absl::Now();
  absl::MutexLock lock(&mu_);
  if (stopping_) {
    rejected_->Increment(kReasonShuttingDown);
    return MakeRejection(absl::StatusCode::kUnavailable, kReasonShuttingDown,
                         "the aggregator is shutting down");
  }
  if (static_cast<int>(queue_.size()) >= options_.queue_capacity) {
    rejected_->Increment(kReasonOverloaded);
    return MakeOverloaded(
        options_.retry_after_ms,
        absl::StrCat("ingest queue full (", options_.queue_capacity, " pings waiting)"));
  }
  queue_.push_back(Item{std::move(ping), info, std::move(done), now});
  queue_depth_->Set(static_cast<int64_t>(queue_.size()));
  return absl::OkStatus();
}

void GroupCommitter::Shutdown() {
  absl::MutexLock shutdown_lock(&shutdown_mu_);
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

int64_t GroupCommitter::QueueDepth() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int64_t>(queue_.size());
}

bool GroupCommitter::NextBatch(std::vector<Item>& batch) {
  absl::MutexLock lock(&mu_);
  const absl::Condition has_work(this, &GroupCommitter::HasWorkOrStopping);
  if (options_.prune_interval > absl::ZeroDuration()) {
    // Wake up now and then while idle, so that pruning also happens without traffic.
    mu_.AwaitWithTimeout(has_work, std::min(options_.prune_interval, absl::Seconds(10)));
  } else {
    mu_.Await(has_work);
  }
  if (queue_.empty()) return !stopping_;
  // Group commit: wait until the batch is full or the oldest ping has waited max_wait.
  mu_.AwaitWithDeadline(absl::Condition(this, &GroupCommitter::BatchFullOrStopping),
                        queue_.front().enqueued + options_.max_wait);
  const size_t n = std::min(queue_.size(), static_cast<size_t>(options_.max_batch_pings));
  batch.clear();
  for (size_t i = 0; i < n; ++i) {
    batch.push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
  queue_depth_->Set(static_cast<int64_t>(queue_.size()));
  return true;
}

void GroupCommitter::Run() {
  std::vector<Item> batch;
  batch.reserve(options_.max_batch_pings);
  while (NextBatch(batch)) {
    if (!batch.empty()) CommitItems(batch);
    batch.clear();
    MaybePrune();
  }
}

void GroupCommitter::CommitItems(std::vector<Item>& items) {
  records_.clear();
  for (const Item& item : items) {
    const v1::Ping& p = item.ping;
    PingRecord r;
    r.ping_id = p.ping_id();
    r.day = item.info.day;
    r.params_version = p.params_version();
    r.catalog_version = p.catalog_version();
    r.product = p.dimensions().product();
    r.channel = p.dimensions().channel();
    r.major_version = p.dimensions().major_version();
    r.num_pinsets = item.info.num_pinsets;
    r.bits_per_pinset = item.info.bits_per_pinset;
    r.pinset_indices = absl::MakeConstSpan(p.pinset_indices().data(), p.pinset_indices().size());
    r.bits = p.bits();
    records_.push_back(r);
  }
  outcomes_.assign(items.size(), CommitOutcome::kDuplicate);
  const absl::Time start = absl::Now();
  const absl::Status status = store_->CommitBatch(records_, absl::MakeSpan(outcomes_));
  commit_latency_->Observe(absl::ToDoubleSeconds(absl::Now() - start));
  commits_->Increment();
  batch_size_->Observe(static_cast<double>(items.size()));
  // The callbacks and their outcomes, shared by the batch's callback tasks.
  struct Delivery {
    std::vector<CommitCallback> callbacks;
    std::vector<absl::StatusOr<CommitOutcome>> outcomes;
  };
  auto delivery = std::make_shared<Delivery>();
  delivery->callbacks.reserve(items.size());
  for (Item& item : items) delivery->callbacks.push_back(std::move(item.done));
  if (status.ok()) {
    int64_t counted = 0;
    for (CommitOutcome o : outcomes_) counted += o == CommitOutcome::kCounted;
    accepted_->Increment(counted);
    duplicates_->Increment(static_cast<int64_t>(items.size()) - counted);
    delivery->outcomes.assign(outcomes_.begin(), outcomes_.end());
  } else {
    // Nothing of the batch was stored: acknowledge nothing; clients retry.
    commit_failures_->Increment();
    rejected_->Increment(kReasonStorageUnavailable, static_cast<int64_t>(items.size()));
    delivery->outcomes.assign(
        items.size(),
        MakeRejection(absl::StatusCode::kUnavailable, kReasonStorageUnavailable,
                      absl::StrCat("counts could not be stored, retry: ", status.message())));
  }
  // Task t runs callbacks t, t + tasks, t + 2 tasks, ...
  const size_t n = items.size();
  const size_t tasks = std::min(n, static_cast<size_t>(options_.callback_tasks));
  for (size_t t = 0; t < tasks; ++t) {
    Deliver([delivery, t, tasks, n]() {
      for (size_t i = t; i < n; i += tasks) delivery->callbacks[i](std::move(delivery->outcomes[i]));
    });
  }
}

void GroupCommitter::Deliver(absl::AnyInvocable<void() &&> callbacks) {
  if (options_.callback_executor) {
    options_.callback_executor(std::move(callbacks));
  } else {
    std::move(callbacks)();
  }
}

void GroupCommitter::MaybePrune() {
  if (options_.prune_interval <= absl::ZeroDuration()) return;
  const absl::Time now = options_.now();
  if (now - last_prune_ < options_.prune_interval) return;
  absl::StatusOr<int64_t> pruned =
      store_->PruneSeenPings(options_.window.FirstKeptIdDay(DayFromTime(now)));
  if (!pruned.ok()) return;  // retried after the next batch
  pruned_ids_->Increment(*pruned);
  last_prune_ = now;
}

}  // namespace pinning::aggregator
