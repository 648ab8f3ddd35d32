// simulation.h: runs the real encoder over a synthetic population with known rates and collects
// the counts an aggregator would store, with the ground truth beside them.
//
// Every simulated client draws a fresh 32-byte secret and its day's states: pinset i is checked
// with probability check_fraction[i] and, if checked, violated with probability
// violation_rate[i], independently across pinsets and clients. Its ping is produced by Encoder
// (HMAC-SHA256 PRR, exact IRR thresholds) and decoded with UnpackBit, exactly as in production.
// All randomness (secrets, states, subsets, IRR) comes from one SeededRandomSource, so a run is
// reproducible from its seed. Never use simulated secrets for real clients.
//
// Usage:
//   absl::StatusOr<SimulationResult> sim = SimulatePopulation({.params = params,
//       .num_pinsets = 4, .num_clients = 50000, .check_fraction = {0.5},
//       .violation_rate = {0.2}, .seed = 7});
//   RateEstimate r = EstimateViolationRate(sim->counts[0], params);  // vs sim->truth[0]
#ifndef PRIVACY_SIMULATION_H_
#define PRIVACY_SIMULATION_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "privacy/estimator.h"
#include "privacy/params.h"

namespace privacy {

struct PopulationSpec {
  Params params;
  int num_pinsets = 0;
  int64_t num_clients = 0;
  // Per pinset (K values), or one value for every pinset. In [0, 1].
  std::vector<double> check_fraction;
  std::vector<double> violation_rate;
  uint64_t seed = 1;
  uint32_t params_version = 1;
  std::string catalog_version = "simulated";
};

struct SimulationResult {
  // What the aggregator sees, per pinset: reports and reported ones.
  std::vector<PinsetCounts> counts;
  // The truth among the same reporters: reports, truly checked, truly violated.
  std::vector<PinsetCounts> truth;
};

// SimulatePopulation runs the population. INVALID_ARGUMENT for params invalid for K, a negative
// client count, fraction lists of the wrong length or values outside [0, 1].
absl::StatusOr<SimulationResult> SimulatePopulation(const PopulationSpec& spec);

}  // namespace privacy

#endif  // PRIVACY_SIMULATION_H_
