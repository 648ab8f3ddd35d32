// coverage.h: is the number of confidence intervals that cover the truth plausible?
//
// Each simulated (organization, day) cell has a 95% interval; if the intervals are right, the
// number of cells whose interval misses the truth, M, is about Binomial(n, 0.05). The simulator
// fails when M is implausibly large: above the upper 0.1% quantile of that binomial (equivalently,
// the coverage is below the binomial lower 0.1% quantile). The check also reports when M is
// implausibly small (intervals far too wide), which needs more than ~135 cells to be possible.
//
// Dependence between cells. Cells of different organizations depend on different bits, whose
// PRR and IRR draws are independent. Cells of one organization on different days are not quite
// independent: a client whose truth is unchanged repeats its memoized PRR bit (DESIGN §4), so two
// days' estimates share that part of the noise. Their correlation is at most
//   ρ = (min(s,K)/K) · max_r (q−p)²·(f/2)(1−f/2) / (r(1−r)),  r ∈ {p*, q*},
// the fraction of clients who report the pinset again (s/K) times the share of a reported bit's
// variance that comes from the PRR (Var(report) = (q−p)²·Var(PRR bit) + E[Var(IRR)]). With D days
// per organization the count M then has a variance at most DE = 1 + (D−1)ρ times the binomial
// one (the "design effect" of cluster sampling, Kish, Survey Sampling, 1965, §5.4), so the
// bounds are computed for n/DE cells and scaled back by DE. This is conservative: the correlation
// of coverage indicators is smaller than that of the estimates.
//
//   CoverageCheck check = CheckCoverage(/*cells=*/42, /*covered=*/40, DesignEffect(params, 6, 7));
//   if (!check.plausible) return 1;
#ifndef CLIENT_SIM_COVERAGE_H_
#define CLIENT_SIM_COVERAGE_H_

#include <cstdint>

#include "privacy/params.h"

namespace pinning::client::sim {

// The nominal coverage of the intervals and the tail probability of the check.
inline constexpr double kNominalCoverage = 0.95;
inline constexpr double kImplausibleTail = 0.001;

// BinomialCdf returns P(X <= k) for X ~ Binomial(n, p) (0 for k < 0, 1 for k >= n).
double BinomialCdf(int64_t k, int64_t n, double p);

// BinomialUpperQuantile returns the smallest j with P(X <= j) >= 1 − tail.
int64_t BinomialUpperQuantile(int64_t n, double p, double tail);

// BinomialLowerQuantile returns the smallest j with P(X <= j) > tail: a count below it has
// probability at most `tail`.
int64_t BinomialLowerQuantile(int64_t n, double p, double tail);

// PrrCorrelation returns ρ of the file comment for `params` and K pinsets.
double PrrCorrelation(const privacy::Params& params, int num_pinsets);

// DesignEffect returns 1 + (days − 1)·ρ.
double DesignEffect(const privacy::Params& params, int num_pinsets, int days);

struct CoverageCheck {
  int64_t cells = 0;
  int64_t covered = 0;
  int64_t missed = 0;
  double design_effect = 1;
  // Misses above `max_plausible_missed` are implausible (intervals too narrow or biased);
  // misses below `min_plausible_missed` are implausible too (intervals far too wide).
  int64_t max_plausible_missed = 0;
  int64_t min_plausible_missed = 0;
  // The coverage bound the first corresponds to: cells − max_plausible_missed.
  int64_t min_plausible_covered = 0;
  bool too_few_covered = false;
  bool too_many_covered = false;
};

// CheckCoverage evaluates `covered` of `cells` intervals (see the file comment).
CoverageCheck CheckCoverage(int64_t cells, int64_t covered, double design_effect = 1.0);

}  // namespace pinning::client::sim

#endif  // CLIENT_SIM_COVERAGE_H_
