#include "client/sim/coverage.h"

#include <algorithm>
#include <cmath>

namespace pinning::client::sim {

double BinomialCdf(int64_t k, int64_t n, double p) {
  if (k < 0) return 0;
  if (k >= n) return 1;
  if (p <= 0) return 1;
  if (p >= 1) return 0;
  // Sum of the probability mass in log space: log C(n,i) + i log p + (n−i) log(1−p).
  const double log_p = std::log(p), log_q = std::log1p(-p);
  const double log_n_fact = std::lgamma(static_cast<double>(n) + 1);
  double sum = 0;
  for (int64_t i = 0; i <= k; ++i) {
    const double di = static_cast<double>(i);
    sum += std::exp(log_n_fact - std::lgamma(di + 1) - std::lgamma(static_cast<double>(n - i) + 1) +
                    di * log_p + static_cast<double>(n - i) * log_q);
  }
  return std::min(sum, 1.0);
}

int64_t BinomialUpperQuantile(int64_t n, double p, double tail) {
  for (int64_t j = 0; j < n; ++j) {
    if (BinomialCdf(j, n, p) >= 1 - tail) return j;
  }
  return n;
}

int64_t BinomialLowerQuantile(int64_t n, double p, double tail) {
  for (int64_t j = 0; j < n; ++j) {
    if (BinomialCdf(j, n, p) > tail) return j;
  }
  return n;
}

double PrrCorrelation(const privacy::Params& params, int num_pinsets) {
  const double f = params.f(), gap = params.q() - params.p();
  const double prr_variance = gap * gap * (f / 2) * (1 - f / 2);
  double share = 0;
  for (double r : {params.PStar(), params.QStar()}) {
    const double variance = r * (1 - r);
    share = std::max(share, variance > 0 ? prr_variance / variance : 1.0);
  }
  const double reported_again =
      static_cast<double>(params.ReportedPinsets(num_pinsets)) / std::max(num_pinsets, 1);
  return std::clamp(reported_again * share, 0.0, 1.0);
}

double DesignEffect(const privacy::Params& params, int num_pinsets, int days) {
  return 1 + std::max(days - 1, 0) * PrrCorrelation(params, num_pinsets);
}

CoverageCheck CheckCoverage(int64_t cells, int64_t covered, double design_effect) {
  CoverageCheck check;
  check.cells = cells;
  check.covered = covered;
  check.missed = cells - covered;
  check.design_effect = std::max(design_effect, 1.0);
  const double miss = 1 - kNominalCoverage;
  const int64_t effective =
      static_cast<int64_t>(std::ceil(static_cast<double>(cells) / check.design_effect));
  check.max_plausible_missed = std::min<int64_t>(
      cells, static_cast<int64_t>(std::floor(
                 static_cast<double>(BinomialUpperQuantile(effective, miss, kImplausibleTail)) *
                 check.design_effect)));
  check.min_plausible_missed = static_cast<int64_t>(
      std::ceil(static_cast<double>(BinomialLowerQuantile(effective, miss, kImplausibleTail)) /
                check.design_effect));
  check.min_plausible_covered = cells - check.max_plausible_missed;
  check.too_few_covered = check.missed > check.max_plausible_missed;
  check.too_many_covered = check.missed < check.min_plausible_missed;
  return check;
}

}  // namespace pinning::client::sim
