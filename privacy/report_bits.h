// report_bits.h: the layout of an encoded ping (DESIGN §5) shared by the encoder and the
// aggregator.
//
// A ping reports m = bits_per_pinset · min(s, K) randomized bits. When s < K it also lists the
// reported pinsets' indices, strictly ascending; when s >= K the list is empty and every pinset is
// reported in catalog order. Bits are packed LSB first:
//   report bit j is (bits[j / 8] >> (j % 8)) & 1,
//   j = (position of the pinset among the reported ones) · bits_per_pinset + bit_index,
// in ceil(m / 8) bytes whose unused high bits are zero.
//
// Usage (aggregator side):
//   RETURN_IF_ERROR(ValidateReport(report, params, catalog_size));
//   for (int pos = 0; pos < params.ReportedPinsets(catalog_size); ++pos) {
//     uint32_t pinset = report.pinset_indices.empty() ? pos : report.pinset_indices[pos];
//     bool checked = UnpackBit(report.bits, ReportBitIndex(pos, kCheckedBit, bits_per_pinset));
//   }
#ifndef PRIVACY_REPORT_BITS_H_
#define PRIVACY_REPORT_BITS_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/base/attributes.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "privacy/params.h"

namespace privacy {

// EncodedReport is the randomized payload of one ping.
struct EncodedReport {
  // Reported pinsets, strictly ascending; empty when every pinset is reported (s >= K).
  std::vector<uint32_t> pinset_indices;
  // The randomized bits, packed LSB first as described above.
  std::vector<uint8_t> bits;

  friend bool operator==(const EncodedReport& a, const EncodedReport& b) {
    return a.pinset_indices == b.pinset_indices && a.bits == b.bits;
  }
};

// PackedSize returns ceil(num_bits / 8).
constexpr size_t PackedSize(size_t num_bits) { return (num_bits + 7) / 8; }

// ReportBitIndex returns j = position · bits_per_pinset + bit_index.
constexpr size_t ReportBitIndex(size_t position, int bit_index, int bits_per_pinset) {
  return position * static_cast<size_t>(bits_per_pinset) + static_cast<size_t>(bit_index);
}

// PackBits packs `bits` (each 0 or non-zero) LSB first into ceil(n/8) bytes, high bits zero.
std::vector<uint8_t> PackBits(absl::Span<const uint8_t> bits);

// UnpackBit returns bit j of a packed array; false when j is beyond it.
inline bool UnpackBit(absl::Span<const uint8_t> packed, size_t j) {
  return j / 8 < packed.size() && ((packed[j / 8] >> (j % 8)) & 1) != 0;
}

// UnpackBit for the wire form (a protobuf `bytes` field is a std::string).
inline bool UnpackBit(absl::string_view packed, size_t j) {
  return UnpackBit(
      absl::Span<const uint8_t>(reinterpret_cast<const uint8_t*>(packed.data()), packed.size()), j);
}

// ValidateReport checks a report's shape against the parameters and catalog size: index count (s
// when s < K, 0 otherwise), indices strictly ascending and < K, byte length ceil(m/8), unused high
// bits zero. INVALID_ARGUMENT naming the first problem otherwise. `params` must pass
// ValidateFor(num_pinsets).
ABSL_MUST_USE_RESULT absl::Status ValidateReport(const EncodedReport& report, const Params& params,
                                                 int num_pinsets);

}  // namespace privacy

#endif  // PRIVACY_REPORT_BITS_H_
