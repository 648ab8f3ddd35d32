// estimator.h: unbiased counts, violation rates with delta-method errors, organization rates,
// inverse-variance combination across parameter versions, and projected errors (DESIGN §4).
//
// One bit over N reports of which c are 1 (Erlingsson et al., RAPPOR, CCS 2014, §4; Wang et al.,
// "Locally differentially private protocols for frequency estimation", USENIX Security 2017, §4):
//   t = (c − p*·N) / (q* − p*)          unbiased for the number of reporters whose true bit is 1,
//   Var(t) = N·r(1−r) / (q* − p*)²      with r = c/N,
// the variance of a sum of N i.i.d. Bernoulli(r) reports scaled by 1/(q* − p*); it includes the
// sampling variance of the reporters' truths, so intervals cover the population rate.
//
// Violation rate of a pinset: R = V/C with V = t(violated bit), C = t(checked bit) over the same
// reports. Delta method (e.g. Casella and Berger, Statistical Inference, §5.5.4):
//   Var(R) ≈ (Var(V) − 2R·Cov(V, C) + R²·Var(C)) / C².
// The two reported bits of one client are randomized independently given its truth, so their
// covariance comes from the truths only: Cov(V, C) = N·(E[x_V x_C] − v c) = N·v(1−c), because
// violated implies checked (x_V x_C = x_V); v = V/N and c = C/N are plugged in, clamped to
// 0 <= v <= c <= 1.
//
// Organization rate: V and C summed over the organization's pinsets, variances and covariances
// summed too. This treats the truths of different pinsets as independent across clients; the
// randomization noise (the dominant part) is independent exactly, and only the truth-sampling part,
// at most N·v(1−v) of Var(V), would grow if one client's violations were correlated across pinsets.
// With s < K different pinsets are reported by different random subsets of pings: summing counts
// estimates Σ v_i / Σ c_i up to an O(1/N) weighting difference.
//
// Interval: R ± 1.959964·SE (95%, normal), clamped to [0, 1]; `rate` is clamped too, and
// `unclamped_rate` keeps the unbiased ratio for combining. Never divides by an estimate <= 0:
// such results are "insufficient data" with a reason.
//
// Usage:
//   RateEstimate r = EstimateViolationRate({.reports = 5000, .checked_ones = 2300,
//                                           .violated_ones = 1700}, params);
//   if (r.sufficient) Show(r.rate, r.ci_low, r.ci_high); else Show(r.reason);
#ifndef PRIVACY_ESTIMATOR_H_
#define PRIVACY_ESTIMATOR_H_

#include <cstdint>
#include <string>

#include "absl/base/attributes.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "privacy/params.h"

namespace privacy {

// The two-sided 95% standard normal quantile.
inline constexpr double kZ95 = 1.959963984540054;

// PinsetCounts are the sufficient statistics of one pinset: how many pings reported it, and how
// many of those had each reported bit set.
struct PinsetCounts {
  int64_t reports = 0;
  int64_t checked_ones = 0;
  int64_t violated_ones = 0;
};

// BitEstimate is the estimated number of reporters whose true bit is 1.
struct BitEstimate {
  double count = 0;      // t, unbiased; may be negative or exceed N
  double variance = 0;   // N r(1−r)/(q*−p*)²
  double std_error = 0;  // sqrt(variance)
  double ci_low = 0;     // t − 1.96·SE, clamped to [0, N]
  double ci_high = 0;    // t + 1.96·SE, clamped to [0, N]
};

// EstimateTrueCount returns the unbiased count for `ones` set bits among `total` reports.
// total = 0 gives an exact zero (count, variance and interval 0). Out of contract
// (total < 0, ones < 0 or ones > total): every field is NaN.
BitEstimate EstimateTrueCount(int64_t ones, int64_t total, const Params& params);

struct RateEstimate {
  bool sufficient = false;
  // Why the estimate is insufficient ("no reports", "checked estimate <= 0", ...); empty otherwise.
  std::string reason;
  double rate = 0;       // V/C clamped to [0, 1]
  double std_error = 0;  // delta-method standard error
  double ci_low = 0;     // 95% interval, clamped to [0, 1]
  double ci_high = 0;
  double violated_estimate = 0;  // V
  double checked_estimate = 0;   // C
  int64_t reports = 0;           // pinset reports used (summed over pinsets for an organization)
  double unclamped_rate = 0;     // V/C, unbiased to first order; used for combining
};

// ValidateCounts checks 0 <= ones <= reports. INVALID_ARGUMENT otherwise.
ABSL_MUST_USE_RESULT absl::Status ValidateCounts(const PinsetCounts& counts);

// EstimateViolationRate returns R = V/C for one pinset. Insufficient when the counts are invalid,
// reports = 0, C <= 0 or the standard error is not finite.
RateEstimate EstimateViolationRate(const PinsetCounts& counts, const Params& params);

// EstimateOrganizationRate returns ΣV/ΣC over an organization's pinsets (see the header comment).
// Pinsets with no reports contribute nothing; insufficient under the same rules, or when `pinsets`
// is empty or any counts are invalid.
RateEstimate EstimateOrganizationRate(absl::Span<const PinsetCounts> pinsets, const Params& params);

// CombineByInverseVariance returns Σ w_k R_k / Σ w_k with w_k = 1/SE_k² over the sufficient
// estimates (using unclamped_rate), SE = 1/sqrt(Σ w_k), the 95% interval clamped to [0, 1], and the
// sums of reports, V and C. Estimates with SE = 0 are exact: if any exist, their plain mean is
// returned with SE = 0. Insufficient when no input is sufficient.
RateEstimate CombineByInverseVariance(absl::Span<const RateEstimate> estimates);

// RateProjection is the expected standard error of a violation rate under assumed traffic.
struct RateProjection {
  double reports_per_pinset = 0;      // N·min(s,K)/K
  double pinset_std_error = 0;        // SE of one pinset's rate
  double organization_std_error = 0;  // SE of an organization's rate (org_pinsets alike pinsets)
};

// ProjectionAssumptions describe a day of traffic: N pings, each pinset checked by a fraction
// `check_fraction` of clients, of whom a fraction `violation_rate` saw a violation, and
// organizations of `org_pinsets` such pinsets with independent truths.
struct ProjectionAssumptions {
  double pings_per_day = 0;
  double check_fraction = 0.1;
  double violation_rate = 0.01;
  int org_pinsets = 4;
};

// ProjectRateError evaluates the delta-method variance at the expected counts:
// n = N·min(s,K)/K reports, v = check·rate, c = check, r_V = p* + (q*−p*)v, r_C = p* + (q*−p*)c,
// Var(V) = n r_V(1−r_V)/(q*−p*)², Var(C) likewise, Cov = n v(1−c), C = n c; an organization of g
// alike pinsets has g times every sum, so its SE is the pinset SE / sqrt(g).
// INVALID_ARGUMENT for N <= 0, check_fraction outside (0, 1], violation_rate outside [0, 1],
// org_pinsets < 1, or params invalid for K.
absl::StatusOr<RateProjection> ProjectRateError(const Params& params, int num_pinsets,
                                                const ProjectionAssumptions& assumptions);

}  // namespace privacy

#endif  // PRIVACY_ESTIMATOR_H_
