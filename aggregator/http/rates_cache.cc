#include "aggregator/http/rates_cache.h"

#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "aggregator/storage/day.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"

namespace pinning::aggregator {
namespace {

// AppendSeries appends `points` for `days` days starting at `first` to `out`, filling days the
// source lacks with "no reports" points.
void AppendDays(const v1::RateSeries* source, DayNumber first, DayNumber last,
                v1::RateSeries* out) {
  int next = 0;
  for (DayNumber day = first; day <= last; ++day) {
    const std::string text = FormatDay(day);
    if (source != nullptr && next < source->points_size() && source->points(next).day() == text) {
      *out->add_points() = source->points(next++);
      continue;
    }
    v1::RatePoint* point = out->add_points();
    point->set_day(text);
    point->set_sufficient(false);
    point->set_insufficient_reason("no reports");
  }
}

}  // namespace

RatesCache::RatesCache(RatesFn inner, RatesCacheOptions options)
    : inner_(std::move(inner)), options_(std::move(options)) {}

int64_t RatesCache::hits() const {
  absl::MutexLock lock(&mu_);
  return hits_;
}

int64_t RatesCache::misses() const {
  absl::MutexLock lock(&mu_);
  return misses_;
}

absl::StatusOr<std::shared_ptr<const v1::RatesResponse>> RatesCache::Closed(
    const v1::RatesRequest& request) {
  // Deterministic serialization makes equal requests equal keys.
  std::string key;
  {
    google::protobuf::io::StringOutputStream stream(&key);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    request.SerializeToCodedStream(&coded);
  }
  const absl::Time now = options_.now();
  {
    absl::MutexLock lock(&mu_);
    auto it = entries_.find(key);
    if (it != entries_.end() && it->second.expires > now) {
      ++hits_;
      lru_.splice(lru_.begin(), lru_, it->second.lru);
      return it->second.response;
    }
    ++misses_;
  }
  absl::StatusOr<v1::RatesResponse> fresh = inner_(request);
  if (!fresh.ok()) return fresh.status();
  auto response = std::make_shared<const v1::RatesResponse>(*std::move(fresh));
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(key);
  if (it != entries_.end()) {
    lru_.erase(it->second.lru);
    entries_.erase(it);
  }
  lru_.push_front(key);
  entries_.emplace(key, Entry{response, now + options_.ttl, lru_.begin()});
  while (static_cast<int>(entries_.size()) > options_.max_entries) {
    entries_.erase(lru_.back());
    lru_.pop_back();
  }
  return response;
}

absl::StatusOr<v1::RatesResponse> RatesCache::Rates(const v1::RatesRequest& request) {
  if (!request.per_day() || options_.max_entries <= 0) return inner_(request);
  absl::StatusOr<DayNumber> from = ParseDay(request.from_day());
  absl::StatusOr<DayNumber> to = ParseDay(request.to_day());
  if (!from.ok() || !to.ok() || *to < *from) return inner_(request);  // the inner one explains
  const DayNumber last_closed = DayFromTime(options_.now()) - options_.closed_after_days;
  if (*from > last_closed) return inner_(request);  // nothing closed

  v1::RatesRequest closed_request = request;
  const DayNumber closed_to = std::min(*to, last_closed);
  closed_request.set_to_day(FormatDay(closed_to));
  absl::StatusOr<std::shared_ptr<const v1::RatesResponse>> closed = Closed(closed_request);
  if (!closed.ok()) return closed.status();
  if (closed_to == *to) return **closed;

  v1::RatesRequest open_request = request;
  open_request.set_from_day(FormatDay(closed_to + 1));
  absl::StatusOr<v1::RatesResponse> open = inner_(open_request);
  if (!open.ok()) return open.status();

  // Join by key; both parts list series sorted by key.
  std::map<std::string, std::pair<const v1::RateSeries*, const v1::RateSeries*>> by_key;
  for (const v1::RateSeries& s : (*closed)->series()) by_key[s.key()].first = &s;
  for (const v1::RateSeries& s : open->series()) by_key[s.key()].second = &s;
  v1::RatesResponse joined;
  for (const auto& [key, parts] : by_key) {
    v1::RateSeries* series = joined.add_series();
    series->set_key(key);
    series->set_organization(parts.first != nullptr ? parts.first->organization()
                                                    : parts.second->organization());
    series->mutable_points()->Reserve(*to - *from + 1);
    AppendDays(parts.first, *from, closed_to, series);
    AppendDays(parts.second, closed_to + 1, *to, series);
  }
  return joined;
}

}  // namespace pinning::aggregator
