#include "aggregator/http/rates_cache.h"

#include <string>
#include <vector>

#include "aggregator/http/json.h"
#include "aggregator/storage/day.h"
#include "gtest/gtest.h"

namespace pinning::aggregator {
namespace {

constexpr DayNumber kToday = 20000;

// FakeDecoder answers per-day requests with a point per day whose rate encodes the day, for
// "A" on every day and for "New" only from kToday - 3 on (a series that appears late).
class FakeDecoder {
 public:
  RatesCache::RatesFn Fn() {
    return [this](const v1::RatesRequest& request) -> absl::StatusOr<v1::RatesResponse> {
      requests.push_back(request);
      if (fail) return absl::UnavailableError("down");
      const DayNumber from = *ParseDay(request.from_day());
      const DayNumber to = *ParseDay(request.to_day());
      v1::RatesResponse response;
      for (const std::string key : {"A", "New"}) {
        const DayNumber first = key == "A" ? from : std::max(from, kToday - 3);
        if (first > to) continue;
        v1::RateSeries* series = response.add_series();
        series->set_key(key);
        series->set_organization(key);
        if (!request.per_day()) {
          series->add_points()->set_rate(0.5);
          continue;
        }
        for (DayNumber d = from; d <= to; ++d) {
          v1::RatePoint* p = series->add_points();
          p->set_day(FormatDay(d));
          if (d >= first) {
            p->set_sufficient(true);
            p->set_rate(d / 1e5);
            p->set_pings(static_cast<uint64_t>(d));
          } else {
            p->set_insufficient_reason("no reports");
          }
        }
      }
      return response;
    };
  }
  std::vector<v1::RatesRequest> requests;
  bool fail = false;
};

v1::RatesRequest PerDay(DayNumber from, DayNumber to) {
  v1::RatesRequest request;
  request.set_from_day(FormatDay(from));
  request.set_to_day(FormatDay(to));
  request.set_per_day(true);
  return request;
}

class RatesCacheTest : public ::testing::Test {
 protected:
  RatesCacheOptions Options() {
    RatesCacheOptions options;
    options.closed_after_days = 8;
    options.now = [this] { return now_; };
    return options;
  }
  absl::Time now_ = absl::FromUnixSeconds(int64_t{kToday} * 86400 + 3600);
  FakeDecoder decoder_;
};

TEST_F(RatesCacheTest, SplitsAtTheLastClosedDayAndJoinsLikeTheDecoder) {
  RatesCache cache(decoder_.Fn(), Options());
  const v1::RatesRequest request = PerDay(kToday - 364, kToday);
  absl::StatusOr<v1::RatesResponse> joined = cache.Rates(request);
  ASSERT_TRUE(joined.ok());
  ASSERT_EQ(decoder_.requests.size(), 2u);
  EXPECT_EQ(decoder_.requests[0].from_day(), FormatDay(kToday - 364));
  EXPECT_EQ(decoder_.requests[0].to_day(), FormatDay(kToday - 8));
  EXPECT_EQ(decoder_.requests[1].from_day(), FormatDay(kToday - 7));
  EXPECT_EQ(decoder_.requests[1].to_day(), FormatDay(kToday));
  // Identical to the decoder's answer for the whole range.
  absl::StatusOr<v1::RatesResponse> direct = decoder_.Fn()(request);
  ASSERT_TRUE(direct.ok());
  EXPECT_EQ(joined->SerializeAsString(), direct->SerializeAsString());
  ASSERT_EQ(joined->series_size(), 2);
  EXPECT_EQ(joined->series(1).key(), "New");
  EXPECT_EQ(joined->series(1).points_size(), 365);
  EXPECT_EQ(joined->series(1).points(0).insufficient_reason(), "no reports");

  // Again (with an empty filter, which means no filter): the closed part is a hit, the open part
  // is decoded afresh.
  decoder_.requests.clear();
  v1::RatesRequest same = request;
  same.mutable_filter()->set_product("");
  ASSERT_TRUE(cache.Rates(same).ok());
  ASSERT_EQ(decoder_.requests.size(), 1u);
  EXPECT_EQ(decoder_.requests[0].from_day(), FormatDay(kToday - 7));
  EXPECT_EQ(cache.hits(), 1);
  EXPECT_EQ(cache.misses(), 1);
}

TEST_F(RatesCacheTest, ExpiresEvictsAndDoesNotCacheErrors) {
  RatesCacheOptions options = Options();
  options.max_entries = 1;
  options.ttl = absl::Minutes(10);
  RatesCache cache(decoder_.Fn(), options);
  const v1::RatesRequest a = PerDay(kToday - 100, kToday - 50);  // fully closed
  const v1::RatesRequest b = PerDay(kToday - 90, kToday - 50);
  ASSERT_TRUE(cache.Rates(a).ok());
  ASSERT_TRUE(cache.Rates(a).ok());
  EXPECT_EQ(decoder_.requests.size(), 1u);
  ASSERT_TRUE(cache.Rates(b).ok());  // evicts a
  ASSERT_TRUE(cache.Rates(a).ok());
  EXPECT_EQ(decoder_.requests.size(), 3u);
  now_ += absl::Minutes(11);  // expired
  ASSERT_TRUE(cache.Rates(a).ok());
  EXPECT_EQ(decoder_.requests.size(), 4u);

  decoder_.fail = true;
  EXPECT_EQ(cache.Rates(b).status().code(), absl::StatusCode::kUnavailable);
  decoder_.fail = false;
  ASSERT_TRUE(cache.Rates(b).ok());
  EXPECT_EQ(decoder_.requests.size(), 6u);
}

TEST_F(RatesCacheTest, PassesThroughWhatItCannotSplit) {
  RatesCache cache(decoder_.Fn(), Options());
  v1::RatesRequest whole = PerDay(kToday - 100, kToday);
  whole.set_per_day(false);
  ASSERT_TRUE(cache.Rates(whole).ok());
  ASSERT_TRUE(cache.Rates(whole).ok());
  EXPECT_EQ(decoder_.requests.size(), 2u);                    // never cached
  ASSERT_TRUE(cache.Rates(PerDay(kToday - 3, kToday)).ok());  // only open days
  EXPECT_EQ(decoder_.requests.back().from_day(), FormatDay(kToday - 3));
  EXPECT_EQ(cache.misses(), 0);
}

// RatesJson renders exactly what ProtoToJson(Rates(request)) would, for every way a request can
// split: closed and open, closed only, open only, whole range, and series in one part only.
TEST_F(RatesCacheTest, JsonEqualsTheRenderedResponse) {
  RatesCache cache(decoder_.Fn(), Options());
  std::vector<v1::RatesRequest> requests = {
      PerDay(kToday - 364, kToday),     // both parts; "New" only in the open part
      PerDay(kToday - 30, kToday - 8),  // closed only
      PerDay(kToday - 5, kToday),       // open only
      PerDay(kToday - 8, kToday - 8),   // one closed day
      PerDay(kToday - 10, kToday - 2),  // "New" (from kToday - 3) only in the open part
  };
  v1::RatesRequest whole = PerDay(kToday - 100, kToday);
  whole.set_per_day(false);
  requests.push_back(whole);
  v1::RatesRequest filtered = PerDay(kToday - 20, kToday);
  filtered.add_keys("A");
  requests.push_back(filtered);
  for (const v1::RatesRequest& request : requests) {
    SCOPED_TRACE(request.ShortDebugString());
    absl::StatusOr<std::string> json = cache.RatesJson(request);
    ASSERT_TRUE(json.ok()) << json.status();
    absl::StatusOr<v1::RatesResponse> direct = decoder_.Fn()(request);
    ASSERT_TRUE(direct.ok());
    EXPECT_EQ(*json, ProtoToJson(*direct));
    // And a second time, from the cache.
    EXPECT_EQ(*cache.RatesJson(request), ProtoToJson(*direct));
  }
  EXPECT_GT(cache.hits(), 0);
}

// An empty answer renders as the empty response.
TEST_F(RatesCacheTest, JsonOfNothing) {
  RatesCache cache(
      [](const v1::RatesRequest&) -> absl::StatusOr<v1::RatesResponse> {
        return v1::RatesResponse();
      },
      Options());
  EXPECT_EQ(*cache.RatesJson(PerDay(kToday - 30, kToday)), "{\"series\":[]}");
}

}  // namespace
}  // namespace pinning::aggregator
