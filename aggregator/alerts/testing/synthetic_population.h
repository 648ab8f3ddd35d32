// synthetic_population.h: a seeded synthetic browser population with known violation rates, whose
// daily pings are randomized by the real privacy encoder (privacy/encoder.h).
//
// It stands in for a full browser-population simulator when tests, the load benchmark and the
// dashboard demo need an aggregator full of realistic pings: every organization has pinsets with a
// known check fraction and a known violation rate (the fraction of checks that saw a violation),
// rates may change on given days (a pinset change, a promotion), and a MITM spike sets one
// organization's rate on one day. Each client is persistent: it keeps its 32-byte secret and its
// Encoder across days, so the memoized PRR behaves as it does for real clients.
//
//   PopulationSpec spec;
//   spec.organizations = DefaultOrganizations(50);
//   spec.clients = 2000;
//   spec.spikes.push_back({.organization = spec.organizations[3].name, .day = spike_day,
//                          .violation_rate = 0.4});
//   ASSIGN_OR_RETURN(std::unique_ptr<SyntheticPopulation> population,
//                    SyntheticPopulation::Create(std::move(spec)));
//   RETURN_IF_ERROR(population->ForEachPing(day, [&](const v1::Ping& ping) { Send(ping); }));
//   // Or, much faster for long simulations, the same pings already counted:
//   ASSIGN_OR_RETURN(std::vector<CountRow> rows, population->CountDay(day));
//   RETURN_IF_ERROR(store->AddCounts(rows));
//
// Truth model, per client, day and pinset i of organization o: checked with probability
// check_fraction(o); if checked, violated with probability TrueRate(o, day). So the decoded
// violation rate of o (ΣV/ΣC, DESIGN §4) estimates TrueRate(o, day).
//
// Deterministic for a given spec (seed included). Not thread-safe.
#ifndef AGGREGATOR_ALERTS_TESTING_SYNTHETIC_POPULATION_H_
#define AGGREGATOR_ALERTS_TESTING_SYNTHETIC_POPULATION_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "aggregator/storage/count_store.h"
#include "aggregator/storage/day.h"
#include "privacy/encoder.h"
#include "privacy/random_source.h"
#include "proto/catalog.pb.h"
#include "proto/common.pb.h"
#include "proto/params.pb.h"
#include "proto/ping.pb.h"

namespace pinning::aggregator::testing {

// OrganizationSpec describes one organization of the catalog.
struct OrganizationSpec {
  std::string name;
  // Pinsets of the organization, named "<slug>" or "<slug>-<n>".
  int pinsets = 1;
  // Fraction of clients that check each of its pinsets on a day, in (0, 1].
  double check_fraction = 0.5;
  // Violation rate among checks, in [0, 1], until a RateChange says otherwise.
  double violation_rate = 0.01;
  v1::PinMode mode = v1::PIN_MODE_TEST;
};

// RateChange sets an organization's violation rate from `day` on (e.g. after a pinset change).
struct RateChange {
  std::string organization;
  DayNumber day = 0;
  double violation_rate = 0;
};

// Spike sets an organization's violation rate on exactly one day (e.g. a MITM incident).
struct Spike {
  std::string organization;
  DayNumber day = 0;
  double violation_rate = 0;
};

struct PopulationSpec {
  std::vector<OrganizationSpec> organizations;
  // Clients; each sends one ping per simulated day.
  int clients = 1000;
  // Randomization parameters; pinsets_per_ping = 0 means every pinset (s = K).
  v1::RandomizationParams params;
  uint32_t params_version = 1;
  // Client i reports dimensions[i % size]; empty gives one "unknown" combination.
  std::vector<v1::Dimensions> dimensions;
  std::vector<RateChange> changes;
  std::vector<Spike> spikes;
  uint64_t seed = 1;
};

// DefaultParams returns f = 0.25, p = 0.25, q = 0.75, every pinset reported, 2 bits per pinset.
v1::RandomizationParams DefaultParams();

// DefaultOrganizations returns `n` (<= 50) fictional organizations with one or two pinsets, check
// fractions between 0.3 and 0.9 and violation rates between 0.5% and 4%, deterministic.
std::vector<OrganizationSpec> DefaultOrganizations(int n);

// Slug returns the pinset-name stem of an organization: lower case, spaces to '-'.
std::string Slug(absl::string_view organization);

class SyntheticPopulation {
 public:
  // Create validates the spec (INVALID_ARGUMENT: no organizations, clients < 1, fractions or rates
  // out of range, unknown organization in a change or spike, parameters the privacy core refuses)
  // and builds the catalog (version = CatalogVersion) and one Encoder per client.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<SyntheticPopulation>> Create(
      PopulationSpec spec);

  SyntheticPopulation(const SyntheticPopulation&) = delete;
  SyntheticPopulation& operator=(const SyntheticPopulation&) = delete;

  // catalog returns the catalog the clients check against, with its version set.
  const v1::Catalog& catalog() const { return catalog_; }
  // params returns the randomization parameters (pinsets_per_ping resolved to K when 0).
  const v1::RandomizationParams& params() const { return params_; }
  const PopulationSpec& spec() const { return spec_; }

  // TrueRate returns the violation rate among checks of `organization` on `day` (-1 if unknown).
  double TrueRate(absl::string_view organization, DayNumber day) const;

  // ForEachPing encodes one ping per client for `day` and calls `fn` with each, in client order.
  // Ping ids are fresh random bytes from the seeded source.
  [[nodiscard]] absl::Status ForEachPing(DayNumber day,
                                         absl::FunctionRef<void(const v1::Ping&)> fn);

  // CountDay encodes the same pings as ForEachPing would and returns their counts as the store
  // keeps them (DESIGN §2): per dimension combination, a group row and one row per pinset. Views
  // in the rows point into this object and stay valid while it lives.
  [[nodiscard]] absl::StatusOr<std::vector<CountRow>> CountDay(DayNumber day);

 private:
  struct Client {
    privacy::Encoder encoder;
    int dimensions_index;
  };
  SyntheticPopulation(PopulationSpec spec, v1::Catalog catalog, v1::RandomizationParams params,
                      uint64_t seed);

  // EncodeDay draws each client's truth for `day` and encodes it; calls fn(client, report).
  absl::Status EncodeDay(DayNumber day,
                         absl::FunctionRef<void(int, const privacy::EncodedReport&)> fn);

  const PopulationSpec spec_;
  const v1::Catalog catalog_;
  const v1::RandomizationParams params_;
  std::vector<int> pinset_org_;  // pinset index -> organization index
  std::vector<Client> clients_;
  privacy::SeededRandomSource truth_source_;
  privacy::SeededRandomSource irr_source_;
  privacy::SeededRandomSource id_source_;     // ping ids only, so ids never shift the truths
  std::vector<privacy::PinsetState> states_;  // scratch, K entries
};

}  // namespace pinning::aggregator::testing

#endif  // AGGREGATOR_ALERTS_TESTING_SYNTHETIC_POPULATION_H_
