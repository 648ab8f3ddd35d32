#include "privacy/estimator.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"

namespace privacy {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

RateEstimate Insufficient(std::string reason, int64_t reports) {
  RateEstimate r;
  r.sufficient = false;
  r.reason = std::move(reason);
  r.reports = reports;
  return r;
}

// FillInterval sets rate, interval and SE from an unclamped ratio and its variance.
void FillRate(double ratio, double variance, RateEstimate& r) {
  r.unclamped_rate = ratio;
  r.rate = std::clamp(ratio, 0.0, 1.0);
  r.std_error = std::sqrt(std::max(variance, 0.0));
  r.ci_low = std::clamp(ratio - kZ95 * r.std_error, 0.0, 1.0);
  r.ci_high = std::clamp(ratio + kZ95 * r.std_error, 0.0, 1.0);
}

}  // namespace

BitEstimate EstimateTrueCount(int64_t ones, int64_t total, const Params& params) {
  if (total < 0 || ones < 0 || ones > total) return {kNaN, kNaN, kNaN, kNaN, kNaN};
  if (total == 0) return {};
  const double n = static_cast<double>(total);
  const double p_star = params.PStar();
  const double gap = params.QStar() - p_star;  // = (1−f)(q−p) > 0
  const double r = static_cast<double>(ones) / n;
  BitEstimate e;
  e.count = (static_cast<double>(ones) - p_star * n) / gap;
  e.variance = n * r * (1 - r) / (gap * gap);
  e.std_error = std::sqrt(e.variance);
  e.ci_low = std::clamp(e.count - kZ95 * e.std_error, 0.0, n);
  e.ci_high = std::clamp(e.count + kZ95 * e.std_error, 0.0, n);
  return e;
}

absl::Status ValidateCounts(const PinsetCounts& counts) {
  if (counts.reports < 0 || counts.checked_ones < 0 || counts.violated_ones < 0 ||
      counts.checked_ones > counts.reports || counts.violated_ones > counts.reports) {
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid counts: reports = ", counts.reports, ", checked_ones = ", counts.checked_ones,
        ", violated_ones = ", counts.violated_ones, " (need 0 <= ones <= reports)"));
  }
  return absl::OkStatus();
}

RateEstimate EstimateViolationRate(const PinsetCounts& counts, const Params& params) {
  return EstimateOrganizationRate(absl::MakeConstSpan(&counts, 1), params);
}

RateEstimate EstimateOrganizationRate(absl::Span<const PinsetCounts> pinsets,
                                      const Params& params) {
  if (pinsets.empty()) return Insufficient("no pinsets", 0);
  int64_t reports = 0;
  double violated = 0, checked = 0, var_violated = 0, var_checked = 0, covariance = 0;
  for (const PinsetCounts& counts : pinsets) {
    if (absl::Status status = ValidateCounts(counts); !status.ok()) {
      return Insufficient(std::string(status.message()), 0);
    }
    if (counts.reports == 0) continue;
    reports += counts.reports;
    const BitEstimate v = EstimateTrueCount(counts.violated_ones, counts.reports, params);
    const BitEstimate c = EstimateTrueCount(counts.checked_ones, counts.reports, params);
    const double n = static_cast<double>(counts.reports);
    const double c_frac = std::clamp(c.count / n, 0.0, 1.0);
    const double v_frac = std::clamp(v.count / n, 0.0, c_frac);
    violated += v.count;
    checked += c.count;
    var_violated += v.variance;
    var_checked += c.variance;
    covariance += n * v_frac * (1 - c_frac);
  }
  if (reports == 0) return Insufficient("no reports", 0);
  RateEstimate r;
  r.reports = reports;
  r.violated_estimate = violated;
  r.checked_estimate = checked;
  if (!(checked > 0)) {
    r.reason = "checked estimate <= 0";
    return r;
  }
  const double ratio = violated / checked;
  const double variance =
      (var_violated - 2 * ratio * covariance + ratio * ratio * var_checked) / (checked * checked);
  if (!std::isfinite(variance) || !std::isfinite(ratio)) {
    r.reason = "standard error not finite";
    return r;
  }
  FillRate(ratio, variance, r);
  r.sufficient = true;
  return r;
}

RateEstimate CombineByInverseVariance(absl::Span<const RateEstimate> estimates) {
  RateEstimate out;
  double weight_sum = 0, weighted_rates = 0, exact_sum = 0;
  int used = 0, exact = 0;
  for (const RateEstimate& e : estimates) {
    if (!e.sufficient || !std::isfinite(e.std_error) || !std::isfinite(e.unclamped_rate)) continue;
    ++used;
    out.reports += e.reports;
    out.violated_estimate += e.violated_estimate;
    out.checked_estimate += e.checked_estimate;
    if (e.std_error == 0) {
      ++exact;
      exact_sum += e.unclamped_rate;
      continue;
    }
    const double w = 1 / (e.std_error * e.std_error);
    weight_sum += w;
    weighted_rates += w * e.unclamped_rate;
  }
  if (used == 0) {
    out.reason = estimates.empty() ? "no estimates" : "no sufficient estimate";
    return out;
  }
  if (exact > 0) {
    FillRate(exact_sum / exact, 0, out);
  } else {
    FillRate(weighted_rates / weight_sum, 1 / weight_sum, out);
  }
  out.sufficient = true;
  return out;
}

absl::StatusOr<RateProjection> ProjectRateError(const Params& params, int num_pinsets,
                                                const ProjectionAssumptions& a) {
  if (absl::Status status = params.ValidateFor(num_pinsets); !status.ok()) return status;
  if (!(a.pings_per_day > 0) || !std::isfinite(a.pings_per_day)) {
    return absl::InvalidArgumentError(
        absl::StrCat("pings_per_day = ", a.pings_per_day, " is invalid: must be > 0"));
  }
  if (!(a.check_fraction > 0 && a.check_fraction <= 1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("check_fraction = ", a.check_fraction, " is invalid: must be in (0, 1]"));
  }
  if (!(a.violation_rate >= 0 && a.violation_rate <= 1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("violation_rate = ", a.violation_rate, " is invalid: must be in [0, 1]"));
  }
  if (a.org_pinsets < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("org_pinsets = ", a.org_pinsets, " is invalid: must be >= 1"));
  }
  const double n = a.pings_per_day * params.ReportedPinsets(num_pinsets) / num_pinsets;
  const double p_star = params.PStar();
  const double gap = params.QStar() - p_star;
  const double c = a.check_fraction;
  const double v = c * a.violation_rate;
  const double r_v = p_star + gap * v;
  const double r_c = p_star + gap * c;
  const double var_v = n * r_v * (1 - r_v) / (gap * gap);
  const double var_c = n * r_c * (1 - r_c) / (gap * gap);
  const double cov = n * v * (1 - c);
  const double rate = a.violation_rate;
  const double checked = n * c;
  const double variance = (var_v - 2 * rate * cov + rate * rate * var_c) / (checked * checked);
  RateProjection out;
  out.reports_per_pinset = n;
  out.pinset_std_error = std::sqrt(std::max(variance, 0.0));
  out.organization_std_error = out.pinset_std_error / std::sqrt(static_cast<double>(a.org_pinsets));
  return out;
}

}  // namespace privacy
