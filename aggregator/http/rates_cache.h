// rates_cache.h: caches the per-day rates of days whose counts can no longer change.
//
// The ingest validator refuses pings for days older than max_age_days, so once a day is more than
// `closed_after_days` (= max_age_days + 1) days old its counts are final (only a counts import can
// add to them). A dashboard asks for a year of daily points again and again, and all but the last
// few days are such closed days. RatesCache splits a per-day request at the last closed day:
//   closed part  [from, min(to, today − closed_after_days)]  answered from the cache (filled on a
//                miss), entries expire after `ttl` so imports show up eventually;
//   open part    the remaining recent days, always decoded fresh;
// and joins the two series by key (a series present in only one part gets "no reports" points for
// the other part's days, as the decoder itself reports days without counts). Whole-range requests
// (per_day = false) pass through: their single point mixes closed and open days.
//
//   RatesCache cache(
//       [&](const v1::RatesRequest& r) { return decoder->Rates(r); }, {.closed_after_days = 8});
//   ASSIGN_OR_RETURN(v1::RatesResponse rates, cache.Rates(request));
//
// RatesJson returns the same answer already rendered as JSON (json.h), byte for byte equal to
// ProtoToJson(Rates(request)). Rendering is the costly part of a year-long dashboard query
// (protobuf's JSON printer manages ~20 MB/s; a year of 50 organizations is ~5 MB), so a cached
// closed part keeps each series' rendered points, and only the open days are rendered per query.
// Every fragment is rendered by protobuf's JSON printer: a series' points are cut out of its
// rendering by the length of the same series rendered without points, and arrays are joined
// with commas.
//
// Memory: at most `max_entries` closed parts (a year of 50 organizations is ~2 MB of protobuf
// plus ~5 MB of JSON), least recently used evicted first.
// Thread safety: Rates may be called concurrently; two concurrent misses of one key both decode.
#ifndef AGGREGATOR_HTTP_RATES_CACHE_H_
#define AGGREGATOR_HTTP_RATES_CACHE_H_

#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "proto/query.pb.h"

namespace pinning::aggregator {

struct RatesCacheOptions {
  // A day d is closed when d <= today − closed_after_days (UTC). Must be >= 1.
  int closed_after_days = 8;
  // How long a cached closed part is reused.
  absl::Duration ttl = absl::Minutes(10);
  // Cached closed parts kept, least recently used evicted first. 0 disables the cache.
  int max_entries = 32;
  std::function<absl::Time()> now = [] { return absl::Now(); };
};

class RatesCache {
 public:
  using RatesFn = std::function<absl::StatusOr<v1::RatesResponse>(const v1::RatesRequest&)>;

  // Part is a decoded day range: the response and, per series, the JSON of its points (the text
  // between the brackets of "points":[...]).
  struct Part {
    v1::RatesResponse response;
    std::vector<std::string> points_json;
    // Per series, its JSON up to the points' content: {"key":...,"organization":...,"points":[
    std::vector<std::string> series_prefix;
  };

  RatesCache(RatesFn inner, RatesCacheOptions options);
  RatesCache(const RatesCache&) = delete;
  RatesCache& operator=(const RatesCache&) = delete;

  // Rates answers like the inner function would (see the file comment). Errors of the inner
  // function are returned and never cached; INVALID_ARGUMENT for malformed days.
  [[nodiscard]] absl::StatusOr<v1::RatesResponse> Rates(const v1::RatesRequest& request)
      ABSL_LOCKS_EXCLUDED(mu_);

  // RatesJson is Rates rendered as JSON (see the file comment).
  [[nodiscard]] absl::StatusOr<std::string> RatesJson(const v1::RatesRequest& request)
      ABSL_LOCKS_EXCLUDED(mu_);

  // hits and misses count closed-part lookups.
  int64_t hits() const ABSL_LOCKS_EXCLUDED(mu_);
  int64_t misses() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct Entry {
    std::shared_ptr<const Part> part;
    absl::Time expires;
    std::list<std::string>::iterator lru;
  };
  // Split is the result of splitting a request: the closed part (null when none), the open part
  // (null when none), and the days of each.
  struct Split {
    std::shared_ptr<const Part> closed;
    std::shared_ptr<const Part> open;
    int32_t from = 0, closed_to = 0, to = 0;
  };
  // SplitAndFetch returns nullopt-like `passthrough` = true when the request cannot be split.
  absl::StatusOr<Split> SplitAndFetch(const v1::RatesRequest& request, bool* passthrough)
      ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<std::shared_ptr<const Part>> Closed(const v1::RatesRequest& request)
      ABSL_LOCKS_EXCLUDED(mu_);

  const RatesFn inner_;
  const RatesCacheOptions options_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, Entry> entries_ ABSL_GUARDED_BY(mu_);
  std::list<std::string> lru_ ABSL_GUARDED_BY(mu_);  // front = most recently used
  int64_t hits_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t misses_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace pinning::aggregator

#endif  // AGGREGATOR_HTTP_RATES_CACHE_H_
