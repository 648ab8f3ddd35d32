#include "client/upload/profile_storage.h"

#include "gtest/gtest.h"

namespace pinning::client {
namespace {

TEST(InMemoryProfileStorageTest, KeepsTheSecretQueueAndLedgerInMemory) {
  ProfileSecret secret{};
  secret[0] = 42;
  InMemoryProfileStorage storage(secret, /*max_pending_pings=*/3);
  EXPECT_EQ(storage.secret()[0], 42);
  EXPECT_EQ(storage.pending().capacity(), 3u);
  v1::Ping ping;
  ping.set_ping_id(std::string(16, 'a'));
  ASSERT_TRUE(storage.pending().Append(ping).ok());
  ASSERT_TRUE(storage.ledger().RecordPing(1, 0.5, 2.0).ok());
  EXPECT_EQ(storage.pending().size(), 1u);
  EXPECT_DOUBLE_EQ(storage.ledger().LifetimeEpsilon(), 0.5);
  EXPECT_FALSE(storage.LoadDailyState().has_value());  // nothing survives the process
  absl::StatusOr<std::unique_ptr<DailyState>> state =
      DailyState::Create("v", 2, [] { return absl::UnixEpoch(); });
  ASSERT_TRUE(state.ok());
  EXPECT_TRUE(storage.Commit(**state).ok());
}

}  // namespace
}  // namespace pinning::client
