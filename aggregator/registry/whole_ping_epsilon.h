// whole_ping_epsilon.h: validates wire-format randomization parameters and computes the
// whole-ping epsilons of DESIGN §4 with the privacy library.
//
//   ASSIGN_OR_RETURN(WholePingEpsilon eps, ComputeWholePingEpsilon(params, /*num_pinsets=*/40));
//   // eps.one: one ping, all 2*min(s, K) reported bits; eps.inf: unlimited pings (PRR only).
#ifndef AGGREGATOR_REGISTRY_WHOLE_PING_EPSILON_H_
#define AGGREGATOR_REGISTRY_WHOLE_PING_EPSILON_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "privacy/params.h"
#include "proto/params.pb.h"

namespace pinning::aggregator {

struct WholePingEpsilon {
  // Whole-ping epsilon of one ping (m = bits_per_pinset * min(s, K) bits); +infinity when p* = 0
  // or q* = 1.
  double one = 0;
  // Whole-ping epsilon of unlimited pings of the same truth: bits_per_pinset * K PRR bits, since
  // over many days every pinset gets reported (privacy::Params::EpsilonInf); +infinity when f = 0.
  double inf = 0;
};

// ToPrivacyParams builds privacy::Params from the wire form (INVALID_ARGUMENT naming the
// parameter when out of range).
[[nodiscard]] absl::StatusOr<privacy::Params> ToPrivacyParams(
    const v1::RandomizationParams& params);

// ComputeWholePingEpsilon validates `params` (every field explicit: s >= 1 and bits >= 1) for a
// catalog of `num_pinsets` pinsets and returns its epsilons. INVALID_ARGUMENT naming the parameter
// for out-of-range values (the privacy library's ParamsBuilder rules, plus s <= K).
[[nodiscard]] absl::StatusOr<WholePingEpsilon> ComputeWholePingEpsilon(
    const v1::RandomizationParams& params, uint32_t num_pinsets);

}  // namespace pinning::aggregator

#endif  // AGGREGATOR_REGISTRY_WHOLE_PING_EPSILON_H_
