#include "aggregator/metrics/metrics.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace pinning::aggregator {
namespace {

bool IsValidMetricName(absl::string_view name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
    const bool digit = c >= '0' && c <= '9';
    if (!alpha && !(digit && i > 0)) return false;
  }
  return true;
}

// Prometheus text format: label values escape backslash, double quote and newline; help text
// escapes backslash and newline.
std::string Escape(absl::string_view text, bool quote) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (quote && c == '"') {
      out += "\\\"";
    } else {
      out += c;
    }
  }
  return out;
}

std::string FormatDouble(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (std::isnan(v)) return "NaN";
  return absl::StrFormat("%.17g", v);
}

[[noreturn]] void Die(absl::string_view message) {
  std::fprintf(stderr, "metrics: %.*s\n", static_cast<int>(message.size()), message.data());
  std::abort();
}

}  // namespace

void LabeledCounter::Increment(absl::string_view label_value, int64_t n) {
  Get(label_value)->Increment(n);
}

Counter* LabeledCounter::Get(absl::string_view label_value) {
  {
    absl::ReaderMutexLock lock(&mu_);
    auto it = cells_.find(label_value);
    if (it != cells_.end()) return it->second.get();
  }
  absl::MutexLock lock(&mu_);
  auto& cell = cells_[label_value];
  if (cell == nullptr) cell = std::make_unique<Counter>();
  return cell.get();
}

int64_t LabeledCounter::Value(absl::string_view label_value) const {
  absl::ReaderMutexLock lock(&mu_);
  auto it = cells_.find(label_value);
  return it == cells_.end() ? 0 : it->second->Value();
}

std::vector<std::pair<std::string, int64_t>> LabeledCounter::Snapshot() const {
  std::vector<std::pair<std::string, int64_t>> out;
  {
    absl::ReaderMutexLock lock(&mu_);
    out.reserve(cells_.size());
    for (const auto& [label, cell] : cells_) out.emplace_back(label, cell->Value());
  }
  std::sort(out.begin(), out.end());
  return out;
}

Histogram::Histogram(std::vector<double> upper_bounds)
    : upper_bounds_(std::move(upper_bounds)),
      buckets_(new std::atomic<int64_t>[upper_bounds_.size() + 1]) {
  for (size_t i = 0; i <= upper_bounds_.size(); ++i) buckets_[i].store(0);
}

void Histogram::Observe(double value) {
  // Buckets are few (tens), so a binary search is as cheap as anything else here.
  const size_t index =
      std::lower_bound(upper_bounds_.begin(), upper_bounds_.end(), value) - upper_bounds_.begin();
  buckets_[index].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  double sum = sum_.load(std::memory_order_relaxed);
  while (!sum_.compare_exchange_weak(sum, sum + value, std::memory_order_relaxed)) {
  }
}

Histogram::Snapshot Histogram::Read() const {
  Snapshot s;
  s.upper_bounds = upper_bounds_;
  s.bucket_counts.resize(upper_bounds_.size() + 1);
  for (size_t i = 0; i <= upper_bounds_.size(); ++i) {
    s.bucket_counts[i] = buckets_[i].load(std::memory_order_relaxed);
  }
  s.count = count_.load(std::memory_order_relaxed);
  s.sum = sum_.load(std::memory_order_relaxed);
  return s;
}

MetricsRegistry::Entry* MetricsRegistry::FindOrAdd(absl::string_view name, absl::string_view help,
                                                   Kind kind) {
  if (!IsValidMetricName(name)) Die(absl::StrCat("invalid metric name '", name, "'"));
  for (const auto& entry : entries_) {
    if (entry->name == name) {
      if (entry->kind != kind) Die(absl::StrCat("metric '", name, "' registered as another kind"));
      return entry.get();
    }
  }
  auto entry = std::make_unique<Entry>();
  entry->name = std::string(name);
  entry->help = std::string(help);
  entry->kind = kind;
  entries_.push_back(std::move(entry));
  return entries_.back().get();
}

Counter* MetricsRegistry::AddCounter(absl::string_view name, absl::string_view help) {
  absl::MutexLock lock(&mu_);
  Entry* e = FindOrAdd(name, help, Kind::kCounter);
  if (e->counter == nullptr) e->counter = std::make_unique<Counter>();
  return e->counter.get();
}

LabeledCounter* MetricsRegistry::AddLabeledCounter(absl::string_view name, absl::string_view help,
                                                   absl::string_view label_name) {
  if (!IsValidMetricName(label_name) || label_name.find(':') != absl::string_view::npos) {
    Die(absl::StrCat("invalid label name '", label_name, "'"));
  }
  absl::MutexLock lock(&mu_);
  Entry* e = FindOrAdd(name, help, Kind::kLabeledCounter);
  if (e->labeled == nullptr) {
    e->labeled = std::make_unique<LabeledCounter>(std::string(label_name));
  } else if (e->labeled->label_name() != label_name) {
    Die(absl::StrCat("metric '", name, "' registered with another label"));
  }
  return e->labeled.get();
}

Gauge* MetricsRegistry::AddGauge(absl::string_view name, absl::string_view help) {
  absl::MutexLock lock(&mu_);
  Entry* e = FindOrAdd(name, help, Kind::kGauge);
  if (e->gauge == nullptr) e->gauge = std::make_unique<Gauge>();
  return e->gauge.get();
}

Histogram* MetricsRegistry::AddHistogram(absl::string_view name, absl::string_view help,
                                         std::vector<double> upper_bounds) {
  for (size_t i = 0; i < upper_bounds.size(); ++i) {
    if (!std::isfinite(upper_bounds[i]) || (i > 0 && upper_bounds[i] <= upper_bounds[i - 1])) {
      Die(absl::StrCat("histogram '", name, "' bounds must be finite and strictly increasing"));
    }
  }
  absl::MutexLock lock(&mu_);
  Entry* e = FindOrAdd(name, help, Kind::kHistogram);
  if (e->histogram == nullptr) e->histogram = std::make_unique<Histogram>(std::move(upper_bounds));
  return e->histogram.get();
}

std::string MetricsRegistry::ExportPrometheus() const {
  std::string out;
  absl::MutexLock lock(&mu_);
  for (const auto& e : entries_) {
    const char* type = "counter";
    if (e->kind == Kind::kGauge) type = "gauge";
    if (e->kind == Kind::kHistogram) type = "histogram";
    absl::StrAppend(&out, "# HELP ", e->name, " ", Escape(e->help, /*quote=*/false), "\n");
    absl::StrAppend(&out, "# TYPE ", e->name, " ", type, "\n");
    switch (e->kind) {
      case Kind::kCounter:
        absl::StrAppend(&out, e->name, " ", e->counter->Value(), "\n");
        break;
      case Kind::kGauge:
        absl::StrAppend(&out, e->name, " ", e->gauge->Value(), "\n");
        break;
      case Kind::kLabeledCounter:
        for (const auto& [label, value] : e->labeled->Snapshot()) {
          absl::StrAppend(&out, e->name, "{", e->labeled->label_name(), "=\"",
                          Escape(label, /*quote=*/true), "\"} ", value, "\n");
        }
        break;
      case Kind::kHistogram: {
        const Histogram::Snapshot s = e->histogram->Read();
        int64_t cumulative = 0;
        for (size_t i = 0; i < s.bucket_counts.size(); ++i) {
          cumulative += s.bucket_counts[i];
          const std::string le =
              i < s.upper_bounds.size() ? FormatDouble(s.upper_bounds[i]) : std::string("+Inf");
          absl::StrAppend(&out, e->name, "_bucket{le=\"", le, "\"} ", cumulative, "\n");
        }
        absl::StrAppend(&out, e->name, "_sum ", FormatDouble(s.sum), "\n");
        // Prometheus requires _count to equal the +Inf bucket; derive it from the same snapshot.
        absl::StrAppend(&out, e->name, "_count ", cumulative, "\n");
        break;
      }
    }
  }
  return out;
}

std::vector<double> ExponentialBuckets(double start, double factor, int count) {
  std::vector<double> bounds;
  bounds.reserve(count);
  double v = start;
  for (int i = 0; i < count; ++i) {
    bounds.push_back(v);
    v *= factor;
  }
  return bounds;
}

}  // namespace pinning::aggregator
