#include "privacy/simulation.h"

#include <array>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "privacy/encoder.h"
#include "privacy/pinset_state.h"
#include "privacy/random_source.h"
#include "privacy/report_bits.h"

namespace privacy {
namespace {

absl::StatusOr<std::vector<double>> PerPinset(const std::vector<double>& values, int k,
                                              const char* name) {
  if (values.size() != 1 && values.size() != static_cast<size_t>(k)) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, " has ", values.size(), " values; expected 1 or K = ", k));
  }
  for (double v : values) {
    if (!(v >= 0 && v <= 1)) {
      return absl::InvalidArgumentError(absl::StrCat(name, " value ", v, " is not in [0, 1]"));
    }
  }
  if (values.size() == 1) return std::vector<double>(k, values[0]);
  return values;
}

}  // namespace

absl::StatusOr<SimulationResult> SimulatePopulation(const PopulationSpec& spec) {
  if (absl::Status status = spec.params.ValidateFor(spec.num_pinsets); !status.ok()) return status;
  if (spec.params.bits_per_pinset() != kStateBits) {
    return absl::InvalidArgumentError(
        "the simulator draws daily states: bits_per_pinset must be 2");
  }
  if (spec.num_clients < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("num_clients = ", spec.num_clients, " is invalid: must be >= 0"));
  }
  const int k = spec.num_pinsets;
  absl::StatusOr<std::vector<double>> check = PerPinset(spec.check_fraction, k, "check_fraction");
  if (!check.ok()) return check.status();
  absl::StatusOr<std::vector<double>> violation =
      PerPinset(spec.violation_rate, k, "violation_rate");
  if (!violation.ok()) return violation.status();
  std::vector<ExactBernoulli> check_coin, violation_coin;
  for (int i = 0; i < k; ++i) {
    check_coin.push_back(ExactBernoulli::FromProbability((*check)[i]));
    violation_coin.push_back(ExactBernoulli::FromProbability((*violation)[i]));
  }

  SeededRandomSource rng(spec.seed);
  SimulationResult result;
  result.counts.assign(k, PinsetCounts{});
  result.truth.assign(k, PinsetCounts{});
  const EncoderConfig config = {.params = spec.params,
                                .num_pinsets = k,
                                .params_version = spec.params_version,
                                .catalog_version = spec.catalog_version};
  const bool all = spec.params.ReportsAllPinsets(k);
  const int reported = spec.params.ReportedPinsets(k);
  std::vector<PinsetState> states(k);
  std::array<uint8_t, kClientSecretSize> secret;
  for (int64_t client = 0; client < spec.num_clients; ++client) {
    rng.FillBytes(absl::MakeSpan(secret));
    absl::StatusOr<Encoder> encoder = Encoder::Create(config, secret, &rng);
    if (!encoder.ok()) return encoder.status();
    for (int i = 0; i < k; ++i) {
      const bool checked = check_coin[i].Sample(rng.NextUint64());
      const bool violated = checked && violation_coin[i].Sample(rng.NextUint64());
      states[i] = violated  ? PinsetState::kViolated
                  : checked ? PinsetState::kCheckedOk
                            : PinsetState::kNotChecked;
    }
    absl::StatusOr<EncodedReport> report = encoder->Encode(states);
    if (!report.ok()) return report.status();
    for (int pos = 0; pos < reported; ++pos) {
      const uint32_t pinset = all ? static_cast<uint32_t>(pos) : report->pinset_indices[pos];
      PinsetCounts& counts = result.counts[pinset];
      PinsetCounts& truth = result.truth[pinset];
      ++counts.reports;
      counts.checked_ones += UnpackBit(report->bits, ReportBitIndex(pos, kCheckedBit, kStateBits));
      counts.violated_ones +=
          UnpackBit(report->bits, ReportBitIndex(pos, kViolatedBit, kStateBits));
      ++truth.reports;
      truth.checked_ones += TrueBit(states[pinset], kCheckedBit);
      truth.violated_ones += TrueBit(states[pinset], kViolatedBit);
    }
  }
  return result;
}

}  // namespace privacy
