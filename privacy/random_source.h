// random_source.h: injectable sources of uniform 64-bit randomness for the IRR and the simulator.
//
// RandomSource is the interface; CryptoRandomSource draws from OpenSSL's CSPRNG (RAND_bytes) and is
// the only source production code may use; SeededRandomSource is a deterministic xoshiro256**
// generator for tests, benchmarks and simulations (never for real clients: its output is
// predictable from the seed).
//
// ExactBernoulli turns a probability into an integer threshold on a 64-bit uniform, so a decision
// "u < threshold" has probability exactly `prob` whenever prob·2^64 is an integer (every double
// prob >= 2^-12 and prob = 0 or 1), and otherwise at most 2^-64 more than `prob`.
//
// Usage:
//   absl::StatusOr<std::unique_ptr<CryptoRandomSource>> rng = CryptoRandomSource::Create();
//   if (!rng.ok()) return rng.status();
//   uint64_t x = (*rng)->NextUint64();
//   ExactBernoulli coin = ExactBernoulli::FromProbability(0.25);
//   bool heads = coin.Sample((*rng)->NextUint64());
//
// Thread safety: sources are not thread-safe; use one per thread.
#ifndef PRIVACY_RANDOM_SOURCE_H_
#define PRIVACY_RANDOM_SOURCE_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace privacy {

// RandomSource produces independent uniform 64-bit words.
class RandomSource {
 public:
  virtual ~RandomSource() = default;

  // NextUint64 returns a uniform 64-bit word.
  virtual uint64_t NextUint64() = 0;

  // Fill writes uniform words into `out`; implementations may do it in one call to their backend.
  virtual void Fill(absl::Span<uint64_t> out);

  // FillBytes writes uniform bytes into `out` (e.g. a 32-byte client secret).
  void FillBytes(absl::Span<uint8_t> out);

  // UniformBelow returns a uniform integer in [0, n), n >= 1, without modulo bias (Lemire,
  // "Fast random integer generation in an interval", ACM TOMACS 2019).
  uint64_t UniformBelow(uint64_t n);

  // UniformDouble returns a uniform double in [0, 1) with 53 random bits.
  double UniformDouble();
};

// ExactBernoulli is a coin with probability `prob` of heads, decided from one uniform 64-bit word.
class ExactBernoulli {
 public:
  // FromProbability clamps `prob` to [0, 1] (NaN counts as 0). The threshold is ceil(prob·2^64):
  // exact when prob·2^64 is an integer, otherwise it errs upwards by less than 2^-64.
  static ExactBernoulli FromProbability(double prob);

  // Sample returns true ("heads") with the coin's probability when `uniform` is uniform.
  bool Sample(uint64_t uniform) const { return always_ || uniform < threshold_; }

  // Probability returns the exact probability of heads this coin realizes.
  double Probability() const;

 private:
  ExactBernoulli(uint64_t threshold, bool always) : threshold_(threshold), always_(always) {}
  uint64_t threshold_;
  bool always_;
};

// SeededRandomSource is xoshiro256** (Blackman and Vigna, "Scrambled linear pseudorandom number
// generators", ACM TOMS 2021) seeded through splitmix64. Deterministic for a given seed on every
// platform. Not cryptographic.
class SeededRandomSource final : public RandomSource {
 public:
  explicit SeededRandomSource(uint64_t seed);

  uint64_t NextUint64() override;
  void Fill(absl::Span<uint64_t> out) override;

 private:
  std::array<uint64_t, 4> state_;
};

// CryptoRandomSource draws from OpenSSL's CSPRNG (RAND_bytes), buffering 4 KiB at a time so that a
// ping's few words cost a copy, not a call into OpenSSL.
class CryptoRandomSource final : public RandomSource {
 public:
  // Create checks that OpenSSL's generator is seeded and working; INTERNAL otherwise.
  static absl::StatusOr<std::unique_ptr<CryptoRandomSource>> Create();

  CryptoRandomSource(const CryptoRandomSource&) = delete;
  CryptoRandomSource& operator=(const CryptoRandomSource&) = delete;

  // NextUint64 and Fill abort the process if RAND_bytes fails after Create succeeded: continuing
  // without a working CSPRNG could leak true bits, and the interface has no error channel.
  uint64_t NextUint64() override;
  void Fill(absl::Span<uint64_t> out) override;

 private:
  static constexpr size_t kBufferWords = 512;
  CryptoRandomSource() = default;
  void Refill();

  std::array<uint64_t, kBufferWords> buffer_;
  size_t next_ = kBufferWords;  // index of the next unused word; kBufferWords = empty
};

}  // namespace privacy

#endif  // PRIVACY_RANDOM_SOURCE_H_
