#include "privacy/encoder.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace privacy {
namespace {

constexpr char kPrrTag[4] = {'P', 'R', 'R', '1'};

void AppendBe32(std::string& out, uint32_t value) {
  out.push_back(static_cast<char>(value >> 24));
  out.push_back(static_cast<char>(value >> 16));
  out.push_back(static_cast<char>(value >> 8));
  out.push_back(static_cast<char>(value));
}

std::string PrrPrefix(uint32_t params_version, absl::string_view catalog_version) {
  std::string out(kPrrTag, sizeof(kPrrTag));
  AppendBe32(out, params_version);
  AppendBe32(out, static_cast<uint32_t>(catalog_version.size()));
  out.append(catalog_version.data(), catalog_version.size());
  return out;
}

absl::Span<const uint8_t> AsBytes(absl::string_view s) {
  return absl::Span<const uint8_t>(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

// PrrThreshold returns T = ceil(f·2^63) (< 2^63 for f < 1, so 2T does not overflow).
uint64_t PrrThreshold(double f) {
  if (!(f > 0)) return 0;
  return static_cast<uint64_t>(std::ceil(std::ldexp(f, 63)));
}

// UniformBelowFrom maps `word` to [0, n) with Lemire's method, drawing more words from `source`
// only when the first lands in the biased zone (probability < n / 2^64).
uint32_t UniformBelowFrom(uint64_t word, uint32_t n, RandomSource& source) {
  unsigned __int128 product = static_cast<unsigned __int128>(word) * n;
  uint64_t low = static_cast<uint64_t>(product);
  if (low < n) {
    const uint64_t bias_zone = (0 - static_cast<uint64_t>(n)) % n;
    while (low < bias_zone) {
      product = static_cast<unsigned __int128>(source.NextUint64()) * n;
      low = static_cast<uint64_t>(product);
    }
  }
  return static_cast<uint32_t>(product >> 64);
}

}  // namespace

std::string Encoder::PrrMessage(uint32_t params_version, absl::string_view catalog_version,
                                uint32_t pinset, uint32_t bit_index, bool true_bit) {
  std::string out = PrrPrefix(params_version, catalog_version);
  AppendBe32(out, pinset);
  AppendBe32(out, bit_index);
  out.push_back(true_bit ? 1 : 0);
  return out;
}

absl::StatusOr<Encoder> Encoder::Create(const EncoderConfig& config,
                                        absl::Span<const uint8_t> client_secret,
                                        RandomSource* irr_source) {
  if (absl::Status status = config.params.ValidateFor(config.num_pinsets); !status.ok()) {
    return status;
  }
  if (config.num_pinsets > kMaxPinsets) {
    return absl::InvalidArgumentError(absl::StrCat("number of pinsets K = ", config.num_pinsets,
                                                   " exceeds the maximum ", kMaxPinsets));
  }
  if (config.catalog_version.size() > kMaxCatalogVersionSize) {
    return absl::InvalidArgumentError(absl::StrCat("catalog version is ",
                                                   config.catalog_version.size(),
                                                   " bytes; at most ", kMaxCatalogVersionSize));
  }
  if (client_secret.size() != kClientSecretSize) {
    return absl::InvalidArgumentError(absl::StrCat("client secret is ", client_secret.size(),
                                                   " bytes; expected ", kClientSecretSize));
  }
  if (irr_source == nullptr) return absl::InvalidArgumentError("irr_source is null");
  absl::StatusOr<PrefixedHmacSha256> prf = PrefixedHmacSha256::Create(
      client_secret, AsBytes(PrrPrefix(config.params_version, config.catalog_version)));
  if (!prf.ok()) return prf.status();
  return Encoder(config.params, config.num_pinsets, *std::move(prf), irr_source);
}

Encoder::Encoder(const Params& params, int num_pinsets, PrefixedHmacSha256 prf,
                 RandomSource* irr_source)
    : params_(params),
      num_pinsets_(num_pinsets),
      prf_(std::move(prf)),
      irr_source_(irr_source),
      prr_threshold_(PrrThreshold(params.f())),
      irr_if_zero_(ExactBernoulli::FromProbability(params.p())),
      irr_if_one_(ExactBernoulli::FromProbability(params.q())) {
  if (!params_.ReportsAllPinsets(num_pinsets_)) marks_.assign(num_pinsets_, 0);
}

absl::StatusOr<bool> Encoder::PrrBit(uint32_t pinset, uint32_t bit_index, bool true_bit) {
  uint8_t suffix[9];
  for (int i = 0; i < 4; ++i) {
    suffix[i] = static_cast<uint8_t>(pinset >> (24 - 8 * i));
    suffix[4 + i] = static_cast<uint8_t>(bit_index >> (24 - 8 * i));
  }
  suffix[8] = true_bit ? 1 : 0;
  absl::StatusOr<PrefixedHmacSha256::Digest> digest = prf_.Mac(suffix);
  if (!digest.ok()) return digest.status();
  uint64_t u = 0;
  for (int i = 0; i < 8; ++i) u = (u << 8) | (*digest)[i];
  if (u < prr_threshold_) return true;
  if (u < 2 * prr_threshold_) return false;
  return true_bit;
}

absl::StatusOr<bool> Encoder::PermanentBit(uint32_t pinset, int bit_index, bool true_bit) {
  if (pinset >= static_cast<uint32_t>(num_pinsets_)) {
    return absl::InvalidArgumentError(
        absl::StrCat("pinset ", pinset, " is out of range for K = ", num_pinsets_));
  }
  if (bit_index < 0 || bit_index >= params_.bits_per_pinset()) {
    return absl::InvalidArgumentError(absl::StrCat("bit index ", bit_index, " is out of range"));
  }
  return PrrBit(pinset, static_cast<uint32_t>(bit_index), true_bit);
}

void Encoder::ChooseSubset(absl::Span<const uint64_t> words, std::vector<uint32_t>& chosen) {
  // Floyd's algorithm (Bentley and Floyd, "A sample of brilliance", CACM 1987): every s-subset of
  // [0, K) is equally likely.
  const uint32_t k = static_cast<uint32_t>(num_pinsets_);
  const uint32_t s = static_cast<uint32_t>(words.size());
  chosen.clear();
  for (uint32_t j = k - s, w = 0; j < k; ++j, ++w) {
    uint32_t t = UniformBelowFrom(words[w], j + 1, *irr_source_);
    if (marks_[t]) t = j;
    marks_[t] = 1;
    chosen.push_back(t);
  }
  for (uint32_t index : chosen) marks_[index] = 0;
  std::sort(chosen.begin(), chosen.end());
}

absl::StatusOr<EncodedReport> Encoder::Encode(absl::Span<const PinsetState> states) {
  if (params_.bits_per_pinset() != kStateBits) {
    return absl::FailedPreconditionError(absl::StrCat(
        "Encode maps states to ", kStateBits,
        " bits but bits_per_pinset = ", params_.bits_per_pinset(), "; use EncodeTrueBits"));
  }
  if (states.size() != static_cast<size_t>(num_pinsets_)) {
    return absl::InvalidArgumentError(
        absl::StrCat("got ", states.size(), " states; expected K = ", num_pinsets_));
  }
  std::vector<uint8_t> true_bits(states.size() * kStateBits);
  for (size_t i = 0; i < states.size(); ++i) {
    if (!IsValidState(states[i])) {
      return absl::InvalidArgumentError(absl::StrCat(
          "state of pinset ", i, " is ", static_cast<int>(states[i]), "; expected 0, 1 or 2"));
    }
    true_bits[i * kStateBits + kCheckedBit] = TrueBit(states[i], kCheckedBit);
    true_bits[i * kStateBits + kViolatedBit] = TrueBit(states[i], kViolatedBit);
  }
  return EncodeTrueBits(true_bits);
}

absl::StatusOr<EncodedReport> Encoder::EncodeTrueBits(absl::Span<const uint8_t> true_bits) {
  const int bits_per_pinset = params_.bits_per_pinset();
  if (true_bits.size() != static_cast<size_t>(num_pinsets_) * bits_per_pinset) {
    return absl::InvalidArgumentError(absl::StrCat(
        "got ", true_bits.size(), " true bits; expected ", num_pinsets_ * bits_per_pinset));
  }
  for (size_t j = 0; j < true_bits.size(); ++j) {
    if (true_bits[j] > 1) {
      return absl::InvalidArgumentError(absl::StrCat("true bit ", j, " is not 0 or 1"));
    }
  }
  const bool all = params_.ReportsAllPinsets(num_pinsets_);
  const size_t reported = static_cast<size_t>(params_.ReportedPinsets(num_pinsets_));
  const size_t num_bits = reported * bits_per_pinset;
  const size_t subset_words = all ? 0 : reported;

  // All of the ping's IRR randomness in one call: subset draws, then one word per reported bit.
  words_.resize(subset_words + num_bits);
  irr_source_->Fill(absl::MakeSpan(words_));

  EncodedReport report;
  if (!all) ChooseSubset(absl::MakeConstSpan(words_).first(subset_words), report.pinset_indices);
  report.bits.assign(PackedSize(num_bits), 0);
  const uint64_t* irr_words = words_.data() + subset_words;
  for (size_t pos = 0; pos < reported; ++pos) {
    const uint32_t pinset = all ? static_cast<uint32_t>(pos) : report.pinset_indices[pos];
    for (int k = 0; k < bits_per_pinset; ++k) {
      const bool truth = true_bits[static_cast<size_t>(pinset) * bits_per_pinset + k] != 0;
      absl::StatusOr<bool> prr = PrrBit(pinset, static_cast<uint32_t>(k), truth);
      if (!prr.ok()) return prr.status();
      const size_t j = ReportBitIndex(pos, k, bits_per_pinset);
      const bool out = *prr ? irr_if_one_.Sample(irr_words[j]) : irr_if_zero_.Sample(irr_words[j]);
      if (out) report.bits[j / 8] |= static_cast<uint8_t>(1u << (j % 8));
    }
  }
  return report;
}

}  // namespace privacy
