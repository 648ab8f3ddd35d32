#include "privacy/tuner.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"
#include "privacy/epsilon.h"

namespace privacy {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// Candidate is the closed-form optimum for one s, before rounding checks.
struct Candidate {
  int s = 0;
  double a = 0;      // per-bit ε1 budget actually used
  double x_inf = 0;  // per-bit ε∞ budget
  bool prr_binds = false;
};

// MinFForBitEpsilonInf returns the smallest f with ln((2−f)/f) <= x: 2/(1+e^x); 0 for x = +inf.
double MinFForBitEpsilonInf(double x) {
  if (x == kInf) return 0;
  const double f = 2 / (1 + std::exp(x));
  // For x beyond ~745 the formula underflows to 0, whose ε∞ would be +inf; the smallest positive
  // double already gives ln(2/f) ~ 745 <= x.
  return f > 0 ? f : std::numeric_limits<double>::denorm_min();
}

absl::StatusOr<Params> Build(double f, double p, double q, int s, int bits) {
  return ParamsBuilder()
      .SetF(f)
      .SetP(p)
      .SetQ(q)
      .SetPinsetsPerPing(s)
      .SetBitsPerPinset(bits)
      .Build();
}

// Realize turns a candidate into parameters, shrinking the budgets by `slack` (relative) so that
// floating-point rounding cannot push an achieved epsilon above its target.
absl::StatusOr<Params> Realize(const Candidate& c, double slack, const TuningTargets& t) {
  const double a = c.a * (1 - slack);
  const double x_inf = c.x_inf == kInf ? kInf : c.x_inf * (1 - slack);
  // Symmetric randomized response in (p*, q*).
  const double big_p = 1 / (1 + std::exp(a));   // 1/(1+A)
  const double big_q = 1 / (1 + std::exp(-a));  // A/(1+A)
  double f, p, q;
  if (c.prr_binds || t.f_choice == FChoice::kLeastEpsilonInf) {
    // P = f/2 exactly: all noise in the PRR, identity IRR.
    f = c.prr_binds ? MinFForBitEpsilonInf(x_inf) : 2 * big_p;
    p = 0;
    q = 1;
  } else {
    f = MinFForBitEpsilonInf(x_inf);
    const double spread = f / (2 * (1 - f)) * (big_q - big_p);  // c·(Q−P)
    // Symmetric: q = 1 − p.
    p = std::max(0.0, big_p - spread);
    q = std::min(1.0, big_q + spread);
  }
  return Build(f, p, q, c.s, t.bits_per_pinset);
}

}  // namespace

double Objective(const Params& params, int num_pinsets) {
  const int s = params.ReportedPinsets(num_pinsets);
  const double p_star = params.PStar();
  const double gap = params.QStar() - p_star;
  return static_cast<double>(num_pinsets) / s * p_star * (1 - p_star) / (gap * gap);
}

Evaluation Evaluate(const Params& params, const TuningTargets& targets) {
  Evaluation e;
  e.objective = Objective(params, targets.num_pinsets);
  e.epsilon_one = params.EpsilonOne(targets.num_pinsets);
  e.epsilon_inf = params.EpsilonInf(targets.num_pinsets);
  e.meets_targets = params.ValidateFor(targets.num_pinsets).ok() &&
                    e.epsilon_one <= targets.epsilon_one && e.epsilon_inf <= targets.epsilon_inf;
  return e;
}

std::optional<int> LargestFittingSubset(double f, double p, double q,
                                        const TuningTargets& targets) {
  for (int s = targets.num_pinsets; s >= 1; --s) {
    absl::StatusOr<Params> params = Build(f, p, q, s, targets.bits_per_pinset);
    if (!params.ok()) return std::nullopt;
    if (Evaluate(*params, targets).meets_targets) return s;
  }
  return std::nullopt;
}

absl::StatusOr<TunedParams> TuneParams(const TuningTargets& t) {
  if (!(t.epsilon_one > 0) || !std::isfinite(t.epsilon_one)) {
    return absl::InvalidArgumentError(absl::StrCat("epsilon_one target = ", t.epsilon_one,
                                                   " is invalid: must be finite and > 0"));
  }
  if (!(t.epsilon_inf > 0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("epsilon_inf target = ", t.epsilon_inf, " is invalid: must be > 0 (or +inf)"));
  }
  if (t.num_pinsets < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("num_pinsets = ", t.num_pinsets, " is invalid: must be >= 1"));
  }
  if (t.bits_per_pinset < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("bits_per_pinset = ", t.bits_per_pinset, " is invalid: must be >= 1"));
  }
  if (t.max_pinsets_per_ping < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "max_pinsets_per_ping = ", t.max_pinsets_per_ping, " is invalid: must be >= 0"));
  }
  const int k = t.num_pinsets;
  const int s_max = t.max_pinsets_per_ping == 0 ? k : std::min(k, t.max_pinsets_per_ping);
  const double b = t.bits_per_pinset;
  const double x_inf = t.epsilon_inf == kInf ? kInf : t.epsilon_inf / (b * k);

  Candidate best;
  double best_j = kInf;
  for (int s = 1; s <= s_max; ++s) {
    const double a_one = t.epsilon_one / (b * s);
    const double a = std::min(a_one, x_inf);
    const double sh = std::sinh(a / 2);
    const double j = static_cast<double>(k) / s / (4 * sh * sh);
    if (j < best_j) {
      best_j = j;
      best = {s, a, x_inf, x_inf <= a_one};
    }
  }

  // Usually slack 0 works; extreme targets (q* within ~1e-11 of 1) need up to ~1e-6, the precision
  // with which a double q near 1 can express 1 − q.
  for (double slack = 0; slack <= 1e-3; slack = slack == 0 ? 1e-15 : slack * 10) {
    absl::StatusOr<Params> params = Realize(best, slack, t);
    if (!params.ok()) return params.status();
    const Evaluation e = Evaluate(*params, t);
    if (e.meets_targets) return TunedParams{*params, e.objective, e.epsilon_one, e.epsilon_inf};
  }
  return absl::InternalError(
      absl::StrCat("tuner could not meet the targets within rounding for s = ", best.s));
}

}  // namespace privacy
