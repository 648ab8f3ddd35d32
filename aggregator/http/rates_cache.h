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
// Memory: at most `max_entries` closed-part responses (a year of 50 organizations is ~2 MB),
// least recently used evicted first.
// Thread safety: Rates may be called concurrently; two concurrent misses of one key both decode.
#ifndef AGGREGATOR_HTTP_RATES_CACHE_H_
#define AGGREGATOR_HTTP_RATES_CACHE_H_

#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <string>

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

  RatesCache(RatesFn inner, RatesCacheOptions options);
  RatesCache(const RatesCache&) = delete;
  RatesCache& operator=(const RatesCache&) = delete;

  // Rates answers like the inner function would (see the file comment). Errors of the inner
  // function are returned and never cached; INVALID_ARGUMENT for malformed days.
  [[nodiscard]] absl::StatusOr<v1::RatesResponse> Rates(const v1::RatesRequest& request)
      ABSL_LOCKS_EXCLUDED(mu_);

  // hits and misses count closed-part lookups.
  int64_t hits() const ABSL_LOCKS_EXCLUDED(mu_);
  int64_t misses() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct Entry {
    std::shared_ptr<const v1::RatesResponse> response;
    absl::Time expires;
    std::list<std::string>::iterator lru;
  };
  absl::StatusOr<std::shared_ptr<const v1::RatesResponse>> Closed(const v1::RatesRequest& request)
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
