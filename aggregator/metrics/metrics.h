// metrics.h: a tiny thread-safe registry of counters, gauges and histograms with Prometheus
// text-format export (https://prometheus.io/docs/instrumenting/exposition_formats/).
//
// Metrics are registered once (at start-up) and then updated on the hot path without locks:
// counters, gauges and histogram buckets are relaxed atomics. A counter may carry one label
// (e.g. `reason`); each label value gets its own atomic cell, created on first use under a mutex
// and cached, so steady-state increments of a known label value take a shared lock only.
//
//   MetricsRegistry registry;
//   Counter* accepted = registry.AddCounter("pinning_ingest_accepted_total", "Pings counted.");
//   LabeledCounter* rejected = registry.AddLabeledCounter(
//       "pinning_ingest_rejected_total", "Pings refused, by reason.", "reason");
//   Histogram* batch = registry.AddHistogram("pinning_ingest_commit_batch_size",
//                                            "Pings per commit.", {1, 10, 100, 1000});
//   accepted->Increment();
//   rejected->Increment("bad_ping_id");
//   batch->Observe(42);
//   std::string text = registry.ExportPrometheus();
//
// Thread safety: every method of every class here is safe to call concurrently. Pointers returned
// by the registry stay valid for the registry's lifetime.
#ifndef AGGREGATOR_METRICS_METRICS_H_
#define AGGREGATOR_METRICS_METRICS_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace pinning::aggregator {

// Counter is a monotonically increasing 64-bit count.
class Counter {
 public:
  Counter() = default;
  Counter(const Counter&) = delete;
  Counter& operator=(const Counter&) = delete;

  // Increment adds `n` (which must be non-negative).
  void Increment(int64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  // Value returns the current count.
  [[nodiscard]] int64_t Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> value_{0};
};

// LabeledCounter is a family of counters keyed by the value of one label.
class LabeledCounter {
 public:
  explicit LabeledCounter(std::string label_name) : label_name_(std::move(label_name)) {}
  LabeledCounter(const LabeledCounter&) = delete;
  LabeledCounter& operator=(const LabeledCounter&) = delete;

  // Increment adds `n` to the counter of `label_value`, creating it at zero first if needed.
  void Increment(absl::string_view label_value, int64_t n = 1);
  // Value returns the count of `label_value` (0 when never incremented).
  [[nodiscard]] int64_t Value(absl::string_view label_value) const;
  // Get returns the counter of `label_value`, creating it if needed; callers on a hot path may
  // cache the pointer, which stays valid for the LabeledCounter's lifetime.
  Counter* Get(absl::string_view label_value);
  // Snapshot returns (label value, count) pairs sorted by label value.
  [[nodiscard]] std::vector<std::pair<std::string, int64_t>> Snapshot() const;
  const std::string& label_name() const { return label_name_; }

 private:
  const std::string label_name_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::unique_ptr<Counter>> cells_ ABSL_GUARDED_BY(mu_);
};

// Gauge is a value that goes up and down (e.g. a queue depth).
class Gauge {
 public:
  Gauge() = default;
  Gauge(const Gauge&) = delete;
  Gauge& operator=(const Gauge&) = delete;

  void Set(int64_t value) { value_.store(value, std::memory_order_relaxed); }
  void Add(int64_t delta) { value_.fetch_add(delta, std::memory_order_relaxed); }
  [[nodiscard]] int64_t Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> value_{0};
};

// Histogram counts observations into fixed buckets with inclusive upper bounds (Prometheus `le`),
// plus an implicit +Inf bucket, and keeps their sum.
class Histogram {
 public:
  // `upper_bounds` must be strictly increasing and finite; the registry checks it.
  explicit Histogram(std::vector<double> upper_bounds);
  Histogram(const Histogram&) = delete;
  Histogram& operator=(const Histogram&) = delete;

  // Observe records one value: it lands in the first bucket whose bound is >= value.
  void Observe(double value);

  struct Snapshot {
    std::vector<double> upper_bounds;
    // Non-cumulative count per bucket; one more entry than upper_bounds (the +Inf bucket).
    std::vector<int64_t> bucket_counts;
    int64_t count = 0;
    double sum = 0;
  };
  [[nodiscard]] Snapshot Read() const;

 private:
  const std::vector<double> upper_bounds_;
  std::unique_ptr<std::atomic<int64_t>[]> buckets_;
  std::atomic<int64_t> count_{0};
  std::atomic<double> sum_{0};
};

// MetricsRegistry owns metrics and renders them in Prometheus text format.
class MetricsRegistry {
 public:
  MetricsRegistry() = default;
  MetricsRegistry(const MetricsRegistry&) = delete;
  MetricsRegistry& operator=(const MetricsRegistry&) = delete;

  // Add* register a metric under `name` (Prometheus syntax [a-zA-Z_:][a-zA-Z0-9_:]*) with a help
  // line. Registering a name twice with the same kind returns the existing metric (so several
  // components can share one); a different kind or an invalid name is a programming error and
  // aborts.
  Counter* AddCounter(absl::string_view name, absl::string_view help);
  LabeledCounter* AddLabeledCounter(absl::string_view name, absl::string_view help,
                                    absl::string_view label_name);
  Gauge* AddGauge(absl::string_view name, absl::string_view help);
  // Buckets are inclusive upper bounds, strictly increasing; +Inf is implicit.
  Histogram* AddHistogram(absl::string_view name, absl::string_view help,
                          std::vector<double> upper_bounds);

  // ExportPrometheus renders every metric, in registration order, in the Prometheus text
  // exposition format 0.0.4 (HELP and TYPE lines, escaped label values, cumulative buckets).
  [[nodiscard]] std::string ExportPrometheus() const;

 private:
  enum class Kind { kCounter, kLabeledCounter, kGauge, kHistogram };
  struct Entry {
    std::string name;
    std::string help;
    Kind kind;
    std::unique_ptr<Counter> counter;
    std::unique_ptr<LabeledCounter> labeled;
    std::unique_ptr<Gauge> gauge;
    std::unique_ptr<Histogram> histogram;
  };
  Entry* FindOrAdd(absl::string_view name, absl::string_view help, Kind kind)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  std::vector<std::unique_ptr<Entry>> entries_ ABSL_GUARDED_BY(mu_);
};

// ExponentialBuckets returns `count` bounds start, start*factor, start*factor^2, ...
std::vector<double> ExponentialBuckets(double start, double factor, int count);

}  // namespace pinning::aggregator

#endif  // AGGREGATOR_METRICS_METRICS_H_
