// exact_distribution.h: the encoder's exact output distributions for small catalogs, computed
// analytically (by enumeration, not sampling), to prove the epsilon accounting in tests.
//
// Truths are true-bit vectors of K·bits_per_pinset bits, pinset-major (StateTruths maps the
// three daily states). Outcomes are indexed canonically:
//   one ping:     index = subset_rank · 2^m + pattern, with subset_rank the rank of the reported
//                 pinsets among all C(K, s) subsets in lexicographic order (0 when s >= K) and
//                 pattern the m report bits read as an integer, report bit j being bit j;
//   PRR:          the memoized PRR bits of all K pinsets as an integer (bit i·b + k);
//   several days: the day outcomes as digits of a number in base (one-ping outcome count), day 0
//                 least significant, all days sharing one memoized PRR.
// Each probability is derived from first principles: the PRR keeps the truth with probability
// 1 − f and draws a fair coin otherwise; the IRR reports 1 with probability q or p.
//
// Usage (tests):
//   std::vector<std::vector<double>> dists;
//   for (const auto& truth : StateTruths(3)) dists.push_back(*ExactPingDistribution(params, 3,
//   truth)); double eps = MaxLogLikelihoodRatio(dists);  // == params.EpsilonOne(3)
#ifndef PRIVACY_EXACT_DISTRIBUTION_H_
#define PRIVACY_EXACT_DISTRIBUTION_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "privacy/params.h"
#include "privacy/report_bits.h"

namespace privacy {

// The largest outcome space (or outcome × PRR-state product) these functions enumerate.
inline constexpr int64_t kMaxEnumeration = int64_t{1} << 24;

// StateTruths returns the true bits of every state vector in {0, 1, 2}^K (2 bits per pinset).
std::vector<std::vector<uint8_t>> StateTruths(int num_pinsets);

// BitTruths returns every true-bit vector in {0, 1}^(K·bits).
std::vector<std::vector<uint8_t>> BitTruths(int num_pinsets, int bits_per_pinset);

// ExactPingDistribution returns P(outcome | truth) for one ping. INVALID_ARGUMENT when params are
// invalid for K, the truth has the wrong size, or the outcome space exceeds kMaxEnumeration.
absl::StatusOr<std::vector<double>> ExactPingDistribution(const Params& params, int num_pinsets,
                                                          absl::Span<const uint8_t> truth);

// PingOutcomeIndex returns the canonical index of an encoded report (validated first).
absl::StatusOr<int64_t> PingOutcomeIndex(const EncodedReport& report, const Params& params,
                                         int num_pinsets);

// ExactPrrDistribution returns P(PRR bits of all K pinsets | truth): what unlimited pings of one
// truth reveal in the limit (the IRR averages away and random subsets cover every pinset).
absl::StatusOr<std::vector<double>> ExactPrrDistribution(const Params& params, int num_pinsets,
                                                         absl::Span<const uint8_t> truth);

// ExactMultiDayDistribution returns P(outcomes of `days` pings | truth) for one client whose truth
// does not change: each day a fresh subset and fresh IRR, one shared memoized PRR.
absl::StatusOr<std::vector<double>> ExactMultiDayDistribution(const Params& params, int num_pinsets,
                                                              absl::Span<const uint8_t> truth,
                                                              int days);

// MaxLogLikelihoodRatio returns max over ordered pairs of distributions (i, j) and outcomes o with
// P_i(o) > 0 of ln(P_i(o) / P_j(o)); +infinity when some P_j(o) = 0 < P_i(o).
double MaxLogLikelihoodRatio(absl::Span<const std::vector<double>> distributions);

}  // namespace privacy

#endif  // PRIVACY_EXACT_DISTRIBUTION_H_
