#include "aggregator/alerts/testing/synthetic_population.h"

#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "privacy/estimator.h"
#include "privacy/params.h"

namespace pinning::aggregator::testing {
namespace {

constexpr DayNumber kDay0 = 19800;

privacy::Params ToPrivacy(const v1::RandomizationParams& p) {
  return *privacy::ParamsBuilder()
              .SetF(p.f())
              .SetP(p.p())
              .SetQ(p.q())
              .SetPinsetsPerPing(static_cast<int>(p.pinsets_per_ping()))
              .SetBitsPerPinset(static_cast<int>(p.bits_per_pinset()))
              .Build();
}

TEST(SyntheticPopulationTest, CatalogHasEveryOrganizationAndAVersion) {
  PopulationSpec spec;
  spec.organizations = DefaultOrganizations(5);
  spec.clients = 3;
  spec.params = DefaultParams();
  auto population = SyntheticPopulation::Create(spec);
  ASSERT_TRUE(population.ok()) << population.status();
  const v1::Catalog& catalog = (*population)->catalog();
  EXPECT_EQ(catalog.version().size(), 64u);
  // Organizations 0 and 3 have two pinsets (i % 3 == 0), the others one: 7 pinsets.
  ASSERT_EQ(catalog.pinsets_size(), 7);
  EXPECT_EQ(catalog.pinsets(0).name(), "acorn-bank");
  EXPECT_EQ(catalog.pinsets(1).name(), "acorn-bank-2");
  EXPECT_EQ(catalog.pinsets(1).organization(), "Acorn Bank");
  for (int i = 0; i < catalog.pinsets_size(); ++i) EXPECT_EQ(catalog.pinsets(i).index(), i);
  EXPECT_EQ((*population)->params().pinsets_per_ping(), 7u);
}

TEST(SyntheticPopulationTest, RejectsBadSpecs) {
  PopulationSpec spec;
  spec.params = DefaultParams();
  EXPECT_EQ(SyntheticPopulation::Create(spec).status().code(),
            absl::StatusCode::kInvalidArgument);  // no organizations
  spec.organizations = DefaultOrganizations(2);
  spec.spikes.push_back({.organization = "Nobody", .day = kDay0, .violation_rate = 0.5});
  EXPECT_EQ(SyntheticPopulation::Create(spec).status().code(), absl::StatusCode::kInvalidArgument);
  spec.spikes.clear();
  spec.organizations[0].check_fraction = 0;
  EXPECT_EQ(SyntheticPopulation::Create(spec).status().code(), absl::StatusCode::kInvalidArgument);
  spec.organizations[0].check_fraction = 0.5;
  spec.params.set_q(0.1);  // q < p
  EXPECT_EQ(SyntheticPopulation::Create(spec).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(SyntheticPopulationTest, TrueRateFollowsChangesAndSpikes) {
  PopulationSpec spec;
  spec.organizations = DefaultOrganizations(2);
  spec.organizations[0].violation_rate = 0.02;
  spec.params = DefaultParams();
  spec.clients = 1;
  spec.changes.push_back({.organization = "Acorn Bank", .day = kDay0 + 10, .violation_rate = 0.01});
  spec.changes.push_back(
      {.organization = "Acorn Bank", .day = kDay0 + 20, .violation_rate = 0.005});
  spec.spikes.push_back({.organization = "Acorn Bank", .day = kDay0 + 15, .violation_rate = 0.4});
  auto population = SyntheticPopulation::Create(spec);
  ASSERT_TRUE(population.ok()) << population.status();
  EXPECT_DOUBLE_EQ((*population)->TrueRate("Acorn Bank", kDay0), 0.02);
  EXPECT_DOUBLE_EQ((*population)->TrueRate("Acorn Bank", kDay0 + 10), 0.01);
  EXPECT_DOUBLE_EQ((*population)->TrueRate("Acorn Bank", kDay0 + 15), 0.4);
  EXPECT_DOUBLE_EQ((*population)->TrueRate("Acorn Bank", kDay0 + 16), 0.01);
  EXPECT_DOUBLE_EQ((*population)->TrueRate("Acorn Bank", kDay0 + 25), 0.005);
  EXPECT_DOUBLE_EQ((*population)->TrueRate("Nobody", kDay0), -1);
}

// ForEachPing and CountDay draw the same pings for the same seed: counting the pings by hand
// gives CountDay's rows.
TEST(SyntheticPopulationTest, CountDayMatchesThePings) {
  PopulationSpec spec;
  spec.organizations = DefaultOrganizations(4);
  spec.params = DefaultParams();
  spec.params.set_pinsets_per_ping(2);
  spec.clients = 200;
  spec.dimensions.resize(2);
  spec.dimensions[0].set_product("chrome");
  spec.dimensions[1].set_product("firefox");
  auto a = SyntheticPopulation::Create(spec);
  auto b = SyntheticPopulation::Create(spec);
  ASSERT_TRUE(a.ok() && b.ok());
  std::map<std::pair<std::string, int>, std::array<int64_t, 3>> by_hand;  // reports, ones0, ones1
  int pings = 0;
  ASSERT_TRUE(
      (*a)->ForEachPing(
              kDay0,
              [&](const v1::Ping& ping) {
                ++pings;
                EXPECT_EQ(ping.ping_id().size(), 16u);
                EXPECT_EQ(ping.day(), FormatDay(kDay0));
                ASSERT_EQ(ping.pinset_indices_size(), 2);
                ++by_hand[{ping.dimensions().product(), -1}][0];
                for (int pos = 0; pos < 2; ++pos) {
                  auto& cell = by_hand[{ping.dimensions().product(), ping.pinset_indices(pos)}];
                  ++cell[0];
                  for (int k = 0; k < 2; ++k) {
                    const int j = pos * 2 + k;
                    if ((static_cast<uint8_t>(ping.bits()[j / 8]) >> (j % 8)) & 1) ++cell[1 + k];
                  }
                }
              })
          .ok());
  EXPECT_EQ(pings, 200);
  auto rows = (*b)->CountDay(kDay0);
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->size(), by_hand.size());
  for (const CountRow& row : *rows) {
    auto it = by_hand.find({std::string(row.product), row.pinset});
    ASSERT_NE(it, by_hand.end());
    EXPECT_EQ(row.reports, it->second[0]);
    EXPECT_EQ(row.ones[0], it->second[1]);
    EXPECT_EQ(row.ones[1], it->second[2]);
    EXPECT_EQ(row.day, kDay0);
  }
}

// The decoded organization rates cover the known truth at about the nominal 95%: over
// 25 organizations x 12 days = 300 intervals, misses ~ Binomial(300, 0.05) (mean 15, sd 3.8)
// if days were independent; persistent clients correlate days, so the band is wide: 3..40.
// The mean standardized error must be near 0 (|mean| < 0.35, about 6 sd of an independent mean).
TEST(SyntheticPopulationTest, DecodedRatesCoverTheTruth) {
  PopulationSpec spec;
  spec.organizations = DefaultOrganizations(25);
  spec.params = DefaultParams();
  spec.clients = 1500;
  spec.seed = 7;
  auto population = SyntheticPopulation::Create(spec);
  ASSERT_TRUE(population.ok()) << population.status();
  const privacy::Params params = ToPrivacy((*population)->params());
  const v1::Catalog& catalog = (*population)->catalog();
  int intervals = 0;
  int misses = 0;
  double z_sum = 0;
  for (DayNumber day = kDay0; day < kDay0 + 12; ++day) {
    auto rows = (*population)->CountDay(day);
    ASSERT_TRUE(rows.ok());
    std::map<std::string, std::vector<privacy::PinsetCounts>> by_org;
    for (const CountRow& row : *rows) {
      if (row.pinset < 0) {
        EXPECT_EQ(row.reports, 1500);
        continue;
      }
      by_org[catalog.pinsets(row.pinset).organization()].push_back(
          {.reports = row.reports, .checked_ones = row.ones[0], .violated_ones = row.ones[1]});
    }
    ASSERT_EQ(by_org.size(), 25u);
    for (const auto& [org, counts] : by_org) {
      privacy::RateEstimate estimate = privacy::EstimateOrganizationRate(counts, params);
      ASSERT_TRUE(estimate.sufficient) << org << " " << estimate.reason;
      const double truth = (*population)->TrueRate(org, day);
      ++intervals;
      if (truth < estimate.ci_low || truth > estimate.ci_high) ++misses;
      z_sum += (estimate.unclamped_rate - truth) / estimate.std_error;
    }
  }
  EXPECT_EQ(intervals, 300);
  EXPECT_GE(misses, 3);
  EXPECT_LE(misses, 40);
  EXPECT_LT(std::abs(z_sum / intervals), 0.35);
}

}  // namespace
}  // namespace pinning::aggregator::testing
