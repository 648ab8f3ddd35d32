#include "client/sim/scenario.h"

#include "client/upload/test_catalog.h"
#include "gtest/gtest.h"

namespace pinning::client::sim {
namespace {

v1::Catalog NamedCatalog() {
  v1::Catalog catalog = MakeTestCatalog(4);
  const char* names[] = {"google", "facebook", "dropbox", "extra"};
  const char* orgs[] = {"Google", "Facebook", "Dropbox", "Google"};
  for (int i = 0; i < 4; ++i) {
    catalog.mutable_pinsets(i)->set_name(names[i]);
    catalog.mutable_pinsets(i)->set_organization(orgs[i]);
  }
  return catalog;
}

TEST(ScenarioTest, DefaultsComeFromTheCatalogsOrganizations) {
  absl::StatusOr<Scenario> scenario = DefaultScenario(NamedCatalog(), 7);
  ASSERT_TRUE(scenario.ok()) << scenario.status();
  ASSERT_EQ(scenario->organizations.size(), 3u);  // Google once, though two pinsets
  EXPECT_EQ(scenario->organizations[0].organization, "Google");
  EXPECT_DOUBLE_EQ(scenario->organizations[0].visit_probability, 0.85);
  ASSERT_TRUE(scenario->spike.has_value());
  EXPECT_EQ(scenario->spike->organization, "Facebook");
  EXPECT_EQ(scenario->spike->day, 5);
  ASSERT_TRUE(scenario->rotation.has_value());
  EXPECT_EQ(scenario->rotation->pinset, "dropbox");
  EXPECT_EQ(scenario->rotation->day, 3);
  EXPECT_TRUE(ValidateScenario(*scenario, NamedCatalog()).ok());
}

TEST(ScenarioTest, SpikeAppliesToItsDayAndOrganizationOnly) {
  absl::StatusOr<Scenario> scenario = DefaultScenario(NamedCatalog(), 7);
  ASSERT_TRUE(scenario.ok());
  const int facebook = scenario->OrganizationIndex("facebook");  // case-insensitive
  ASSERT_GE(facebook, 0);
  EXPECT_DOUBLE_EQ(scenario->ViolationRate(facebook, 5), 0.30);
  EXPECT_DOUBLE_EQ(scenario->ViolationRate(facebook, 4), 0.006);
  EXPECT_DOUBLE_EQ(scenario->ViolationRate(scenario->OrganizationIndex("Google"), 5), 0.004);
}

TEST(ScenarioTest, OverridesAreParsedAndChecked) {
  absl::StatusOr<Scenario> scenario = DefaultScenario(NamedCatalog(), 7);
  ASSERT_TRUE(scenario.ok());
  ASSERT_TRUE(ApplyTrafficOverride("Dropbox=0.5:0.25", *scenario).ok());
  EXPECT_DOUBLE_EQ(scenario->organizations[scenario->OrganizationIndex("Dropbox")].violation_rate,
                   0.25);
  EXPECT_FALSE(ApplyTrafficOverride("Dropbox=1.5:0.25", *scenario).ok());
  EXPECT_FALSE(ApplyTrafficOverride("Nobody=0.5:0.25", *scenario).ok());
  EXPECT_FALSE(ApplyTrafficOverride("Dropbox=0.5", *scenario).ok());
  scenario->rotation->pinset = "nope";
  EXPECT_FALSE(ValidateScenario(*scenario, NamedCatalog()).ok());
}

TEST(ScenarioTest, ShortRunsHaveNoRotation) {
  absl::StatusOr<Scenario> scenario = DefaultScenario(NamedCatalog(), 2);
  ASSERT_TRUE(scenario.ok());
  EXPECT_FALSE(scenario->rotation.has_value());
  EXPECT_EQ(scenario->spike->day, 0);
  EXPECT_FALSE(DefaultScenario(NamedCatalog(), 0).ok());
}

}  // namespace
}  // namespace pinning::client::sim
