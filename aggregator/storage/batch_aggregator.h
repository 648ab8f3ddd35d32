// batch_aggregator.h: sums the counts of one commit batch in memory before they are written.
//
// A backend dedups the ping ids of a batch and passes each newly seen ping to Add; it then writes
// one upsert per (group, pinset) row from ForEachRow instead of one per ping and bit, which is
// what makes group commit cheap (a batch of thousands of pings touches a few hundred rows).
//
//   BatchAggregator agg;
//   for (const PingRecord& p : pings) if (newly_seen(p)) agg.Add(p);
//   agg.ForEachRow([&](const CountRow& row) { upsert(row); });
//   agg.Clear();
//
// Not thread-safe; one per writer.
#ifndef AGGREGATOR_STORAGE_BATCH_AGGREGATOR_H_
#define AGGREGATOR_STORAGE_BATCH_AGGREGATOR_H_

#include <cstdint>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/hash/hash.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "aggregator/storage/count_store.h"

namespace pinning::aggregator {

// ValidatePingRecord checks the PingRecord contract of count_store.h (id length, bits per pinset,
// pinset indices, bit length and zero padding). INVALID_ARGUMENT naming the violation.
[[nodiscard]] absl::Status ValidatePingRecord(const PingRecord& ping);

class BatchAggregator {
 public:
  BatchAggregator() = default;
  BatchAggregator(const BatchAggregator&) = delete;
  BatchAggregator& operator=(const BatchAggregator&) = delete;

  // Add adds the counts of `ping`, which must satisfy ValidatePingRecord. The ping's string views
  // must stay valid until Clear().
  void Add(const PingRecord& ping);

  // ForEachRow calls `fn` with the group row and every pinset row with reports > 0, in no
  // particular order.
  void ForEachRow(absl::FunctionRef<void(const CountRow&)> fn) const;

  // Clear forgets everything added.
  void Clear();

  // empty returns true when nothing was added since the last Clear.
  bool empty() const { return groups_.empty(); }

 private:
  struct GroupKey {
    DayNumber day;
    uint32_t params_version;
    absl::string_view catalog_version;
    absl::string_view product;
    absl::string_view channel;
    uint32_t major_version;

    friend bool operator==(const GroupKey& a, const GroupKey& b) {
      return a.day == b.day && a.params_version == b.params_version &&
             a.major_version == b.major_version && a.catalog_version == b.catalog_version &&
             a.product == b.product && a.channel == b.channel;
    }
    template <typename H>
    friend H AbslHashValue(H h, const GroupKey& k) {
      return H::combine(std::move(h), k.day, k.params_version, k.catalog_version, k.product,
                        k.channel, k.major_version);
    }
  };
  struct PinsetCells {
    int64_t reports = 0;
    std::array<int64_t, kMaxBitsPerPinset> ones{};
  };
  struct GroupCounts {
    int64_t pings = 0;
    std::vector<PinsetCells> pinsets;  // indexed by pinset, size K
  };

  absl::flat_hash_map<GroupKey, GroupCounts, absl::Hash<GroupKey>> groups_;
};

}  // namespace pinning::aggregator

#endif  // AGGREGATOR_STORAGE_BATCH_AGGREGATOR_H_
