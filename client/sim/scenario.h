// scenario.h: what the simulated browsers do: which organizations' hosts they visit, how often
// their connections are intercepted, and the incidents of the run.
//
// Each simulated browser, each day, checks each organization's pins with probability
// `visit_probability` (one connection to one of the organization's pinned hosts, chosen
// uniformly), and that connection presents an intercepting chain with probability
// `violation_rate` (else the organization's real chain). Defaults are drawn from the catalog's
// organizations (DefaultScenario): popular sites are visited more often; a small base rate of
// interception everywhere (antivirus and corporate proxies), higher for "Test".
//
// Two incidents make the run interesting:
//  - a spike: on one day one organization's violation rate jumps (a MITM campaign or a CA
//    incident), which the decoded rates must show;
//  - a pin rotation: on one day one pinset adds the key of another real root; the new catalog is
//    published with parameters for it and a rollout event, browsers pick it up with their daily
//    Params.Get (it takes effect the next day), and the organization's servers move to a chain
//    under the new root the day after, so no browser should see a violation from it.
//
//   ASSIGN_OR_RETURN(Scenario scenario, DefaultScenario(catalog, /*days=*/7));
//   RETURN_IF_ERROR(ApplyTrafficOverride("Google=0.9:0.02", scenario));
//   double rate = scenario.ViolationRate(org_index, day);
#ifndef CLIENT_SIM_SCENARIO_H_
#define CLIENT_SIM_SCENARIO_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "proto/catalog.pb.h"

namespace pinning::client::sim {

struct OrganizationTraffic {
  std::string organization;
  // Probability that a browser checks this organization's pins on a given day.
  double visit_probability = 0;
  // Probability that such a check sees an intercepting chain.
  double violation_rate = 0;
};

struct Spike {
  std::string organization;
  int day = 0;  // 0-based day of the run
  double violation_rate = 0;
};

struct Rotation {
  std::string pinset;
  int day = 0;  // the day the new catalog is published
};

struct Scenario {
  int days = 0;
  std::vector<OrganizationTraffic> organizations;  // one per organization of the catalog
  std::optional<Spike> spike;
  std::optional<Rotation> rotation;

  // OrganizationIndex returns the position of `organization`, or -1.
  int OrganizationIndex(absl::string_view organization) const;
  // ViolationRate returns the rate of organization `index` on `day`, the spike included.
  double ViolationRate(int index, int day) const;
};

// DefaultScenario makes a scenario for the organizations of `catalog` over `days` days (>= 1):
// traffic from a table of typical figures (unknown organizations get 0.2 visits, 1% violations),
// a spike of 30% for Facebook (else the most visited organization) on day days−2 (day 0 when
// days < 2), and a rotation of the "dropbox" pinset (else the last pinset) on day days/2 when
// days >= 3. INVALID_ARGUMENT for days < 1 or an empty catalog.
absl::StatusOr<Scenario> DefaultScenario(const v1::Catalog& catalog, int days);

// ApplyTrafficOverride parses "ORGANIZATION=VISIT:RATE" (probabilities in [0, 1]) and sets that
// organization's traffic. INVALID_ARGUMENT for a malformed spec or an unknown organization.
absl::Status ApplyTrafficOverride(absl::string_view spec, Scenario& scenario);

// ValidateScenario checks probabilities in [0, 1], days >= 1, and the incidents' days and names.
absl::Status ValidateScenario(const Scenario& scenario, const v1::Catalog& catalog);

}  // namespace pinning::client::sim

#endif  // CLIENT_SIM_SCENARIO_H_
