#include "aggregator/decode/decoder.h"


#include <cmath>
#include <cstdlib>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "aggregator/storage/sqlite_store.h"
#include "aggregator/storage/testing/temp_sqlite_store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "privacy/encoder.h"
#include "privacy/estimator.h"
#include "privacy/params.h"
#include "privacy/random_source.h"

namespace pinning::aggregator {
namespace {

using ::testing::ElementsAre;

// Ground truth of the simulated population, per pinset name: P(checked), P(violated | checked).
struct Truth {
  const char* name;
  const char* organization;
  double check;
  double violation;
};
constexpr Truth kTruths[] = {
    {"a1", "Alpha", 0.6, 0.10}, {"a2", "Alpha", 0.5, 0.30}, {"b1", "Beta", 0.4, 0.05},
    {"g1", "Gamma", 0.7, 0.0},  {"d1", "Delta", 0.5, 0.20},
};
const Truth& TruthOf(const std::string& name) {
  for (const Truth& t : kTruths) {
    if (name == t.name) return t;
  }
  std::abort();
}

// Catalog A = {a1, a2, b1, g1}; catalog B reorders them and adds d1, so the decoder must map
// indices through each catalog.
const std::vector<std::string> kCatalogA = {"a1", "a2", "b1", "g1"};
const std::vector<std::string> kCatalogB = {"g1", "b1", "a2", "a1", "d1"};

constexpr DayNumber kDay0 = 19800;  // 2024-03-18
constexpr int kDays = 3;
constexpr int kPingsPerVersion = 12000;

// Counts summed by the test itself from the encoded reports, keyed by
// (params version, day, product, pinset name).
using CountsKey = std::tuple<uint32_t, DayNumber, std::string, std::string>;

class DecoderTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto store = testing::OpenTempSqliteStore();
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = store->release();
    counts_ = new std::map<CountsKey, privacy::PinsetCounts>();

    PublishCatalog("cat-A", kCatalogA);
    PublishCatalog("cat-B", kCatalogB);
    // v1: every pinset in every ping; v2: 2 of 5 pinsets per ping, different noise.
    Simulate(
        1, "cat-A", kCatalogA,
        *privacy::ParamsBuilder().SetF(0.25).SetP(0.25).SetQ(0.75).SetPinsetsPerPing(4).Build(),
        /*seed=*/11);
    Simulate(2, "cat-B", kCatalogB,
             *privacy::ParamsBuilder().SetF(0.1).SetP(0.2).SetQ(0.8).SetPinsetsPerPing(2).Build(),
             /*seed=*/22);
  }
  static void TearDownTestSuite() {
    delete store_;
    delete counts_;
  }

  static void PublishCatalog(const std::string& version, const std::vector<std::string>& names) {
    v1::Catalog catalog;
    catalog.set_version(version);
    for (size_t i = 0; i < names.size(); ++i) {
      v1::Pinset* p = catalog.add_pinsets();
      p->set_index(i);
      p->set_name(names[i]);
      p->set_organization(TruthOf(names[i]).organization);
    }
    ASSERT_TRUE(store_->PutCatalog(catalog).ok());
  }

  // Encodes kPingsPerVersion clients (one ping each, spread over kDays days and two products)
  // with the privacy encoder, stores them, and sums the reported bits into counts_.
  static void Simulate(uint32_t version, const std::string& catalog,
                       const std::vector<std::string>& names, const privacy::Params& params,
                       uint64_t seed) {
    v1::ParamsVersion pv;
    pv.set_version(version);
    pv.set_catalog_version(catalog);
    pv.mutable_params()->set_f(params.f());
    pv.mutable_params()->set_p(params.p());
    pv.mutable_params()->set_q(params.q());
    pv.mutable_params()->set_pinsets_per_ping(params.pinsets_per_ping());
    pv.mutable_params()->set_bits_per_pinset(params.bits_per_pinset());
    ASSERT_TRUE(store_->PutParamsVersion(pv).ok());

    privacy::SeededRandomSource truth_source(seed);
    privacy::SeededRandomSource irr_source(seed + 1000);
    const int k = static_cast<int>(names.size());
    std::vector<std::string> ids, bits;
    std::vector<std::vector<uint32_t>> indices;
    std::vector<PingRecord> records;
    std::vector<std::string> products;
    for (int n = 0; n < kPingsPerVersion; ++n) {
      std::vector<uint8_t> secret(privacy::kClientSecretSize);
      truth_source.FillBytes(absl::MakeSpan(secret));
      auto encoder = privacy::Encoder::Create({params, k, version, catalog}, secret, &irr_source);
      ASSERT_TRUE(encoder.ok()) << encoder.status();
      std::vector<privacy::PinsetState> states(k);
      for (int i = 0; i < k; ++i) {
        const Truth& t = TruthOf(names[i]);
        const bool checked = truth_source.UniformDouble() < t.check;
        const bool violated = checked && truth_source.UniformDouble() < t.violation;
        states[i] = violated  ? privacy::PinsetState::kViolated
                    : checked ? privacy::PinsetState::kCheckedOk
                              : privacy::PinsetState::kNotChecked;
      }
      auto report = encoder->Encode(states);
      ASSERT_TRUE(report.ok()) << report.status();
      const DayNumber day = kDay0 + n % kDays;
      const std::string product = n % 2 == 0 ? "chrome" : "firefox";
      // Test-side sums of the reported bits.
      const size_t reported = report->pinset_indices.empty() ? k : report->pinset_indices.size();
      for (size_t pos = 0; pos < reported; ++pos) {
        const int pinset = report->pinset_indices.empty() ? pos : report->pinset_indices[pos];
        privacy::PinsetCounts& c = (*counts_)[{version, day, product, names[pinset]}];
        c.reports += 1;
        c.checked_ones += privacy::UnpackBit(report->bits, pos * 2);
        c.violated_ones += privacy::UnpackBit(report->bits, pos * 2 + 1);
      }
      ids.push_back(absl::StrCat(absl::Hex(seed, absl::kZeroPad8), absl::Hex(n, absl::kZeroPad8)));
      bits.emplace_back(report->bits.begin(), report->bits.end());
      indices.push_back(report->pinset_indices);
      products.push_back(product);
    }
    for (int n = 0; n < kPingsPerVersion; ++n) {
      PingRecord r;
      r.ping_id = ids[n];
      r.day = kDay0 + n % kDays;
      r.params_version = version;
      r.catalog_version = catalog;
      r.product = products[n];
      r.channel = "stable";
      r.major_version = 124;
      r.num_pinsets = k;
      r.bits_per_pinset = 2;
      r.pinset_indices = indices[n];
      r.bits = bits[n];
      records.push_back(r);
    }
    std::vector<CommitOutcome> outcomes(records.size());
    ASSERT_TRUE(store_->CommitBatch(records, absl::MakeSpan(outcomes)).ok());
  }

  // Test-side counts of `name` under `version`, summed over the days in [from, to] and the
  // products matching `product` ("" = all).
  static privacy::PinsetCounts Sum(uint32_t version, const std::string& name, DayNumber from,
                                   DayNumber to, const std::string& product = "") {
    privacy::PinsetCounts total;
    for (const auto& [key, c] : *counts_) {
      const auto& [v, day, prod, pinset] = key;
      if (v != version || pinset != name || day < from || day > to) continue;
      if (!product.empty() && prod != product) continue;
      total.reports += c.reports;
      total.checked_ones += c.checked_ones;
      total.violated_ones += c.violated_ones;
    }
    return total;
  }

  static privacy::Params ParamsOf(uint32_t version) {
    return version == 1 ? *privacy::ParamsBuilder()
                               .SetF(0.25)
                               .SetP(0.25)
                               .SetQ(0.75)
                               .SetPinsetsPerPing(4)
                               .Build()
                        : *privacy::ParamsBuilder()
                               .SetF(0.1)
                               .SetP(0.2)
                               .SetQ(0.8)
                               .SetPinsetsPerPing(2)
                               .Build();
  }

  static v1::RatesRequest Request(v1::GroupBy group_by, bool per_day) {
    v1::RatesRequest r;
    r.set_from_day(FormatDay(kDay0));
    r.set_to_day(FormatDay(kDay0 + kDays - 1));
    r.set_group_by(group_by);
    r.set_per_day(per_day);
    return r;
  }

  static const v1::RateSeries* Find(const v1::RatesResponse& response, const std::string& key) {
    for (const auto& s : response.series()) {
      if (s.key() == key) return &s;
    }
    return nullptr;
  }

  static inline SqliteStore* store_ = nullptr;
  static inline std::map<CountsKey, privacy::PinsetCounts>* counts_ = nullptr;
};

TEST_F(DecoderTest, PinsetRatesCoverTheTruth) {
  Decoder decoder(store_);
  auto response = decoder.Rates(Request(v1::GROUP_BY_PINSET, /*per_day=*/false));
  ASSERT_TRUE(response.ok()) << response.status();
  ASSERT_EQ(response->series_size(), 5);
  std::vector<std::string> keys;
  for (const auto& s : response->series()) keys.push_back(s.key());
  EXPECT_THAT(keys, ElementsAre("a1", "a2", "b1", "d1", "g1"));  // sorted by key
  for (const auto& s : response->series()) {
    SCOPED_TRACE(s.key());
    ASSERT_EQ(s.points_size(), 1);
    const v1::RatePoint& p = s.points(0);
    ASSERT_TRUE(p.sufficient()) << p.insufficient_reason();
    EXPECT_EQ(s.organization(), TruthOf(s.key()).organization);
    EXPECT_EQ(p.day(), "");
    // |estimate - truth| <= 4 SE: fails with probability ~6e-5 per pinset if the SE is right.
    EXPECT_LE(std::abs(p.rate() - TruthOf(s.key()).violation), 4 * p.std_error());
    EXPECT_GT(p.std_error(), 0.001);
    EXPECT_LT(p.std_error(), 0.05);
    EXPECT_LE(p.ci_low(), p.rate());
    EXPECT_GE(p.ci_high(), p.rate());
  }
  // d1 exists only in catalog B, so only params version 2 reported it.
  EXPECT_THAT(Find(*response, "d1")->points(0).params_versions(), ElementsAre(2u));
  EXPECT_THAT(Find(*response, "a1")->points(0).params_versions(), ElementsAre(1u, 2u));
}

TEST_F(DecoderTest, OrganizationRatesCoverTheTruth) {
  Decoder decoder(store_);
  auto response = decoder.Rates(Request(v1::GROUP_BY_ORGANIZATION, /*per_day=*/false));
  ASSERT_TRUE(response.ok()) << response.status();
  std::vector<std::string> keys;
  for (const auto& s : response->series()) keys.push_back(s.key());
  EXPECT_THAT(keys, ElementsAre("Alpha", "Beta", "Delta", "Gamma"));
  // Alpha's population rate: sum of check*violation over its pinsets / sum of check.
  const double alpha = (0.6 * 0.10 + 0.5 * 0.30) / (0.6 + 0.5);
  const v1::RatePoint& p = Find(*response, "Alpha")->points(0);
  ASSERT_TRUE(p.sufficient());
  EXPECT_LE(std::abs(p.rate() - alpha), 4 * p.std_error());
  EXPECT_EQ(Find(*response, "Alpha")->organization(), "Alpha");
  const v1::RatePoint& gamma = Find(*response, "Gamma")->points(0);
  ASSERT_TRUE(gamma.sufficient());
  EXPECT_LE(std::abs(gamma.rate() - 0.0), 4 * gamma.std_error());
  // Under v1 every ping reports every pinset; under v2 a pinset is in 2 of 5 pings on average.
  EXPECT_GE(p.pings(), static_cast<uint64_t>(kPingsPerVersion));
  EXPECT_LE(p.pings(), static_cast<uint64_t>(2 * kPingsPerVersion));
}

TEST_F(DecoderTest, MatchesTheEstimatorOnIndependentlySummedCounts) {
  Decoder decoder(store_);
  const DayNumber day = kDay0 + 1;
  v1::RatesRequest request = Request(v1::GROUP_BY_PINSET, /*per_day=*/true);
  request.mutable_filter()->set_product("firefox");
  auto by_pinset = decoder.Rates(request);
  ASSERT_TRUE(by_pinset.ok()) << by_pinset.status();
  for (const char* name : {"a1", "a2", "b1", "g1"}) {
    SCOPED_TRACE(name);
    const privacy::PinsetCounts c1 = Sum(1, name, day, day, "firefox");
    const privacy::PinsetCounts c2 = Sum(2, name, day, day, "firefox");
    const privacy::RateEstimate e1 = privacy::EstimateViolationRate(c1, ParamsOf(1));
    const privacy::RateEstimate e2 = privacy::EstimateViolationRate(c2, ParamsOf(2));
    const privacy::RateEstimate want = privacy::CombineByInverseVariance({e1, e2});
    const v1::RateSeries* s = Find(*by_pinset, name);
    ASSERT_NE(s, nullptr);
    ASSERT_EQ(s->points_size(), kDays);
    const v1::RatePoint& p = s->points(1);
    EXPECT_EQ(p.day(), FormatDay(day));
    ASSERT_EQ(p.sufficient(), want.sufficient);
    EXPECT_DOUBLE_EQ(p.rate(), want.rate);
    EXPECT_DOUBLE_EQ(p.std_error(), want.std_error);
    EXPECT_DOUBLE_EQ(p.checked_estimate(), want.checked_estimate);
    EXPECT_EQ(p.pings(), static_cast<uint64_t>(c1.reports + c2.reports));
    // Combining reduces the error below either version alone (inverse-variance weighting).
    EXPECT_LT(p.std_error(), std::min(e1.std_error, e2.std_error));
  }

  request.set_group_by(v1::GROUP_BY_ORGANIZATION);
  auto by_org = decoder.Rates(request);
  ASSERT_TRUE(by_org.ok()) << by_org.status();
  std::vector<privacy::RateEstimate> per_version;
  for (uint32_t v : {1u, 2u}) {
    const privacy::PinsetCounts pinsets[] = {Sum(v, "a1", day, day, "firefox"),
                                             Sum(v, "a2", day, day, "firefox")};
    per_version.push_back(privacy::EstimateOrganizationRate(pinsets, ParamsOf(v)));
  }
  const privacy::RateEstimate want = privacy::CombineByInverseVariance(per_version);
  const v1::RatePoint& alpha = Find(*by_org, "Alpha")->points(1);
  EXPECT_DOUBLE_EQ(alpha.rate(), want.rate);
  EXPECT_DOUBLE_EQ(alpha.std_error(), want.std_error);
  EXPECT_DOUBLE_EQ(alpha.violated_estimate(), want.violated_estimate);
}

TEST_F(DecoderTest, PerDayPointsCoverEveryDayOfTheRange) {
  Decoder decoder(store_);
  v1::RatesRequest request = Request(v1::GROUP_BY_ORGANIZATION, /*per_day=*/true);
  request.set_from_day(FormatDay(kDay0 - 1));
  request.set_to_day(FormatDay(kDay0 + kDays));
  request.add_keys("Beta");
  auto response = decoder.Rates(request);
  ASSERT_TRUE(response.ok()) << response.status();
  ASSERT_EQ(response->series_size(), 1);
  const v1::RateSeries& beta = response->series(0);
  ASSERT_EQ(beta.points_size(), kDays + 2);
  EXPECT_EQ(beta.points(0).day(), FormatDay(kDay0 - 1));
  EXPECT_FALSE(beta.points(0).sufficient());
  EXPECT_EQ(beta.points(0).insufficient_reason(), "no reports");
  EXPECT_EQ(beta.points(0).pings(), 0u);
  EXPECT_FALSE(beta.points(kDays + 1).sufficient());
  for (int d = 1; d <= kDays; ++d) {
    EXPECT_EQ(beta.points(d).day(), FormatDay(kDay0 + d - 1));
    EXPECT_TRUE(beta.points(d).sufficient());
    const privacy::PinsetCounts v1 = Sum(1, "b1", kDay0 + d - 1, kDay0 + d - 1);
    const privacy::PinsetCounts v2 = Sum(2, "b1", kDay0 + d - 1, kDay0 + d - 1);
    EXPECT_EQ(beta.points(d).pings(), static_cast<uint64_t>(v1.reports + v2.reports));
  }
}

TEST_F(DecoderTest, FiltersByKeysAndDimensions) {
  Decoder decoder(store_);
  v1::RatesRequest request = Request(v1::GROUP_BY_PINSET, /*per_day=*/false);
  request.add_keys("a2");
  request.add_keys("no-such-pinset");
  auto response = decoder.Rates(request);
  ASSERT_TRUE(response.ok());
  ASSERT_EQ(response->series_size(), 1);
  EXPECT_EQ(response->series(0).key(), "a2");
  const uint64_t all = response->series(0).points(0).pings();
  EXPECT_EQ(all, static_cast<uint64_t>(Sum(1, "a2", 0, 1 << 30).reports +
                                       Sum(2, "a2", 0, 1 << 30).reports));

  request.mutable_filter()->set_product("chrome");
  response = decoder.Rates(request);
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->series(0).points(0).pings(),
            static_cast<uint64_t>(Sum(1, "a2", 0, 1 << 30, "chrome").reports +
                                  Sum(2, "a2", 0, 1 << 30, "chrome").reports));
  EXPECT_LT(response->series(0).points(0).pings(), all);

  request.mutable_filter()->set_channel("beta");  // no pings on beta
  response = decoder.Rates(request);
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->series_size(), 0);
}

TEST_F(DecoderTest, RejectsBadRanges) {
  Decoder decoder(store_, DecoderOptions{/*max_range_days=*/30});
  v1::RatesRequest r = Request(v1::GROUP_BY_PINSET, true);
  r.set_from_day("2024-3-1");
  EXPECT_EQ(decoder.Rates(r).status().code(), absl::StatusCode::kInvalidArgument);
  r = Request(v1::GROUP_BY_PINSET, true);
  r.clear_to_day();
  EXPECT_EQ(decoder.Rates(r).status().code(), absl::StatusCode::kInvalidArgument);
  r.set_from_day("2024-03-10");
  r.set_to_day("2024-03-09");
  EXPECT_EQ(decoder.Rates(r).status().code(), absl::StatusCode::kInvalidArgument);
  r.set_to_day("2024-04-09");  // 31 days
  EXPECT_EQ(decoder.Rates(r).status().code(), absl::StatusCode::kInvalidArgument);
  r.set_to_day("2024-04-08");  // 30 days
  EXPECT_TRUE(decoder.Rates(r).ok());
}

// Hand-made counts on their own days, far from the simulated ones.
class DecoderCountsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = testing::OpenTempSqliteStore();
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    v1::Catalog catalog;
    catalog.set_version("cat");
    catalog.add_pinsets()->set_name("x");
    catalog.mutable_pinsets(0)->set_organization("Xorg");
    catalog.add_pinsets()->set_name("nameless-org");
    ASSERT_TRUE(store_->PutCatalog(catalog).ok());
    v1::ParamsVersion pv;
    pv.set_version(1);
    pv.set_catalog_version("cat");
    pv.mutable_params()->set_f(0);
    pv.mutable_params()->set_p(0.25);
    pv.mutable_params()->set_q(0.75);
    pv.mutable_params()->set_pinsets_per_ping(2);
    pv.mutable_params()->set_bits_per_pinset(2);
    ASSERT_TRUE(store_->PutParamsVersion(pv).ok());
  }

  void Add(uint32_t params_version, int32_t pinset, int64_t reports, int64_t checked,
           int64_t violated) {
    CountRow row;
    row.day = 20000;
    row.params_version = params_version;
    row.catalog_version = "cat";
    row.pinset = pinset;
    row.reports = reports;
    row.ones = {checked, violated, 0, 0};
    ASSERT_TRUE(store_->AddCounts({row}).ok());
  }

  v1::RatesResponse Decode(v1::GroupBy group_by) {
    Decoder decoder(store_.get());
    v1::RatesRequest r;
    r.set_from_day(FormatDay(20000));
    r.set_to_day(FormatDay(20000));
    r.set_group_by(group_by);
    auto response = decoder.Rates(r);
    EXPECT_TRUE(response.ok()) << response.status();
    return response.ok() ? *response : v1::RatesResponse();
  }

  std::unique_ptr<SqliteStore> store_;
};

TEST_F(DecoderCountsTest, NonPositiveCheckedEstimateIsInsufficient) {
  // p* = 0.25, q* = 0.75 (f = 0): C = (10 - 25) / 0.5 = -30 <= 0.
  Add(1, 0, 100, 10, 5);
  v1::RatesResponse response = Decode(v1::GROUP_BY_PINSET);
  ASSERT_EQ(response.series_size(), 1);
  const v1::RatePoint& p = response.series(0).points(0);
  EXPECT_FALSE(p.sufficient());
  EXPECT_THAT(p.insufficient_reason(), ::testing::HasSubstr("checked"));
  EXPECT_EQ(p.pings(), 100u);
  EXPECT_EQ(p.rate(), 0);
  EXPECT_EQ(p.std_error(), 0);
  EXPECT_EQ(p.params_versions_size(), 0);
}

TEST_F(DecoderCountsTest, ExactCountsGiveTheHandComputedRate) {
  // N = 1000, checked ones 600, violated ones 300: C = (600-250)/0.5 = 700,
  // V = (300-250)/0.5 = 100, R = 1/7.
  Add(1, 0, 1000, 600, 300);
  v1::RatesResponse response = Decode(v1::GROUP_BY_PINSET);
  const v1::RatePoint& p = response.series(0).points(0);
  ASSERT_TRUE(p.sufficient()) << p.insufficient_reason();
  EXPECT_NEAR(p.checked_estimate(), 700, 1e-9);
  EXPECT_NEAR(p.violated_estimate(), 100, 1e-9);
  EXPECT_NEAR(p.rate(), 1.0 / 7, 1e-12);
  EXPECT_THAT(p.params_versions(), ElementsAre(1u));
}

TEST_F(DecoderCountsTest, RowsOfUnknownParamsAreSkippedAndOrganizationlessPinsetsGrouped) {
  Add(99, 0, 1000, 600, 300);  // params version 99 was never published
  Add(1, 1, 1000, 600, 300);
  v1::RatesResponse response = Decode(v1::GROUP_BY_ORGANIZATION);
  ASSERT_EQ(response.series_size(), 1);
  EXPECT_EQ(response.series(0).key(), "(no organization)");
  EXPECT_EQ(response.series(0).points(0).pings(), 1000u);
}

}  // namespace
}  // namespace pinning::aggregator
