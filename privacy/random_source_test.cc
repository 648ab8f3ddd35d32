#include "privacy/random_source.h"

#include <bit>
#include <cmath>
#include <set>
#include <vector>

#include "gtest/gtest.h"

namespace privacy {
namespace {

TEST(SeededRandomSourceTest, MatchesReferenceXoshiro256StarStar) {
  // First outputs of xoshiro256** whose state is four splitmix64 outputs from seed 42, computed
  // with an independent implementation of the published reference algorithms.
  SeededRandomSource rng(42);
  EXPECT_EQ(rng.NextUint64(), 0x15780b2e0c2ec716ULL);
  EXPECT_EQ(rng.NextUint64(), 0x6104d9866d113a7eULL);
  EXPECT_EQ(rng.NextUint64(), 0xae17533239e499a1ULL);
}

TEST(SeededRandomSourceTest, DeterministicPerSeed) {
  SeededRandomSource a(7), b(7), c(8);
  std::vector<uint64_t> wa(10), wb(10), wc(10);
  a.Fill(absl::MakeSpan(wa));
  b.Fill(absl::MakeSpan(wb));
  c.Fill(absl::MakeSpan(wc));
  EXPECT_EQ(wa, wb);
  EXPECT_NE(wa, wc);
}

TEST(RandomSourceTest, UniformBelowIsInRangeAndUniform) {
  SeededRandomSource rng(1);
  constexpr int kBins = 10;
  constexpr int kDraws = 100000;
  std::vector<int> counts(kBins, 0);
  for (int i = 0; i < kDraws; ++i) {
    const uint64_t x = rng.UniformBelow(kBins);
    ASSERT_LT(x, static_cast<uint64_t>(kBins));
    ++counts[x];
  }
  double chi2 = 0;
  const double expected = static_cast<double>(kDraws) / kBins;
  for (int c : counts) chi2 += (c - expected) * (c - expected) / expected;
  // 9 degrees of freedom: P(chi2 > 27.88) = 0.001.
  EXPECT_LT(chi2, 27.88);
  EXPECT_EQ(rng.UniformBelow(1), 0u);
  const uint64_t huge = (uint64_t{1} << 63) + 1;
  for (int i = 0; i < 1000; ++i) ASSERT_LT(rng.UniformBelow(huge), huge);
}

TEST(RandomSourceTest, UniformDoubleMeanAndRange) {
  SeededRandomSource rng(2);
  constexpr int kDraws = 100000;
  double sum = 0;
  for (int i = 0; i < kDraws; ++i) {
    const double u = rng.UniformDouble();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    sum += u;
  }
  // Var(U) = 1/12; the mean is within 4 standard errors of 1/2.
  EXPECT_NEAR(sum / kDraws, 0.5, 4 * std::sqrt(1.0 / 12 / kDraws));
}

TEST(RandomSourceTest, FillBytesUsesConsecutiveWords) {
  SeededRandomSource rng(3), reference(3);
  std::vector<uint8_t> bytes(13, 0);
  rng.FillBytes(absl::MakeSpan(bytes));
  const uint64_t w0 = reference.NextUint64(), w1 = reference.NextUint64();
  for (int i = 0; i < 8; ++i) EXPECT_EQ(bytes[i], static_cast<uint8_t>(w0 >> (8 * i))) << i;
  for (int i = 0; i < 5; ++i) EXPECT_EQ(bytes[8 + i], static_cast<uint8_t>(w1 >> (8 * i))) << i;
}

TEST(ExactBernoulliTest, ThresholdsAreExact) {
  const ExactBernoulli quarter = ExactBernoulli::FromProbability(0.25);
  EXPECT_EQ(quarter.Probability(), 0.25);
  EXPECT_TRUE(quarter.Sample((uint64_t{1} << 62) - 1));
  EXPECT_FALSE(quarter.Sample(uint64_t{1} << 62));
  const ExactBernoulli never = ExactBernoulli::FromProbability(0);
  EXPECT_FALSE(never.Sample(0));
  EXPECT_EQ(never.Probability(), 0.0);
  const ExactBernoulli always = ExactBernoulli::FromProbability(1);
  EXPECT_TRUE(always.Sample(~uint64_t{0}));
  EXPECT_EQ(always.Probability(), 1.0);
  EXPECT_EQ(ExactBernoulli::FromProbability(std::nan("")).Probability(), 0.0);
  EXPECT_EQ(ExactBernoulli::FromProbability(-1).Probability(), 0.0);
  EXPECT_EQ(ExactBernoulli::FromProbability(2).Probability(), 1.0);
  // Every double >= 2^-12 is realized exactly.
  for (double p : {0.1, 0.3, 1.0 / 3, 0.999999, 0x1.0p-12, 0.75}) {
    EXPECT_EQ(ExactBernoulli::FromProbability(p).Probability(), p) << p;
  }
  // Below that, the error is upward and below 2^-64.
  const double tiny = 1e-30;
  const double realized = ExactBernoulli::FromProbability(tiny).Probability();
  EXPECT_GE(realized, tiny);
  EXPECT_LT(realized - tiny, 0x1.0p-64);
}

TEST(ExactBernoulliTest, FrequencyMatchesProbability) {
  SeededRandomSource rng(4);
  const ExactBernoulli coin = ExactBernoulli::FromProbability(0.3);
  constexpr int kDraws = 200000;
  int heads = 0;
  for (int i = 0; i < kDraws; ++i) heads += coin.Sample(rng.NextUint64());
  EXPECT_NEAR(static_cast<double>(heads) / kDraws, 0.3, 4 * std::sqrt(0.3 * 0.7 / kDraws));
}

TEST(CryptoRandomSourceTest, ProducesBalancedDistinctWords) {
  absl::StatusOr<std::unique_ptr<CryptoRandomSource>> rng = CryptoRandomSource::Create();
  ASSERT_TRUE(rng.ok()) << rng.status();
  std::vector<uint64_t> words;
  // Mix the buffered path (small requests) with the bypass path (large requests).
  for (int round = 0; round < 5; ++round) {
    std::vector<uint64_t> small(3), large(1500);
    (*rng)->Fill(absl::MakeSpan(small));
    (*rng)->Fill(absl::MakeSpan(large));
    words.insert(words.end(), small.begin(), small.end());
    words.insert(words.end(), large.begin(), large.end());
    words.push_back((*rng)->NextUint64());
  }
  const std::set<uint64_t> distinct(words.begin(), words.end());
  EXPECT_EQ(distinct.size(), words.size());
  double ones = 0;
  for (uint64_t w : words) ones += std::popcount(w);
  // Each word's popcount has mean 32 and variance 16.
  const double n = static_cast<double>(words.size());
  EXPECT_NEAR(ones / n, 32.0, 4 * std::sqrt(16.0 / n));
}

}  // namespace
}  // namespace privacy
