// epsilon.h: epsilon accounting for the basic (one bit per value) RAPPOR mechanism.
//
// DESIGN §4. One true bit b goes through the permanent randomized response (PRR: with probability
// f/2 it becomes 1, with f/2 it becomes 0, otherwise it stays b) and then the instantaneous
// randomized response (IRR: reported 1 with probability q if the PRR bit is 1, p if it is 0).
// The reported bit is 1 with probability
//   q* = ½f(p+q) + (1−f)q   when b = 1,
//   p* = ½f(p+q) + (1−f)p   when b = 0
// (Erlingsson, Pihur, Korolova, "RAPPOR", CCS 2014, §3.1 and Theorem 2 of §4).
//
// For one bit, one report gives the worst log-likelihood ratio
//   ε1_bit = max(ln(q*/p*), ln((1−p*)/(1−q*)))
// and unlimited reports of the same truth reveal at most the PRR bit, so
//   ε∞_bit = ln((1−f/2)/(f/2)).
// Truths that differ in m independently randomized bits multiply the per-bit ratios, so m bits cost
// m·ε1_bit and m·ε∞_bit. google/rappor's Bloom-filter form (h hashes: a change of value sets up to
// h bits and clears up to h bits) costs ε1 = h·ln(q*(1−p*)/(p*(1−q*))) and ε∞ =
// 2h·ln((1−f/2)/(f/2)).
//
// Infinities are exact: ε∞ is +∞ when f = 0 (no longitudinal bound); ε1 is +∞ when p* = 0 or
// q* = 1 (a reported bit can be impossible under one truth).
//
// Usage:
//   EpsilonPair e = BloomFilterEpsilon(0.5, 0.5, 0.75, /*num_hashes=*/2);
//   // e.epsilon_inf == 4 ln 3 ≈ 4.3944, e.epsilon_one ≈ 1.0743.
//
// The functions take raw probabilities with the preconditions that ParamsBuilder enforces
// (finite, 0 <= f < 1, 0 <= p < q <= 1, counts >= 1); outside that domain they return NaN.
#ifndef PRIVACY_EPSILON_H_
#define PRIVACY_EPSILON_H_

namespace privacy {

// EpsilonPair is the privacy loss of one report (`epsilon_one`) and of unlimited reports of the
// same truth (`epsilon_inf`), in nats. Either may be +infinity.
struct EpsilonPair {
  double epsilon_one = 0;
  double epsilon_inf = 0;
};

// ReportedOneProbability returns the probability that a reported bit is 1 given the true bit:
// q* when `true_bit`, p* otherwise.
double ReportedOneProbability(double f, double p, double q, bool true_bit);

// ReportedZeroProbability returns 1 − ReportedOneProbability(...), computed without cancellation
// (1−q* = ½f((1−p)+(1−q)) + (1−f)(1−q)), so that ratios near q* = 1 stay accurate.
double ReportedZeroProbability(double f, double p, double q, bool true_bit);

// BitEpsilonOne returns ε1_bit = max(ln(q*/p*), ln((1−p*)/(1−q*))); +infinity when p* = 0 or q*
// = 1.
double BitEpsilonOne(double f, double p, double q);

// BitEpsilonInf returns ε∞_bit = ln((1−f/2)/(f/2)); +infinity when f = 0.
double BitEpsilonInf(double f);

// ArbitraryBitsEpsilon returns the loss of a report of `num_bits` independently randomized bits
// whose truths may all differ: m·ε1_bit and m·ε∞_bit.
EpsilonPair ArbitraryBitsEpsilon(double f, double p, double q, int num_bits);

// BloomFilterEpsilon returns google/rappor's figures for a Bloom filter with `num_hashes` hashes:
// ε1 = h·ln(q*(1−p*)/(p*(1−q*))), ε∞ = 2h·ln((1−f/2)/(f/2)).
EpsilonPair BloomFilterEpsilon(double f, double p, double q, int num_hashes);

}  // namespace privacy

#endif  // PRIVACY_EPSILON_H_
