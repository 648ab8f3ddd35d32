// End-to-end checks of the spike rule on decoded data: a synthetic population (known rates, real
// privacy encoder) is counted into a SQLite store, decoded by the Decoder, and searched for spikes.
#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "aggregator/alerts/spike_detector.h"
#include "aggregator/alerts/testing/synthetic_population.h"
#include "aggregator/decode/decoder.h"
#include "aggregator/storage/sqlite_store.h"
#include "gtest/gtest.h"

namespace pinning::aggregator {
namespace {

using testing::DefaultOrganizations;
using testing::PopulationSpec;
using testing::SyntheticPopulation;

constexpr DayNumber kFirstDay = 19700;  // 2023-12-08

// Parameters for the scenarios: f = 0.1, p = 0.1, q = 0.9, each ping reports 16 of the 67
// pinsets (so a client reveals 32 randomized bits a day).
v1::RandomizationParams ScenarioParams() {
  v1::RandomizationParams params;
  params.set_f(0.1);
  params.set_p(0.1);
  params.set_q(0.9);
  params.set_pinsets_per_ping(16);
  params.set_bits_per_pinset(2);
  return params;
}

class SpikeScenarioTest : public ::testing::Test {
 protected:
  // Fills a fresh store with `days` days of `population` and returns a decoder over it.
  void Fill(SyntheticPopulation& population, int days) {
    SqliteStoreOptions options;
    options.path =
        absl::StrCat(::testing::TempDir(), "/",
                     ::testing::UnitTest::GetInstance()->current_test_info()->name(), ".db");
    std::remove(options.path.c_str());
    absl::StatusOr<std::unique_ptr<SqliteStore>> store = SqliteStore::Open(options);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    ASSERT_TRUE(store_->PutCatalog(population.catalog()).ok());
    v1::ParamsVersion version;
    version.set_version(population.spec().params_version);
    *version.mutable_params() = population.params();
    version.set_catalog_version(population.catalog().version());
    ASSERT_TRUE(store_->PutParamsVersion(version).ok());
    for (DayNumber day = kFirstDay; day < kFirstDay + days; ++day) {
      absl::StatusOr<std::vector<CountRow>> rows = population.CountDay(day);
      ASSERT_TRUE(rows.ok()) << rows.status();
      ASSERT_TRUE(store_->AddCounts(*rows).ok());
    }
    decoder_ = std::make_unique<Decoder>(store_.get());
  }

  RatesFn Rates() {
    return [this](const v1::RatesRequest& request) { return decoder_->Rates(request); };
  }

  std::unique_ptr<SqliteStore> store_;
  std::unique_ptr<Decoder> decoder_;
};

// A MITM incident: one organization's violation rate jumps from 1% to 25% for one day. The
// default rule raises exactly one alert: that organization, that day.
TEST_F(SpikeScenarioTest, MitmSpikeAlertsOnTheRightDayAndOrganization) {
  PopulationSpec spec;
  spec.organizations = DefaultOrganizations(50);
  spec.params = ScenarioParams();
  spec.clients = 3000;
  spec.seed = 11;
  const std::string victim = spec.organizations[20].name;  // "Umbra Security"
  spec.organizations[20].violation_rate = 0.01;
  const DayNumber spike_day = kFirstDay + 14;
  spec.spikes.push_back({.organization = victim, .day = spike_day, .violation_rate = 0.25});
  absl::StatusOr<std::unique_ptr<SyntheticPopulation>> population =
      SyntheticPopulation::Create(spec);
  ASSERT_TRUE(population.ok()) << population.status();
  Fill(**population, 21);

  const SpikeRuleOptions rule;  // z = 4, baseline 7 days
  absl::StatusOr<std::vector<v1::Alert>> alerts =
      DetectSpikes(Rates(), kFirstDay + rule.baseline_days, kFirstDay + 20, rule);
  ASSERT_TRUE(alerts.ok()) << alerts.status();
  ASSERT_EQ(alerts->size(), 1u) << (alerts->empty() ? "" : (*alerts)[0].message());
  const v1::Alert& alert = (*alerts)[0];
  EXPECT_EQ(alert.organization(), victim);
  EXPECT_EQ(alert.day(), FormatDay(spike_day));
  // The decoded rate covers the true 25%, and the baseline covers the true 1%.
  EXPECT_LT(alert.low(), 0.25);
  EXPECT_GT(alert.high(), 0.25);
  EXPECT_LT(alert.baseline_low(), 0.01);
  EXPECT_GT(alert.baseline_high(), 0.01);
  EXPECT_EQ(alert.baseline_from_day(), FormatDay(spike_day - 7));
}

// A quiet population over a simulated year: 365 days x 50 organizations, constant rates. The rule
// implies a false-alarm probability per organization-day of 1 − Φ(z·(1+ρ)/sqrt(1+ρ²)) with
// ρ = 1/sqrt(7) for equal daily volumes: 1.3e-7 for z = 4, i.e. 0.002 expected false alarms over
// the 50·(365−7) = 17,900 evaluated organization-days, so the default rule must raise none.
// So that this cannot pass vacuously (e.g. if the estimates were never sufficient), the same
// decoded data is searched with an over-sensitive z = 1, for which the formula predicts 17,900 ·
// 0.0986 ≈ 1,765 false alarms; the observed count must agree within a factor of 1.5 (the memoized
// PRR makes a client's reports on different days positively correlated, which lowers the count
// somewhat; a wrong variance would change it by far more).
TEST_F(SpikeScenarioTest, QuietYearRaisesNoAlert) {
  PopulationSpec spec;
  spec.organizations = DefaultOrganizations(50);
  // Pinsets checked by 60% to 90% of clients a day keep each day's checked estimate C at more than
  // 13 standard errors from 0, so the ratio V/C is close to normal (as the false-alarm formula
  // assumes) with only ~240 reports per pinset and day, which keeps the simulated year affordable.
  for (size_t i = 0; i < spec.organizations.size(); ++i) {
    spec.organizations[i].check_fraction = 0.6 + 0.1 * static_cast<double>(i % 4);
  }
  spec.params = ScenarioParams();
  spec.clients = 1000;
  spec.seed = 2024;
  absl::StatusOr<std::unique_ptr<SyntheticPopulation>> population =
      SyntheticPopulation::Create(spec);
  ASSERT_TRUE(population.ok()) << population.status();
  Fill(**population, 365);

  const SpikeRuleOptions rule;
  const DayNumber first = kFirstDay + rule.baseline_days;
  const DayNumber last = kFirstDay + 364;
  const int evaluated = 50 * (last - first + 1);
  const double expected =
      evaluated * FalseAlarmProbability(rule.z, 1 / std::sqrt(rule.baseline_days));
  EXPECT_LT(expected, 0.01);

  absl::StatusOr<std::vector<v1::Alert>> alerts = DetectSpikes(Rates(), first, last, rule);
  ASSERT_TRUE(alerts.ok()) << alerts.status();
  EXPECT_EQ(alerts->size(), 0u) << (alerts->empty() ? "" : (*alerts)[0].message());

  SpikeRuleOptions sensitive = rule;
  sensitive.z = 1.0;
  const double expected_sensitive =
      evaluated * FalseAlarmProbability(sensitive.z, 1 / std::sqrt(sensitive.baseline_days));
  absl::StatusOr<std::vector<v1::Alert>> noisy = DetectSpikes(Rates(), first, last, sensitive);
  ASSERT_TRUE(noisy.ok()) << noisy.status();
  EXPECT_GT(static_cast<double>(noisy->size()), expected_sensitive / 1.5);
  EXPECT_LT(static_cast<double>(noisy->size()), expected_sensitive * 1.5);
  std::cout << "quiet year: " << evaluated << " organization-days; default rule: " << alerts->size()
            << " alerts (expected " << expected << "); z=1: " << noisy->size() << " (expected "
            << expected_sensitive << ")\n";
}

}  // namespace
}  // namespace pinning::aggregator
