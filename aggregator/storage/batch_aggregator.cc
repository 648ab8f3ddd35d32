#include "aggregator/storage/batch_aggregator.h"

#include "absl/strings/str_cat.h"

namespace pinning::aggregator {

absl::Status ValidatePingRecord(const PingRecord& ping) {
  if (ping.ping_id.size() != kPingIdBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("ping_id has ", ping.ping_id.size(), " bytes, want ", kPingIdBytes));
  }
  if (ping.bits_per_pinset < 1 || ping.bits_per_pinset > kMaxBitsPerPinset) {
    return absl::InvalidArgumentError(
        absl::StrCat("bits_per_pinset ", ping.bits_per_pinset, " outside 1..", kMaxBitsPerPinset));
  }
  if (ping.num_pinsets < 1) return absl::InvalidArgumentError("num_pinsets is 0");
  for (size_t i = 0; i < ping.pinset_indices.size(); ++i) {
    if (ping.pinset_indices[i] >= ping.num_pinsets ||
        (i > 0 && ping.pinset_indices[i] <= ping.pinset_indices[i - 1])) {
      return absl::InvalidArgumentError(
          absl::StrCat("pinset_indices must be strictly ascending and < ", ping.num_pinsets));
    }
  }
  const size_t reported =
      ping.pinset_indices.empty() ? ping.num_pinsets : ping.pinset_indices.size();
  const size_t num_bits = reported * ping.bits_per_pinset;
  if (ping.bits.size() != (num_bits + 7) / 8) {
    return absl::InvalidArgumentError(
        absl::StrCat("bits has ", ping.bits.size(), " bytes, want ", (num_bits + 7) / 8));
  }
  if (num_bits % 8 != 0) {
    const uint8_t last = static_cast<uint8_t>(ping.bits.back());
    if ((last >> (num_bits % 8)) != 0) {
      return absl::InvalidArgumentError("bits has non-zero padding bits");
    }
  }
  return absl::OkStatus();
}

void BatchAggregator::Add(const PingRecord& ping) {
  const GroupKey key{ping.day,     ping.params_version, ping.catalog_version,
                     ping.product, ping.channel,        ping.major_version};
  GroupCounts& group = groups_[key];
  if (group.pinsets.size() < ping.num_pinsets) group.pinsets.resize(ping.num_pinsets);
  ++group.pings;
  const uint32_t bpp = ping.bits_per_pinset;
  const auto* bits = reinterpret_cast<const uint8_t*>(ping.bits.data());
  const size_t reported =
      ping.pinset_indices.empty() ? ping.num_pinsets : ping.pinset_indices.size();
  for (size_t pos = 0; pos < reported; ++pos) {
    const uint32_t pinset = ping.pinset_indices.empty() ? pos : ping.pinset_indices[pos];
    PinsetCells& cells = group.pinsets[pinset];
    ++cells.reports;
    for (uint32_t b = 0; b < bpp; ++b) {
      const size_t j = pos * bpp + b;  // proto/ping.proto bit layout
      cells.ones[b] += (bits[j >> 3] >> (j & 7)) & 1;
    }
  }
}

void BatchAggregator::ForEachRow(absl::FunctionRef<void(const CountRow&)> fn) const {
  for (const auto& [key, group] : groups_) {
    CountRow row;
    row.day = key.day;
    row.params_version = key.params_version;
    row.catalog_version = key.catalog_version;
    row.product = key.product;
    row.channel = key.channel;
    row.major_version = key.major_version;
    row.pinset = kGroupTotalPinset;
    row.reports = group.pings;
    fn(row);
    for (size_t i = 0; i < group.pinsets.size(); ++i) {
      const PinsetCells& cells = group.pinsets[i];
      if (cells.reports == 0) continue;
      row.pinset = static_cast<int32_t>(i);
      row.reports = cells.reports;
      row.ones = cells.ones;
      fn(row);
    }
  }
}

void BatchAggregator::Clear() { groups_.clear(); }

}  // namespace pinning::aggregator
