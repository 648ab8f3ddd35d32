#include "privacy/epsilon.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace privacy {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

bool InDomain(double f, double p, double q) {
  return std::isfinite(f) && std::isfinite(p) && std::isfinite(q) && f >= 0 && f < 1 && p >= 0 &&
         p < q && q <= 1;
}

// LogRatio returns ln(a/b) for probabilities a, b >= 0 with a > 0; +infinity when b = 0.
double LogRatio(double a, double b) {
  if (b == 0) return kInf;
  return std::log(a / b);
}

}  // namespace

double ReportedOneProbability(double f, double p, double q, bool true_bit) {
  if (!InDomain(f, p, q)) return kNaN;
  return 0.5 * f * (p + q) + (1 - f) * (true_bit ? q : p);
}

double ReportedZeroProbability(double f, double p, double q, bool true_bit) {
  if (!InDomain(f, p, q)) return kNaN;
  return 0.5 * f * ((1 - p) + (1 - q)) + (1 - f) * (true_bit ? 1 - q : 1 - p);
}

double BitEpsilonOne(double f, double p, double q) {
  if (!InDomain(f, p, q)) return kNaN;
  const double p_star = ReportedOneProbability(f, p, q, false);
  const double q_star = ReportedOneProbability(f, p, q, true);
  const double not_p_star = ReportedZeroProbability(f, p, q, false);
  const double not_q_star = ReportedZeroProbability(f, p, q, true);
  // q* > p* > = 0 and 1−p* > 1−q* >= 0 because q* − p* = (1−f)(q−p) > 0.
  return std::max(LogRatio(q_star, p_star), LogRatio(not_p_star, not_q_star));
}

double BitEpsilonInf(double f) {
  if (!std::isfinite(f) || f < 0 || f >= 1) return kNaN;
  if (f == 0) return kInf;
  // Difference of logarithms: (2−f)/f overflows for subnormal f.
  return std::log(2 - f) - std::log(f);
}

EpsilonPair ArbitraryBitsEpsilon(double f, double p, double q, int num_bits) {
  if (!InDomain(f, p, q) || num_bits < 1) return {kNaN, kNaN};
  return {num_bits * BitEpsilonOne(f, p, q), num_bits * BitEpsilonInf(f)};
}

EpsilonPair BloomFilterEpsilon(double f, double p, double q, int num_hashes) {
  if (!InDomain(f, p, q) || num_hashes < 1) return {kNaN, kNaN};
  const double p_star = ReportedOneProbability(f, p, q, false);
  const double q_star = ReportedOneProbability(f, p, q, true);
  const double not_p_star = ReportedZeroProbability(f, p, q, false);
  const double not_q_star = ReportedZeroProbability(f, p, q, true);
  // h bits go 0 -> 1 (ratio q*/p* each) and h bits go 1 -> 0 (ratio (1−p*)/(1−q*) each).
  const double one = num_hashes * (LogRatio(q_star, p_star) + LogRatio(not_p_star, not_q_star));
  return {one, 2 * num_hashes * BitEpsilonInf(f)};
}

}  // namespace privacy
