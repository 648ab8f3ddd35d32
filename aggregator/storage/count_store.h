// count_store.h: the storage interface of the aggregator: bit counts with exactly-once ingest,
// plus the published parameters, catalogs, rollout events and audit records.
//
// Counts are sufficient statistics (DESIGN §2). For every group (day, params version, catalog
// version, dimensions) the store keeps:
//   - the number of pings of the group (a row with pinset == kGroupTotalPinset), and
//   - per pinset: `reports`, the number of pings that reported the pinset (all of them when the
//     parameters report all K pinsets), and `ones[b]`, how many of those had reported bit b set.
// Counts are additive: importing, sharding and merging add rows.
//
// Exactly once: CommitBatch records each ping id in the same transaction as the counts and adds a
// ping's counts only when its id was not seen before, so a retried ping is never counted twice,
// even across crashes. Ids are keyed by (day, ping id): a genuine retry repeats the whole ping,
// day included, and keying by day first makes PruneSeenPings a cheap range delete. Ids older than
// the retention window are pruned; the accepted day window must lie inside it (the validator
// enforces that), otherwise a retry of a pruned id would be counted again.
//
//   std::unique_ptr<CountStore> store = ...;  // e.g. SqliteStore::Open(...)
//   std::vector<CommitOutcome> outcomes(records.size());
//   RETURN_IF_ERROR(store->CommitBatch(records, absl::MakeSpan(outcomes)));
//   RETURN_IF_ERROR(store->ForEachCount(query, [&](const CountRow& row) { ... }));
//
// Thread safety: implementations are safe to call from several threads; CommitBatch calls are
// serialized internally, reads may run concurrently with a commit.
#ifndef AGGREGATOR_STORAGE_COUNT_STORE_H_
#define AGGREGATOR_STORAGE_COUNT_STORE_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "aggregator/storage/day.h"
#include "proto/catalog.pb.h"
#include "proto/params.pb.h"
#include "proto/query.pb.h"

namespace pinning::aggregator {

// kPingIdBytes is the exact length of a ping id.
inline constexpr int kPingIdBytes = 16;
// kMaxBitsPerPinset is the largest bits_per_pinset the store can count (columns ones0..ones3).
inline constexpr int kMaxBitsPerPinset = 4;
// kGroupTotalPinset marks the CountRow holding a group's number of pings (in `reports`).
inline constexpr int32_t kGroupTotalPinset = -1;

// PingRecord is one validated ping as the store sees it. Every view must stay valid for the
// duration of the call that receives it.
struct PingRecord {
  // Exactly kPingIdBytes bytes.
  absl::string_view ping_id;
  DayNumber day = 0;
  uint32_t params_version = 0;
  absl::string_view catalog_version;
  absl::string_view product;
  absl::string_view channel;
  uint32_t major_version = 0;
  // K of the catalog version.
  uint32_t num_pinsets = 0;
  // 1..kMaxBitsPerPinset.
  uint32_t bits_per_pinset = 0;
  // Reported pinsets, strictly ascending, each < num_pinsets; empty means all K.
  absl::Span<const uint32_t> pinset_indices;
  // Packed bits as in proto/ping.proto: bit j = (bits[j / 8] >> (j % 8)) & 1 with
  // j = position_among_reported * bits_per_pinset + bit_index.
  absl::string_view bits;
};

// CommitOutcome says what CommitBatch did with one ping.
enum class CommitOutcome : uint8_t {
  kCounted,    // first time this id was seen; its counts were added
  kDuplicate,  // id already seen; nothing added
};

// CountRow is one stored count row. Views are valid only during the callback (ForEachCount) or
// the call (AddCounts) that carries them.
struct CountRow {
  DayNumber day = 0;
  uint32_t params_version = 0;
  absl::string_view catalog_version;
  absl::string_view product;
  absl::string_view channel;
  uint32_t major_version = 0;
  // Pinset index, or kGroupTotalPinset for the group's ping count.
  int32_t pinset = kGroupTotalPinset;
  // Pings that reported the pinset (group row: pings of the group).
  int64_t reports = 0;
  // ones[b]: of those pings, how many had reported bit b set (zero in group rows and for
  // b >= bits_per_pinset).
  std::array<int64_t, kMaxBitsPerPinset> ones{};
};

// CountQuery selects count rows. Empty strings and zero numbers match everything.
struct CountQuery {
  // Inclusive day range.
  DayNumber from_day = 0;
  DayNumber to_day = 0;
  uint32_t params_version = 0;
  std::string product;
  std::string channel;
  uint32_t major_version = 0;
  // Whether group rows (pinset == kGroupTotalPinset) are returned too.
  bool include_group_totals = false;
  // A hint for callers that add counts over dimensions anyway (the decoder): when no dimension
  // filter is set, the store may return rows already summed over dimensions, with empty product
  // and channel and major_version 0, which is much faster when there are many dimension
  // combinations. Callers must accept either form.
  bool sum_dimensions = false;
};

// EventFilter selects rollout events. Empty fields match everything; days are inclusive.
struct EventFilter {
  std::string from_day;
  std::string to_day;
  std::string organization;
};

// CountStore is implemented by each storage backend (SQLite now, PostgreSQL later). The reusable
// conformance suite in count_store_test_suite.h runs against every backend.
class CountStore {
 public:
  virtual ~CountStore() = default;

  // ---- Counts and exactly-once ingest ----

  // CommitBatch atomically records the ids of `pings` and adds the counts of those whose id was
  // not seen before (including earlier in the same batch); outcomes[i] tells which. The batch is
  // durable when OK is returned. On error nothing is recorded (the transaction is rolled back),
  // `outcomes` is unspecified and the error is UNAVAILABLE (storage failure) or INVALID_ARGUMENT
  // (a record violating PingRecord's contract). Requires outcomes.size() == pings.size().
  [[nodiscard]] virtual absl::Status CommitBatch(absl::Span<const PingRecord> pings,
                                                 absl::Span<CommitOutcome> outcomes) = 0;

  // ForEachCount calls `fn` for every count row matching `query`, ordered by day. Rows with zero
  // reports are never stored. `fn` must not call back into the store.
  [[nodiscard]] virtual absl::Status ForEachCount(const CountQuery& query,
                                                  absl::FunctionRef<void(const CountRow&)> fn) = 0;

  // AddCounts adds `rows` to the stored counts in one transaction (import, merging shards). It
  // does not touch ping ids. INVALID_ARGUMENT for negative counts or bad fields.
  [[nodiscard]] virtual absl::Status AddCounts(absl::Span<const CountRow> rows) = 0;

  // PruneSeenPings forgets the ids of pings whose day is before `first_kept_day` and returns how
  // many were removed.
  [[nodiscard]] virtual absl::StatusOr<int64_t> PruneSeenPings(DayNumber first_kept_day) = 0;

  // SeenPingCount returns how many ping ids are currently remembered. It may visit every id: for
  // tests, tools and occasional metrics, not for the ingest path.
  [[nodiscard]] virtual absl::StatusOr<int64_t> SeenPingCount() = 0;

  // ---- Published parameters and catalogs ----

  // PutParamsVersion stores a published parameter version. ALREADY_EXISTS when the version number
  // is taken (versions are immutable).
  [[nodiscard]] virtual absl::Status PutParamsVersion(const v1::ParamsVersion& params) = 0;
  // ListParamsVersions returns every stored version, oldest (lowest number) first.
  [[nodiscard]] virtual absl::StatusOr<std::vector<v1::ParamsVersion>> ListParamsVersions() = 0;

  // PutCatalog stores a catalog under catalog.version() (non-empty). Storing the same content
  // again is a no-op; different content under an existing version is ALREADY_EXISTS.
  [[nodiscard]] virtual absl::Status PutCatalog(const v1::Catalog& catalog) = 0;
  // GetCatalog returns the catalog of `version`; NOT_FOUND when unknown.
  [[nodiscard]] virtual absl::StatusOr<v1::Catalog> GetCatalog(absl::string_view version) = 0;
  // ListCatalogVersions returns stored catalog versions in the order they were first stored.
  [[nodiscard]] virtual absl::StatusOr<std::vector<std::string>> ListCatalogVersions() = 0;

  // ---- Rollout events and audit ----

  // AddEvent stores `event` with a fresh id (> every earlier id) and returns it as stored.
  [[nodiscard]] virtual absl::StatusOr<v1::RolloutEvent> AddEvent(
      const v1::RolloutEvent& event) = 0;
  // ListEvents returns matching events ordered by day, then id.
  [[nodiscard]] virtual absl::StatusOr<std::vector<v1::RolloutEvent>> ListEvents(
      const EventFilter& filter) = 0;

  // AddAudit stores `record` with a fresh id and returns it as stored.
  [[nodiscard]] virtual absl::StatusOr<v1::AuditRecord> AddAudit(const v1::AuditRecord& record) = 0;
  // ListAudit returns the newest `limit` records (all when limit == 0), newest first.
  [[nodiscard]] virtual absl::StatusOr<std::vector<v1::AuditRecord>> ListAudit(uint32_t limit) = 0;
};

}  // namespace pinning::aggregator

#endif  // AGGREGATOR_STORAGE_COUNT_STORE_H_
