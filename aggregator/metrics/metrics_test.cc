#include "aggregator/metrics/metrics.h"

#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace pinning::aggregator {
namespace {

using ::testing::HasSubstr;

TEST(MetricsTest, CountersGaugesAndLabels) {
  MetricsRegistry registry;
  Counter* c = registry.AddCounter("requests_total", "Requests.");
  c->Increment();
  c->Increment(4);
  EXPECT_EQ(c->Value(), 5);
  // Registering the same name and kind again shares the metric.
  EXPECT_EQ(registry.AddCounter("requests_total", "Requests."), c);

  LabeledCounter* rejected = registry.AddLabeledCounter("rejected_total", "Refused.", "reason");
  rejected->Increment("bad_ping_id");
  rejected->Increment("bad_ping_id");
  rejected->Increment("day_in_future", 3);
  EXPECT_EQ(rejected->Value("bad_ping_id"), 2);
  EXPECT_EQ(rejected->Value("day_in_future"), 3);
  EXPECT_EQ(rejected->Value("never"), 0);

  Gauge* depth = registry.AddGauge("queue_depth", "Waiting.");
  depth->Set(10);
  depth->Add(-3);
  EXPECT_EQ(depth->Value(), 7);
}

TEST(MetricsTest, HistogramBucketsAreInclusiveUpperBounds) {
  MetricsRegistry registry;
  Histogram* h = registry.AddHistogram("batch", "Batch sizes.", {1, 10, 100});
  for (double v : {0.5, 1.0, 1.5, 10.0, 50.0, 100.0, 1000.0}) h->Observe(v);
  Histogram::Snapshot s = h->Read();
  EXPECT_EQ(s.bucket_counts, (std::vector<int64_t>{2, 2, 2, 1}));
  EXPECT_EQ(s.count, 7);
  EXPECT_DOUBLE_EQ(s.sum, 1163.0);
}

TEST(MetricsTest, PrometheusTextFormat) {
  MetricsRegistry registry;
  registry.AddCounter("a_total", "First.\nSecond line.")->Increment(3);
  LabeledCounter* l = registry.AddLabeledCounter("b_total", "Labeled.", "reason");
  l->Increment("z");
  l->Increment("quote\"back\\slash");
  registry.AddGauge("c", "Gauge.")->Set(-2);
  Histogram* h = registry.AddHistogram("d_seconds", "Latency.", {0.001, 0.01});
  h->Observe(0.0005);
  h->Observe(0.005);
  h->Observe(2);
  const std::string text = registry.ExportPrometheus();
  EXPECT_EQ(text,
            "# HELP a_total First.\\nSecond line.\n"
            "# TYPE a_total counter\n"
            "a_total 3\n"
            "# HELP b_total Labeled.\n"
            "# TYPE b_total counter\n"
            "b_total{reason=\"quote\\\"back\\\\slash\"} 1\n"
            "b_total{reason=\"z\"} 1\n"
            "# HELP c Gauge.\n"
            "# TYPE c gauge\n"
            "c -2\n"
            "# HELP d_seconds Latency.\n"
            "# TYPE d_seconds histogram\n"
            "d_seconds_bucket{le=\"0.001\"} 1\n"
            "d_seconds_bucket{le=\"0.01\"} 2\n"
            "d_seconds_bucket{le=\"+Inf\"} 3\n"
            "d_seconds_sum 2.0055000000000001\n"
            "d_seconds_count 3\n");
}

TEST(MetricsTest, ConcurrentUpdatesAreNotLost) {
  MetricsRegistry registry;
  Counter* c = registry.AddCounter("n_total", "N.");
  LabeledCounter* l = registry.AddLabeledCounter("l_total", "L.", "reason");
  Histogram* h = registry.AddHistogram("h", "H.", {10});
  constexpr int kThreads = 4;
  constexpr int kPerThread = 20000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        c->Increment();
        l->Increment(i % 2 == 0 ? "even" : "odd");
        h->Observe(t);
      }
    });
  }
  // Exporting while updating must be safe.
  for (int i = 0; i < 20; ++i) EXPECT_THAT(registry.ExportPrometheus(), HasSubstr("n_total"));
  for (auto& t : threads) t.join();
  EXPECT_EQ(c->Value(), kThreads * kPerThread);
  EXPECT_EQ(l->Value("even") + l->Value("odd"), kThreads * kPerThread);
  Histogram::Snapshot s = h->Read();
  EXPECT_EQ(s.count, kThreads * kPerThread);
  EXPECT_DOUBLE_EQ(s.sum, kPerThread * (0 + 1 + 2 + 3));
}

TEST(MetricsTest, ExponentialBuckets) {
  EXPECT_EQ(ExponentialBuckets(1, 4, 4), (std::vector<double>{1, 4, 16, 64}));
}

TEST(MetricsDeathTest, InvalidNamesAndKindClashesAbort) {
  MetricsRegistry registry;
  registry.AddCounter("x_total", "X.");
  EXPECT_DEATH(registry.AddGauge("x_total", "X."), "another kind");
  EXPECT_DEATH(registry.AddCounter("9starts_with_digit", "bad"), "invalid metric name");
  EXPECT_DEATH(registry.AddHistogram("h", "H.", {2, 1}), "strictly increasing");
}

}  // namespace
}  // namespace pinning::aggregator
