#include "aggregator/ingest/validator.h"


#include <future>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "aggregator/ingest/group_committer.h"
#include "aggregator/ingest/rejection.h"
#include "aggregator/ingest/version_lookup.h"
#include "aggregator/storage/sqlite_store.h"
#include "aggregator/storage/testing/temp_sqlite_store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace pinning::aggregator {
namespace {

using ::testing::HasSubstr;

// "Today" for every test: 2024-03-10 12:00 UTC.
const absl::Time kNow =
    absl::FromCivil(absl::CivilSecond(2024, 3, 10, 12, 0, 0), absl::UTCTimeZone());

constexpr char kCatAll[] = "cat-all";  // K = 4, params 1 report all pinsets
constexpr char kCatSub[] = "cat-sub";  // K = 10, params 2 report s = 3

// A valid ping of params 1 (all 4 pinsets, 8 bits = 1 byte).
v1::Ping GoodAll(int id = 1) {
  v1::Ping p;
  p.set_ping_id(absl::StrCat(std::string(12, 'p'), absl::Dec(id, absl::kZeroPad4)));
  p.set_day("2024-03-10");
  p.set_params_version(1);
  p.set_catalog_version(kCatAll);
  p.set_bits(std::string("\x5a", 1));
  p.mutable_dimensions()->set_product("chrome");
  p.mutable_dimensions()->set_channel("stable");
  p.mutable_dimensions()->set_major_version(122);
  return p;
}

// A valid ping of params 2 (3 of 10 pinsets, 6 bits, 2 zero padding bits).
v1::Ping GoodSubset(int id = 2) {
  v1::Ping p = GoodAll(id);
  p.set_params_version(2);
  p.set_catalog_version(kCatSub);
  p.add_pinset_indices(1);
  p.add_pinset_indices(5);
  p.add_pinset_indices(9);
  p.set_bits(std::string("\x3f", 1));
  return p;
}

struct BadCase {
  std::string name;
  v1::Ping ping;
  absl::StatusCode code;
  std::string reason;
  std::string message_part;  // the message must name what is wrong
};

std::vector<BadCase> BadCases() {
  using C = absl::StatusCode;
  std::vector<BadCase> cases;
  auto add = [&](std::string name, v1::Ping ping, C code, std::string reason,
                 std::string message_part) {
    cases.push_back(
        {std::move(name), std::move(ping), code, std::move(reason), std::move(message_part)});
  };
  v1::Ping p;

  p = GoodAll();
  p.set_catalog_version(std::string(5000, 'c'));
  add("huge", p, C::kInvalidArgument, "ping_too_large", "limit 4096");
  p = GoodAll();
  p.clear_ping_id();
  add("no_id", p, C::kInvalidArgument, "bad_ping_id", "got 0");
  p = GoodAll();
  p.set_ping_id(std::string(15, 'x'));
  add("short_id", p, C::kInvalidArgument, "bad_ping_id", "got 15");
  p = GoodAll();
  p.set_ping_id(std::string(17, 'x'));
  add("long_id", p, C::kInvalidArgument, "bad_ping_id", "got 17");
  p = GoodAll();
  p.set_day("2024-3-10");
  add("unpadded_day", p, C::kInvalidArgument, "bad_day_format", "2024-3-10");
  p = GoodAll();
  p.set_day("2024-02-30");
  add("impossible_day", p, C::kInvalidArgument, "bad_day_format", "2024-02-30");
  p = GoodAll();
  p.clear_day();
  add("no_day", p, C::kInvalidArgument, "bad_day_format", "YYYY-MM-DD");
  p = GoodAll();
  p.set_day("2024-03-12");
  add("future_day", p, C::kFailedPrecondition, "day_in_future", "after 2024-03-11");
  p = GoodAll();
  p.set_day("2024-03-02");
  add("old_day", p, C::kFailedPrecondition, "day_too_old", "before 2024-03-03");
  p = GoodAll();
  p.clear_params_version();
  add("no_params", p, C::kInvalidArgument, "missing_params_version", "params_version");
  p = GoodAll();
  p.clear_catalog_version();
  add("no_catalog", p, C::kInvalidArgument, "missing_catalog_version", "catalog_version");
  p = GoodAll();
  p.set_params_version(99);
  add("unknown_params", p, C::kFailedPrecondition, "unknown_params_version", "99");
  p = GoodAll();
  p.set_catalog_version("nope");
  add("unknown_catalog", p, C::kFailedPrecondition, "unknown_catalog_version", "nope");
  p = GoodAll();
  p.set_catalog_version(kCatSub);
  add("mismatch", p, C::kInvalidArgument, "params_catalog_mismatch", "cat-all");
  p = GoodAll();
  p.set_params_version(3);
  add("unsupported", p, C::kFailedPrecondition, "unsupported_params", "bits_per_pinset=7");
  p = GoodAll();
  p.add_pinset_indices(0);
  add("indices_when_all", p, C::kInvalidArgument, "unexpected_pinset_indices", "empty");
  p = GoodSubset();
  p.mutable_pinset_indices()->RemoveLast();
  add("two_of_three", p, C::kInvalidArgument, "bad_pinset_count", "exactly 3");
  p = GoodSubset();
  p.clear_pinset_indices();
  add("no_indices", p, C::kInvalidArgument, "bad_pinset_count", "got 0");
  p = GoodSubset();
  p.set_pinset_indices(2, 3);
  add("descending", p, C::kInvalidArgument, "pinset_indices_not_ascending", "[2] = 3");
  p = GoodSubset();
  p.set_pinset_indices(1, 1);
  add("repeated", p, C::kInvalidArgument, "pinset_indices_not_ascending", "[1] = 1");
  p = GoodSubset();
  p.set_pinset_indices(2, 10);
  add("index_is_k", p, C::kInvalidArgument, "pinset_index_out_of_range", "K = 10");
  p = GoodAll();
  p.set_bits(std::string("\x5a\x00", 2));
  add("extra_byte", p, C::kInvalidArgument, "bad_bits_length", "got 2");
  p = GoodAll();
  p.clear_bits();
  add("no_bits", p, C::kInvalidArgument, "bad_bits_length", "got 0");
  p = GoodSubset();
  p.set_bits(std::string("\x7f", 1));
  add("padding", p, C::kInvalidArgument, "nonzero_bits_padding", "2 unused high bits");
  p = GoodAll();
  p.mutable_dimensions()->set_product("safari");
  add("product", p, C::kInvalidArgument, "unknown_product", "safari");
  p = GoodAll();
  p.mutable_dimensions()->set_product("Chrome");
  add("product_case", p, C::kInvalidArgument, "unknown_product", "Chrome");
  p = GoodAll();
  p.mutable_dimensions()->set_channel("canary");
  add("channel", p, C::kInvalidArgument, "unknown_channel", "canary");
  p = GoodAll();
  p.mutable_dimensions()->set_major_version(5000);
  add("major_high", p, C::kInvalidArgument, "bad_major_version", "5000");
  p = GoodAll();
  p.mutable_dimensions()->set_major_version(10);
  add("major_low", p, C::kInvalidArgument, "bad_major_version", "outside 50..1000");
  return cases;
}

class ValidatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    lookup_.AddCatalog(kCatAll, 4);
    lookup_.AddCatalog(kCatSub, 10);
    lookup_.AddParams({1, kCatAll, 4, 2});
    lookup_.AddParams({2, kCatSub, 3, 2});
    lookup_.AddParams({3, kCatAll, 4, 7});
    options_.now = [] { return kNow; };
    options_.min_major_version = 50;
    options_.window = {/*max_future_days=*/1, /*max_age_days=*/7, /*retention_days=*/8};
    auto validator = Validator::Create(options_, &lookup_, &metrics_);
    ASSERT_TRUE(validator.ok()) << validator.status();
    validator_ = std::move(*validator);

    auto store = testing::OpenTempSqliteStore();
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    GroupCommitterOptions committer_options;
    committer_options.window = options_.window;
    committer_options.now = options_.now;
    auto committer = GroupCommitter::Start(store_.get(), &metrics_, committer_options);
    ASSERT_TRUE(committer.ok()) << committer.status();
    committer_ = std::move(*committer);
  }

  // Ingest runs the pipeline the server runs: validate, then commit and wait for durability.
  absl::Status Ingest(v1::Ping ping) {
    absl::StatusOr<ValidPingInfo> info = validator_->Validate(ping);
    if (!info.ok()) return info.status();
    std::promise<absl::StatusOr<CommitOutcome>> done;
    auto future = done.get_future();
    absl::Status queued = committer_->Submit(
        std::move(ping), *info,
        [&done](absl::StatusOr<CommitOutcome> outcome) { done.set_value(outcome); });
    if (!queued.ok()) return queued;
    return future.get().status();
  }

  // Every stored count row plus the number of remembered ids.
  std::vector<std::tuple<DayNumber, uint32_t, std::string, int32_t, int64_t, int64_t, int64_t>>
  Snapshot() {
    std::vector<std::tuple<DayNumber, uint32_t, std::string, int32_t, int64_t, int64_t, int64_t>>
        rows;
    CountQuery q;
    q.from_day = 0;
    q.to_day = 1 << 30;
    q.include_group_totals = true;
    EXPECT_TRUE(store_
                    ->ForEachCount(q,
                                   [&](const CountRow& r) {
                                     rows.emplace_back(r.day, r.params_version,
                                                       std::string(r.catalog_version), r.pinset,
                                                       r.reports, r.ones[0], r.ones[1]);
                                   })
                    .ok());
    rows.emplace_back(0, 0, "seen ids", 0, *store_->SeenPingCount(), 0, 0);
    return rows;
  }

  int64_t TotalRejected() {
    int64_t total = 0;
    for (const auto& [reason, n] :
         metrics_.AddLabeledCounter("pinning_ingest_rejected_total", "", "reason")->Snapshot()) {
      total += n;
    }
    return total;
  }

  FixedVersionLookup lookup_;
  MetricsRegistry metrics_;
  ValidatorOptions options_;
  std::unique_ptr<Validator> validator_;
  std::unique_ptr<SqliteStore> store_;
  std::unique_ptr<GroupCommitter> committer_;
};

TEST_F(ValidatorTest, AcceptsGoodPingsAndCountsThem) {
  const auto before = Snapshot();
  ASSERT_TRUE(Ingest(GoodAll(1)).ok());
  ASSERT_TRUE(Ingest(GoodSubset(2)).ok());
  EXPECT_NE(Snapshot(), before);  // the control: an accepted ping does change the counts
  EXPECT_EQ(TotalRejected(), 0);
  absl::StatusOr<ValidPingInfo> info = validator_->Validate(GoodSubset());
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->day, *ParseDay("2024-03-10"));
  EXPECT_EQ(info->num_pinsets, 10u);
  EXPECT_EQ(info->bits_per_pinset, 2u);
}

TEST_F(ValidatorTest, EveryBadPingIsRejectedPreciselyAndNotCounted) {
  ASSERT_TRUE(Ingest(GoodAll(1)).ok());  // some counts exist already
  LabeledCounter* rejected =
      metrics_.AddLabeledCounter("pinning_ingest_rejected_total", "", "reason");
  const std::vector<BadCase> cases = BadCases();
  ASSERT_GE(cases.size(), 20u);
  for (const BadCase& c : cases) {
    SCOPED_TRACE(c.name);
    const auto before = Snapshot();
    const int64_t reason_before = rejected->Value(c.reason);
    const int64_t total_before = TotalRejected();
    absl::Status s = Ingest(c.ping);
    EXPECT_EQ(s.code(), c.code) << s;
    EXPECT_EQ(RejectionReason(s), c.reason) << s;
    EXPECT_THAT(std::string(s.message()), HasSubstr(c.message_part));
    EXPECT_EQ(rejected->Value(c.reason), reason_before + 1);
    EXPECT_EQ(TotalRejected(), total_before + 1);
    EXPECT_EQ(Snapshot(), before);
  }
}

TEST_F(ValidatorTest, DayWindowBoundariesAreInclusive) {
  v1::Ping p = GoodAll(10);
  p.set_day("2024-03-11");  // today + max_future_days
  EXPECT_TRUE(Ingest(p).ok());
  p = GoodAll(11);
  p.set_day("2024-03-03");  // today - max_age_days
  EXPECT_TRUE(Ingest(p).ok());
}

TEST_F(ValidatorTest, UnknownDimensionsAreAccepted) {
  v1::Ping p = GoodAll(12);
  p.clear_dimensions();
  EXPECT_TRUE(Ingest(p).ok());
}

TEST_F(ValidatorTest, RetiredParamsAreRefused) {
  EXPECT_TRUE(validator_->Validate(GoodAll()).ok());
  lookup_.RemoveParams(1);
  EXPECT_EQ(validator_->Validate(GoodAll()).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(ValidatorOptionsTest, RetentionMustExceedAcceptedAge) {
  FixedVersionLookup lookup;
  MetricsRegistry metrics;
  ValidatorOptions options;
  options.window = {1, 7, 7};
  absl::StatusOr<std::unique_ptr<Validator>> v = Validator::Create(options, &lookup, &metrics);
  EXPECT_EQ(v.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(v.status().message()), HasSubstr("retention_days"));
  options.window = {1, 7, 8};
  EXPECT_TRUE(Validator::Create(options, &lookup, &metrics).ok());
  options.products = {"bad,comma"};
  EXPECT_EQ(Validator::Create(options, &lookup, &metrics).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace pinning::aggregator
