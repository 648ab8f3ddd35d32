#include "aggregator/http/rates_cache.h"

#include <map>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "aggregator/http/json.h"
#include "aggregator/storage/day.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"

namespace pinning::aggregator {
namespace {

v1::RatePoint NoReports(DayNumber day) {
  v1::RatePoint point;
  point.set_day(FormatDay(day));
  point.set_sufficient(false);
  point.set_insufficient_reason("no reports");
  return point;
}

// AppendDays appends the points of `source` for days first..last to `out`, filling days the
// source lacks with "no reports" points (as the decoder reports days without counts).
void AppendDays(const v1::RateSeries* source, DayNumber first, DayNumber last,
                v1::RateSeries* out) {
  int next = 0;
  for (DayNumber day = first; day <= last; ++day) {
    if (source != nullptr && next < source->points_size() &&
        source->points(next).day() == FormatDay(day)) {
      *out->add_points() = source->points(next++);
    } else {
      *out->add_points() = NoReports(day);
    }
  }
}

// Wrap splits the JSON of `empty` (a message whose last printed field is an empty array) into
// the text before and after the array's brackets' content.
std::pair<std::string, std::string> Wrap(const google::protobuf::Message& empty) {
  std::string json = ProtoToJson(empty);  // ...,"name":[]}
  return {json.substr(0, json.size() - 2), "]}"};
}

// SeriesPrefix returns the JSON of `series` up to the content of its points array:
// {"key":...,"organization":...,"points":[
std::string SeriesPrefix(const v1::RateSeries& series) {
  v1::RateSeries header;
  header.set_key(series.key());
  header.set_organization(series.organization());
  return Wrap(header).first;
}

// PointsJson returns the text inside the brackets of the points array of `series`' JSON, given
// its SeriesPrefix.
std::string PointsJson(const v1::RateSeries& series, const std::string& prefix) {
  const std::string full = ProtoToJson(series);
  // The points field is printed last (field order), so the full text is prefix + points + "]}".
  if (!absl::StartsWith(full, prefix) || !absl::EndsWith(full, "]}")) return std::string();
  return full.substr(prefix.size(), full.size() - prefix.size() - 2);
}

// FillerJson returns the JSON of "no reports" points for days first..last, comma-separated.
std::string FillerJson(DayNumber first, DayNumber last) {
  v1::RateSeries series;
  for (DayNumber day = first; day <= last; ++day) *series.add_points() = NoReports(day);
  return series.points_size() == 0 ? std::string() : PointsJson(series, SeriesPrefix(series));
}

// MakePart renders `response`'s series. Prefixes of series that `known` (may be null) already
// rendered are reused: the prefix depends only on the key and organization.
std::shared_ptr<const RatesCache::Part> MakePart(v1::RatesResponse response,
                                                 const RatesCache::Part* known) {
  absl::flat_hash_map<absl::string_view, const std::string*> known_prefix;
  if (known != nullptr) {
    for (int i = 0; i < known->response.series_size(); ++i) {
      known_prefix[known->response.series(i).key()] = &known->series_prefix[i];
    }
  }
  auto part = std::make_shared<RatesCache::Part>();
  part->points_json.reserve(response.series_size());
  part->series_prefix.reserve(response.series_size());
  for (const v1::RateSeries& series : response.series()) {
    auto it = known_prefix.find(series.key());
    part->series_prefix.push_back(it != known_prefix.end() ? *it->second : SeriesPrefix(series));
    part->points_json.push_back(PointsJson(series, part->series_prefix.back()));
  }
  part->response = std::move(response);
  return part;
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

absl::StatusOr<std::shared_ptr<const RatesCache::Part>> RatesCache::Closed(
    const v1::RatesRequest& request) {
  // Deterministic serialization makes equal requests equal keys; an empty filter message means
  // the same as none.
  std::string key;
  {
    v1::RatesRequest normalized = request;
    if (normalized.has_filter() && normalized.filter().ByteSizeLong() == 0) {
      normalized.clear_filter();
    }
    google::protobuf::io::StringOutputStream stream(&key);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    normalized.SerializeToCodedStream(&coded);
  }
  const absl::Time now = options_.now();
  {
    absl::MutexLock lock(&mu_);
    auto it = entries_.find(key);
    if (it != entries_.end() && it->second.expires > now) {
      ++hits_;
      lru_.splice(lru_.begin(), lru_, it->second.lru);
      return it->second.part;
    }
    ++misses_;
  }
  absl::StatusOr<v1::RatesResponse> fresh = inner_(request);
  if (!fresh.ok()) return fresh.status();
  std::shared_ptr<const Part> part = MakePart(*std::move(fresh), nullptr);
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(key);
  if (it != entries_.end()) {
    lru_.erase(it->second.lru);
    entries_.erase(it);
  }
  lru_.push_front(key);
  entries_.emplace(key, Entry{part, now + options_.ttl, lru_.begin()});
  while (static_cast<int>(entries_.size()) > options_.max_entries) {
    entries_.erase(lru_.back());
    lru_.pop_back();
  }
  return part;
}

absl::StatusOr<RatesCache::Split> RatesCache::SplitAndFetch(const v1::RatesRequest& request,
                                                            bool* passthrough) {
  *passthrough = true;
  if (!request.per_day() || options_.max_entries <= 0) return Split();
  absl::StatusOr<DayNumber> from = ParseDay(request.from_day());
  absl::StatusOr<DayNumber> to = ParseDay(request.to_day());
  if (!from.ok() || !to.ok() || *to < *from) return Split();  // the inner function explains
  const DayNumber last_closed = DayFromTime(options_.now()) - options_.closed_after_days;
  if (*from > last_closed) return Split();  // nothing closed
  *passthrough = false;

  Split split;
  split.from = *from;
  split.to = *to;
  split.closed_to = std::min(*to, last_closed);
  v1::RatesRequest closed_request = request;
  closed_request.set_to_day(FormatDay(split.closed_to));
  absl::StatusOr<std::shared_ptr<const Part>> closed = Closed(closed_request);
  if (!closed.ok()) return closed.status();
  split.closed = *std::move(closed);
  if (split.closed_to < *to) {
    v1::RatesRequest open_request = request;
    open_request.set_from_day(FormatDay(split.closed_to + 1));
    absl::StatusOr<v1::RatesResponse> open = inner_(open_request);
    if (!open.ok()) return open.status();
    split.open = MakePart(*std::move(open), split.closed.get());
  }
  return split;
}

absl::StatusOr<v1::RatesResponse> RatesCache::Rates(const v1::RatesRequest& request) {
  bool passthrough = false;
  absl::StatusOr<Split> split = SplitAndFetch(request, &passthrough);
  if (passthrough) return inner_(request);
  if (!split.ok()) return split.status();
  if (split->open == nullptr) return split->closed->response;

  // Join by key; both parts list series sorted by key.
  std::map<std::string, std::pair<const v1::RateSeries*, const v1::RateSeries*>> by_key;
  for (const v1::RateSeries& s : split->closed->response.series()) by_key[s.key()].first = &s;
  for (const v1::RateSeries& s : split->open->response.series()) by_key[s.key()].second = &s;
  v1::RatesResponse joined;
  for (const auto& [key, parts] : by_key) {
    v1::RateSeries* series = joined.add_series();
    series->set_key(key);
    series->set_organization(parts.first != nullptr ? parts.first->organization()
                                                    : parts.second->organization());
    series->mutable_points()->Reserve(split->to - split->from + 1);
    AppendDays(parts.first, split->from, split->closed_to, series);
    AppendDays(parts.second, split->closed_to + 1, split->to, series);
  }
  return joined;
}

absl::StatusOr<std::string> RatesCache::RatesJson(const v1::RatesRequest& request) {
  bool passthrough = false;
  absl::StatusOr<Split> split = SplitAndFetch(request, &passthrough);
  if (passthrough) {
    absl::StatusOr<v1::RatesResponse> response = inner_(request);
    if (!response.ok()) return response.status();
    return ProtoToJson(*response);
  }
  if (!split.ok()) return split.status();

  // The pieces of each series, by key, from both parts.
  struct Pieces {
    const std::string* prefix = nullptr;
    const std::string* closed_json = nullptr;
    const std::string* open_json = nullptr;
  };
  std::map<absl::string_view, Pieces> by_key;
  const Part& closed = *split->closed;
  for (int i = 0; i < closed.response.series_size(); ++i) {
    Pieces& p = by_key[closed.response.series(i).key()];
    p.prefix = &closed.series_prefix[i];
    p.closed_json = &closed.points_json[i];
  }
  if (split->open != nullptr) {
    const Part& open = *split->open;
    for (int i = 0; i < open.response.series_size(); ++i) {
      Pieces& p = by_key[open.response.series(i).key()];
      if (p.prefix == nullptr) p.prefix = &open.series_prefix[i];
      p.open_json = &open.points_json[i];
    }
  }
  static const std::pair<std::string, std::string>* const response_wrap =
      new std::pair<std::string, std::string>(Wrap(v1::RatesResponse()));
  std::string out = response_wrap->first;
  size_t size = out.size() + response_wrap->second.size();
  for (const auto& [key, p] : by_key) {
    size += p.prefix->size() + 4 + (p.closed_json != nullptr ? p.closed_json->size() : 0) +
            (p.open_json != nullptr ? p.open_json->size() : 0);
  }
  out.reserve(size + size / 8);  // room for "no reports" fillers
  // Fillers for a series missing from one part, rendered at most once per request.
  std::string closed_filler, open_filler;
  bool have_closed_filler = false, have_open_filler = false;
  bool first_series = true;
  for (const auto& [key, p] : by_key) {
    if (!first_series) out.push_back(',');
    first_series = false;
    out += *p.prefix;
    // Closed days, then open days; a part without the series contributes "no reports" points.
    const std::string* closed_points = p.closed_json;
    if (closed_points == nullptr) {
      if (!have_closed_filler) closed_filler = FillerJson(split->from, split->closed_to);
      have_closed_filler = true;
      closed_points = &closed_filler;
    }
    out += *closed_points;
    if (split->closed_to < split->to) {
      const std::string* open_points = p.open_json;
      if (open_points == nullptr) {
        if (!have_open_filler) open_filler = FillerJson(split->closed_to + 1, split->to);
        have_open_filler = true;
        open_points = &open_filler;
      }
      if (!closed_points->empty() && !open_points->empty()) out.push_back(',');
      out += *open_points;
    }
    out += "]}";
  }
  out += response_wrap->second;
  return out;
}

}  // namespace pinning::aggregator
