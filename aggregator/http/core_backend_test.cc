#include "aggregator/http/core_backend.h"

#include <cmath>
#include <limits>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "aggregator/alerts/testing/synthetic_population.h"
#include "aggregator/http/json.h"
#include "aggregator/storage/sqlite_store.h"
#include "gtest/gtest.h"

namespace pinning::aggregator {
namespace {

constexpr DayNumber kToday = 20000;
constexpr int kClients = 400;

absl::Time Now() { return absl::FromUnixSeconds(int64_t{kToday} * 86400 + 7200); }

class CoreBackendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SqliteStoreOptions store_options;
    store_options.path =
        absl::StrCat(::testing::TempDir(), "/",
                     ::testing::UnitTest::GetInstance()->current_test_info()->name(), ".db");
    std::remove(store_options.path.c_str());
    store_ = *SqliteStore::Open(store_options);
    RegistryOptions registry_options;
    registry_options.max_epsilon_one = std::numeric_limits<double>::infinity();
    registry_options.max_epsilon_inf = std::numeric_limits<double>::infinity();
    registry_options.now = Now;
    registry_ = *Registry::Load(store_.get(), registry_options);
    decoder_ = std::make_unique<Decoder>(store_.get());
    ErrorProjectorOptions projector_options;
    projector_options.now = Now;
    projector_ = std::make_unique<ErrorProjector>(decoder_.get(), store_.get(), projector_options);
    CoreBackendOptions options;
    options.now = Now;
    options.rates_cache.now = Now;
    backend_ = std::make_unique<CoreBackend>(
        CoreBackend::Parts{.registry = registry_.get(),
                           .decoder = decoder_.get(),
                           .store = store_.get(),
                           .projector = projector_.get(),
                           .alerts = nullptr,
                           .metrics_text = [] { return std::string("m 1\n"); },
                           .healthy = [] { return true; }},
        options);
  }

  // Publishes a 5-organization population and counts `days` days of it, ending today.
  void Fill(int days) {
    testing::PopulationSpec spec;
    spec.organizations = testing::DefaultOrganizations(5);
    spec.params = testing::DefaultParams();
    spec.clients = kClients;
    population_ = *testing::SyntheticPopulation::Create(spec);
    ASSERT_TRUE(registry_->PublishCatalog(population_->catalog(), "test", "alice").ok());
    absl::StatusOr<v1::ParamsVersion> published = registry_->PublishParams(
        population_->params(), population_->catalog().version(), "test", "alice");
    ASSERT_TRUE(published.ok()) << published.status();
    ASSERT_EQ(published->version(), 1u);
    for (DayNumber day = kToday - days + 1; day <= kToday; ++day) {
      absl::StatusOr<std::vector<CountRow>> rows = population_->CountDay(day);
      ASSERT_TRUE(rows.ok());
      ASSERT_TRUE(store_->AddCounts(*rows).ok());
    }
  }

  std::unique_ptr<SqliteStore> store_;
  std::unique_ptr<Registry> registry_;
  std::unique_ptr<Decoder> decoder_;
  std::unique_ptr<ErrorProjector> projector_;
  std::unique_ptr<CoreBackend> backend_;
  std::unique_ptr<testing::SyntheticPopulation> population_;
};

TEST_F(CoreBackendTest, PrivacyNeedsParams) {
  EXPECT_EQ(backend_->Privacy().status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(backend_->ListParams()->versions_size(), 0);
  EXPECT_EQ(backend_->Alerts({})->alerts_size(), 0);  // no monitor: nothing
  EXPECT_EQ(backend_->MetricsText(), "m 1\n");
  EXPECT_TRUE(backend_->Healthy());
}

TEST_F(CoreBackendTest, PrivacySummaryAtTodaysVolume) {
  Fill(10);
  absl::StatusOr<v1::PrivacySummary> privacy = backend_->Privacy();
  ASSERT_TRUE(privacy.ok()) << privacy.status();
  EXPECT_EQ(privacy->current().version(), 1u);
  EXPECT_GT(privacy->current().epsilon_one(), 0);
  EXPECT_GT(privacy->current().epsilon_inf(), privacy->current().epsilon_one());
  EXPECT_EQ(privacy->catalog_pinsets(),
            static_cast<uint32_t>(population_->catalog().pinsets_size()));
  EXPECT_EQ(privacy->today(), FormatDay(kToday));
  EXPECT_EQ(privacy->pings_today(), static_cast<uint64_t>(kClients));
  EXPECT_DOUBLE_EQ(privacy->average_daily_pings(), kClients);
  ASSERT_EQ(privacy->projected_size(), 5);
  for (const v1::ProjectedError& error : privacy->projected()) {
    EXPECT_GT(error.std_error(), 0) << error.organization();
    EXPECT_LT(error.std_error(), 1) << error.organization();
  }
}

TEST_F(CoreBackendTest, QueriesGoToTheirParts) {
  Fill(20);
  v1::RatesRequest request;
  request.set_from_day(FormatDay(kToday - 19));
  request.set_to_day(FormatDay(kToday));
  request.set_per_day(true);
  absl::StatusOr<v1::RatesResponse> rates = backend_->Rates(request);
  ASSERT_TRUE(rates.ok()) << rates.status();
  ASSERT_EQ(rates->series_size(), 5);
  EXPECT_EQ(rates->series(0).points_size(), 20);
  EXPECT_EQ(*backend_->RatesJson(request), ProtoToJson(*rates));
  EXPECT_EQ(backend_->rates_cache().misses(), 1);  // days before kToday - 8 are closed

  absl::StatusOr<v1::Catalog> catalog = backend_->Catalog({});
  ASSERT_TRUE(catalog.ok());
  EXPECT_EQ(catalog->version(), population_->catalog().version());
  v1::CatalogRequest unknown;
  unknown.set_version("nope");
  EXPECT_EQ(backend_->Catalog(unknown).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(backend_->ListParams()->versions_size(), 1);

  v1::RolloutEvent event;
  event.set_day(FormatDay(kToday - 3));
  event.set_kind(v1::EVENT_KIND_PROMOTE_TO_ENFORCE);
  event.set_organization("Acorn Bank");
  ASSERT_TRUE(registry_->RecordEvent(event, "alice").ok());
  v1::EventsRequest events_request;
  events_request.set_organization("Acorn Bank");
  absl::StatusOr<v1::EventsResponse> events = backend_->Events(events_request);
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->events_size(), 1);
  EXPECT_EQ(events->events(0).kind(), v1::EVENT_KIND_PROMOTE_TO_ENFORCE);
  events_request.set_from_day("03/01/2024");
  EXPECT_EQ(backend_->Events(events_request).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace pinning::aggregator
