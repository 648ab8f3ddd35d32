// Simulated browsers (client/sim) send pings through the real uploader to a real aggregator over
// gRPC with TLS; the decoded per-organization rates must cover the browsers' true violation rates
// at the nominal 95% rate, show the MITM spike on its day, and the pin rotation must cost no
// violations.
//
// Cells: 6 organizations × 7 days × 2 products (Chrome, Firefox partition the browsers) = 84
// (organization, day, product) intervals. The number of misses M must not exceed the upper 0.1%
// quantile of Binomial(84/DE, 0.05) scaled by the design effect DE (client/sim/coverage.h:
// one organization's days share memoized PRR bits; with f = 0.25, p = 0.25, q = 0.75 the
// correlation is at most 0.127 and DE = 1.76), i.e. coverage >= 73/84, and (vacuous below ~135
// cells) not be implausibly small. The seed is fixed, so the outcome is reproducible.
#include <algorithm>
#include <iostream>
#include <limits>
#include <memory>
#include <string>

#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "client/catalog_loader.h"
#include "client/sim/scenario.h"
#include "client/sim/simulator.h"
#include "gtest/gtest.h"
#include "tests/e2e/e2e_env.h"

namespace pinning::tests {
namespace {

constexpr int kBrowsers = 4000;
constexpr int kDays = 7;

TEST(PopulationCoverageE2eTest, IntervalsCoverTheTruthAndShowTheSpike) {
  absl::StatusOr<std::unique_ptr<AggregatorEnv>> env = AggregatorEnv::Start();
  ASSERT_TRUE(env.ok()) << env.status();
  auto transport = (*env)->Transport();
  auto admin = (*env)->Admin();
  ASSERT_TRUE(transport.ok() && admin.ok());

  // The product's default catalog, resolved against this machine's CA store, so that the
  // simulated chains end in real pinned roots.
  absl::StatusOr<client::CaStore> store = client::CaStore::Load(client::CaStore::Options());
  ASSERT_TRUE(store.ok()) << store.status();
  absl::StatusOr<client::BuiltCatalog> built =
      client::LoadDefaultCatalog("client/data", *store, client::UnresolvedPolicy::kStrict);
  ASSERT_TRUE(built.ok()) << built.status();
  const v1::Catalog& catalog = built->catalog;
  ASSERT_EQ(catalog.pinsets_size(), 6);

  client::sim::SimulatorOptions options;
  options.browsers = kBrowsers;
  options.seed = 20240601;
  options.threads = 8;
  options.use_submit_batch = true;  // a relay: fast, and Submit is covered by uploader_e2e_test
  options.cells_by_product = true;
  options.today = absl::ToCivilDay(absl::Now(), absl::UTCTimeZone());
  options.params.set_f(0.25);
  options.params.set_p(0.25);
  options.params.set_q(0.75);
  options.params.set_pinsets_per_ping(6);
  options.params.set_bits_per_pinset(2);
  options.uploader.epsilon_budget = std::numeric_limits<double>::infinity();
  absl::StatusOr<client::sim::Scenario> scenario = client::sim::DefaultScenario(catalog, kDays);
  ASSERT_TRUE(scenario.ok()) << scenario.status();
  options.scenario = *scenario;
  ASSERT_TRUE(options.scenario.spike.has_value());
  ASSERT_TRUE(options.scenario.rotation.has_value());

  absl::StatusOr<client::sim::SimReport> report =
      client::sim::RunSimulation(options, catalog, **transport, **admin);
  ASSERT_TRUE(report.ok()) << report.status();

  // Every ping arrived once.
  EXPECT_EQ(report->pings_encoded, static_cast<uint64_t>(kBrowsers * kDays));
  EXPECT_EQ(report->upload.acknowledged, static_cast<uint64_t>(kBrowsers * kDays));
  EXPECT_EQ(report->upload.duplicates, 0u);
  EXPECT_EQ(report->upload.dropped_invalid, 0u);
  EXPECT_EQ(report->days_without_params, 0u);
  // The rotation was published with an event, and the browsers moved to it.
  EXPECT_GT(report->rotated_params_version, report->params_version);
  EXPECT_EQ(report->events.size(), 1u);

  // Coverage.
  ASSERT_EQ(report->cells.size(), 6u * kDays * 2);
  EXPECT_EQ(report->insufficient, 0);
  const client::sim::CoverageCheck& coverage = report->coverage;
  std::cout << "coverage: " << coverage.covered << " of " << coverage.cells
            << " intervals cover the truth (plausible: at least " << coverage.min_plausible_covered
            << ", at most " << coverage.cells - coverage.min_plausible_missed << ")\n";
  EXPECT_NEAR(coverage.design_effect, 1 + (kDays - 1) * 0.02734375 / 0.21484375, 1e-9);
  EXPECT_FALSE(coverage.too_few_covered)
      << coverage.covered << " of " << coverage.cells << " intervals cover the truth; at least "
      << coverage.min_plausible_covered << " expected";
  EXPECT_FALSE(coverage.too_many_covered) << coverage.covered << " of " << coverage.cells;

  // The spike: on its day the spiked organization's interval excludes its base rate (0.6%), and
  // its estimate is the highest of the week.
  const std::string spike_day =
      absl::FormatCivilTime(options.today - kDays + options.scenario.spike->day);
  for (const std::string product : {"chrome", "firefox"}) {
    double spike_low = -1, spike_estimate = -1, others_estimate = 0;
    for (const client::sim::SimCell& cell : report->cells) {
      if (cell.organization != options.scenario.spike->organization || cell.product != product) {
        continue;
      }
      if (cell.day == spike_day) {
        spike_low = cell.estimate.ci_low();
        spike_estimate = cell.estimate.rate();
        EXPECT_GT(cell.true_rate, 0.25);
      } else {
        others_estimate = std::max(others_estimate, cell.estimate.rate());
        EXPECT_LT(cell.true_rate, 0.05);
      }
    }
    EXPECT_GT(spike_low, 0.05) << product;
    EXPECT_GT(spike_estimate, others_estimate) << product;
  }

  // The rotation costs no violations: the rotated organization's true rate stays at its base.
  for (const client::sim::SimCell& cell : report->cells) {
    if (cell.organization == "Dropbox") {
      EXPECT_LT(cell.true_rate, 0.03) << cell.day;
    }
  }
}

}  // namespace
}  // namespace pinning::tests
