// Exact privacy proofs: the largest likelihood ratio of the encoder's exact output distribution,
// over all pairs of truths and all outcomes, equals e^EpsilonOne for one ping and e^EpsilonInf for
// the memoized PRR; and the encoder's empirical outputs follow the exact distribution.
#include "privacy/exact_distribution.h"

#include <cmath>
#include <cstdio>
#include <limits>
#include <numeric>
#include <vector>

#include "gtest/gtest.h"
#include "privacy/encoder.h"
#include "privacy/random_source.h"

namespace privacy {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

Params MakeParams(double f, double p, double q, int s, int bits = 2) {
  return *ParamsBuilder()
              .SetF(f)
              .SetP(p)
              .SetQ(q)
              .SetPinsetsPerPing(s)
              .SetBitsPerPinset(bits)
              .Build();
}

// Compares e^expected and e^actual to 1e-9 relative (the logs to 1e-9 absolute), infinities
// exactly.
void ExpectSameEpsilon(double actual, double expected, const std::string& what) {
  if (expected == kInf) {
    EXPECT_EQ(actual, kInf) << what;
    return;
  }
  EXPECT_NEAR(actual, expected, 1e-9) << what;
}

std::vector<std::vector<double>> PingDistributions(
    const Params& params, int k, const std::vector<std::vector<uint8_t>>& truths) {
  std::vector<std::vector<double>> out;
  for (const auto& truth : truths) {
    absl::StatusOr<std::vector<double>> dist = ExactPingDistribution(params, k, truth);
    EXPECT_TRUE(dist.ok()) << dist.status();
    EXPECT_NEAR(std::accumulate(dist->begin(), dist->end(), 0.0), 1.0, 1e-12);
    out.push_back(*std::move(dist));
  }
  return out;
}

struct Noise {
  double f, p, q;
};

// Symmetric and asymmetric noise (the 1→0 direction dominates when q is close to 1),
// google/rappor's and Chrome's defaults, and the infinite cases.
const std::vector<Noise> kNoises = {{0.5, 0.5, 0.75}, {0.5, 0.25, 0.75}, {0.3, 0.1, 0.6},
                                    {0.2, 0.5, 0.98}, {0.05, 0.0, 1.0},  {0.0, 0.25, 0.75},
                                    {0.0, 0.0, 0.5}};

TEST(ExactDistributionTest, OnePingMaxRatioIsEpsilonOne) {
  for (const Noise& noise : kNoises) {
    for (int k = 1; k <= 3; ++k) {
      for (int s = 1; s <= k; ++s) {
        const Params params = MakeParams(noise.f, noise.p, noise.q, s);
        const double eps = MaxLogLikelihoodRatio(PingDistributions(params, k, StateTruths(k)));
        ExpectSameEpsilon(eps, params.EpsilonOne(k),
                          params.DebugString() + " K=" + std::to_string(k));
      }
    }
  }
}

TEST(ExactDistributionTest, ArbitraryBitsMaxRatioIsEpsilonOne) {
  // m arbitrary bits (three bits per pinset, any truth vector).
  for (const Noise& noise : {kNoises[0], kNoises[2], kNoises[3]}) {
    for (int s = 1; s <= 2; ++s) {
      const Params params = MakeParams(noise.f, noise.p, noise.q, s, 3);
      const double eps = MaxLogLikelihoodRatio(PingDistributions(params, 2, BitTruths(2, 3)));
      ExpectSameEpsilon(eps, params.EpsilonOne(2), params.DebugString());
    }
  }
}

TEST(ExactDistributionTest, PrrMaxRatioIsEpsilonInf) {
  for (const Noise& noise : kNoises) {
    for (int k = 1; k <= 3; ++k) {
      for (int s = 1; s <= k; ++s) {
        const Params params = MakeParams(noise.f, noise.p, noise.q, s);
        std::vector<std::vector<double>> dists;
        for (const auto& truth : StateTruths(k)) {
          dists.push_back(*ExactPrrDistribution(params, k, truth));
          EXPECT_NEAR(std::accumulate(dists.back().begin(), dists.back().end(), 0.0), 1, 1e-12);
        }
        ExpectSameEpsilon(MaxLogLikelihoodRatio(dists), params.EpsilonInf(k),
                          params.DebugString() + " K=" + std::to_string(k));
      }
    }
  }
}

TEST(ExactDistributionTest, SeveralDaysOfSubsetsRevealEveryPinsetsPrr) {
  // K = 2, s = 1, identity IRR: two days can report both pinsets, so the two-day ratio reaches
  // 2·K·ε∞_bit = EpsilonInf(2) = 4 ln 3, twice what counting only the 2·s bits of one ping gives.
  const Params params = MakeParams(0.5, 0.0, 1.0, 1);
  std::vector<std::vector<double>> two_days;
  for (const auto& truth : StateTruths(2)) {
    two_days.push_back(*ExactMultiDayDistribution(params, 2, truth, 2));
  }
  const double eps = MaxLogLikelihoodRatio(two_days);
  EXPECT_NEAR(eps, params.EpsilonInf(2), 1e-9);
  EXPECT_NEAR(eps, 4 * std::log(3.0), 1e-9);
  EXPECT_GT(eps, 2 * 1 * std::log(3.0) + 1);
}

TEST(ExactDistributionTest, SeveralDaysStayWithinBothBounds) {
  // d pings of the same truth: at most d·ε1 (composition) and at most ε∞ (post-processing of the
  // PRR), exactly computed.
  for (const Noise& noise : {kNoises[0], kNoises[1], kNoises[2], kNoises[3]}) {
    for (int s = 1; s <= 2; ++s) {
      const Params params = MakeParams(noise.f, noise.p, noise.q, s);
      for (int days = 1; days <= 3; ++days) {
        std::vector<std::vector<double>> dists;
        for (const auto& truth : StateTruths(2)) {
          absl::StatusOr<std::vector<double>> dist =
              ExactMultiDayDistribution(params, 2, truth, days);
          ASSERT_TRUE(dist.ok()) << dist.status();
          EXPECT_NEAR(std::accumulate(dist->begin(), dist->end(), 0.0), 1, 1e-12);
          dists.push_back(*std::move(dist));
        }
        const double eps = MaxLogLikelihoodRatio(dists);
        EXPECT_LE(eps, days * params.EpsilonOne(2) + 1e-9) << params.DebugString();
        EXPECT_LE(eps, params.EpsilonInf(2) + 1e-9) << params.DebugString();
        if (days == 1) {
          EXPECT_NEAR(eps, params.EpsilonOne(2), 1e-9);
        }
      }
    }
  }
}

TEST(ExactDistributionTest, RejectsBadInputs) {
  const Params params = MakeParams(0.5, 0.25, 0.75, 2);
  EXPECT_FALSE(ExactPingDistribution(params, 1, {0, 0}).ok());  // s > K
  EXPECT_FALSE(ExactPingDistribution(params, 3, {0, 0}).ok());  // wrong truth size
  EXPECT_FALSE(ExactPrrDistribution(params, 30, std::vector<uint8_t>(60)).ok());  // too large
  EXPECT_FALSE(ExactMultiDayDistribution(params, 2, {0, 0, 0, 0}, 0).ok());
}

// Chi-square of the encoder's outcomes (fresh client secret per ping, so the PRR is random as in
// the exact distribution) against ExactPingDistribution.
double ChiSquare(const Params& params, int k, const std::vector<PinsetState>& states, int pings,
                 uint64_t seed) {
  std::vector<uint8_t> truth;
  for (PinsetState state : states) {
    truth.push_back(TrueBit(state, kCheckedBit));
    truth.push_back(TrueBit(state, kViolatedBit));
  }
  const std::vector<double> expected = *ExactPingDistribution(params, k, truth);
  std::vector<int64_t> observed(expected.size(), 0);
  SeededRandomSource rng(seed);
  for (int i = 0; i < pings; ++i) {
    std::vector<uint8_t> secret(kClientSecretSize);
    rng.FillBytes(absl::MakeSpan(secret));
    absl::StatusOr<Encoder> encoder = Encoder::Create(
        {.params = params, .num_pinsets = k, .params_version = 1, .catalog_version = "chi"}, secret,
        &rng);
    absl::StatusOr<EncodedReport> report = encoder->Encode(states);
    absl::StatusOr<int64_t> index = PingOutcomeIndex(*report, params, k);
    EXPECT_TRUE(index.ok()) << index.status();
    ++observed[*index];
  }
  double chi2 = 0;
  for (size_t o = 0; o < expected.size(); ++o) {
    const double e = expected[o] * pings;
    EXPECT_GT(e, 5) << "cell " << o << " too small for the chi-square approximation";
    chi2 += (observed[o] - e) * (observed[o] - e) / e;
  }
  return chi2;
}

TEST(ExactDistributionTest, EncoderMatchesExactDistribution) {
  const std::vector<PinsetState> states = {PinsetState::kNotChecked, PinsetState::kCheckedOk,
                                           PinsetState::kViolated};
  // 99.9% quantiles of chi-square with 47, 11 and 63 degrees of freedom.
  const double two_of_three = ChiSquare(MakeParams(0.4, 0.3, 0.8, 2), 3, states, 60000, 11);
  EXPECT_LT(two_of_three, 82.72);  // 3 subsets · 16 patterns
  const double one_of_three = ChiSquare(MakeParams(0.5, 0.25, 0.75, 1), 3, states, 30000, 12);
  EXPECT_LT(one_of_three, 31.26);  // 3 · 4
  const double all_three = ChiSquare(MakeParams(0.25, 0.35, 0.65, 3), 3, states, 60000, 13);
  EXPECT_LT(all_three, 103.44);  // 64 patterns
  std::printf("chi2: s=2 %.2f (df 47), s=1 %.2f (df 11), s=3 %.2f (df 63)\n", two_of_three,
              one_of_three, all_three);
}

TEST(ExactDistributionTest, ChiSquareDetectsAWrongDistribution) {
  // The same encoder outputs compared with the exact distribution of different parameters must
  // fail the test above: guards against a vacuous chi-square.
  const std::vector<PinsetState> states = {PinsetState::kCheckedOk, PinsetState::kViolated};
  const Params actual = MakeParams(0.4, 0.3, 0.8, 2);
  const Params claimed = MakeParams(0.45, 0.3, 0.8, 2);
  std::vector<uint8_t> truth = {1, 0, 1, 1};
  const std::vector<double> expected = *ExactPingDistribution(claimed, 2, truth);
  std::vector<int64_t> observed(expected.size(), 0);
  SeededRandomSource rng(14);
  constexpr int kPings = 60000;
  for (int i = 0; i < kPings; ++i) {
    std::vector<uint8_t> secret(kClientSecretSize);
    rng.FillBytes(absl::MakeSpan(secret));
    absl::StatusOr<Encoder> encoder = Encoder::Create(
        {.params = actual, .num_pinsets = 2, .params_version = 1, .catalog_version = "chi"}, secret,
        &rng);
    ++observed[*PingOutcomeIndex(*encoder->Encode(states), actual, 2)];
  }
  double chi2 = 0;
  for (size_t o = 0; o < expected.size(); ++o) {
    const double e = expected[o] * kPings;
    chi2 += (observed[o] - e) * (observed[o] - e) / e;
  }
  EXPECT_GT(chi2, 37.70);  // rejected at the 99.9% quantile with 15 degrees of freedom
}

}  // namespace
}  // namespace privacy
