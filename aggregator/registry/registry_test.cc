#include "aggregator/registry/registry.h"

#include <cmath>
#include <memory>
#include <string>

#include "aggregator/registry/catalog_version.h"
#include "aggregator/storage/sqlite_store.h"
#include "third_party/absl_compat/status_macros.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"

namespace pinning::aggregator {
namespace {

v1::Catalog ThreePinsets() {
  v1::Catalog catalog;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(R"pb(
    pinsets { index: 0 name: "google" organization: "Google" mode: PIN_MODE_ENFORCE }
    pinsets { index: 1 name: "tor" organization: "Tor" mode: PIN_MODE_TEST }
    pinsets { index: 2 name: "mozilla" organization: "Mozilla" mode: PIN_MODE_TEST }
    hosts { host: "google.com" pinset_index: 0 }
  )pb", &catalog));
  for (int i = 0; i < catalog.pinsets_size(); ++i) {
    catalog.mutable_pinsets(i)->add_spki_sha256(std::string(32, static_cast<char>('a' + i)));
  }
  return catalog;
}

v1::RandomizationParams MakeParams(double f, double p, double q, uint32_t s) {
  v1::RandomizationParams params;
  params.set_f(f);
  params.set_p(p);
  params.set_q(q);
  params.set_pinsets_per_ping(s);
  params.set_bits_per_pinset(2);
  return params;
}

class RegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = ::testing::TempDir() + "/" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".db";
    std::remove(path_.c_str());
    Reopen();
  }
  void Reopen() {
    registry_.reset();
    store_.reset();
    absl::StatusOr<Replica> replica = OpenReplica();
    ASSERT_TRUE(replica.ok()) << replica.status();
    store_ = std::move(replica->store);
    registry_ = std::move(replica->registry);
  }

  // A store connection to the test's database and a registry loaded from it: what one aggregator
  // replica has.
  struct Replica {
    std::unique_ptr<SqliteStore> store;
    std::unique_ptr<Registry> registry;
  };
  absl::StatusOr<Replica> OpenReplica() const {
    SqliteStoreOptions store_options;
    store_options.path = path_;
    Replica replica;
    ASSIGN_OR_RETURN(replica.store, SqliteStore::Open(store_options));
    RegistryOptions options;
    options.max_epsilon_one = 4.0;
    options.max_epsilon_inf = 7.0;
    options.now = [] { return absl::FromUnixSeconds(1700000000); };
    ASSIGN_OR_RETURN(replica.registry, Registry::Load(replica.store.get(), options));
    return replica;
  }

  std::string path_;
  std::unique_ptr<SqliteStore> store_;
  std::unique_ptr<Registry> registry_;
};

TEST_F(RegistryTest, EmptyRegistryHasNothingCurrent) {
  EXPECT_EQ(registry_->CurrentParams().status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(registry_->ForClient("").status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(registry_->CurrentCatalogVersion(), "");
  EXPECT_FALSE(registry_->Params(1).has_value());
  EXPECT_EQ(registry_->PublishParams(MakeParams(0.5, 0.25, 0.75, 1), "", "", "alice")
                .status()
                .code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(RegistryTest, PublishesCatalogThenParamsAndServesThem) {
  const v1::Catalog catalog = ThreePinsets();
  absl::StatusOr<std::string> version = registry_->PublishCatalog(catalog, "first", "alice");
  ASSERT_TRUE(version.ok()) << version.status();
  EXPECT_EQ(*version, CatalogVersion(catalog));
  EXPECT_EQ(registry_->CatalogSize(*version), 3u);
  EXPECT_FALSE(registry_->CatalogSize("nope").has_value());

  // s = 1 of K = 3, f = 0.5, p = 0.25, q = 0.75: one ping reports m = 2 bits; p* = 0.375,
  // q* = 0.625, so eps1 = 2 ln(0.625 / 0.375); unlimited pings reveal all 6 PRR bits:
  // eps_inf = 6 ln((1 - f/2) / (f/2)) = 6 ln 3.
  absl::StatusOr<v1::ParamsVersion> published =
      registry_->PublishParams(MakeParams(0.5, 0.25, 0.75, 1), "", "launch", "alice");
  ASSERT_TRUE(published.ok()) << published.status();
  EXPECT_EQ(published->version(), 1u);
  EXPECT_EQ(published->catalog_version(), *version);
  EXPECT_NEAR(published->epsilon_one(), 2 * std::log(0.625 / 0.375), 1e-12);
  EXPECT_NEAR(published->epsilon_inf(), 6 * std::log(3.0), 1e-12);
  EXPECT_EQ(published->published_by(), "alice");
  EXPECT_EQ(published->note(), "launch");
  EXPECT_EQ(published->published_at().seconds(), 1700000000);

  std::optional<ParamsInfo> info = registry_->Params(1);
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->catalog_version, *version);
  EXPECT_EQ(info->pinsets_per_ping, 1u);
  EXPECT_EQ(info->bits_per_pinset, 2u);

  absl::StatusOr<v1::GetParamsResponse> for_client = registry_->ForClient("");
  ASSERT_TRUE(for_client.ok());
  EXPECT_EQ(for_client->current().version(), 1u);
  EXPECT_EQ(for_client->catalog().pinsets_size(), 3);
  for_client = registry_->ForClient(*version);
  ASSERT_TRUE(for_client.ok());
  EXPECT_FALSE(for_client->has_catalog());
}

TEST_F(RegistryTest, StateSurvivesReopen) {
  absl::StatusOr<std::string> version = registry_->PublishCatalog(ThreePinsets(), "", "alice");
  ASSERT_TRUE(version.ok());
  ASSERT_TRUE(registry_->PublishParams(MakeParams(0.5, 0.25, 0.75, 1), "", "", "alice").ok());
  ASSERT_TRUE(registry_->PublishParams(MakeParams(0.75, 0.25, 0.75, 0), "", "", "bob").ok());
  Reopen();
  std::vector<v1::ParamsVersion> all = registry_->ListParams();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[1].version(), 2u);
  EXPECT_EQ(all[1].params().pinsets_per_ping(), 3u);  // 0 means all K pinsets
  EXPECT_EQ(all[1].published_by(), "bob");
  EXPECT_EQ(registry_->CurrentCatalogVersion(), *version);
  EXPECT_TRUE(registry_->Params(1).has_value());  // older versions stay acceptable
}

TEST_F(RegistryTest, RefusesEpsilonAboveCeilingWithBothValues) {
  ASSERT_TRUE(registry_->PublishCatalog(ThreePinsets(), "", "alice").ok());
  // K = 3 pinsets x 2 bits, f = 0.25: eps_inf = 6 ln((1 - 0.125) / 0.125) = 6 ln 7 = 11.6755 > 7.
  absl::StatusOr<v1::ParamsVersion> refused =
      registry_->PublishParams(MakeParams(0.25, 0.25, 0.75, 1), "", "", "alice");
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find("epsilon_inf 11.6755"), std::string::npos)
      << refused.status();
  EXPECT_NE(refused.status().message().find("ceiling 7.0000"), std::string::npos)
      << refused.status();
  // f = 0.1, p = 0.01, q = 0.99: p* = 0.059, q* = 0.941, eps1 = 2 ln(0.941 / 0.059) = 5.54 > 4.
  refused = registry_->PublishParams(MakeParams(0.1, 0.01, 0.99, 1), "", "", "alice");
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find("epsilon_one"), std::string::npos);
  EXPECT_TRUE(registry_->ListParams().empty());
  // f = 0 has no longitudinal bound: eps_inf = inf, always refused.
  refused = registry_->PublishParams(MakeParams(0.0, 0.25, 0.75, 1), "", "", "alice");
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find("epsilon_inf inf"), std::string::npos);
}

TEST_F(RegistryTest, RefusesBadParamsAndCatalogs) {
  ASSERT_TRUE(registry_->PublishCatalog(ThreePinsets(), "", "alice").ok());
  EXPECT_EQ(registry_->PublishParams(MakeParams(0.5, 0.75, 0.25, 1), "", "", "a").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(registry_->PublishParams(MakeParams(0.5, 0.25, 0.75, 4), "", "", "a").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(registry_->PublishParams(MakeParams(0.5, 0.25, 0.75, 1), "abc", "", "a").status().code(),
            absl::StatusCode::kFailedPrecondition);

  v1::Catalog bad_index = ThreePinsets();
  bad_index.mutable_pinsets(1)->set_index(5);
  EXPECT_EQ(registry_->PublishCatalog(bad_index, "", "a").status().code(),
            absl::StatusCode::kInvalidArgument);
  v1::Catalog bad_host = ThreePinsets();
  bad_host.mutable_hosts(0)->set_pinset_index(3);
  EXPECT_EQ(registry_->PublishCatalog(bad_host, "", "a").status().code(),
            absl::StatusCode::kInvalidArgument);
  v1::Catalog no_keys = ThreePinsets();
  no_keys.mutable_pinsets(2)->clear_spki_sha256();  // browsers would refuse it
  absl::Status refused = registry_->PublishCatalog(no_keys, "", "a").status();
  EXPECT_EQ(refused.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(refused.message().find("SPKI"), std::string::npos) << refused;
  v1::Catalog upper_case_host = ThreePinsets();
  upper_case_host.mutable_hosts(0)->set_host("Google.COM");
  EXPECT_EQ(registry_->PublishCatalog(upper_case_host, "", "a").status().code(),
            absl::StatusCode::kInvalidArgument);
  v1::Catalog wrong_version = ThreePinsets();
  wrong_version.set_version("0000");
  EXPECT_EQ(registry_->PublishCatalog(wrong_version, "", "a").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(registry_->PublishCatalog(v1::Catalog(), "", "a").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(RegistryTest, AuditRecordsOldAndNewValuesWithEpsilons) {
  ASSERT_TRUE(registry_->PublishCatalog(ThreePinsets(), "note \"x\"", "alice").ok());
  ASSERT_TRUE(registry_->PublishParams(MakeParams(0.5, 0.25, 0.75, 1), "", "", "alice").ok());
  ASSERT_TRUE(registry_->PublishParams(MakeParams(0.75, 0.25, 0.75, 1), "", "", "bob").ok());
  v1::RolloutEvent event;
  event.set_day("2024-03-01");
  event.set_kind(v1::EVENT_KIND_PROMOTE_TO_ENFORCE);
  event.set_organization("Tor");
  absl::StatusOr<v1::RolloutEvent> stored = registry_->RecordEvent(event, "carol");
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_EQ(stored->recorded_by(), "carol");
  EXPECT_GT(stored->id(), 0u);

  absl::StatusOr<std::vector<v1::AuditRecord>> audit = store_->ListAudit(0);
  ASSERT_TRUE(audit.ok());
  ASSERT_EQ(audit->size(), 4u);
  // Newest first.
  EXPECT_EQ((*audit)[0].action(), "record_event");
  EXPECT_EQ((*audit)[1].action(), "publish_params");
  EXPECT_EQ((*audit)[1].actor(), "bob");
  EXPECT_NE((*audit)[1].old_value().find("\"f\":0.5"), std::string::npos) << (*audit)[1].old_value();
  EXPECT_NE((*audit)[1].new_value().find("\"f\":0.75"), std::string::npos);
  EXPECT_NE((*audit)[1].new_value().find("\"epsilon_one\""), std::string::npos);
  EXPECT_NE((*audit)[1].new_value().find("\"epsilon_inf\""), std::string::npos);
  EXPECT_EQ((*audit)[2].old_value(), "null");
  EXPECT_EQ((*audit)[3].action(), "publish_catalog");
  EXPECT_NE((*audit)[3].new_value().find(R"("note":"note \"x\"")"), std::string::npos)
      << (*audit)[3].new_value();
  EXPECT_EQ((*audit)[3].at().seconds(), 1700000000);

  v1::RolloutEvent no_day;
  no_day.set_kind(v1::EVENT_KIND_NOTE);
  EXPECT_EQ(registry_->RecordEvent(no_day, "c").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(RegistryTest, EvaluateDoesNotPublishOrCheckCeilings) {
  ASSERT_TRUE(registry_->PublishCatalog(ThreePinsets(), "", "alice").ok());
  absl::StatusOr<v1::ParamsVersion> evaluated =
      registry_->Evaluate(MakeParams(0.25, 0.25, 0.75, 3), "");
  ASSERT_TRUE(evaluated.ok());
  EXPECT_EQ(evaluated->version(), 0u);
  EXPECT_NEAR(evaluated->epsilon_inf(), 6 * std::log(7.0), 1e-12);
  EXPECT_EQ(registry_->CheckCeilings(*evaluated).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(registry_->ListParams().empty());
}

TEST_F(RegistryTest, ReplicasSharingAStoreAgreeOnVersionNumbers) {
  ASSERT_TRUE(registry_->PublishCatalog(ThreePinsets(), "", "alice").ok());
  ASSERT_TRUE(registry_->PublishParams(MakeParams(0.5, 0.25, 0.75, 1), "", "", "alice").ok());
  // A second replica: its own store connection and registry on the same database.
  absl::StatusOr<Replica> replica = OpenReplica();
  ASSERT_TRUE(replica.ok()) << replica.status();
  Registry* other = replica->registry.get();
  ASSERT_TRUE(other->Params(1).has_value());

  // This replica publishes version 2; the other one does not know it yet.
  ASSERT_TRUE(registry_->PublishParams(MakeParams(0.75, 0.25, 0.75, 1), "", "", "alice").ok());
  EXPECT_FALSE(other->NeedsRefresh());
  EXPECT_FALSE(other->Params(2).has_value());
  EXPECT_TRUE(other->NeedsRefresh());   // the miss is reported once
  EXPECT_FALSE(other->NeedsRefresh());
  ASSERT_TRUE(other->Refresh().ok());
  ASSERT_TRUE(other->Params(2).has_value());

  // Both publish "version 3" from a stale view: the store refuses the second claim of number 3,
  // and that replica reloads and takes 4.
  ASSERT_TRUE(registry_->PublishParams(MakeParams(0.5, 0.25, 0.75, 2), "", "", "alice").ok());
  absl::StatusOr<v1::ParamsVersion> late =
      other->PublishParams(MakeParams(0.75, 0.25, 0.75, 2), "", "", "bob");
  ASSERT_TRUE(late.ok()) << late.status();
  EXPECT_EQ(late->version(), 4u);
  EXPECT_EQ(late->published_by(), "bob");
  ASSERT_TRUE(registry_->Refresh().ok());
  std::vector<v1::ParamsVersion> all = registry_->ListParams();
  ASSERT_EQ(all.size(), 4u);
  EXPECT_EQ(all[2].published_by(), "alice");
  EXPECT_EQ(all[3].published_by(), "bob");
}

TEST_F(RegistryTest, InitialParamsArePublishedOnceAcrossReplicas) {
  ASSERT_TRUE(registry_->PublishCatalog(ThreePinsets(), "", "config").ok());
  absl::StatusOr<Replica> replica = OpenReplica();  // loaded before any params exist
  ASSERT_TRUE(replica.ok()) << replica.status();
  Registry* other = replica->registry.get();

  absl::StatusOr<v1::ParamsVersion> first =
      registry_->PublishInitialParams(MakeParams(0.5, 0.25, 0.75, 1), "initial", "config");
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->version(), 1u);
  // The second replica, starting with the same configuration, publishes nothing.
  absl::StatusOr<v1::ParamsVersion> second =
      other->PublishInitialParams(MakeParams(0.5, 0.25, 0.75, 1), "initial", "config");
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->version(), 1u);
  ASSERT_TRUE(registry_->Refresh().ok());
  EXPECT_EQ(registry_->ListParams().size(), 1u);
  EXPECT_EQ(other->ListParams().size(), 1u);
}

}  // namespace
}  // namespace pinning::aggregator
