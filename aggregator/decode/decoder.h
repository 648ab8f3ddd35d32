// decoder.h: turns stored bit counts into violation rates with confidence intervals.
//
// Rates answers a RatesRequest (proto/query.proto) from the counts of a CountStore:
//   1. read the count rows of the day range that match the dimension filter;
//   2. within one params version, add the counts of every day (or of each day, when per_day) and
//      every matching dimension combination, per pinset, and map the pinset index to its name and
//      organization through the stored catalog of the row's catalog version;
//   3. estimate each series' rate per params version with privacy/estimator.h
//      (EstimateViolationRate for a pinset, EstimateOrganizationRate for an organization's
//      pinsets), then combine the params versions by inverse-variance weighting
//      (CombineByInverseVariance). Counts of different params versions never add: their noise
//      differs, so their unbiased estimates are combined instead (DESIGN §4).
// A point without any usable estimate is reported with sufficient = false and the estimator's
// reason ("no reports", "checked estimate <= 0", ...); then only `insufficient_reason` and `pings`
// are set. With per_day, every series has one point for every day of the range (days without
// reports are insufficient points), so charts need no gap filling.
//
// `pings` of a point: for a pinset, the pings that reported it; for an organization, the sum over
// params versions of the largest report count among its pinsets (exact when pings report every
// pinset, s = K; a lower bound on the pings that reported any of them when s < K).
// Pinsets without an organization in the catalog are grouped under "(no organization)".
//
//   Decoder decoder(store.get());
//   v1::RatesRequest request;
//   request.set_from_day("2024-03-01");
//   request.set_to_day("2024-03-31");
//   request.set_group_by(v1::GROUP_BY_ORGANIZATION);
//   request.set_per_day(true);
//   ASSIGN_OR_RETURN(v1::RatesResponse response, decoder.Rates(request));
//
// Series are sorted by key; points by day. Series are listed for every key that has at least one
// count row in the range (restricted to request.keys when given).
//
// Thread safety: Rates may be called concurrently. Parsed catalogs and params versions (both
// immutable once published) are cached.
#ifndef AGGREGATOR_DECODE_DECODER_H_
#define AGGREGATOR_DECODE_DECODER_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "aggregator/storage/count_store.h"
#include "privacy/params.h"
#include "proto/catalog.pb.h"
#include "proto/params.pb.h"
#include "proto/query.pb.h"

namespace pinning::aggregator {

struct DecoderOptions {
  // Longest accepted day range, inclusive (INVALID_ARGUMENT beyond it).
  int32_t max_range_days = 3 * 366;
};

class Decoder {
 public:
  // `store` must outlive the decoder.
  explicit Decoder(CountStore* store, DecoderOptions options = {});
  Decoder(const Decoder&) = delete;
  Decoder& operator=(const Decoder&) = delete;

  // Rates decodes `request`. INVALID_ARGUMENT for a malformed or reversed day range or one longer
  // than max_range_days; UNAVAILABLE when the store fails. Rows whose params version or catalog is
  // not stored are skipped (they cannot be decoded).
  [[nodiscard]] absl::StatusOr<v1::RatesResponse> Rates(const v1::RatesRequest& request)
      ABSL_LOCKS_EXCLUDED(mu_);

 private:
  // CatalogInfo is the part of a catalog the decoder needs: each pinset's name and organization.
  struct CatalogInfo {
    std::vector<std::string> names;
    std::vector<std::string> organizations;
  };
  using CatalogMap = absl::flat_hash_map<std::string, std::shared_ptr<const CatalogInfo>>;
  using ParamsMap = absl::flat_hash_map<uint32_t, privacy::Params>;
  // Refresh loads catalogs and params versions stored since the last call into the caches and
  // returns snapshots of both. (The count scan cannot call back into the store, so everything it
  // needs is loaded first.) Params versions with fewer than 2 bits per pinset cannot be decoded
  // and are left out.
  absl::Status Refresh(CatalogMap* catalogs, ParamsMap* params) ABSL_LOCKS_EXCLUDED(mu_);

  CountStore* const store_;
  const DecoderOptions options_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::shared_ptr<const CatalogInfo>> catalogs_
      ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<uint32_t, privacy::Params> params_ ABSL_GUARDED_BY(mu_);
};

}  // namespace pinning::aggregator

#endif  // AGGREGATOR_DECODE_DECODER_H_
