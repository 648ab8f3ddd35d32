// tuner.h: chooses (f, p, q, s) that minimize the variance of rare-violation estimates subject to
// whole-ping epsilon targets (DESIGN §4).
//
// Objective (per-ping variance factor of a rare bit): with N pings a day, each pinset is reported
// by n = N·s/K of them, and a bit whose true fraction is near 0 has Var(t/n) =
// p*(1−p*)/(n(q*−p*)²), so
//   J(f, p, q, s) = (K/s) · p*(1−p*) / (q*−p*)²,       Var(rare rate) ≈ J / (N·c²),
// c being the pinset's check fraction. Constraints, with b bits per pinset:
//   ε1 = b·s·ε1_bit(p*, q*) <= E1,     ε∞ = b·K·ε∞_bit(f) <= E∞.
//
// Exact solution (derivation in docs/privacy.md): J and the ε1 constraint depend on (P, Q) =
// (p*, q*) only. A pair (P, Q) is reachable from some p, q in [0, 1] with a given f iff
// max(Q/P, (1−P)/(1−Q)) <= (2−f)/f = e^{ε∞_bit(f)}, because p = P − c(Q−P) and q = Q + c(Q−P)
// with c = f/(2(1−f)). Smaller f only enlarges that set, so f = f_min = 2/(1 + e^{E∞/(bK)}) is
// optimal, and for each s the problem is: minimize P(1−P)/(Q−P)² subject to
// max(ln(Q/P), ln((1−P)/(1−Q))) <= a_s = min(E1/(b·s), E∞/(b·K)). Its minimum is the symmetric
// point P = 1/(1+A), Q = A/(1+A), A = e^{a_s}, with value A/(A−1)² = 1/(4 sinh²(a_s/2)). The tuner
// evaluates J_s = (K/s)/(4 sinh²(a_s/2)) for every s and keeps the smallest, so the result is the
// global optimum, not a grid point.
//
// Among optima with the ε1 constraint binding, any f in [f_min, 2/(1+A)] gives the same J; by
// default the tuner keeps f = f_min, which leaves the most IRR noise (what makes a client's daily
// pings unlinkable; RAPPOR §3); FChoice::kLeastEpsilonInf picks the largest f instead (p = 0, q =
// 1, smallest ε∞). When the ε∞ target binds (a_s = E∞/(bK)) the optimum has p = 0 and q = 1: the
// whole budget goes to the PRR, the reports of one client repeat from day to day, and only the PRR
// protects it; docs/privacy.md discusses this trade-off.
//
// Usage:
//   absl::StatusOr<TunedParams> tuned =
//       TuneParams({.epsilon_one = 2, .epsilon_inf = 8, .num_pinsets = 16});
//   if (tuned.ok()) Publish(tuned->params);  // tuned->objective, ->epsilon_one, ->epsilon_inf
#ifndef PRIVACY_TUNER_H_
#define PRIVACY_TUNER_H_

#include <optional>

#include "absl/status/statusor.h"
#include "privacy/params.h"

namespace privacy {

// FChoice breaks ties between equally good f (see the header comment).
enum class FChoice {
  kMostIrrNoise,     // f = f_min: ε∞ at its target, the noisiest IRR
  kLeastEpsilonInf,  // the largest f with the same J: smallest ε∞, IRR p = 0, q = 1
};

struct TuningTargets {
  // Whole-ping ε1 target (one ping), finite and > 0.
  double epsilon_one = 0;
  // Whole-ping ε∞ target (unlimited pings of the same truth), > 0; +infinity allows f = 0.
  double epsilon_inf = 0;
  // K >= 1.
  int num_pinsets = 0;
  int bits_per_pinset = kDefaultBitsPerPinset;
  // Upper bound on s (e.g. for ping size); 0 means K.
  int max_pinsets_per_ping = 0;
  FChoice f_choice = FChoice::kMostIrrNoise;
};

struct TunedParams {
  Params params;
  double objective = 0;    // J of `params`
  double epsilon_one = 0;  // achieved whole-ping ε1 (<= target)
  double epsilon_inf = 0;  // achieved whole-ping ε∞ (<= target)
};

// TuneParams returns the optimal parameters. INVALID_ARGUMENT for targets that are not finite and
// positive (ε∞ may be +infinity), K < 1, bits < 1 or a negative max_pinsets_per_ping.
absl::StatusOr<TunedParams> TuneParams(const TuningTargets& targets);

// Objective returns J = (K/s')·p*(1−p*)/(q*−p*)² with s' = min(s, K).
double Objective(const Params& params, int num_pinsets);

// Evaluation describes fixed parameters against targets.
struct Evaluation {
  double objective = 0;
  double epsilon_one = 0;
  double epsilon_inf = 0;
  bool meets_targets = false;
};

// Evaluate returns J and the whole-ping epsilons of `params` for K = targets.num_pinsets and
// whether both are within the targets.
Evaluation Evaluate(const Params& params, const TuningTargets& targets);

// LargestFittingSubset returns the largest s (<= K) for which (f, p, q) with that s meets both
// targets (ε∞ does not depend on s, ε1 grows with it), or nullopt when none does.
std::optional<int> LargestFittingSubset(double f, double p, double q, const TuningTargets& targets);

}  // namespace privacy

#endif  // PRIVACY_TUNER_H_
