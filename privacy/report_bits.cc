#include "privacy/report_bits.h"

#include "absl/strings/str_cat.h"

namespace privacy {

std::vector<uint8_t> PackBits(absl::Span<const uint8_t> bits) {
  std::vector<uint8_t> packed(PackedSize(bits.size()), 0);
  for (size_t j = 0; j < bits.size(); ++j) {
    if (bits[j] != 0) packed[j / 8] |= static_cast<uint8_t>(1u << (j % 8));
  }
  return packed;
}

absl::Status ValidateReport(const EncodedReport& report, const Params& params, int num_pinsets) {
  if (absl::Status status = params.ValidateFor(num_pinsets); !status.ok()) return status;
  const size_t expected_indices =
      params.ReportsAllPinsets(num_pinsets) ? 0 : static_cast<size_t>(params.pinsets_per_ping());
  if (report.pinset_indices.size() != expected_indices) {
    return absl::InvalidArgumentError(absl::StrCat("report lists ", report.pinset_indices.size(),
                                                   " pinset indices; expected ", expected_indices));
  }
  for (size_t i = 0; i < report.pinset_indices.size(); ++i) {
    const uint32_t index = report.pinset_indices[i];
    if (index >= static_cast<uint32_t>(num_pinsets)) {
      return absl::InvalidArgumentError(
          absl::StrCat("pinset index ", index, " is out of range for K = ", num_pinsets));
    }
    if (i > 0 && index <= report.pinset_indices[i - 1]) {
      return absl::InvalidArgumentError("pinset indices are not strictly ascending");
    }
  }
  const size_t num_bits = static_cast<size_t>(params.ReportedBits(num_pinsets));
  if (report.bits.size() != PackedSize(num_bits)) {
    return absl::InvalidArgumentError(
        absl::StrCat("report has ", report.bits.size(), " bytes of bits; expected ",
                     PackedSize(num_bits), " for ", num_bits, " bits"));
  }
  if (num_bits % 8 != 0) {
    const uint8_t unused_mask = static_cast<uint8_t>(0xFFu << (num_bits % 8));
    if ((report.bits.back() & unused_mask) != 0) {
      return absl::InvalidArgumentError("unused high bits of the last byte are not zero");
    }
  }
  return absl::OkStatus();
}

}  // namespace privacy
