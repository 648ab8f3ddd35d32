// validator.h: checks every incoming ping against the wire contract (DESIGN §7).
//
// A ping is accepted only when every field is well formed and consistent with its published
// params and catalog versions. Each refusal is an absl::Status with a precise code, a message
// naming the offending field, and a reason label (rejection.h) counted in
// `pinning_ingest_rejected_total{reason}`; a refused ping is never counted.
//
//   ASSIGN_OR_RETURN(std::unique_ptr<Validator> validator,
//                    Validator::Create(options, &version_lookup, &metrics));
//   absl::StatusOr<ValidPingInfo> info = validator->Validate(ping);
//   if (!info.ok()) return info.status();    // already counted as a rejection
//   committer->Submit(std::move(ping), *info, std::move(done));
//
// Codes and reasons:
//   INVALID_ARGUMENT (malformed): ping_too_large, bad_ping_id, bad_day_format,
//     missing_params_version, missing_catalog_version, params_catalog_mismatch,
//     unexpected_pinset_indices, bad_pinset_count, pinset_indices_not_ascending,
//     pinset_index_out_of_range, bad_bits_length, nonzero_bits_padding, unknown_product,
//     unknown_channel, bad_major_version
//   FAILED_PRECONDITION (not acceptable now): unknown_params_version, unknown_catalog_version,
//     unsupported_params, day_in_future, day_too_old
//
// Day window and exactly-once: a ping for day d is accepted while
//   today - max_age_days <= d <= today + max_future_days
// (max_future_days is the clock-skew allowance: clients near a date line are a day ahead of UTC).
// Its id is remembered until the store prunes days before today - retention_days. Create requires
// retention_days > max_age_days, so every ping that can still be accepted has its id remembered and
// a retry is recognised (the extra day covers a validator and a pruner that disagree on "today"
// around midnight).
//
// Thread safety: Validate is const and safe to call concurrently.
#ifndef AGGREGATOR_INGEST_VALIDATOR_H_
#define AGGREGATOR_INGEST_VALIDATOR_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "aggregator/ingest/version_lookup.h"
#include "aggregator/metrics/metrics.h"
#include "aggregator/storage/day.h"
#include "proto/ping.pb.h"

namespace pinning::aggregator {

// DayWindow is the accepted day range and the dedup retention (see the file comment).
struct DayWindow {
  int32_t max_future_days = 1;
  int32_t max_age_days = 7;
  int32_t retention_days = 8;

  // Validate checks non-negative values and retention_days > max_age_days.
  [[nodiscard]] absl::Status Validate() const;
  // FirstKeptIdDay is the oldest day whose ping ids must still be remembered on `today`.
  DayNumber FirstKeptIdDay(DayNumber today) const { return today - retention_days; }
};

struct ValidatorOptions {
  // Allowed products and channels. An empty dimension on a ping means "unknown" and is always
  // accepted. An empty list here allows no value other than "unknown".
  std::vector<std::string> products = {"chrome", "firefox"};
  std::vector<std::string> channels = {"stable", "beta", "dev", "nightly"};
  // Allowed major versions (inclusive); 0 on a ping means unknown and is always accepted.
  uint32_t min_major_version = 1;
  uint32_t max_major_version = 1000;
  DayWindow window;
  // Largest accepted serialized ping.
  size_t max_ping_bytes = 4096;
  // Clock; tests inject a fixed time.
  std::function<absl::Time()> now = [] { return absl::Now(); };
};

// ValidPingInfo is what validation derived from an accepted ping, needed to count it.
struct ValidPingInfo {
  DayNumber day = 0;
  // K of the ping's catalog version.
  uint32_t num_pinsets = 0;
  uint32_t bits_per_pinset = 0;
};

class Validator {
 public:
  // Create checks `options` (INVALID_ARGUMENT naming the bad option) and registers the rejection
  // counter in `metrics`. `lookup` and `metrics` must outlive the validator.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<Validator>> Create(
      ValidatorOptions options, const VersionLookup* lookup, MetricsRegistry* metrics);

  // Validate accepts `ping` or returns the rejection (see the file comment) after counting it.
  [[nodiscard]] absl::StatusOr<ValidPingInfo> Validate(const v1::Ping& ping) const;

  const ValidatorOptions& options() const { return options_; }

 private:
  Validator(ValidatorOptions options, const VersionLookup* lookup, MetricsRegistry* metrics);
  absl::StatusOr<ValidPingInfo> Check(const v1::Ping& ping) const;

  const ValidatorOptions options_;
  const VersionLookup* const lookup_;
  LabeledCounter* const rejected_;
  const absl::flat_hash_set<std::string> products_;
  const absl::flat_hash_set<std::string> channels_;
};

}  // namespace pinning::aggregator

#endif  // AGGREGATOR_INGEST_VALIDATOR_H_
