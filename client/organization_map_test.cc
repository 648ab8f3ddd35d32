#include "client/organization_map.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace pinning::client {
namespace {

using ::testing::HasSubstr;

TEST(OrganizationMapTest, ParsesPinsetToOrganization) {
  absl::StatusOr<OrganizationMap> map = ParseOrganizationMap(R"(
    // comment
    { "organizations": { "google": "Google", "tor": "Tor Project" } })",
                                                             "orgs.json");
  ASSERT_TRUE(map.ok()) << map.status();
  ASSERT_NE(map->Find("tor"), nullptr);
  EXPECT_EQ(*map->Find("tor"), "Tor Project");
  EXPECT_EQ(*map->Find("google"), "Google");
  EXPECT_EQ(map->Find("facebook"), nullptr);
  EXPECT_EQ(map->by_pinset().size(), 2u);
}

TEST(OrganizationMapTest, RejectsMalformedMaps) {
  EXPECT_THAT(ParseOrganizationMap("{}", "o.json").status().message(),
              HasSubstr("o.json: expected a top-level object"));
  EXPECT_THAT(ParseOrganizationMap(R"({"organizations": []})", "o.json").status().message(),
              HasSubstr("\"organizations\" object"));
  EXPECT_THAT(
      ParseOrganizationMap("{\"organizations\": {\n\"a\": \"\"}}", "o.json").status().message(),
      HasSubstr("o.json:2: each pinset name must map to a non-empty organization"));
  EXPECT_FALSE(ParseOrganizationMap(R"({"organizations": {"a": 1}})", "o.json").ok());
  EXPECT_FALSE(ParseOrganizationMap(R"({"organizations": {"": "X"}})", "o.json").ok());
  EXPECT_THAT(ParseOrganizationMap(R"({"organizations": {"a": "X", "a": "Y"}})", "o.json")
                  .status()
                  .message(),
              HasSubstr("duplicate key"));
}

}  // namespace
}  // namespace pinning::client
