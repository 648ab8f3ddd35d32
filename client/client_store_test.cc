#include "client/client_store.h"

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "client/file_io.h"
#include "client/testing/test_env.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace pinning::client {
namespace {

using ::pinning::client::store::SECRET_REASON_NEW_PROFILE;
using ::pinning::client::store::SECRET_REASON_RESET_BY_USER;
using ::pinning::client::store::SECRET_REASON_STORE_CORRUPTED;
using ::privacy::PinsetState;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::SizeIs;

class ClientStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = absl::StrCat(::testing::TempDir(), "/store_",
                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    ASSERT_EQ(system(absl::StrCat("rm -rf '", dir_, "' && mkdir -p '", dir_, "'").c_str()), 0);
    path_ = dir_ + "/pinning.store";
  }

  ClientStoreOptions Options() {
    ClientStoreOptions options;
    options.now = [] { return absl::FromUnixSeconds(1723075200); };  // 2024-08-08
    return options;
  }

  std::unique_ptr<ClientStore> MustOpen(ClientStoreOptions options) {
    absl::StatusOr<std::unique_ptr<ClientStore>> store = ClientStore::Open(path_, options);
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? *std::move(store) : nullptr;
  }
  std::unique_ptr<ClientStore> MustOpen() { return MustOpen(Options()); }

  std::string Bytes(const std::string& path) {
    absl::StatusOr<std::string> b = ReadFileToString(path);
    EXPECT_TRUE(b.ok()) << b.status();
    return b.ok() ? *b : "";
  }

  void WriteBytes(const std::string& path, const std::string& bytes) {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  }

  static mode_t Mode(const std::string& path) {
    struct stat st;
    EXPECT_EQ(stat(path.c_str(), &st), 0) << path;
    return st.st_mode & 0777;
  }

  std::string dir_;
  std::string path_;
};

TEST_F(ClientStoreTest, NewProfileGetsASecretAndAnAuditedLedger) {
  auto store = MustOpen();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->open_report().outcome, StoreOpenOutcome::kCreated);
  EXPECT_TRUE(FileExists(path_)) << "created stores are saved at once";
  EXPECT_EQ(Mode(path_), 0600u);
  const ClientSecret secret = store->secret();
  EXPECT_NE(secret, ClientSecret{}) << "32 random bytes are not all zero";
  EXPECT_EQ(store->secret_generation(), 1u);
  const store::PrivacyLedger ledger = store->ledger();
  ASSERT_THAT(ledger.secret_events(), SizeIs(1));
  EXPECT_EQ(ledger.secret_events(0).reason(), SECRET_REASON_NEW_PROFILE);
  EXPECT_EQ(ledger.secret_events(0).generation(), 1u);
  EXPECT_EQ(ledger.secret_events(0).day(), "2024-08-08");
  EXPECT_FALSE(ledger.history_lost());

  store.reset();
  auto reopened = MustOpen();
  EXPECT_EQ(reopened->open_report().outcome, StoreOpenOutcome::kLoaded);
  EXPECT_EQ(reopened->secret(), secret);

  // Another profile has another secret.
  absl::StatusOr<std::unique_ptr<ClientStore>> other =
      ClientStore::Open(dir_ + "/other.store", Options());
  ASSERT_TRUE(other.ok());
  EXPECT_NE((*other)->secret(), secret);
}

TEST_F(ClientStoreTest, EverythingRoundTrips) {
  DailyState::Snapshot snapshot;
  snapshot.day = absl::CivilDay(2024, 8, 8);
  snapshot.catalog_version = "cat-2";
  snapshot.states = {PinsetState::kViolated, PinsetState::kNotChecked, PinsetState::kCheckedOk};
  snapshot.last_frozen_day = absl::CivilDay(2024, 8, 6);
  snapshot.finished_days = {{absl::CivilDay(2024, 8, 6), "cat-1", {PinsetState::kCheckedOk}}};
  snapshot.next_catalog = std::make_pair(std::string("cat-3"), 5);
  snapshot.dropped_days = 4;
  {
    auto store = MustOpen();
    store->SetVersions(7, "cat-2");
    store->SetDailyState(snapshot);
    store->AddPendingPing("ping-1");
    store->AddPendingPing(std::string("ping\0two", 8));
    ASSERT_TRUE(store->ChargeEpsilon(7, 1.5).ok());
    ASSERT_TRUE(store->Save().ok());
  }
  auto store = MustOpen();
  EXPECT_EQ(store->params_version(), 7u);
  EXPECT_EQ(store->catalog_version(), "cat-2");
  std::optional<DailyState::Snapshot> back = store->daily_state();
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->day, snapshot.day);
  EXPECT_EQ(back->catalog_version, "cat-2");
  EXPECT_EQ(back->states, snapshot.states);
  EXPECT_EQ(back->last_frozen_day, snapshot.last_frozen_day);
  EXPECT_EQ(back->finished_days, snapshot.finished_days);
  EXPECT_EQ(back->next_catalog, snapshot.next_catalog);
  EXPECT_EQ(back->dropped_days, 4u);
  EXPECT_THAT(store->pending_pings(), ElementsAre("ping-1", std::string("ping\0two", 8)));
  EXPECT_EQ(store->ledger().lifetime_epsilon(), 1.5);
  // The snapshot restores into a working DailyState.
  EXPECT_TRUE(DailyState::Restore(*back, [] { return absl::FromUnixSeconds(1723075200); }).ok());
}

TEST_F(ClientStoreTest, PendingPingsAreBoundedOldestDroppedFirst) {
  ClientStoreOptions options = Options();
  options.max_pending_pings = 3;
  auto store = MustOpen(options);
  for (int i = 1; i <= 5; ++i) store->AddPendingPing(absl::StrCat("p", i));
  EXPECT_THAT(store->pending_pings(), ElementsAre("p3", "p4", "p5"));
  EXPECT_EQ(store->dropped_pings(), 2u);
  store->AcknowledgePendingPings(2);
  EXPECT_THAT(store->pending_pings(), ElementsAre("p5"));
  store->AcknowledgePendingPings(10);
  EXPECT_TRUE(store->pending_pings().empty());
  ASSERT_TRUE(store->Save().ok());
  EXPECT_EQ(MustOpen(options)->dropped_pings(), 2u);
}

TEST_F(ClientStoreTest, LedgerChargesPerParamsVersion) {
  auto store = MustOpen();
  ASSERT_TRUE(store->ChargeEpsilon(3, 0.5).ok());
  ASSERT_TRUE(store->ChargeEpsilon(1, 0.25).ok());
  ASSERT_TRUE(store->ChargeEpsilon(3, 0.5).ok());
  ASSERT_TRUE(store->ChargeEpsilon(2, 0).ok());
  EXPECT_EQ(store->ChargeEpsilon(3, -1).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store->ChargeEpsilon(3, std::nan("")).code(), absl::StatusCode::kInvalidArgument);
  const store::PrivacyLedger ledger = store->ledger();
  ASSERT_THAT(ledger.entries(), SizeIs(3));
  EXPECT_EQ(ledger.entries(0).params_version(), 1u);
  EXPECT_EQ(ledger.entries(0).pings(), 1u);
  EXPECT_EQ(ledger.entries(1).params_version(), 2u);
  EXPECT_EQ(ledger.entries(2).params_version(), 3u);
  EXPECT_EQ(ledger.entries(2).pings(), 2u);
  EXPECT_EQ(ledger.entries(2).epsilon_spent(), 1.0);
  EXPECT_EQ(ledger.lifetime_epsilon(), 1.25);
}

TEST_F(ClientStoreTest, FileFormatHeaderAndChecksum) {
  auto store = MustOpen();
  store->AddPendingPing("x");
  ASSERT_TRUE(store->Save().ok());
  const std::string bytes = Bytes(path_);
  ASSERT_GT(bytes.size(), 52u);
  EXPECT_EQ(bytes.substr(0, 8), "PTCLSTOR");
  EXPECT_EQ(bytes.substr(8, 4), std::string("\x01\x00\x00\x00", 4));
  uint64_t length = 0;
  std::memcpy(&length, bytes.data() + 12, 8);  // Little-endian host.
  EXPECT_EQ(length, bytes.size() - 52);
  // The checksum covers bytes 0..19 and the payload; recompute it with sha256sum.
  absl::StatusOr<std::string> expected = testing::RunShellCommand(absl::StrCat(
      "(head -c 20 '", path_, "'; tail -c +53 '", path_, "') | sha256sum | cut -c1-64"));
  ASSERT_TRUE(expected.ok());
  EXPECT_EQ(absl::BytesToHexString(bytes.substr(20, 32)) + "\n", *expected);
}

TEST_F(ClientStoreTest, DetectsEveryTruncationExtensionAndBitFlip) {
  auto store = MustOpen();
  store->AddPendingPing("some pending ping bytes");
  ASSERT_TRUE(store->ChargeEpsilon(1, 0.7).ok());
  ASSERT_TRUE(store->Save().ok());
  const std::string good = Bytes(path_);
  ASSERT_TRUE(DecodeStoreFile(good).ok());
  for (size_t n = 0; n < good.size(); ++n) {
    EXPECT_EQ(DecodeStoreFile(good.substr(0, n)).status().code(), absl::StatusCode::kDataLoss)
        << "truncated to " << n;
  }
  EXPECT_EQ(DecodeStoreFile(good + '\0').status().code(), absl::StatusCode::kDataLoss);
  for (size_t i = 0; i < good.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string bad = good;
      bad[i] ^= static_cast<char>(1 << bit);
      const absl::StatusCode code = DecodeStoreFile(bad).status().code();
      if (i >= 8 && i < 12 && code == absl::StatusCode::kFailedPrecondition) continue;  // Version.
      EXPECT_EQ(code, absl::StatusCode::kDataLoss) << "byte " << i << " bit " << bit;
    }
  }
}

TEST_F(ClientStoreTest, KillBetweenWriteAndRenameLeavesTheOldFile) {
  {
    auto store = MustOpen();
    store->AddPendingPing("old");
    ASSERT_TRUE(store->Save().ok());
  }
  const std::string old_bytes = Bytes(path_);
  const ClientSecret secret = MustOpen()->secret();

  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ClientStoreOptions options = Options();
    options.before_rename_for_testing = [&] {
      const char byte = 1;
      (void)!write(ready[1], &byte, 1);
      pause();  // Killed here: the new file is written and synced, not yet renamed.
    };
    absl::StatusOr<std::unique_ptr<ClientStore>> store = ClientStore::Open(path_, options);
    if (!store.ok()) _exit(2);
    (*store)->AddPendingPing("new");
    (void)(*store)->Save();
    _exit(3);  // Not reached.
  }
  char byte = 0;
  ASSERT_EQ(read(ready[0], &byte, 1), 1) << "the child reached the rename";
  ASSERT_EQ(kill(child, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status));
  close(ready[0]);
  close(ready[1]);

  EXPECT_EQ(Bytes(path_), old_bytes) << "the store file is untouched";
  EXPECT_TRUE(FileExists(path_ + ".tmp")) << "the interrupted write left its temporary file";
  auto store = MustOpen();
  EXPECT_EQ(store->open_report().outcome, StoreOpenOutcome::kLoaded);
  EXPECT_EQ(store->secret(), secret);
  EXPECT_THAT(store->pending_pings(), ElementsAre("old"));
  store->AddPendingPing("after");
  ASSERT_TRUE(store->Save().ok());
  EXPECT_THAT(MustOpen()->pending_pings(), ElementsAre("old", "after"));
  EXPECT_FALSE(FileExists(path_ + ".tmp"));
}

TEST_F(ClientStoreTest, CorruptStoreRecoversFromBackupWithTheSameSecret) {
  ClientSecret secret;
  {
    auto store = MustOpen();
    secret = store->secret();
    store->AddPendingPing("first");
    ASSERT_TRUE(store->Save().ok());  // The created file becomes the backup.
    store->AddPendingPing("second");
    ASSERT_TRUE(store->Save().ok());
  }
  EXPECT_EQ(Mode(path_ + ".bak"), 0600u);
  std::string bytes = Bytes(path_);
  bytes[bytes.size() / 2] ^= 0x40;
  WriteBytes(path_, bytes);

  auto store = MustOpen();
  EXPECT_EQ(store->open_report().outcome, StoreOpenOutcome::kRecoveredFromBackup);
  EXPECT_THAT(store->open_report().detail, HasSubstr("checksum mismatch"));
  EXPECT_EQ(store->secret(), secret) << "no re-randomization";
  EXPECT_EQ(store->secret_generation(), 1u);
  EXPECT_THAT(store->pending_pings(), ElementsAre("first")) << "the backup's state";
  EXPECT_EQ(Bytes(path_ + ".corrupt"), bytes) << "kept for diagnosis";
  ASSERT_THAT(store->events(), SizeIs(1));
  EXPECT_THAT(store->events()[0].description(), HasSubstr("recovered from backup"));
  EXPECT_THAT(store->ledger().secret_events(), SizeIs(1));
  // The recovered state was saved; the next save keeps a good backup.
  EXPECT_EQ(MustOpen()->open_report().outcome, StoreOpenOutcome::kLoaded);
  ASSERT_TRUE(store->Save().ok());
  EXPECT_TRUE(DecodeStoreFile(Bytes(path_ + ".bak")).ok());
}

TEST_F(ClientStoreTest, MissingStoreWithBackupRecovers) {
  ClientSecret secret;
  {
    auto store = MustOpen();
    secret = store->secret();
    ASSERT_TRUE(store->Save().ok());
  }
  ASSERT_EQ(unlink(path_.c_str()), 0);
  auto store = MustOpen();
  EXPECT_EQ(store->open_report().outcome, StoreOpenOutcome::kRecoveredFromBackup);
  EXPECT_EQ(store->secret(), secret);
}

TEST_F(ClientStoreTest, UnrecoverableStoreMakesARecordedNewSecret) {
  ClientSecret secret;
  {
    auto store = MustOpen();
    secret = store->secret();
    ASSERT_TRUE(store->ChargeEpsilon(1, 2.0).ok());
    ASSERT_TRUE(store->Save().ok());
  }
  const std::string bytes = Bytes(path_);
  WriteBytes(path_, bytes.substr(0, bytes.size() / 2));  // Truncated.
  WriteBytes(path_ + ".bak", std::string(100, 'g'));
  const std::string truncated = Bytes(path_);

  // Refusing leaves everything as it was.
  ClientStoreOptions refuse = Options();
  refuse.on_unrecoverable = ClientStoreOptions::OnUnrecoverable::kFail;
  absl::StatusOr<std::unique_ptr<ClientStore>> refused = ClientStore::Open(path_, refuse);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(refused.status().message(), HasSubstr("length mismatch"));
  EXPECT_EQ(Bytes(path_), truncated);
  EXPECT_FALSE(FileExists(path_ + ".corrupt"));

  auto store = MustOpen();
  EXPECT_EQ(store->open_report().outcome, StoreOpenOutcome::kReplacedCorrupt);
  EXPECT_NE(store->secret(), secret);
  const store::PrivacyLedger ledger = store->ledger();
  EXPECT_TRUE(ledger.history_lost());
  EXPECT_EQ(ledger.lifetime_epsilon(), 0.0) << "the lost spending is not invented";
  ASSERT_THAT(ledger.secret_events(), SizeIs(1));
  EXPECT_EQ(ledger.secret_events(0).reason(), SECRET_REASON_STORE_CORRUPTED);
  EXPECT_THAT(ledger.secret_events(0).detail(), HasSubstr("length mismatch"));
  EXPECT_THAT(ledger.secret_events(0).detail(), HasSubstr("bad magic"));
  EXPECT_EQ(Bytes(path_ + ".corrupt"), truncated);
  EXPECT_EQ(Mode(path_), 0600u);
  // The new secret is durable.
  EXPECT_EQ(MustOpen()->secret(), store->secret());
}

TEST_F(ClientStoreTest, NewerFormatIsRefusedAndNeverOverwritten) {
  { MustOpen(); }
  std::string bytes = Bytes(path_);
  bytes[8] = 2;  // Format version 2 (the checksum no longer matches either; version wins).
  WriteBytes(path_, bytes);
  absl::StatusOr<std::unique_ptr<ClientStore>> store = ClientStore::Open(path_, Options());
  EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(store.status().message(), HasSubstr("newer"));
  EXPECT_EQ(Bytes(path_), bytes);
  EXPECT_FALSE(FileExists(path_ + ".corrupt"));
}

TEST_F(ClientStoreTest, ResetSecretIsRecorded) {
  auto store = MustOpen();
  const ClientSecret first = store->secret();
  store->AddPendingPing("p");
  ASSERT_TRUE(store->ResetSecret("user cleared browsing data").ok());
  EXPECT_NE(store->secret(), first);
  EXPECT_EQ(store->secret_generation(), 2u);
  EXPECT_TRUE(store->pending_pings().empty());
  const store::PrivacyLedger ledger = store->ledger();
  ASSERT_THAT(ledger.secret_events(), SizeIs(2));
  EXPECT_EQ(ledger.secret_events(1).reason(), SECRET_REASON_RESET_BY_USER);
  EXPECT_EQ(ledger.secret_events(1).generation(), 2u);
  EXPECT_EQ(ledger.secret_events(1).detail(), "user cleared browsing data");
}

TEST_F(ClientStoreTest, FilesStay0600WhateverTheUmask) {
  const mode_t old = umask(0);
  auto store = MustOpen();
  ASSERT_TRUE(store->Save().ok());
  umask(old);
  EXPECT_EQ(Mode(path_), 0600u);
  EXPECT_EQ(Mode(path_ + ".bak"), 0600u);
}

}  // namespace
}  // namespace pinning::client
