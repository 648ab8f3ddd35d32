// aggregator_filler.h: fills a running aggregator with a synthetic population's pings through its
// real gRPC APIs: Admin.PublishCatalog and Admin.PublishParams (privacy-admin token), then
// Ingest.SubmitBatch, day by day, and Admin.RecordEvent for rollout events.
//
//   FillOptions options;
//   options.population = DemoPopulation(120, 1500);
//   options.first_day = today - 119;
//   options.last_day = today;
//   options.events = DemoEvents(today);
//   options.admin_token = "...";
//   ASSIGN_OR_RETURN(FillResult result, FillAggregator(channel, options));
//
// The aggregator must accept the days (--max_age_days larger than the range) and the parameters'
// epsilons (--max_epsilon_one/--max_epsilon_inf).
#ifndef AGGREGATOR_ALERTS_TESTING_AGGREGATOR_FILLER_H_
#define AGGREGATOR_ALERTS_TESTING_AGGREGATOR_FILLER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "aggregator/alerts/testing/synthetic_population.h"
#include "grpcpp/channel.h"
#include "proto/query.pb.h"

namespace pinning::aggregator::testing {

struct FillOptions {
  // The population; its params_version is replaced by the version the aggregator assigns.
  PopulationSpec population;
  DayNumber first_day = 0;
  DayNumber last_day = 0;
  // Rollout events recorded after the pings.
  std::vector<v1::RolloutEvent> events;
  // A privacy-admin token.
  std::string admin_token;
  // Pings per SubmitBatch stream, and the deadline of every call.
  int batch_size = 5000;
  absl::Duration deadline = absl::Seconds(120);
};

struct FillResult {
  std::string catalog_version;
  uint32_t params_version = 0;
  int64_t accepted = 0;
  int64_t duplicates = 0;
  int64_t rejected = 0;
  // The first rejection's message, when any.
  std::string first_rejection;
};

// FillAggregator publishes, submits and records as described above. Errors of any call are
// returned with the call named.
[[nodiscard]] absl::StatusOr<FillResult> FillAggregator(std::shared_ptr<grpc::Channel> channel,
                                                        FillOptions options);

// DemoPopulation returns 50 organizations and `clients` clients with parameters that decode well
// at demo volumes (f = 0.1, p = 0.1, q = 0.9, 16 pinsets per ping), a MITM spike for
// "Umbra Security" (test mode, 1% normally, 40%: a proxy intercepting many checks) on
// `last_day` - 1, and a drop of "Cedar Cloud" from 3% to 0.3% from
// `last_day` - 40 (after a pinset change).
PopulationSpec DemoPopulation(DayNumber last_day, int clients);

// DemoEvents returns the rollout events that go with DemoPopulation: the pinset change of
// "Cedar Cloud", a promotion of "Acorn Bank", and a note for everyone.
std::vector<v1::RolloutEvent> DemoEvents(DayNumber last_day);

}  // namespace pinning::aggregator::testing

#endif  // AGGREGATOR_ALERTS_TESTING_AGGREGATOR_FILLER_H_
