#include "client/upload/client_profile.h"

#include <openssl/sha.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/civil_time.h"
#include "client/testing/test_certs.h"
#include "client/upload/fake_clock.h"
#include "client/upload/scripted_transport.h"
#include "client/upload/test_catalog.h"
#include "gtest/gtest.h"
#include "privacy/random_source.h"

namespace pinning::client {
namespace {

using ::pinning::client::testing::CertificateSpec;
using ::pinning::client::testing::MakeCertificateDer;
using ::pinning::client::testing::TestKey;

std::string Sha256(const std::string& bytes) {
  std::string out(SHA256_DIGEST_LENGTH, '\0');
  SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(),
         reinterpret_cast<unsigned char*>(out.data()));
  return out;
}

// A root and a leaf it signed; the chain is leaf first.
struct Chain {
  std::vector<std::string> der;
};

Chain MakeChain(const TestKey& root_key, const std::string& root_cn) {
  TestKey leaf_key = TestKey::GenerateEc();
  const std::string root = MakeCertificateDer({.subject_cn = root_cn,
                                               .subject_key = &root_key,
                                               .issuer_cn = root_cn,
                                               .issuer_key = &root_key,
                                               .is_ca = true});
  const std::string leaf = MakeCertificateDer({.subject_cn = "leaf",
                                               .subject_key = &leaf_key,
                                               .issuer_cn = root_cn,
                                               .issuer_key = &root_key,
                                               .serial = 2});
  return Chain{{leaf, root}};
}

SpkiHash ToSpkiHash(const std::string& bytes) {
  SpkiHash hash;
  std::copy(bytes.begin(), bytes.end(), hash.begin());
  return hash;
}

uint8_t Bit(const std::string& bits, int j) { return (bits[j / 8] >> (j % 8)) & 1; }

class ClientProfileTest : public ::testing::Test {
 protected:
  ClientProfileTest()
      : clock_(absl::FromCivil(absl::CivilSecond(2024, 5, 1, 10, 0, 0), absl::UTCTimeZone())),
        irr_(1),
        ids_(2),
        jitter_(3),
        key_a_(TestKey::GenerateEc()),
        key_b_(TestKey::GenerateEc()),
        key_mitm_(TestKey::GenerateEc()),
        chain_a_(MakeChain(key_a_, "Root A")),
        chain_b_(MakeChain(key_b_, "Root B")),
        chain_mitm_(MakeChain(key_mitm_, "Interception CA")) {
    // Pinset 0 pins root A, pinset 1 root B, pinset 2 a key no chain has.
    catalog_ = MakeTestCatalogWithPins(
        {Sha256(key_a_.PublicKeyDer()), Sha256(key_b_.PublicKeyDer()), std::string(32, 'z')});
  }

  std::unique_ptr<ClientProfile> MakeProfile(
      double budget = std::numeric_limits<double>::infinity()) {
    options_.epsilon_budget = budget;
    uploader_ = std::make_unique<Uploader>(options_, &transport_, &clock_, &jitter_);
    ProfileOptions profile_options;
    profile_options.dimensions.set_product("chrome");
    profile_options.dimensions.set_channel("stable");
    profile_options.dimensions.set_major_version(131);
    ProfileSecret secret{};
    secret.fill(7);
    absl::StatusOr<std::unique_ptr<ClientProfile>> profile =
        ClientProfile::Create(profile_options, std::make_unique<InMemoryProfileStorage>(secret, 8),
                              [this] { return clock_.Now(); });
    EXPECT_TRUE(profile.ok()) << profile.status();
    return *std::move(profile);
  }

  void NextDay() { clock_.Advance(absl::Hours(24)); }

  absl::Status Maintain(ClientProfile& profile) { return profile.Maintain(*uploader_, irr_, ids_); }

  FakeClock clock_;
  privacy::SeededRandomSource irr_, ids_, jitter_;
  TestKey key_a_, key_b_, key_mitm_;
  Chain chain_a_, chain_b_, chain_mitm_;
  v1::Catalog catalog_;
  ScriptedTransport transport_;
  UploaderOptions options_;
  std::unique_ptr<Uploader> uploader_;
};

TEST_F(ClientProfileTest, OneDayOfChecksBecomesOnePingWithTheTrueBitsWhenNoiseIsOff) {
  // f = 0, p = 0, q = 1: the randomization is the identity, so the bits are the day's truth.
  transport_.params_default =
      ServeParams(MakeTestParamsVersion(3, catalog_, 0, 0, 1, 3), &catalog_);
  std::unique_ptr<ClientProfile> profile = MakeProfile();
  EXPECT_FALSE(profile->CheckConnection("www.h0.test", chain_a_.der)->pinned());  // no catalog yet
  ASSERT_TRUE(Maintain(*profile).ok());
  ASSERT_NE(profile->params(), nullptr);

  absl::StatusOr<PinCheckResult> ok = profile->CheckConnection("www.h0.test", chain_a_.der);
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->verdict, PinVerdict::kSatisfied);
  absl::StatusOr<PinCheckResult> mitm = profile->CheckConnection("H1.test.", chain_mitm_.der);
  ASSERT_TRUE(mitm.ok());
  EXPECT_EQ(mitm->verdict, PinVerdict::kViolated);
  EXPECT_TRUE(mitm->ShouldBlockConnection());
  EXPECT_TRUE(profile->CheckConnection("h1.test", chain_b_.der)->pinned());  // still violated
  // Known hashes decide the same way as the chain they come from.
  const SpkiHash root_a = ToSpkiHash(Sha256(key_a_.PublicKeyDer()));
  EXPECT_EQ(profile->CheckConnectionHashes("h0.test", {root_a}).verdict, PinVerdict::kSatisfied);
  EXPECT_EQ(profile->CheckConnectionHashes("h1.test", {ToSpkiHash(std::string(32, 'q'))}).verdict,
            PinVerdict::kViolated);
  EXPECT_FALSE(profile->CheckConnection("unpinned.example", chain_mitm_.der)->pinned());
  EXPECT_TRUE(transport_.submitted.empty());

  NextDay();
  ASSERT_TRUE(Maintain(*profile).ok());
  ASSERT_EQ(transport_.submitted.size(), 1u);
  const v1::Ping& ping = transport_.submitted[0];
  EXPECT_EQ(ping.day(), "2024-05-01");
  EXPECT_EQ(ping.params_version(), 3u);
  EXPECT_EQ(ping.catalog_version(), catalog_.version());
  EXPECT_EQ(ping.ping_id().size(), 16u);
  EXPECT_EQ(ping.pinset_indices_size(), 0);  // s = K: all pinsets
  EXPECT_EQ(ping.dimensions().product(), "chrome");
  EXPECT_EQ(ping.dimensions().major_version(), 131u);
  ASSERT_EQ(ping.bits().size(), 1u);  // 6 bits
  // pinset 0: checked, not violated; pinset 1: checked, violated; pinset 2: not checked.
  // (The hash-only checks above hit the same pinsets with the same outcomes.)
  EXPECT_EQ(Bit(ping.bits(), 0), 1);
  EXPECT_EQ(Bit(ping.bits(), 1), 0);
  EXPECT_EQ(Bit(ping.bits(), 2), 1);
  EXPECT_EQ(Bit(ping.bits(), 3), 1);
  EXPECT_EQ(Bit(ping.bits(), 4), 0);
  EXPECT_EQ(Bit(ping.bits(), 5), 0);
  EXPECT_EQ(static_cast<uint8_t>(ping.bits()[0]) >> 6, 0);  // padding
  EXPECT_EQ(profile->stats().pings_encoded, 1u);
  EXPECT_EQ(profile->stats().upload.acknowledged, 1u);
  EXPECT_EQ(profile->storage().pending().size(), 0u);
  EXPECT_EQ(profile->storage().ledger().Entry(3).pings, 1);
}

TEST_F(ClientProfileTest, NeverTwoPingsForOneDay) {
  transport_.params_default =
      ServeParams(MakeTestParamsVersion(1, catalog_, 0.5, 0.25, 0.75, 3), &catalog_);
  std::unique_ptr<ClientProfile> profile = MakeProfile();
  ASSERT_TRUE(Maintain(*profile).ok());
  for (int day = 0; day < 3; ++day) {
    for (int hour = 0; hour < 4; ++hour) {
      ASSERT_TRUE(profile->CheckConnection("h0.test", chain_a_.der).ok());
      ASSERT_TRUE(Maintain(*profile).ok());  // hourly maintenance
      clock_.Advance(absl::Hours(1));
    }
    clock_.Advance(absl::Hours(20));
  }
  ASSERT_TRUE(Maintain(*profile).ok());
  std::vector<std::string> days;
  for (const v1::Ping& p : transport_.submitted) days.push_back(p.day());
  EXPECT_EQ(days, (std::vector<std::string>{"2024-05-01", "2024-05-02", "2024-05-03"}));
  EXPECT_EQ(transport_.params_known_versions.size(), 4u);  // once per UTC day
  // Distinct fresh ids.
  EXPECT_NE(transport_.submitted[0].ping_id(), transport_.submitted[1].ping_id());
}

TEST_F(ClientProfileTest, DaysOverTheBudgetAreNotEncoded) {
  // f=.5, p=.25, q=.75, K=s=3: eps1 = 6·ln(5/3) = 3.065 per ping, eps_inf = 6·ln 3 = 6.59.
  // With a budget of 5 the first ping fits (3.065) and the second would not (6.13).
  transport_.params_default =
      ServeParams(MakeTestParamsVersion(1, catalog_, 0.5, 0.25, 0.75, 3), &catalog_);
  std::unique_ptr<ClientProfile> profile = MakeProfile(/*budget=*/5.0);
  ASSERT_TRUE(Maintain(*profile).ok());
  for (int day = 0; day < 3; ++day) {
    NextDay();
    ASSERT_TRUE(Maintain(*profile).ok());
  }
  EXPECT_EQ(transport_.submitted.size(), 1u);
  EXPECT_EQ(profile->stats().days_over_budget, 2u);
  EXPECT_NEAR(profile->storage().ledger().LifetimeEpsilon(), 6 * std::log(5.0 / 3.0), 1e-9);
}

TEST_F(ClientProfileTest, ANewCatalogTakesEffectTheNextDay) {
  const v1::Catalog rotated = MakeTestCatalogWithPins(
      {Sha256(key_b_.PublicKeyDer()), Sha256(key_a_.PublicKeyDer()), std::string(32, 'z')});
  transport_.params_script = {
      ServeParams(MakeTestParamsVersion(1, catalog_, 0, 0, 1, 3), &catalog_),
      ServeParams(MakeTestParamsVersion(2, rotated, 0, 0, 1, 3), &rotated)};
  transport_.params_default = ServeParams(MakeTestParamsVersion(2, rotated, 0, 0, 1, 3), nullptr);
  std::unique_ptr<ClientProfile> profile = MakeProfile();
  ASSERT_TRUE(Maintain(*profile).ok());  // day 1: catalog A
  EXPECT_EQ(profile->CheckConnection("h0.test", chain_a_.der)->verdict, PinVerdict::kSatisfied);
  NextDay();
  ASSERT_TRUE(Maintain(*profile).ok());  // day 2: B adopted for day 3
  EXPECT_EQ(profile->params()->version(), 2u);
  // Day 2 still uses catalog A: root A satisfies h0.
  EXPECT_EQ(profile->CheckConnection("h0.test", chain_a_.der)->verdict, PinVerdict::kSatisfied);
  NextDay();
  ASSERT_TRUE(Maintain(*profile).ok());
  // Day 3 uses catalog B: h0 now pins root B.
  EXPECT_EQ(profile->CheckConnection("h0.test", chain_a_.der)->verdict, PinVerdict::kViolated);
  NextDay();
  ASSERT_TRUE(Maintain(*profile).ok());
  ASSERT_EQ(transport_.submitted.size(), 3u);
  EXPECT_EQ(transport_.submitted[0].params_version(), 1u);
  EXPECT_EQ(transport_.submitted[1].params_version(), 1u);  // day 2, catalog A
  EXPECT_EQ(transport_.submitted[1].catalog_version(), catalog_.version());
  EXPECT_EQ(transport_.submitted[2].params_version(), 2u);  // day 3, catalog B
  EXPECT_EQ(transport_.submitted[2].catalog_version(), rotated.version());
  EXPECT_EQ(Bit(transport_.submitted[1].bits(), 1), 0);  // day 2: h0 satisfied
  EXPECT_EQ(Bit(transport_.submitted[2].bits(), 1), 1);  // day 3: h0 violated
  EXPECT_EQ(profile->stats().days_without_params, 0u);
}

TEST_F(ClientProfileTest, OfflinePingsWaitAndAreSentLater) {
  transport_.params_default =
      ServeParams(MakeTestParamsVersion(1, catalog_, 0.5, 0.25, 0.75, 3), &catalog_);
  options_.max_attempts = 2;
  std::unique_ptr<ClientProfile> profile = MakeProfile();
  ASSERT_TRUE(Maintain(*profile).ok());
  for (int day = 0; day < 3; ++day) {
    NextDay();
    transport_.submit_script.assign(2, SubmitOutcome{.status = absl::UnavailableError("offline")});
    EXPECT_EQ(Maintain(*profile).code(), absl::StatusCode::kUnavailable);
  }
  EXPECT_EQ(profile->storage().pending().size(), 3u);
  transport_.submitted.clear();
  NextDay();
  ASSERT_TRUE(Maintain(*profile).ok());
  EXPECT_EQ(transport_.submitted.size(), 4u);
  EXPECT_EQ(transport_.submitted[0].day(), "2024-05-01");
  EXPECT_EQ(transport_.submitted[3].day(), "2024-05-04");
  EXPECT_EQ(profile->stats().upload.acknowledged, 4u);
}

}  // namespace
}  // namespace pinning::client
