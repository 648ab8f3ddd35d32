// privacy_benchmark: costs of the privacy core next to a one-shot HMAC-SHA256 baseline.
//
//   bazel run -c opt //bench:privacy_benchmark -- --benchmark_repetitions=10
//       --benchmark_report_aggregates_only=true                      (one command line)
//
// BM_HmacSha256OneShot is the baseline: one OpenSSL HMAC() over the same 29-byte message a PRR bit
// hashes (key setup included, as a naive client would do per bit). BM_EncodePing/K/s encodes one
// ping of K pinsets reporting s of them with the production CryptoRandomSource; the requirement is
// BM_EncodePing/16/1 <= 3 × BM_HmacSha256OneShot (medians of the same run), recorded with the ratio
// in docs/benchmarks.md.
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "privacy/encoder.h"
#include "privacy/estimator.h"
#include "privacy/params.h"
#include "privacy/random_source.h"
#include "privacy/tuner.h"

namespace privacy {
namespace {

constexpr char kCatalogVersion[] = "catalog-2024-06";

std::unique_ptr<CryptoRandomSource> Crypto() {
  absl::StatusOr<std::unique_ptr<CryptoRandomSource>> rng = CryptoRandomSource::Create();
  if (!rng.ok()) std::abort();
  return *std::move(rng);
}

std::vector<uint8_t> Secret() { return std::vector<uint8_t>(kClientSecretSize, 0x42); }

Params ChromeNoise(int s) {
  return *ParamsBuilder().SetF(0.5).SetP(0.25).SetQ(0.75).SetPinsetsPerPing(s).Build();
}

void BM_HmacSha256OneShot(benchmark::State& state) {
  const std::vector<uint8_t> key = Secret();
  const std::string message = Encoder::PrrMessage(3, kCatalogVersion, 7, 1, true);
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  for (auto _ : state) {
    HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
         reinterpret_cast<const unsigned char*>(message.data()), message.size(), out, &len);
    benchmark::DoNotOptimize(out);
  }
}
BENCHMARK(BM_HmacSha256OneShot);

void BM_EncodePing(benchmark::State& state) {
  const int k = static_cast<int>(state.range(0));
  const int s = static_cast<int>(state.range(1));
  std::unique_ptr<CryptoRandomSource> rng = Crypto();
  absl::StatusOr<Encoder> encoder = Encoder::Create({.params = ChromeNoise(s),
                                                     .num_pinsets = k,
                                                     .params_version = 3,
                                                     .catalog_version = kCatalogVersion},
                                                    Secret(), rng.get());
  if (!encoder.ok()) std::abort();
  std::vector<PinsetState> states(k, PinsetState::kNotChecked);
  for (int i = 0; i < k; i += 3) states[i] = PinsetState::kCheckedOk;
  states[k / 2] = PinsetState::kViolated;
  for (auto _ : state) {
    absl::StatusOr<EncodedReport> report = encoder->Encode(states);
    benchmark::DoNotOptimize(report);
  }
}
BENCHMARK(BM_EncodePing)
    ->ArgNames({"K", "s"})
    ->Args({4, 1})
    ->Args({4, 4})
    ->Args({16, 1})
    ->Args({16, 16})
    ->Args({64, 1})
    ->Args({64, 64});

void BM_EncoderCreate(benchmark::State& state) {
  std::unique_ptr<CryptoRandomSource> rng = Crypto();
  const std::vector<uint8_t> secret = Secret();
  for (auto _ : state) {
    absl::StatusOr<Encoder> encoder = Encoder::Create({.params = ChromeNoise(1),
                                                       .num_pinsets = 16,
                                                       .params_version = 3,
                                                       .catalog_version = kCatalogVersion},
                                                      secret, rng.get());
    benchmark::DoNotOptimize(encoder);
  }
}
BENCHMARK(BM_EncoderCreate);

void BM_EstimateViolationRate(benchmark::State& state) {
  const Params params = ChromeNoise(1);
  const PinsetCounts counts = {1000000, 420000, 380000};
  for (auto _ : state) benchmark::DoNotOptimize(EstimateViolationRate(counts, params));
}
BENCHMARK(BM_EstimateViolationRate);

void BM_EstimateOrganizationRate(benchmark::State& state) {
  const Params params = ChromeNoise(1);
  const std::vector<PinsetCounts> counts(state.range(0), PinsetCounts{1000000, 420000, 380000});
  for (auto _ : state) benchmark::DoNotOptimize(EstimateOrganizationRate(counts, params));
}
BENCHMARK(BM_EstimateOrganizationRate)->ArgName("pinsets")->Arg(16);

void BM_TuneParams(benchmark::State& state) {
  const TuningTargets targets = {
      .epsilon_one = 2, .epsilon_inf = 8, .num_pinsets = static_cast<int>(state.range(0))};
  for (auto _ : state) benchmark::DoNotOptimize(TuneParams(targets));
}
BENCHMARK(BM_TuneParams)->ArgName("K")->Arg(16)->Arg(1024);

}  // namespace
}  // namespace privacy

BENCHMARK_MAIN();
