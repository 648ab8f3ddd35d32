#include "privacy/random_source.h"

#include <openssl/err.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>

#include "absl/status/status.h"

namespace privacy {
namespace {

uint64_t SplitMix64(uint64_t& x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

inline uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

void RandBytesOrDie(void* out, size_t len) {
  // RAND_bytes takes an int length; callers pass at most a few KiB at a time.
  if (RAND_bytes(static_cast<unsigned char*>(out), static_cast<int>(len)) != 1) {
    std::fprintf(stderr, "privacy::CryptoRandomSource: RAND_bytes failed (error %lu); aborting\n",
                 ERR_get_error());
    std::abort();
  }
}

}  // namespace

void RandomSource::Fill(absl::Span<uint64_t> out) {
  for (uint64_t& word : out) word = NextUint64();
}

void RandomSource::FillBytes(absl::Span<uint8_t> out) {
  size_t i = 0;
  while (i < out.size()) {
    const uint64_t word = NextUint64();
    const size_t n = std::min<size_t>(8, out.size() - i);
    std::memcpy(out.data() + i, &word, n);
    i += n;
  }
}

uint64_t RandomSource::UniformBelow(uint64_t n) {
  // Lemire's multiply-and-reject: the high word of x·n is uniform on [0, n) once the low word is
  // outside the biased zone [0, 2^64 mod n).
  unsigned __int128 product = static_cast<unsigned __int128>(NextUint64()) * n;
  uint64_t low = static_cast<uint64_t>(product);
  if (low < n) {
    const uint64_t bias_zone = (0 - n) % n;
    while (low < bias_zone) {
      product = static_cast<unsigned __int128>(NextUint64()) * n;
      low = static_cast<uint64_t>(product);
    }
  }
  return static_cast<uint64_t>(product >> 64);
}

double RandomSource::UniformDouble() { return static_cast<double>(NextUint64() >> 11) * 0x1.0p-53; }

ExactBernoulli ExactBernoulli::FromProbability(double prob) {
  if (!(prob > 0)) return ExactBernoulli(0, false);
  if (prob >= 1) return ExactBernoulli(0, true);
  // prob·2^64 is exact in binary floating point (a power-of-two scale) and below 2^64; ceil keeps
  // it exact (every double >= 2^52 is an integer already).
  const double scaled = std::ceil(std::ldexp(prob, 64));
  if (scaled >= 0x1.0p64) return ExactBernoulli(0, true);
  return ExactBernoulli(static_cast<uint64_t>(scaled), false);
}

double ExactBernoulli::Probability() const {
  if (always_) return 1.0;
  return std::ldexp(static_cast<double>(threshold_), -64);
}

SeededRandomSource::SeededRandomSource(uint64_t seed) {
  uint64_t x = seed;
  for (uint64_t& word : state_) word = SplitMix64(x);
}

uint64_t SeededRandomSource::NextUint64() {
  const uint64_t result = Rotl(state_[1] * 5, 7) * 9;
  const uint64_t t = state_[1] << 17;
  state_[2] ^= state_[0];
  state_[3] ^= state_[1];
  state_[1] ^= state_[2];
  state_[0] ^= state_[3];
  state_[2] ^= t;
  state_[3] = Rotl(state_[3], 45);
  return result;
}

void SeededRandomSource::Fill(absl::Span<uint64_t> out) {
  for (uint64_t& word : out) word = NextUint64();
}

absl::StatusOr<std::unique_ptr<CryptoRandomSource>> CryptoRandomSource::Create() {
  if (RAND_status() != 1) {
    return absl::InternalError("OpenSSL's random generator is not seeded");
  }
  uint64_t probe;
  if (RAND_bytes(reinterpret_cast<unsigned char*>(&probe), sizeof(probe)) != 1) {
    return absl::InternalError("OpenSSL RAND_bytes failed");
  }
  return std::unique_ptr<CryptoRandomSource>(new CryptoRandomSource());
}

void CryptoRandomSource::Refill() {
  RandBytesOrDie(buffer_.data(), sizeof(buffer_));
  next_ = 0;
}

uint64_t CryptoRandomSource::NextUint64() {
  if (next_ == kBufferWords) Refill();
  return buffer_[next_++];
}

void CryptoRandomSource::Fill(absl::Span<uint64_t> out) {
  size_t done = 0;
  while (done < out.size()) {
    if (next_ == kBufferWords) {
      // Large requests bypass the buffer.
      const size_t remaining = out.size() - done;
      if (remaining >= kBufferWords) {
        const size_t n = remaining - remaining % kBufferWords;
        for (size_t i = 0; i < n; i += kBufferWords) {
          RandBytesOrDie(out.data() + done + i, kBufferWords * sizeof(uint64_t));
        }
        done += n;
        continue;
      }
      Refill();
    }
    const size_t n = std::min(out.size() - done, kBufferWords - next_);
    std::memcpy(out.data() + done, buffer_.data() + next_, n * sizeof(uint64_t));
    next_ += n;
    done += n;
  }
}

}  // namespace privacy
