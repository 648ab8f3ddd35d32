#include "privacy/tuner.h"

#include <cmath>
#include <cstdio>
#include <limits>
#include <vector>

#include "gtest/gtest.h"
#include "privacy/epsilon.h"

namespace privacy {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

struct Point {
  double f = 0, p = 0, q = 0;
  int s = 0;
  double j = kInf;
};

// BruteJ returns J for (f, p, q, s), or +inf when a constraint fails; it uses only the general
// epsilon formulas of epsilon.h, not the tuner's closed form.
double BruteJ(const TuningTargets& t, double f, double p, double q, int s) {
  if (!(f >= 0 && f < 1 && p >= 0 && p < q && q <= 1)) return kInf;
  const double b = t.bits_per_pinset;
  if (b * t.num_pinsets * BitEpsilonInf(f) > t.epsilon_inf) return kInf;
  if (b * s * BitEpsilonOne(f, p, q) > t.epsilon_one) return kInf;
  const double ps = ReportedOneProbability(f, p, q, false);
  const double qs = ReportedOneProbability(f, p, q, true);
  return static_cast<double>(t.num_pinsets) / s * ps * (1 - ps) / ((qs - ps) * (qs - ps));
}

// BruteForce searches a 100-step grid over f, p, q for every s, then zooms around the best point
// five times (a box of ±2 steps split 40 ways per coordinate).
Point BruteForce(const TuningTargets& t) {
  Point best;
  constexpr int kGrid = 100;
  for (int s = 1; s <= t.num_pinsets; ++s) {
    for (int fi = 0; fi < kGrid; ++fi) {
      for (int pi = 0; pi <= kGrid; ++pi) {
        for (int qi = pi + 1; qi <= kGrid; ++qi) {
          const double f = fi / double{kGrid}, p = pi / double{kGrid}, q = qi / double{kGrid};
          const double j = BruteJ(t, f, p, q, s);
          if (j < best.j) best = {f, p, q, s, j};
        }
      }
    }
  }
  double step = 1.0 / kGrid;
  for (int round = 0; round < 5; ++round) {
    const Point center = best;
    constexpr int kSplit = 40;
    for (int i = 0; i <= kSplit; ++i) {
      for (int j = 0; j <= kSplit; ++j) {
        for (int l = 0; l <= kSplit; ++l) {
          const double f = center.f + step * (4.0 * i / kSplit - 2);
          const double p = std::max(0.0, center.p + step * (4.0 * j / kSplit - 2));
          const double q = std::min(1.0, center.q + step * (4.0 * l / kSplit - 2));
          const double value = BruteJ(t, f, p, q, center.s);
          if (value < best.j) best = {f, p, q, center.s, value};
        }
      }
    }
    step /= 10;
  }
  return best;
}

void ExpectOptimal(const TuningTargets& t) {
  absl::StatusOr<TunedParams> tuned = TuneParams(t);
  ASSERT_TRUE(tuned.ok()) << tuned.status();
  EXPECT_LE(tuned->epsilon_one, t.epsilon_one);
  EXPECT_LE(tuned->epsilon_inf, t.epsilon_inf);
  EXPECT_EQ(tuned->epsilon_one, tuned->params.EpsilonOne(t.num_pinsets));
  EXPECT_EQ(tuned->epsilon_inf, tuned->params.EpsilonInf(t.num_pinsets));
  EXPECT_TRUE(tuned->params.ValidateFor(t.num_pinsets).ok());
  EXPECT_DOUBLE_EQ(tuned->objective, Objective(tuned->params, t.num_pinsets));
  const Point brute = BruteForce(t);
  std::printf("E1=%g Einf=%g K=%d: tuner J=%.9g (%s) brute J=%.9g (f=%g p=%g q=%g s=%d)\n",
              t.epsilon_one, t.epsilon_inf, t.num_pinsets, tuned->objective,
              tuned->params.DebugString().c_str(), brute.j, brute.f, brute.p, brute.q, brute.s);
  // The tuner is at least as good as anything the search finds...
  EXPECT_LE(tuned->objective, brute.j * (1 + 1e-6));
  // ...and the search comes close, so the comparison is not vacuous.
  EXPECT_LE(brute.j, tuned->objective * 1.01);
}

TEST(TunerTest, MatchesBruteForceSearch) {
  ExpectOptimal({.epsilon_one = 2, .epsilon_inf = 8, .num_pinsets = 4});
  ExpectOptimal({.epsilon_one = 1, .epsilon_inf = 4, .num_pinsets = 1});
  ExpectOptimal({.epsilon_one = 1, .epsilon_inf = 10, .num_pinsets = 5});
  ExpectOptimal({.epsilon_one = 3, .epsilon_inf = kInf, .num_pinsets = 3});
  ExpectOptimal({.epsilon_one = 0.5, .epsilon_inf = 2, .num_pinsets = 3});
  ExpectOptimal({.epsilon_one = 4, .epsilon_inf = 3, .num_pinsets = 2});
  ExpectOptimal({.epsilon_one = 2, .epsilon_inf = 7, .num_pinsets = 3, .bits_per_pinset = 3});
}

TEST(TunerTest, PlainRandomizedResponseWithoutLongitudinalTarget) {
  // K = 1, ε1 = 2 ln 3 over 2 bits, no ε∞ bound: f = 0, p = 1/4, q = 3/4, J = (3/16)/(1/4).
  absl::StatusOr<TunedParams> tuned =
      TuneParams({.epsilon_one = 2 * std::log(3.0), .epsilon_inf = kInf, .num_pinsets = 1});
  ASSERT_TRUE(tuned.ok()) << tuned.status();
  EXPECT_EQ(tuned->params.f(), 0);
  EXPECT_NEAR(tuned->params.p(), 0.25, 1e-12);
  EXPECT_NEAR(tuned->params.q(), 0.75, 1e-12);
  EXPECT_NEAR(tuned->objective, 0.75, 1e-9);
  EXPECT_EQ(tuned->epsilon_inf, kInf);
}

TEST(TunerTest, NoLongitudinalTargetReportsOnePinset) {
  absl::StatusOr<TunedParams> tuned =
      TuneParams({.epsilon_one = 2, .epsilon_inf = kInf, .num_pinsets = 10});
  ASSERT_TRUE(tuned.ok());
  EXPECT_EQ(tuned->params.pinsets_per_ping(), 1);
}

TEST(TunerTest, LongitudinalTargetBindingPutsTheBudgetInThePrr) {
  // K = 2, ε∞ = 4 ln 3 gives ε∞_bit = ln 3 (f = 1/2); ε1 = 10 is loose, so s = 2 with p = 0,
  // q = 1 and J = (3/4) (p* = 1/4, q* = 3/4).
  absl::StatusOr<TunedParams> tuned =
      TuneParams({.epsilon_one = 10, .epsilon_inf = 4 * std::log(3.0), .num_pinsets = 2});
  ASSERT_TRUE(tuned.ok()) << tuned.status();
  EXPECT_EQ(tuned->params.pinsets_per_ping(), 2);
  EXPECT_NEAR(tuned->params.f(), 0.5, 1e-12);
  EXPECT_EQ(tuned->params.p(), 0);
  EXPECT_EQ(tuned->params.q(), 1);
  EXPECT_NEAR(tuned->objective, 0.75, 1e-9);
  EXPECT_NEAR(tuned->epsilon_one, 4 * std::log(3.0), 1e-9);
}

TEST(TunerTest, FChoiceTradesIrrNoiseForEpsilonInfAtEqualObjective) {
  const TuningTargets base = {.epsilon_one = 1, .epsilon_inf = 10, .num_pinsets = 4};
  TuningTargets least = base;
  least.f_choice = FChoice::kLeastEpsilonInf;
  absl::StatusOr<TunedParams> noisy = TuneParams(base);
  absl::StatusOr<TunedParams> tight = TuneParams(least);
  ASSERT_TRUE(noisy.ok() && tight.ok());
  EXPECT_NEAR(tight->objective / noisy->objective, 1, 1e-9);
  EXPECT_LT(tight->epsilon_inf, noisy->epsilon_inf);
  EXPECT_GT(noisy->params.p(), 0);
  EXPECT_EQ(tight->params.p(), 0);
  EXPECT_EQ(tight->params.q(), 1);
  EXPECT_NEAR(noisy->epsilon_inf, 10, 1e-9);
}

TEST(TunerTest, RespectsMaxPinsetsPerPing) {
  absl::StatusOr<TunedParams> tuned = TuneParams(
      {.epsilon_one = 8, .epsilon_inf = 8, .num_pinsets = 16, .max_pinsets_per_ping = 3});
  ASSERT_TRUE(tuned.ok());
  EXPECT_LE(tuned->params.pinsets_per_ping(), 3);
}

TEST(TunerTest, ExtremeTargetsStayWithinTargets) {
  for (const TuningTargets& t :
       std::vector<TuningTargets>{{.epsilon_one = 1e-6, .epsilon_inf = 1e-6, .num_pinsets = 50},
                                  {.epsilon_one = 50, .epsilon_inf = 2000, .num_pinsets = 1},
                                  {.epsilon_one = 0.01, .epsilon_inf = 1e5, .num_pinsets = 7},
                                  {.epsilon_one = 3, .epsilon_inf = 3, .num_pinsets = 1000}}) {
    absl::StatusOr<TunedParams> tuned = TuneParams(t);
    ASSERT_TRUE(tuned.ok()) << tuned.status() << " for E1=" << t.epsilon_one;
    EXPECT_LE(tuned->epsilon_one, t.epsilon_one);
    EXPECT_LE(tuned->epsilon_inf, t.epsilon_inf);
    EXPECT_TRUE(std::isfinite(tuned->objective));
  }
}

TEST(TunerTest, RejectsInvalidTargets) {
  EXPECT_FALSE(TuneParams({.epsilon_one = 0, .epsilon_inf = 1, .num_pinsets = 1}).ok());
  EXPECT_FALSE(TuneParams({.epsilon_one = kInf, .epsilon_inf = 1, .num_pinsets = 1}).ok());
  EXPECT_FALSE(TuneParams({.epsilon_one = std::nan(""), .epsilon_inf = 1, .num_pinsets = 1}).ok());
  EXPECT_FALSE(TuneParams({.epsilon_one = 1, .epsilon_inf = -1, .num_pinsets = 1}).ok());
  EXPECT_FALSE(TuneParams({.epsilon_one = 1, .epsilon_inf = 1, .num_pinsets = 0}).ok());
  EXPECT_FALSE(
      TuneParams({.epsilon_one = 1, .epsilon_inf = 1, .num_pinsets = 1, .bits_per_pinset = 0})
          .ok());
  EXPECT_FALSE(
      TuneParams({.epsilon_one = 1, .epsilon_inf = 1, .num_pinsets = 1, .max_pinsets_per_ping = -1})
          .ok());
}

TEST(TunerTest, EvaluatesFixedChoices) {
  // Chrome's normal noise with s = 2 of K = 8: J = 4 · 0.375 · 0.625 / 0.0625 = 15.
  const Params chrome =
      *ParamsBuilder().SetF(0.5).SetP(0.25).SetQ(0.75).SetPinsetsPerPing(2).Build();
  EXPECT_DOUBLE_EQ(Objective(chrome, 8), 15);
  const TuningTargets targets = {.epsilon_one = 2.1, .epsilon_inf = 100, .num_pinsets = 8};
  const Evaluation e = Evaluate(chrome, targets);
  EXPECT_NEAR(e.epsilon_one, 4 * std::log(5.0 / 3), 1e-12);
  EXPECT_NEAR(e.epsilon_inf, 16 * std::log(3.0), 1e-12);
  EXPECT_TRUE(e.meets_targets);  // 2.043 <= 2.1, 17.58 <= 100
  // ε1 = 2s·ln(5/3) <= 2.1 allows s <= 2.
  EXPECT_EQ(LargestFittingSubset(0.5, 0.25, 0.75, targets), 2);
  TuningTargets tight = targets;
  tight.epsilon_inf = 17;  // below 16 ln 3 for every s
  EXPECT_EQ(LargestFittingSubset(0.5, 0.25, 0.75, tight), std::nullopt);
  EXPECT_FALSE(Evaluate(chrome, tight).meets_targets);
}

}  // namespace
}  // namespace privacy
