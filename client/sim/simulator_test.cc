// RunSimulation's checks before it sends anything. Whole runs against a real aggregator are in
// tests/e2e/population_coverage_test.cc and tests/e2e/pinsim_test.cc.
#include "client/sim/simulator.h"

#include "client/upload/scripted_transport.h"
#include "client/upload/test_catalog.h"
#include "gtest/gtest.h"

namespace pinning::client::sim {
namespace {

// RecordingAdmin answers Rates with `existing_pings` pings and records publications.
class RecordingAdmin final : public AggregatorAdmin {
 public:
  uint64_t existing_pings = 0;
  int publications = 0;

  absl::StatusOr<std::string> PublishCatalog(const v1::Catalog& catalog,
                                             absl::string_view) override {
    ++publications;
    return catalog.version();
  }
  absl::StatusOr<v1::ParamsVersion> PublishParams(const v1::RandomizationParams&, absl::string_view,
                                                  absl::string_view) override {
    ++publications;
    return absl::UnavailableError("not in this test");
  }
  absl::StatusOr<v1::RolloutEvent> RecordEvent(const v1::RolloutEvent& event) override {
    return event;
  }
  absl::StatusOr<v1::RatesResponse> Rates(const v1::RatesRequest&) override {
    v1::RatesResponse response;
    if (existing_pings > 0) response.add_series()->add_points()->set_pings(existing_pings);
    return response;
  }
};

SimulatorOptions SmallOptions(const v1::Catalog& catalog) {
  SimulatorOptions options;
  options.browsers = 10;
  options.threads = 2;
  options.params.set_f(0.5);
  options.params.set_p(0.25);
  options.params.set_q(0.75);
  options.params.set_pinsets_per_ping(static_cast<uint32_t>(catalog.pinsets_size()));
  absl::StatusOr<Scenario> scenario = DefaultScenario(catalog, 3);
  EXPECT_TRUE(scenario.ok());
  options.scenario = *scenario;
  return options;
}

TEST(SimulatorTest, RefusesAnAggregatorThatAlreadyCountsTheSimulatedDays) {
  const v1::Catalog catalog = MakeTestCatalog(2);
  ScriptedTransport transport;
  RecordingAdmin admin;
  admin.existing_pings = 5;
  absl::StatusOr<SimReport> report =
      RunSimulation(SmallOptions(catalog), catalog, transport, admin);
  EXPECT_EQ(report.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(report.status().message().find("5 pings"), absl::string_view::npos);
  EXPECT_EQ(admin.publications, 0);
  EXPECT_TRUE(transport.submitted.empty());
}

TEST(SimulatorTest, RejectsBadOptionsBeforeContactingTheAggregator) {
  const v1::Catalog catalog = MakeTestCatalog(2);
  ScriptedTransport transport;
  RecordingAdmin admin;
  SimulatorOptions options = SmallOptions(catalog);
  options.browsers = 0;
  EXPECT_EQ(RunSimulation(options, catalog, transport, admin).status().code(),
            absl::StatusCode::kInvalidArgument);
  options = SmallOptions(catalog);
  options.params.set_pinsets_per_ping(3);  // s > K
  EXPECT_EQ(RunSimulation(options, catalog, transport, admin).status().code(),
            absl::StatusCode::kInvalidArgument);
  options = SmallOptions(catalog);
  options.scenario.spike->organization = "Nobody";
  EXPECT_EQ(RunSimulation(options, catalog, transport, admin).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(admin.publications, 0);
}

TEST(SimulatorTest, ACatalogWithoutRootsInTheSystemStoreCannotBeSimulated) {
  const v1::Catalog catalog = MakeTestCatalog(2);  // made-up SPKI hashes
  ScriptedTransport transport;
  RecordingAdmin admin;
  EXPECT_EQ(RunSimulation(SmallOptions(catalog), catalog, transport, admin).status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace pinning::client::sim
