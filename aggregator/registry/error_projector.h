// error_projector.h: projected daily standard errors of each organization's violation rate under
// proposed parameters, at the volume and rates recently observed (PublishParams' dry run).
//
// Model. Over the last `lookback_days` days (today included) the projector reads
//   N     = the average number of pings per day (over days that have pings), and
//   c_i, v_i = the fraction of clients whose pinset i was checked / violated, estimated by the
//           decoder (per pinset name, all params versions combined), clamped to 0 <= v_i <= c_i <= 1.
// Under proposed parameters (f, p, q, s) for a catalog of K pinsets, pinset i is reported by
// n = N·min(s, K)/K pings a day, and a reported bit whose true fraction is x is 1 with probability
// p* + (q* − p*)·x (DESIGN §4). The projector builds those expected counts for every pinset of an
// organization and returns the standard error privacy::EstimateOrganizationRate reports for them:
// the error the estimator would state if a day's counts came out exactly at their expectation.
// Pinsets of the proposed catalog whose name has no recent estimate contribute nothing;
// organizations without any usable estimate are left out.
//
//   ErrorProjector projector(decoder.get(), store.get(), {});
//   ASSIGN_OR_RETURN(std::vector<v1::ProjectedError> errors,
//                    projector.Project(evaluated_version, catalog));
//
// Thread safety: Project may be called concurrently (it only reads).
#ifndef AGGREGATOR_REGISTRY_ERROR_PROJECTOR_H_
#define AGGREGATOR_REGISTRY_ERROR_PROJECTOR_H_

#include <functional>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "aggregator/decode/decoder.h"
#include "aggregator/storage/count_store.h"
#include "proto/catalog.pb.h"
#include "proto/params.pb.h"
#include "proto/query.pb.h"

namespace pinning::aggregator {

struct ErrorProjectorOptions {
  // Days of history used, ending today (UTC).
  int lookback_days = 7;
  // Clock; tests inject one.
  std::function<absl::Time()> now = [] { return absl::Now(); };
};

class ErrorProjector {
 public:
  // `decoder` and `store` must outlive the projector.
  ErrorProjector(Decoder* decoder, CountStore* store, ErrorProjectorOptions options);

  // Project returns one ProjectedError per organization of `catalog` (sorted by organization) for
  // the parameters in `proposed` (its epsilons and version are ignored). Empty when there were no
  // recent pings. UNAVAILABLE when the store fails; INVALID_ARGUMENT for invalid parameters.
  [[nodiscard]] absl::StatusOr<std::vector<v1::ProjectedError>> Project(
      const v1::ParamsVersion& proposed, const v1::Catalog& catalog) const;

 private:
  Decoder* const decoder_;
  CountStore* const store_;
  const ErrorProjectorOptions options_;
};

}  // namespace pinning::aggregator

#endif  // AGGREGATOR_REGISTRY_ERROR_PROJECTOR_H_
