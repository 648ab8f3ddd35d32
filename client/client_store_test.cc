#include "client/client_store.h"

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
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

// A ping whose id is `tag` padded to 16 bytes and whose day is `tag`.
v1::Ping MakePing(const std::string& tag) {
  v1::Ping ping;
  std::string id = tag;
  id.resize(16, '.');
  ping.set_ping_id(id);
  ping.set_day(tag);
  return ping;
}

std::vector<std::string> PendingTags(const ClientStore& store) {
  absl::StatusOr<std::vector<v1::Ping>> pings = store.Oldest(1000);
  EXPECT_TRUE(pings.ok()) << pings.status();
  std::vector<std::string> tags;
  if (pings.ok()) {
    for (const v1::Ping& p : *pings) tags.push_back(p.day());
  }
  return tags;
}

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
    ASSERT_TRUE(store->RecordPing(7, 0.5, 1.5).ok());
    ASSERT_TRUE(store->Append(MakePing("ping-1")).ok());
    ASSERT_TRUE(store->Append(MakePing("ping-2")).ok());
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
  EXPECT_THAT(PendingTags(*store), ElementsAre("ping-1", "ping-2"));
  ASSERT_THAT(store->Entries(), SizeIs(1));
  EXPECT_EQ(store->Entries()[0].pings, 1);
  EXPECT_EQ(store->Entries()[0].epsilon_spent, 0.5);
  EXPECT_EQ(store->LifetimeEpsilon(), 0.5);
  // The snapshot restores into a working DailyState.
  EXPECT_TRUE(DailyState::Restore(*back, [] { return absl::FromUnixSeconds(1723075200); }).ok());
}

TEST_F(ClientStoreTest, PendingPingsAreBoundedOldestDroppedFirst) {
  ClientStoreOptions options = Options();
  options.max_pending_pings = 3;
  auto store = MustOpen(options);
  EXPECT_EQ(store->capacity(), 3u);
  for (int i = 1; i <= 5; ++i) ASSERT_TRUE(store->Append(MakePing(absl::StrCat("p", i))).ok());
  EXPECT_THAT(PendingTags(*store), ElementsAre("p3", "p4", "p5"));
  EXPECT_EQ(store->size(), 3u);
  EXPECT_EQ(store->dropped_overflow(), 2u);
  absl::StatusOr<std::vector<v1::Ping>> oldest = store->Oldest(2);
  ASSERT_TRUE(oldest.ok());
  ASSERT_THAT(*oldest, SizeIs(2));
  EXPECT_EQ((*oldest)[0].day(), "p3");
  // Remove by id; unknown ids are ignored.
  ASSERT_TRUE(store->Remove({MakePing("p4").ping_id(), MakePing("zz").ping_id()}).ok());
  EXPECT_THAT(PendingTags(*store), ElementsAre("p3", "p5"));
  // Appends and removals are durable without an explicit Save.
  store.reset();
  auto reopened = MustOpen(options);
  EXPECT_THAT(PendingTags(*reopened), ElementsAre("p3", "p5"));
  EXPECT_EQ(reopened->dropped_overflow(), 2u);
  v1::Ping no_id = MakePing("x");
  no_id.set_ping_id("short");
  EXPECT_EQ(reopened->Append(no_id).code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(ClientStoreTest, FailedSaveLeavesTheQueueAsItWas) {
  auto store = MustOpen();
  ASSERT_TRUE(store->Append(MakePing("kept")).ok());
  // A directory where the temporary file must go makes the next save fail (file modes would
  // not stop a test running as root).
  ASSERT_EQ(mkdir((path_ + ".tmp").c_str(), 0700), 0);
  EXPECT_FALSE(store->Append(MakePing("lost")).ok());
  EXPECT_THAT(PendingTags(*store), ElementsAre("kept"));
  EXPECT_FALSE(store->Charge(1, 1).ok());
  EXPECT_TRUE(store->Entries().empty());
  EXPECT_EQ(store->LifetimeEpsilon(), 0);
  ASSERT_EQ(rmdir((path_ + ".tmp").c_str()), 0);
  ASSERT_TRUE(store->Append(MakePing("later")).ok());
  EXPECT_THAT(PendingTags(*MustOpen()), ElementsAre("kept", "later"));
}

TEST_F(ClientStoreTest, LedgerChargesPerParamsVersionAndLifetime) {
  auto store = MustOpen();
  ASSERT_TRUE(store->Charge(3, 0.5).ok());
  ASSERT_TRUE(store->Charge(1, 0.25).ok());
  ASSERT_TRUE(store->Charge(3, 0.5).ok());
  ASSERT_TRUE(store->Charge(2, 0).ok());
  EXPECT_EQ(store->Charge(3, -1).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store->Charge(3, std::nan("")).code(), absl::StatusCode::kInvalidArgument);
  std::vector<LedgerEntry> entries = store->Entries();
  ASSERT_THAT(entries, SizeIs(3));
  EXPECT_EQ(entries[0].params_version, 3u);
  EXPECT_EQ(entries[0].pings, 2);
  EXPECT_EQ(entries[0].epsilon_spent, 1.0);
  EXPECT_EQ(entries[1].params_version, 1u);
  EXPECT_EQ(entries[2].params_version, 2u);
  EXPECT_EQ(store->LifetimeEpsilon(), 1.25);
  store.reset();
  EXPECT_EQ(MustOpen()->LifetimeEpsilon(), 1.25) << "charges are durable";
}

TEST_F(ClientStoreTest, RecordPingChargesTheMarginalCostPerSecret) {
  auto store = MustOpen();
  // eps1 = 0.5, epsinf = 1.2: the spending of n pings is min(n * 0.5, 1.2).
  for (double expected : {0.5, 1.0, 1.2, 1.2}) {
    ASSERT_TRUE(store->RecordPing(3, 0.5, 1.2).ok());
    EXPECT_DOUBLE_EQ(store->LifetimeEpsilon(), expected);
  }
  EXPECT_DOUBLE_EQ(store->LifetimeAfterPing(3, 0.5, 1.2), 1.2) << "the PRR is spent already";
  EXPECT_DOUBLE_EQ(store->LifetimeAfterPing(4, 0.5, 1.2), 1.7) << "a new version adds";

  // A new secret re-randomizes the PRR: its pings cost again, and the lifetime total keeps the
  // old secret's spending.
  ASSERT_TRUE(store->ResetSecret("user reset").ok());
  EXPECT_TRUE(store->Entries().empty());
  EXPECT_DOUBLE_EQ(store->LifetimeEpsilon(), 1.2);
  ASSERT_TRUE(store->RecordPing(3, 0.5, 1.2).ok());
  EXPECT_DOUBLE_EQ(store->LifetimeEpsilon(), 1.7);
  ASSERT_THAT(store->Entries(), SizeIs(1));
  EXPECT_EQ(store->Entries()[0].pings, 1);
  EXPECT_EQ(store->ledger().entries_size(), 2) << "both generations are kept";

  // Refusals are counted and the recent ones kept.
  for (int i = 0; i < ClientStore::kKeptRefusals + 2; ++i) {
    ASSERT_TRUE(store
                    ->RecordRefusal({.params_version = static_cast<uint32_t>(10 + i),
                                     .epsilon_one = 9,
                                     .epsilon_inf = 90,
                                     .lifetime_before = 1.7,
                                     .budget = 5,
                                     .reason = "over budget"})
                    .ok());
  }
  store.reset();
  auto reopened = MustOpen();
  EXPECT_EQ(reopened->refusals(), static_cast<uint64_t>(ClientStore::kKeptRefusals + 2));
  const store::PrivacyLedger ledger = reopened->ledger();
  ASSERT_EQ(ledger.recent_refusals_size(), ClientStore::kKeptRefusals);
  EXPECT_EQ(ledger.recent_refusals(0).params_version(), 12u);
  EXPECT_EQ(ledger.recent_refusals(0).reason(), "over budget");
  EXPECT_DOUBLE_EQ(reopened->LifetimeEpsilon(), 1.7);
}

TEST_F(ClientStoreTest, FileFormatHeaderAndChecksum) {
  auto store = MustOpen();
  ASSERT_TRUE(store->Append(MakePing("x")).ok());
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
  ASSERT_TRUE(store->Append(MakePing("some pending ping")).ok());
  ASSERT_TRUE(store->Charge(1, 0.7).ok());
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
    ASSERT_TRUE(store->Append(MakePing("old")).ok());
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
    (void)(*store)->Append(MakePing("new"));
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
  EXPECT_THAT(PendingTags(*store), ElementsAre("old"));
  ASSERT_TRUE(store->Append(MakePing("after")).ok());
  EXPECT_THAT(PendingTags(*MustOpen()), ElementsAre("old", "after"));
  EXPECT_FALSE(FileExists(path_ + ".tmp"));
}

TEST_F(ClientStoreTest, CorruptStoreRecoversFromBackupWithTheSameSecret) {
  ClientSecret secret;
  {
    auto store = MustOpen();
    secret = store->secret();
    ASSERT_TRUE(store->Append(MakePing("first")).ok());  // The created file becomes the backup.
    ASSERT_TRUE(store->Append(MakePing("second")).ok());
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
  EXPECT_THAT(PendingTags(*store), ElementsAre("first")) << "the backup's state";
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
    ASSERT_TRUE(store->Charge(1, 2.0).ok());
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
  EXPECT_TRUE(ledger.entries().empty()) << "the lost spending is not invented";
  EXPECT_EQ(ledger.lifetime_epsilon(), 0.0);
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
  ASSERT_TRUE(store->Append(MakePing("p")).ok());
  ASSERT_TRUE(store->ResetSecret("user cleared browsing data").ok());
  EXPECT_NE(store->secret(), first);
  EXPECT_EQ(store->secret_generation(), 2u);
  EXPECT_EQ(store->size(), 0u);
  EXPECT_EQ(MustOpen()->secret(), store->secret()) << "saved at once";
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
