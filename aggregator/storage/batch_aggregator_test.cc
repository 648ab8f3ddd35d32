#include "aggregator/storage/batch_aggregator.h"

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"

namespace pinning::aggregator {
namespace {

const std::string kId(kPingIdBytes, 'i');

PingRecord Record(absl::string_view bits, absl::Span<const uint32_t> indices, uint32_t k,
                  uint32_t bpp) {
  PingRecord r;
  r.ping_id = kId;
  r.day = 5;
  r.params_version = 1;
  r.catalog_version = "cat";
  r.num_pinsets = k;
  r.bits_per_pinset = bpp;
  r.pinset_indices = indices;
  r.bits = bits;
  return r;
}

TEST(ValidatePingRecordTest, AcceptsWellFormedRecords) {
  const std::vector<uint32_t> none;
  EXPECT_TRUE(ValidatePingRecord(Record("\x3f", none, 3, 2)).ok());  // 6 bits
  EXPECT_TRUE(ValidatePingRecord(Record("\xff", none, 4, 2)).ok());  // 8 bits, no padding
  const std::vector<uint32_t> two = {0, 9};
  EXPECT_TRUE(ValidatePingRecord(Record("\x0f", two, 10, 2)).ok());
}

TEST(ValidatePingRecordTest, RejectsContractViolations) {
  const std::vector<uint32_t> none;
  const std::vector<uint32_t> descending = {3, 1};
  const std::vector<uint32_t> equal = {1, 1};
  const std::vector<uint32_t> too_big = {1, 10};
  std::vector<PingRecord> bad = {
      Record("\x3f", none, 3, 0),                      // bits_per_pinset 0
      Record("\x3f", none, 3, 5),                      // bits_per_pinset > 4
      Record("", none, 0, 2),                          // K = 0
      Record("\x7f", none, 3, 2),                      // padding bit 6 set
      Record(std::string("\x01\x00", 2), none, 3, 2),  // one byte too many
      Record("", none, 3, 2),                          // too short
      Record("\x01", descending, 10, 2),
      Record("\x01", equal, 10, 2),
      Record("\x01", too_big, 10, 2),
  };
  PingRecord short_id = Record("\x3f", none, 3, 2);
  short_id.ping_id = "abc";
  bad.push_back(short_id);
  for (size_t i = 0; i < bad.size(); ++i) {
    EXPECT_EQ(ValidatePingRecord(bad[i]).code(), absl::StatusCode::kInvalidArgument) << i;
  }
}

TEST(BatchAggregatorTest, SumsBitsPerGroupAndPinset) {
  BatchAggregator agg;
  const std::vector<uint32_t> none;
  const std::vector<uint32_t> subset = {1, 3};
  // K = 4, 2 bits: bit j = pinset j/2, bit j%2. 0b10010110: p0 (0,1) p1 (1,0) p2 (1,0) p3 (0,1).
  PingRecord a = Record("\x96", none, 4, 2);
  // Subset {1, 3}: 0b1101: p1 (1,0) p3 (1,1).
  PingRecord b = Record("\x0d", subset, 4, 2);
  PingRecord other_day = Record("\xff", none, 4, 2);
  other_day.day = 6;
  agg.Add(a);
  agg.Add(b);
  agg.Add(other_day);
  std::map<std::pair<DayNumber, int32_t>, std::pair<int64_t, std::array<int64_t, 4>>> rows;
  agg.ForEachRow([&](const CountRow& r) {
    EXPECT_EQ(r.catalog_version, "cat");
    rows[{r.day, r.pinset}] = {r.reports, r.ones};
  });
  using Ones = std::array<int64_t, 4>;
  EXPECT_EQ(rows.size(), 10u);  // two group rows + 4 pinsets on day 5 + 4 on day 6
  EXPECT_EQ(rows[std::make_pair(5, -1)], std::make_pair(int64_t{2}, Ones{0, 0, 0, 0}));
  EXPECT_EQ(rows[std::make_pair(5, 0)], std::make_pair(int64_t{1}, Ones{0, 1, 0, 0}));
  EXPECT_EQ(rows[std::make_pair(5, 1)], std::make_pair(int64_t{2}, Ones{2, 0, 0, 0}));
  EXPECT_EQ(rows[std::make_pair(5, 2)], std::make_pair(int64_t{1}, Ones{1, 0, 0, 0}));
  EXPECT_EQ(rows[std::make_pair(5, 3)], std::make_pair(int64_t{2}, Ones{1, 2, 0, 0}));
  EXPECT_EQ(rows[std::make_pair(6, 3)], std::make_pair(int64_t{1}, Ones{1, 1, 0, 0}));
  agg.Clear();
  EXPECT_TRUE(agg.empty());
  int calls = 0;
  agg.ForEachRow([&](const CountRow&) { ++calls; });
  EXPECT_EQ(calls, 0);
}

}  // namespace
}  // namespace pinning::aggregator
