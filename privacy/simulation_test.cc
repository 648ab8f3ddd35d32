#include "privacy/simulation.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <vector>

#include "gtest/gtest.h"
#include "privacy/estimator.h"

namespace privacy {
namespace {

Params MakeParams(double f, double p, double q, int s) {
  return *ParamsBuilder().SetF(f).SetP(p).SetQ(q).SetPinsetsPerPing(s).Build();
}

bool SameCounts(const PinsetCounts& a, const PinsetCounts& b) {
  return a.reports == b.reports && a.checked_ones == b.checked_ones &&
         a.violated_ones == b.violated_ones;
}

TEST(SimulationTest, WithoutNoiseTheCountsAreTheTruth) {
  absl::StatusOr<SimulationResult> sim = SimulatePopulation({.params = MakeParams(0, 0, 1, 2),
                                                             .num_pinsets = 3,
                                                             .num_clients = 3000,
                                                             .check_fraction = {0.5, 0.2, 1.0},
                                                             .violation_rate = {0.1, 0.5, 0.0},
                                                             .seed = 1});
  ASSERT_TRUE(sim.ok()) << sim.status();
  int64_t reports = 0;
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(SameCounts(sim->counts[i], sim->truth[i])) << i;
    reports += sim->counts[i].reports;
  }
  EXPECT_EQ(reports, 2 * 3000);                                  // s = 2 pinsets per ping
  EXPECT_EQ(sim->truth[2].checked_ones, sim->truth[2].reports);  // check fraction 1
  EXPECT_EQ(sim->truth[2].violated_ones, 0);                     // violation rate 0
  // Each pinset is reported by about s/K = 2/3 of the clients (binomial SD ~ 26).
  EXPECT_NEAR(sim->counts[0].reports, 2000, 4 * std::sqrt(3000 * 2.0 / 9));
}

TEST(SimulationTest, ReproducibleFromTheSeed) {
  PopulationSpec spec = {.params = MakeParams(0.5, 0.25, 0.75, 1),
                         .num_pinsets = 4,
                         .num_clients = 500,
                         .check_fraction = {0.3},
                         .violation_rate = {0.2},
                         .seed = 9};
  absl::StatusOr<SimulationResult> a = SimulatePopulation(spec);
  absl::StatusOr<SimulationResult> b = SimulatePopulation(spec);
  spec.seed = 10;
  absl::StatusOr<SimulationResult> c = SimulatePopulation(spec);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  bool all_same = true;
  for (int i = 0; i < 4; ++i) {
    EXPECT_TRUE(SameCounts(a->counts[i], b->counts[i]));
    all_same = all_same && SameCounts(a->counts[i], c->counts[i]);
  }
  EXPECT_FALSE(all_same);
}

TEST(SimulationTest, RejectsBadSpecs) {
  const Params params = MakeParams(0.5, 0.25, 0.75, 1);
  EXPECT_FALSE(SimulatePopulation({.params = MakeParams(0.5, 0.25, 0.75, 5),
                                   .num_pinsets = 4,
                                   .num_clients = 1,
                                   .check_fraction = {0.1},
                                   .violation_rate = {0.1}})
                   .ok());
  EXPECT_FALSE(SimulatePopulation({.params = params,
                                   .num_pinsets = 4,
                                   .num_clients = -1,
                                   .check_fraction = {0.1},
                                   .violation_rate = {0.1}})
                   .ok());
  EXPECT_FALSE(SimulatePopulation({.params = params,
                                   .num_pinsets = 4,
                                   .num_clients = 1,
                                   .check_fraction = {0.1, 0.2},
                                   .violation_rate = {0.1}})
                   .ok());
  EXPECT_FALSE(SimulatePopulation({.params = params,
                                   .num_pinsets = 4,
                                   .num_clients = 1,
                                   .check_fraction = {1.5},
                                   .violation_rate = {0.1}})
                   .ok());
}

// End to end through the real encoder: K = 2 pinsets, one reported per ping, 1000 populations.
// The truth is the rate parameter; the SD formula is the delta method at the expected counts
// (ProjectRateError), itself checked from first principles in estimator_statistical_test.
TEST(SimulationTest, EncoderAndEstimatorCoverTheTruth) {
  const Params params = MakeParams(0.1, 0.15, 0.85, 1);
  constexpr int kTrials = 1000;
  constexpr int64_t kClients = 600;
  const double check = 0.5, rate = 0.3;
  const RateProjection projection = *ProjectRateError(params, 2,
                                                      {.pings_per_day = kClients,
                                                       .check_fraction = check,
                                                       .violation_rate = rate,
                                                       .org_pinsets = 2});
  double sum = 0, sum_sq = 0, org_sum = 0, org_sum_sq = 0;
  int covered = 0, org_covered = 0, sufficient = 0;
  const auto start = std::chrono::steady_clock::now();
  for (int t = 0; t < kTrials; ++t) {
    absl::StatusOr<SimulationResult> sim =
        SimulatePopulation({.params = params,
                            .num_pinsets = 2,
                            .num_clients = kClients,
                            .check_fraction = {check},
                            .violation_rate = {rate},
                            .seed = 1000 + static_cast<uint64_t>(t)});
    ASSERT_TRUE(sim.ok());
    const RateEstimate e = EstimateViolationRate(sim->counts[0], params);
    const RateEstimate org = EstimateOrganizationRate(sim->counts, params);
    if (!e.sufficient || !org.sufficient) continue;
    ++sufficient;
    sum += e.unclamped_rate;
    sum_sq += e.unclamped_rate * e.unclamped_rate;
    covered += e.ci_low <= rate && rate <= e.ci_high;
    org_sum += org.unclamped_rate;
    org_sum_sq += org.unclamped_rate * org.unclamped_rate;
    org_covered += org.ci_low <= rate && rate <= org.ci_high;
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_EQ(sufficient, kTrials);
  const double mean = sum / kTrials, sd = std::sqrt(sum_sq / kTrials - mean * mean);
  const double org_mean = org_sum / kTrials;
  const double org_sd = std::sqrt(org_sum_sq / kTrials - org_mean * org_mean);
  std::printf(
      "%d populations of %lld clients in %.1f s: pinset mean %.4f sd %.4f (formula %.4f) "
      "coverage %.3f; organization mean %.4f sd %.4f (formula %.4f) coverage %.3f\n",
      kTrials, static_cast<long long>(kClients), seconds, mean, sd, projection.pinset_std_error,
      covered / double{kTrials}, org_mean, org_sd, projection.organization_std_error,
      org_covered / double{kTrials});
  EXPECT_NEAR(mean, rate, 3 * projection.pinset_std_error / std::sqrt(kTrials));
  EXPECT_NEAR(sd / projection.pinset_std_error, 1, 0.10);
  EXPECT_GE(covered, 0.93 * kTrials);
  EXPECT_LE(covered, 0.97 * kTrials);
  EXPECT_NEAR(org_mean, rate, 3 * projection.organization_std_error / std::sqrt(kTrials));
  EXPECT_NEAR(org_sd / projection.organization_std_error, 1, 0.10);
  EXPECT_GE(org_covered, 0.93 * kTrials);
  EXPECT_LE(org_covered, 0.97 * kTrials);
}

}  // namespace
}  // namespace privacy
