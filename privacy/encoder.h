// encoder.h: the client-side RAPPOR encoder: memoized PRR, fresh IRR, random pinset subset.
//
// DESIGN §4. For each reported pinset i and bit index k with true bit x:
//   PRR  w = PermanentBit(i, k, x): a deterministic function of (client secret, params version,
//        catalog version, i, k, x) derived with HMAC-SHA256, so the same truth always yields the
//        same w and repeated pings cannot average the PRR noise away;
//   IRR  reported bit = 1 with probability q if w = 1, p if w = 0, from a fresh uniform per bit.
// When s < K the ping reports s distinct pinsets drawn uniformly (Floyd's algorithm) from the IRR
// source; their indices are sent in clear and are independent of the truth.
//
// PRR derivation (exact thresholds). u = the first 8 bytes of
//   HMAC-SHA256(secret, "PRR1" || be32(params_version) || be32(len(catalog_version)) ||
//               catalog_version || be32(pinset) || be32(bit_index) || byte(true_bit))
// read big-endian as a 64-bit integer, uniform on [0, 2^64) when HMAC is a PRF. With
// T = ceil(f·2^63): u < T gives 1, T <= u < 2T gives 0, otherwise the true bit. Each forced value
// thus has probability T/2^64, which equals f/2 exactly whenever f·2^63 is an integer: every double
// f >= 2^-11, and f = 0. (This is the "u < f/2 → 1, u < f → 0" rule with 2^-64 instead of 2^-53
// granularity, and without float rounding.) For other f the realized f' = 2T/2^64 lies in
// [f, f + 2^-63); since both ε1 and ε∞ decrease as f grows, the stated epsilons remain upper
// bounds, and the estimator's p*, q* are off by less than 2^-63, far below any sampling error. The
// IRR thresholds are exact in the same way (ExactBernoulli: exact for p, q >= 2^-12 and for 0 and
// 1). No 1/128 quantization of f is used anywhere.
//
// Usage:
//   absl::StatusOr<Encoder> encoder = Encoder::Create(
//       {.params = params, .num_pinsets = 16, .params_version = 3, .catalog_version = "c-2024-07"},
//       secret, crypto_source.get());
//   absl::StatusOr<EncodedReport> report = encoder->Encode(day_states);
//
// Thread safety: an Encoder is not thread-safe (it owns scratch state and uses the injected random
// source, which must outlive it). Create one per client profile and thread.
#ifndef PRIVACY_ENCODER_H_
#define PRIVACY_ENCODER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "privacy/hmac_sha256.h"
#include "privacy/params.h"
#include "privacy/pinset_state.h"
#include "privacy/random_source.h"
#include "privacy/report_bits.h"

namespace privacy {

// The client secret is 32 bytes from a CSPRNG, created once per profile and never sent.
inline constexpr size_t kClientSecretSize = 32;
// The largest catalog an Encoder accepts.
inline constexpr int kMaxPinsets = 1 << 20;
// The longest catalog version string an Encoder accepts.
inline constexpr size_t kMaxCatalogVersionSize = 1024;

struct EncoderConfig {
  Params params;
  // K, the number of pinsets in the catalog version. 1 <= K <= kMaxPinsets, s <= K.
  int num_pinsets = 0;
  uint32_t params_version = 0;
  std::string catalog_version;
};

class Encoder {
 public:
  // Create returns an encoder for one client. `client_secret` must be kClientSecretSize bytes;
  // `irr_source` must be non-null and outlive the encoder (CryptoRandomSource in production).
  // INVALID_ARGUMENT for a bad configuration or secret.
  static absl::StatusOr<Encoder> Create(const EncoderConfig& config,
                                        absl::Span<const uint8_t> client_secret,
                                        RandomSource* irr_source);

  Encoder(Encoder&&) = default;
  Encoder& operator=(Encoder&&) = default;

  // Encode randomizes one day's states (one per pinset, K of them) into a ping payload. Requires
  // bits_per_pinset == kStateBits (FAILED_PRECONDITION otherwise; use EncodeTrueBits).
  // INVALID_ARGUMENT for a wrong length or an undefined state.
  absl::StatusOr<EncodedReport> Encode(absl::Span<const PinsetState> states);

  // EncodeTrueBits randomizes K · bits_per_pinset true bits (pinset-major: bit k of pinset i at
  // i · bits_per_pinset + k; each 0 or 1). INVALID_ARGUMENT for a wrong length or value.
  absl::StatusOr<EncodedReport> EncodeTrueBits(absl::Span<const uint8_t> true_bits);

  // PermanentBit returns the memoized PRR bit for (pinset, bit_index, true_bit). Deterministic for
  // this client secret and configuration. INVALID_ARGUMENT for an index out of range.
  absl::StatusOr<bool> PermanentBit(uint32_t pinset, int bit_index, bool true_bit);

  // PrrMessage returns the canonical HMAC input described above (for audits and tests).
  static std::string PrrMessage(uint32_t params_version, absl::string_view catalog_version,
                                uint32_t pinset, uint32_t bit_index, bool true_bit);

  const Params& params() const { return params_; }
  int num_pinsets() const { return num_pinsets_; }

 private:
  Encoder(const Params& params, int num_pinsets, PrefixedHmacSha256 prf, RandomSource* irr_source);

  // PrrBit returns the PRR bit for an already-validated index.
  absl::StatusOr<bool> PrrBit(uint32_t pinset, uint32_t bit_index, bool true_bit);
  // ChooseSubset fills `chosen` with s distinct sorted indices using words[0, s) (plus extra draws
  // in the rare case Lemire's method rejects).
  void ChooseSubset(absl::Span<const uint64_t> words, std::vector<uint32_t>& chosen);

  Params params_;
  int num_pinsets_;
  PrefixedHmacSha256 prf_;  // keyed with the secret; prefix = tag, params and catalog versions
  RandomSource* irr_source_;
  uint64_t prr_threshold_;  // T = ceil(f·2^63)
  ExactBernoulli irr_if_zero_;
  ExactBernoulli irr_if_one_;
  std::vector<uint64_t> words_;  // scratch: the ping's uniforms
  std::vector<uint8_t> marks_;   // scratch for subset selection, K entries, all zero between calls
};

}  // namespace privacy

#endif  // PRIVACY_ENCODER_H_
