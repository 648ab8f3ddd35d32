#include "client/sim/scenario.h"

#include <algorithm>
#include <map>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace pinning::client::sim {
namespace {

struct TypicalTraffic {
  const char* organization;  // lower case
  double visit_probability;
  double violation_rate;
};

// Typical daily figures: share of browsers that reach a pinned host of the organization on a day,
// and the share of those connections that are intercepted (middleboxes, antivirus, captive
// portals). Made up, but in the proportions a browser population shows.
constexpr TypicalTraffic kTypical[] = {
    {"google", 0.85, 0.004},   {"facebook", 0.55, 0.006}, {"tor project", 0.12, 0.02},
    {"mozilla", 0.35, 0.003},  {"dropbox", 0.25, 0.005},  {"twitter", 0.35, 0.005},
    {"spideroak", 0.05, 0.01}, {"test", 0.20, 0.05},
};

bool InUnit(double x) { return x >= 0 && x <= 1; }

}  // namespace

int Scenario::OrganizationIndex(absl::string_view organization) const {
  for (size_t i = 0; i < organizations.size(); ++i) {
    if (absl::EqualsIgnoreCase(organizations[i].organization, organization)) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

double Scenario::ViolationRate(int index, int day) const {
  if (spike.has_value() && spike->day == day &&
      absl::EqualsIgnoreCase(spike->organization, organizations[index].organization)) {
    return spike->violation_rate;
  }
  return organizations[index].violation_rate;
}

absl::StatusOr<Scenario> DefaultScenario(const v1::Catalog& catalog, int days) {
  if (days < 1) return absl::InvalidArgumentError(absl::StrCat("days must be >= 1, got ", days));
  if (catalog.pinsets_size() == 0) return absl::InvalidArgumentError("the catalog is empty");
  Scenario scenario;
  scenario.days = days;
  // Organizations in catalog order of first appearance.
  for (const v1::Pinset& pinset : catalog.pinsets()) {
    if (scenario.OrganizationIndex(pinset.organization()) >= 0) continue;
    OrganizationTraffic traffic{pinset.organization(), 0.2, 0.01};
    const std::string lower = absl::AsciiStrToLower(pinset.organization());
    for (const TypicalTraffic& typical : kTypical) {
      if (lower == typical.organization) {
        traffic.visit_probability = typical.visit_probability;
        traffic.violation_rate = typical.violation_rate;
      }
    }
    scenario.organizations.push_back(std::move(traffic));
  }
  int spiked = scenario.OrganizationIndex("Facebook");
  if (spiked < 0) {
    spiked = static_cast<int>(
        std::max_element(scenario.organizations.begin(), scenario.organizations.end(),
                         [](const OrganizationTraffic& a, const OrganizationTraffic& b) {
                           return a.visit_probability < b.visit_probability;
                         }) -
        scenario.organizations.begin());
  }
  scenario.spike = Spike{scenario.organizations[spiked].organization, std::max(days - 2, 0), 0.30};
  if (days >= 3) {
    std::string pinset = catalog.pinsets(catalog.pinsets_size() - 1).name();
    for (const v1::Pinset& p : catalog.pinsets()) {
      if (p.name() == "dropbox") pinset = p.name();
    }
    scenario.rotation = Rotation{pinset, days / 2};
  }
  return scenario;
}

absl::Status ApplyTrafficOverride(absl::string_view spec, Scenario& scenario) {
  std::vector<absl::string_view> name_value = absl::StrSplit(spec, absl::MaxSplits('=', 1));
  std::vector<absl::string_view> numbers;
  if (name_value.size() == 2) numbers = absl::StrSplit(name_value[1], ':');
  double visit = 0, rate = 0;
  if (name_value.size() != 2 || numbers.size() != 2 || !absl::SimpleAtod(numbers[0], &visit) ||
      !absl::SimpleAtod(numbers[1], &rate) || !InUnit(visit) || !InUnit(rate)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "traffic override '", spec, "' is not ORGANIZATION=VISIT:RATE with values in [0, 1]"));
  }
  const int index = scenario.OrganizationIndex(name_value[0]);
  if (index < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("traffic override names unknown organization '", name_value[0], "'"));
  }
  scenario.organizations[index].visit_probability = visit;
  scenario.organizations[index].violation_rate = rate;
  return absl::OkStatus();
}

absl::Status ValidateScenario(const Scenario& scenario, const v1::Catalog& catalog) {
  if (scenario.days < 1) return absl::InvalidArgumentError("the scenario has no days");
  for (const OrganizationTraffic& t : scenario.organizations) {
    if (!InUnit(t.visit_probability) || !InUnit(t.violation_rate)) {
      return absl::InvalidArgumentError(
          absl::StrCat("traffic of ", t.organization, " is not in [0, 1]"));
    }
  }
  if (scenario.spike.has_value()) {
    if (scenario.OrganizationIndex(scenario.spike->organization) < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("spike names unknown organization '", scenario.spike->organization, "'"));
    }
    if (scenario.spike->day < 0 || scenario.spike->day >= scenario.days ||
        !InUnit(scenario.spike->violation_rate)) {
      return absl::InvalidArgumentError("spike day or rate out of range");
    }
  }
  if (scenario.rotation.has_value()) {
    bool found = false;
    for (const v1::Pinset& p : catalog.pinsets()) found |= p.name() == scenario.rotation->pinset;
    if (!found) {
      return absl::InvalidArgumentError(
          absl::StrCat("rotation names unknown pinset '", scenario.rotation->pinset, "'"));
    }
    if (scenario.rotation->day < 1 || scenario.rotation->day >= scenario.days) {
      return absl::InvalidArgumentError("rotation day must be in 1..days-1");
    }
  }
  return absl::OkStatus();
}

}  // namespace pinning::client::sim
