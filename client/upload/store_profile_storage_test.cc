// A profile over the real client store survives restarts: pending pings, the ledger and the daily
// state come back, and a day is never encoded twice.
#include "client/upload/store_profile_storage.h"

#include <sys/stat.h>

#include <limits>
#include <memory>
#include <string>

#include "client/upload/client_profile.h"
#include "client/upload/fake_clock.h"
#include "client/upload/scripted_transport.h"
#include "client/upload/test_catalog.h"
#include "gtest/gtest.h"
#include "privacy/random_source.h"

namespace pinning::client {
namespace {

class StoreProfileStorageTest : public ::testing::Test {
 protected:
  StoreProfileStorageTest()
      : clock_(absl::FromCivil(absl::CivilSecond(2024, 6, 10, 9, 0, 0), absl::UTCTimeZone())),
        irr_(5),
        ids_(6),
        jitter_(7),
        catalog_(MakeTestCatalog(2)) {
    // f = 0, p = 0, q = 1: the bits are the truth, so the test can read them.
    transport_.params_default =
        ServeParams(MakeTestParamsVersion(1, catalog_, 0, 0, 1, 2), &catalog_);
    UploaderOptions options;
    options.max_attempts = 1;
    options.epsilon_budget = std::numeric_limits<double>::infinity();
    uploader_ = std::make_unique<Uploader>(options, &transport_, &clock_, &jitter_);
    path_ = ::testing::TempDir() + "/profile-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".store";
  }

  std::unique_ptr<ClientProfile> Open() {
    ClientStoreOptions store_options;
    store_options.max_pending_pings = 4;
    store_options.now = [this] { return clock_.Now(); };
    absl::StatusOr<std::unique_ptr<StoreProfileStorage>> storage =
        StoreProfileStorage::Open(path_, store_options);
    EXPECT_TRUE(storage.ok()) << storage.status();
    absl::StatusOr<std::unique_ptr<ClientProfile>> profile = ClientProfile::Create(
        ProfileOptions{}, *std::move(storage), [this] { return clock_.Now(); });
    EXPECT_TRUE(profile.ok()) << profile.status();
    return *std::move(profile);
  }

  absl::Status Maintain(ClientProfile& profile) { return profile.Maintain(*uploader_, irr_, ids_); }

  FakeClock clock_;
  privacy::SeededRandomSource irr_, ids_, jitter_;
  v1::Catalog catalog_;
  ScriptedTransport transport_;
  std::unique_ptr<Uploader> uploader_;
  std::string path_;
};

TEST_F(StoreProfileStorageTest, PendingPingsLedgerAndDayStateSurviveRestarts) {
  {
    std::unique_ptr<ClientProfile> profile = Open();
    ASSERT_TRUE(Maintain(*profile).ok());
    ASSERT_TRUE(profile->CheckConnectionHashes("www.h1.test", {SpkiHash{}}).violated());
    ASSERT_TRUE(profile->Commit().ok());
  }  // the browser quits on day 1
  struct stat info;
  ASSERT_EQ(stat(path_.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600);

  clock_.Advance(absl::Hours(24));
  {
    std::unique_ptr<ClientProfile> profile = Open();
    transport_.submit_script = {SubmitOutcome{.status = absl::UnavailableError("offline")}};
    EXPECT_EQ(Maintain(*profile).code(), absl::StatusCode::kUnavailable);  // day 1 encoded
    EXPECT_EQ(profile->stats().pings_encoded, 1u);
    EXPECT_EQ(profile->storage().pending().size(), 1u);
  }  // quits offline, the ping pending
  {
    std::unique_ptr<ClientProfile> profile = Open();  // same day, restarted
    EXPECT_EQ(profile->storage().pending().size(), 1u);
    EXPECT_EQ(profile->storage().ledger().Entry(1).pings, 1);
    ASSERT_TRUE(Maintain(*profile).ok());
    EXPECT_EQ(profile->stats().pings_encoded, 0u);  // day 1 is not encoded again
  }
  ASSERT_EQ(transport_.submitted.size(), 2u);  // the offline attempt and the delivery
  EXPECT_EQ(transport_.submitted[0].ping_id(), transport_.submitted[1].ping_id());
  const v1::Ping& ping = transport_.submitted[1];
  EXPECT_EQ(ping.day(), "2024-06-10");
  // pinset 0 not checked (bits 0, 1 = 0), pinset 1 checked and violated (bits 2, 3 = 1).
  EXPECT_EQ(static_cast<uint8_t>(ping.bits()[0]), 0b1100);
}

TEST_F(StoreProfileStorageTest, ACrashRightAfterEncodingNeverSendsADayTwice) {
  {
    std::unique_ptr<ClientProfile> profile = Open();
    ASSERT_TRUE(Maintain(*profile).ok());
  }
  clock_.Advance(absl::Hours(24));
  {
    std::unique_ptr<ClientProfile> profile = Open();
    // Encode without the Commit() that Maintain would do afterwards: what the store saved with
    // the ping must already say that day 1 is done.
    ASSERT_TRUE(profile->RefreshParams(*uploader_).ok());
    ASSERT_TRUE(
        profile->EncodeFinishedDays(irr_, ids_, std::numeric_limits<double>::infinity()).ok());
    EXPECT_EQ(profile->stats().pings_encoded, 1u);
  }  // "crash": no Commit
  {
    std::unique_ptr<ClientProfile> profile = Open();
    ASSERT_TRUE(Maintain(*profile).ok());
    EXPECT_EQ(profile->stats().pings_encoded, 0u);
  }
  ASSERT_EQ(transport_.submitted.size(), 1u);
  EXPECT_EQ(transport_.submitted[0].day(), "2024-06-10");
}

}  // namespace
}  // namespace pinning::client
