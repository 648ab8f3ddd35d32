// Statistical tests of the estimators on reports drawn from the exact reported-bit distribution
// (P(report = 1) = q* for a true 1 and p* for a true 0, independently per bit given the truth; the
// encoder is shown to produce exactly this distribution in exact_distribution_test). Clients are
// i.i.d.: each checks a pinset with probability c and, if it checked, saw a violation with
// probability R. Fixed seeds, many trials, and tolerances from the variance formulas:
//   - the mean estimate is within 3 standard errors of the mean of the truth,
//   - the 95% interval covers the truth in 93% to 97% of at least 1000 trials,
//   - the empirical SD is within 10% of the SD computed here from first principles.
#include <cmath>
#include <cstdio>
#include <vector>

#include "gtest/gtest.h"
#include "privacy/estimator.h"
#include "privacy/random_source.h"

namespace privacy {
namespace {

struct Pinset {
  double check;  // c
  double rate;   // R
};

Params MakeParams(double f, double p, double q) {
  return *ParamsBuilder().SetF(f).SetP(p).SetQ(q).SetPinsetsPerPing(1).Build();
}

bool Bernoulli(RandomSource& rng, double prob) { return rng.UniformDouble() < prob; }

// DrawCounts simulates `clients` i.i.d. clients reporting one pinset.
PinsetCounts DrawCounts(RandomSource& rng, const Params& params, const Pinset& pinset,
                        int64_t clients) {
  const double p_star = params.PStar(), q_star = params.QStar();
  PinsetCounts counts;
  counts.reports = clients;
  for (int64_t i = 0; i < clients; ++i) {
    const bool checked = Bernoulli(rng, pinset.check);
    const bool violated = checked && Bernoulli(rng, pinset.rate);
    counts.checked_ones += Bernoulli(rng, checked ? q_star : p_star);
    counts.violated_ones += Bernoulli(rng, violated ? q_star : p_star);
  }
  return counts;
}

// ExactRateSd returns the delta-method SD of V/C computed from the exact moments of one client's
// two reported bits (E[y_V y_C] summed over the three states, not the estimator's v(1−c) shortcut).
double ExactRateSd(const Params& params, const Pinset& pinset, double clients) {
  const double ps = params.PStar(), qs = params.QStar(), gap = qs - ps;
  const double c = pinset.check, v = pinset.check * pinset.rate;
  const double r_v = ps + gap * v, r_c = ps + gap * c;
  // States: not checked (1−c): bits (0,0); checked ok (c−v): (1,0); violated (v): (1,1).
  const double both = (1 - c) * ps * ps + (c - v) * qs * ps + v * qs * qs;
  const double var_v = clients * r_v * (1 - r_v) / (gap * gap);
  const double var_c = clients * r_c * (1 - r_c) / (gap * gap);
  const double cov = clients * (both - r_v * r_c) / (gap * gap);
  const double r = pinset.rate, checked = clients * c;
  return std::sqrt((var_v - 2 * r * cov + r * r * var_c) / (checked * checked));
}

struct Summary {
  double mean = 0;
  double sd = 0;
  double coverage = 0;
  double mean_reported_se = 0;
  int sufficient = 0;
};

class Accumulator {
 public:
  void Add(const RateEstimate& e, double truth) {
    if (!e.sufficient) return;
    ++n_;
    sum_ += e.unclamped_rate;
    sum_sq_ += e.unclamped_rate * e.unclamped_rate;
    covered_ += e.ci_low <= truth && truth <= e.ci_high;
    se_sum_ += e.std_error;
  }
  Summary Get() const {
    Summary s;
    s.sufficient = n_;
    s.mean = sum_ / n_;
    s.sd = std::sqrt((sum_sq_ - n_ * s.mean * s.mean) / (n_ - 1));
    s.coverage = static_cast<double>(covered_) / n_;
    s.mean_reported_se = se_sum_ / n_;
    return s;
  }

 private:
  int n_ = 0, covered_ = 0;
  double sum_ = 0, sum_sq_ = 0, se_sum_ = 0;
};

void ExpectCalibrated(const Summary& s, int trials, double truth, double formula_sd) {
  std::printf("trials=%d truth=%.5f mean=%.5f sd=%.5f formula_sd=%.5f mean_se=%.5f coverage=%.4f\n",
              trials, truth, s.mean, s.sd, formula_sd, s.mean_reported_se, s.coverage);
  EXPECT_EQ(s.sufficient, trials);
  EXPECT_NEAR(s.mean, truth, 3 * formula_sd / std::sqrt(trials)) << "bias";
  EXPECT_GE(s.coverage, 0.93);
  EXPECT_LE(s.coverage, 0.97);
  EXPECT_NEAR(s.sd / formula_sd, 1.0, 0.10) << "empirical SD " << s.sd << " vs " << formula_sd;
  EXPECT_NEAR(s.mean_reported_se / formula_sd, 1.0, 0.10);
}

TEST(EstimatorStatisticalTest, TrueCountIsUnbiasedWithFormulaVariance) {
  SeededRandomSource rng(101);
  const Params params = MakeParams(0.5, 0.25, 0.75);
  constexpr int kTrials = 2000;
  constexpr int64_t kClients = 2000;
  constexpr double kFraction = 0.3;
  const double r = params.PStar() + (params.QStar() - params.PStar()) * kFraction;
  const double formula_sd = std::sqrt(kClients * r * (1 - r)) / (params.QStar() - params.PStar());
  const double truth = kClients * kFraction;  // expected number of true ones
  double sum = 0, sum_sq = 0;
  int covered = 0;
  for (int t = 0; t < kTrials; ++t) {
    int64_t ones = 0;
    for (int64_t i = 0; i < kClients; ++i) {
      ones += Bernoulli(rng, Bernoulli(rng, kFraction) ? params.QStar() : params.PStar());
    }
    const BitEstimate e = EstimateTrueCount(ones, kClients, params);
    sum += e.count;
    sum_sq += e.count * e.count;
    covered += e.ci_low <= truth && truth <= e.ci_high;
  }
  const double mean = sum / kTrials;
  const double sd = std::sqrt((sum_sq - kTrials * mean * mean) / (kTrials - 1));
  EXPECT_NEAR(mean, truth, 3 * formula_sd / std::sqrt(kTrials));
  EXPECT_NEAR(sd / formula_sd, 1.0, 0.10);
  EXPECT_GE(covered, 0.93 * kTrials);
  EXPECT_LE(covered, 0.97 * kTrials);
}

TEST(EstimatorStatisticalTest, ViolationRateModerateNoise) {
  SeededRandomSource rng(102);
  const Params params = MakeParams(0.25, 0.25, 0.75);
  const Pinset pinset{0.4, 0.25};
  constexpr int kTrials = 2000;
  constexpr int64_t kClients = 5000;
  Accumulator acc;
  for (int t = 0; t < kTrials; ++t) {
    acc.Add(EstimateViolationRate(DrawCounts(rng, params, pinset, kClients), params), pinset.rate);
  }
  ExpectCalibrated(acc.Get(), kTrials, pinset.rate, ExactRateSd(params, pinset, kClients));
}

TEST(EstimatorStatisticalTest, ViolationRateGoogleRapporNoise) {
  SeededRandomSource rng(103);
  const Params params = MakeParams(0.5, 0.5, 0.75);
  const Pinset pinset{0.5, 0.3};
  constexpr int kTrials = 1000;
  constexpr int64_t kClients = 20000;
  Accumulator acc;
  for (int t = 0; t < kTrials; ++t) {
    acc.Add(EstimateViolationRate(DrawCounts(rng, params, pinset, kClients), params), pinset.rate);
  }
  ExpectCalibrated(acc.Get(), kTrials, pinset.rate, ExactRateSd(params, pinset, kClients));
}

TEST(EstimatorStatisticalTest, OrganizationRateWithSubsetReporting) {
  // K = 3 pinsets, each ping reports one of them uniformly (s = 1); truths independent across
  // pinsets. Truth: Σ c_i R_i / Σ c_i.
  SeededRandomSource rng(104);
  const Params params = MakeParams(0.25, 0.2, 0.8);
  const std::vector<Pinset> pinsets = {{0.5, 0.1}, {0.3, 0.3}, {0.2, 0.2}};
  double num = 0, den = 0;
  for (const Pinset& p : pinsets) {
    num += p.check * p.rate;
    den += p.check;
  }
  const double truth = num / den;
  constexpr int kTrials = 1000;
  constexpr int64_t kPings = 15000;
  Accumulator acc;
  double se_formula_sum = 0;
  for (int t = 0; t < kTrials; ++t) {
    std::vector<int64_t> per_pinset(pinsets.size(), 0);
    for (int64_t i = 0; i < kPings; ++i) ++per_pinset[rng.UniformBelow(pinsets.size())];
    std::vector<PinsetCounts> counts;
    double var_num = 0;
    for (size_t i = 0; i < pinsets.size(); ++i) {
      counts.push_back(DrawCounts(rng, params, pinsets[i], per_pinset[i]));
      // Var(V_i − truth·C_i) from pinset i's exact moments; pinsets are independent.
      const double ps = params.PStar(), qs = params.QStar(), gap = qs - ps;
      const double c = pinsets[i].check, v = c * pinsets[i].rate, n = per_pinset[i];
      const double r_v = ps + gap * v, r_c = ps + gap * c;
      const double both = (1 - c) * ps * ps + (c - v) * qs * ps + v * qs * qs;
      const double var_v = n * r_v * (1 - r_v), var_c = n * r_c * (1 - r_c);
      const double cov = n * (both - r_v * r_c);
      var_num += (var_v - 2 * truth * cov + truth * truth * var_c) / (gap * gap);
    }
    double expected_checked = 0;
    for (size_t i = 0; i < pinsets.size(); ++i)
      expected_checked += per_pinset[i] * pinsets[i].check;
    se_formula_sum += std::sqrt(var_num) / expected_checked;
    acc.Add(EstimateOrganizationRate(counts, params), truth);
  }
  ExpectCalibrated(acc.Get(), kTrials, truth, se_formula_sum / kTrials);
}

TEST(EstimatorStatisticalTest, CombinationAcrossParameterVersions) {
  SeededRandomSource rng(105);
  const Params a = MakeParams(0.25, 0.25, 0.75);
  const Params b = MakeParams(0.5, 0.5, 0.75);
  const Pinset pinset{0.4, 0.2};
  constexpr int kTrials = 1000;
  constexpr int64_t kClientsA = 4000, kClientsB = 12000;
  const double sd_a = ExactRateSd(a, pinset, kClientsA);
  const double sd_b = ExactRateSd(b, pinset, kClientsB);
  const double formula_sd = 1 / std::sqrt(1 / (sd_a * sd_a) + 1 / (sd_b * sd_b));
  Accumulator acc;
  for (int t = 0; t < kTrials; ++t) {
    const RateEstimate ea = EstimateViolationRate(DrawCounts(rng, a, pinset, kClientsA), a);
    const RateEstimate eb = EstimateViolationRate(DrawCounts(rng, b, pinset, kClientsB), b);
    acc.Add(CombineByInverseVariance({ea, eb}), pinset.rate);
  }
  ExpectCalibrated(acc.Get(), kTrials, pinset.rate, formula_sd);
}

TEST(EstimatorStatisticalTest, RatesAtZeroAndOneStayInRangeAndCover) {
  SeededRandomSource rng(106);
  const Params params = MakeParams(0.25, 0.25, 0.75);
  constexpr int kTrials = 1000;
  for (double rate : {0.0, 1.0}) {
    const Pinset pinset{0.4, rate};
    int covered = 0, sufficient = 0;
    for (int t = 0; t < kTrials; ++t) {
      const RateEstimate e = EstimateViolationRate(DrawCounts(rng, params, pinset, 5000), params);
      if (!e.sufficient) continue;
      ++sufficient;
      ASSERT_GE(e.rate, 0);
      ASSERT_LE(e.rate, 1);
      ASSERT_LE(0, e.ci_low);
      ASSERT_LE(e.ci_low, e.ci_high);
      ASSERT_LE(e.ci_high, 1);
      covered += e.ci_low <= rate && rate <= e.ci_high;
    }
    EXPECT_EQ(sufficient, kTrials);
    std::printf("rate=%.1f coverage=%.4f\n", rate, static_cast<double>(covered) / kTrials);
    // At a boundary the clamped interval covers whenever the unclamped one reaches past it:
    // nominally 97.5%.
    EXPECT_GE(covered, 0.95 * kTrials) << "rate " << rate;
    EXPECT_LE(covered, 0.99 * kTrials) << "rate " << rate;
  }
}

}  // namespace
}  // namespace privacy
