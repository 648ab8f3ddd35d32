#include "client/upload/active_params.h"

#include <cmath>
#include <memory>

#include "client/upload/test_catalog.h"
#include "gtest/gtest.h"

namespace pinning::client {
namespace {

const v1::Catalog* Ptr(const v1::Catalog& c) { return &c; }

TEST(ActiveParamsTest, ValidParamsGetLocallyComputedEpsilons) {
  const v1::Catalog catalog = MakeTestCatalog(3);
  v1::ParamsVersion pv = MakeTestParamsVersion(4, catalog, 0.5, 0.25, 0.75, 3);
  pv.set_epsilon_one(0.001);  // whatever the server claims is ignored
  absl::StatusOr<std::shared_ptr<const ActiveParams>> active = MakeActiveParams(pv, Ptr(catalog));
  ASSERT_TRUE(active.ok()) << active.status();
  EXPECT_EQ((*active)->version(), 4u);
  EXPECT_EQ((*active)->num_pinsets(), 3);
  EXPECT_EQ((*active)->catalog_version(), catalog.version());
  // p* = 0.375, q* = 0.625: eps1_bit = ln(0.625/0.375) = ln(5/3); m = 2·3 bits.
  EXPECT_NEAR((*active)->epsilon_one(), 6 * std::log(5.0 / 3.0), 1e-12);
  // eps_inf_bit = ln((1 - f/2)/(f/2)) = ln 3; 2·K bits.
  EXPECT_NEAR((*active)->epsilon_inf(), 6 * std::log(3.0), 1e-12);
  const privacy::EncoderConfig config = (*active)->EncoderConfig();
  EXPECT_EQ(config.params_version, 4u);
  EXPECT_EQ(config.num_pinsets, 3);
  EXPECT_EQ(config.catalog_version, catalog.version());
}

TEST(ActiveParamsTest, RejectsACatalogOtherThanTheOneNamed) {
  const v1::Catalog catalog = MakeTestCatalog(3);
  const v1::ParamsVersion pv = MakeTestParamsVersion(1, catalog, 0.5, 0.25, 0.75, 3);
  const v1::Catalog other = MakeTestCatalog(3, /*salt=*/9);
  EXPECT_EQ(MakeActiveParams(pv, Ptr(other)).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(MakeActiveParams(pv, nullptr).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ActiveParamsTest, RejectsACatalogWhoseContentDoesNotMatchItsVersion) {
  v1::Catalog catalog = MakeTestCatalog(3);
  const v1::ParamsVersion pv = MakeTestParamsVersion(1, catalog, 0.5, 0.25, 0.75, 3);
  catalog.mutable_pinsets(1)->set_organization("Mallory");
  EXPECT_EQ(MakeActiveParams(pv, Ptr(catalog)).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ActiveParamsTest, RejectsBadParameters) {
  const v1::Catalog catalog = MakeTestCatalog(3);
  EXPECT_EQ(MakeActiveParams(MakeTestParamsVersion(1, catalog, 0.5, 0.75, 0.25, 3), Ptr(catalog))
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);  // p >= q
  EXPECT_EQ(MakeActiveParams(MakeTestParamsVersion(1, catalog, 0.5, 0.25, 0.75, 4), Ptr(catalog))
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);  // s > K
  EXPECT_EQ(MakeActiveParams(MakeTestParamsVersion(0, catalog, 0.5, 0.25, 0.75, 3), Ptr(catalog))
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);  // version 0
  v1::ParamsVersion three_bits = MakeTestParamsVersion(1, catalog, 0.5, 0.25, 0.75, 3);
  three_bits.mutable_params()->set_bits_per_pinset(3);
  EXPECT_EQ(MakeActiveParams(three_bits, Ptr(catalog)).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(ParamsCacheTest, InternsParamsAndSharesCatalogs) {
  ParamsCache cache;
  const v1::Catalog catalog = MakeTestCatalog(2);
  const v1::ParamsVersion v1p = MakeTestParamsVersion(1, catalog, 0.5, 0.25, 0.75, 2);
  const v1::ParamsVersion v2p = MakeTestParamsVersion(2, catalog, 0.25, 0.25, 0.75, 1);
  EXPECT_EQ(cache.Intern(v1p, nullptr).status().code(), absl::StatusCode::kNotFound);
  absl::StatusOr<std::shared_ptr<const ActiveParams>> a = cache.Intern(v1p, Ptr(catalog));
  ASSERT_TRUE(a.ok()) << a.status();
  absl::StatusOr<std::shared_ptr<const ActiveParams>> b = cache.Intern(v1p, Ptr(catalog));
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(a->get(), b->get());
  absl::StatusOr<std::shared_ptr<const ActiveParams>> c = cache.Intern(v2p, nullptr);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_NE(a->get(), c->get());
  EXPECT_EQ(&(*a)->catalog(), &(*c)->catalog());
  EXPECT_EQ(&cache.Checker(catalog.version())->catalog(), &(*a)->catalog());
  EXPECT_EQ(cache.Checker("nope"), nullptr);
  // The checker decides with the catalog's pins.
  EXPECT_EQ((*a)->checker().FindHost("www.h1.test")->pinset_index, 1u);
}

}  // namespace
}  // namespace pinning::client
