#include "client/spki_name_resolver.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace pinning::client {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

SpkiHash Hash(uint8_t b) {
  SpkiHash h{};
  h.fill(b);
  return h;
}

TEST(SpkiDictionaryTest, ResolvesDefinedNamesSortedAndDeduplicated) {
  SpkiDictionary dict("keys.pins");
  ASSERT_TRUE(dict.Add("Two", {Hash(2), Hash(1), Hash(2)}, 7).ok());
  absl::StatusOr<std::vector<SpkiHash>> got = dict.Resolve("Two");
  ASSERT_TRUE(got.ok());
  EXPECT_THAT(*got, ElementsAre(Hash(1), Hash(2)));
  EXPECT_EQ(dict.size(), 1u);
  EXPECT_EQ(dict.Description(), "keys.pins");
}

TEST(SpkiDictionaryTest, UnknownAndUnresolvableNamesAreNotFoundWithReasons) {
  SpkiDictionary dict("keys.pins");
  ASSERT_TRUE(dict.AddUnresolvable("Gone", "certificate left the store", 9).ok());
  absl::StatusOr<std::vector<SpkiHash>> gone = dict.Resolve("Gone");
  EXPECT_EQ(gone.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(gone.status().message(), HasSubstr("line 9"));
  EXPECT_THAT(gone.status().message(), HasSubstr("certificate left the store"));
  absl::StatusOr<std::vector<SpkiHash>> unknown = dict.Resolve("Tor1");
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(unknown.status().message(), HasSubstr("not defined in keys.pins"));
  EXPECT_THAT(dict.Names(), ElementsAre("Gone"));
}

TEST(SpkiDictionaryTest, RejectsDuplicatesAndEmptyDefinitions) {
  SpkiDictionary dict("keys.pins");
  ASSERT_TRUE(dict.Add("A", {Hash(1)}, 1).ok());
  EXPECT_EQ(dict.Add("A", {Hash(2)}, 5).code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(dict.AddUnresolvable("A", "x", 6).code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(dict.Add("B", {}, 2).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(dict.size(), 1u);
}

}  // namespace
}  // namespace pinning::client
