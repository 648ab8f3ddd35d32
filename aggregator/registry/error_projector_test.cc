#include "aggregator/registry/error_projector.h"

#include <cmath>
#include <memory>
#include <string>

#include "aggregator/decode/decoder.h"
#include "aggregator/registry/registry.h"
#include "aggregator/storage/day.h"
#include "aggregator/storage/sqlite_store.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"

namespace pinning::aggregator {
namespace {

constexpr int64_t kPingsPerDay = 8000;
const absl::Time kNow = absl::FromUnixSeconds(1700000000);  // 2023-11-14

// Expected SE of a one-pinset organization's daily rate, written out from the delta method
// (DESIGN §4): n reports, true fractions c (checked) and v (violated); t = (ones - p* n)/(q* - p*);
// Var(t) = n r (1 - r)/(q* - p*)^2 with r = p* + (q* - p*) x; Cov(t_V, t_C) = n v (1 - c) because
// violated implies checked; R = V/C, Var(R) = (Var V - 2 R Cov + R^2 Var C) / C^2.
double HandSe(double f, double p, double q, double n, double c, double v) {
  const double p_star = 0.5 * f * (p + q) + (1 - f) * p;
  const double q_star = 0.5 * f * (p + q) + (1 - f) * q;
  const double gap = q_star - p_star;
  const double r_c = p_star + gap * c, r_v = p_star + gap * v;
  const double var_c = n * r_c * (1 - r_c) / (gap * gap);
  const double var_v = n * r_v * (1 - r_v) / (gap * gap);
  const double cov = n * v * (1 - c);
  const double rate = v / c;
  return std::sqrt(var_v - 2 * rate * cov + rate * rate * var_c) / (n * c);
}

class ErrorProjectorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string path = ::testing::TempDir() + "/projector.db";
    std::remove(path.c_str());
    SqliteStoreOptions store_options;
    store_options.path = path;
    auto store = SqliteStore::Open(store_options);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    RegistryOptions options;
    options.max_epsilon_one = 100;
    options.max_epsilon_inf = 100;
    auto registry = Registry::Load(store_.get(), options);
    ASSERT_TRUE(registry.ok());
    registry_ = *std::move(registry);
    ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(R"pb(
      pinsets { index: 0 name: "a" organization: "A" mode: PIN_MODE_TEST }
      pinsets { index: 1 name: "b" organization: "B" mode: PIN_MODE_TEST }
    )pb", &catalog_));
    catalog_.mutable_pinsets(0)->add_spki_sha256(std::string(32, 'a'));
    catalog_.mutable_pinsets(1)->add_spki_sha256(std::string(32, 'b'));
    absl::StatusOr<std::string> version = registry_->PublishCatalog(catalog_, "", "t");
    ASSERT_TRUE(version.ok());
    catalog_.set_version(*version);
    v1::RandomizationParams params;  // f = 0.5, p = 0.25, q = 0.75: p* = 0.375, q* - p* = 0.25
    params.set_f(0.5);
    params.set_p(0.25);
    params.set_q(0.75);
    params.set_pinsets_per_ping(2);
    params.set_bits_per_pinset(2);
    ASSERT_TRUE(registry_->PublishParams(params, "", "", "t").ok());
    decoder_ = std::make_unique<Decoder>(store_.get());
    ErrorProjectorOptions projector_options;
    projector_options.now = [] { return kNow; };
    projector_ = std::make_unique<ErrorProjector>(decoder_.get(), store_.get(), projector_options);
  }

  // AddDay stores one day of counts whose unbiased estimates are exactly c and v for pinset a
  // (c = 0.5, v = 0.05) and b (c = 0.2, v = 0.02): ones = p* n + (q* - p*) x n.
  void AddDay(DayNumber day) {
    std::vector<CountRow> rows;
    auto row = [&](int32_t pinset, int64_t reports, int64_t ones0, int64_t ones1) {
      CountRow r;
      r.day = day;
      r.params_version = 1;
      r.catalog_version = catalog_.version();
      r.product = "chrome";
      r.channel = "stable";
      r.major_version = 131;
      r.pinset = pinset;
      r.reports = reports;
      r.ones = {ones0, ones1, 0, 0};
      rows.push_back(r);
    };
    row(kGroupTotalPinset, kPingsPerDay, 0, 0);
    row(0, kPingsPerDay, 3000 + 1000, 3000 + 100);
    row(1, kPingsPerDay, 3000 + 400, 3000 + 40);
    ASSERT_TRUE(store_->AddCounts(rows).ok());
  }

  v1::ParamsVersion Proposed(double f, double p, double q, uint32_t s) {
    v1::ParamsVersion proposed;
    proposed.mutable_params()->set_f(f);
    proposed.mutable_params()->set_p(p);
    proposed.mutable_params()->set_q(q);
    proposed.mutable_params()->set_pinsets_per_ping(s);
    proposed.mutable_params()->set_bits_per_pinset(2);
    proposed.set_catalog_version(catalog_.version());
    return proposed;
  }

  std::unique_ptr<SqliteStore> store_;
  std::unique_ptr<Registry> registry_;
  std::unique_ptr<Decoder> decoder_;
  std::unique_ptr<ErrorProjector> projector_;
  v1::Catalog catalog_;
};

TEST_F(ErrorProjectorTest, NoRecentPingsMeansNoProjection) {
  auto projected = projector_->Project(Proposed(0.25, 0.2, 0.8, 2), catalog_);
  ASSERT_TRUE(projected.ok()) << projected.status();
  EXPECT_TRUE(projected->empty());
  // Pings older than the look-back window do not count either.
  AddDay(DayFromTime(kNow) - 30);
  projected = projector_->Project(Proposed(0.25, 0.2, 0.8, 2), catalog_);
  ASSERT_TRUE(projected.ok());
  EXPECT_TRUE(projected->empty());
}

TEST_F(ErrorProjectorTest, MatchesTheDeltaMethodAtRecentVolumeAndRates) {
  const DayNumber today = DayFromTime(kNow);
  AddDay(today - 1);
  AddDay(today - 3);  // two days with pings: N = 8000 a day
  auto projected = projector_->Project(Proposed(0.25, 0.2, 0.8, 2), catalog_);
  ASSERT_TRUE(projected.ok()) << projected.status();
  ASSERT_EQ(projected->size(), 2u);
  EXPECT_EQ((*projected)[0].organization(), "A");
  EXPECT_EQ((*projected)[1].organization(), "B");
  // Counts are rounded to integers before estimation: allow 0.5%.
  const double a = HandSe(0.25, 0.2, 0.8, kPingsPerDay, 0.5, 0.05);
  const double b = HandSe(0.25, 0.2, 0.8, kPingsPerDay, 0.2, 0.02);
  EXPECT_NEAR((*projected)[0].std_error(), a, 0.005 * a);
  EXPECT_NEAR((*projected)[1].std_error(), b, 0.005 * b);

  // Reporting one pinset of two per ping halves n: the SE grows by sqrt(2).
  auto subset = projector_->Project(Proposed(0.25, 0.2, 0.8, 1), catalog_);
  ASSERT_TRUE(subset.ok());
  ASSERT_EQ(subset->size(), 2u);
  EXPECT_NEAR((*subset)[0].std_error(), a * std::sqrt(2.0), 0.005 * a);

  // More noise (f = 0.75) can only increase the error.
  auto noisier = projector_->Project(Proposed(0.75, 0.2, 0.8, 2), catalog_);
  ASSERT_TRUE(noisier.ok());
  EXPECT_GT((*noisier)[0].std_error(), 1.5 * a);
}

TEST_F(ErrorProjectorTest, InvalidParamsAreRefused) {
  AddDay(DayFromTime(kNow));
  EXPECT_EQ(projector_->Project(Proposed(0.25, 0.8, 0.2, 2), catalog_).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace pinning::aggregator
